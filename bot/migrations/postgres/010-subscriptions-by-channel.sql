-- The PostgreSQL twin of sqlite/010-subscriptions-by-channel.sql: subscriptions found by channel
-- (each delivery's blocked check scanned them all).
CREATE INDEX subscriptions_by_channel ON subscriptions(channel_id);
