-- Subscriptions found by channel: every delivery asks whether its channel is blocked
-- (bot/announce/deliveries.py `waiting`), which scanned every subscription (3,000 rows: ≈0.2 ms
-- per delivery, 5% of a first poll's CPU; bench/README.md, issue 13, fourth pass).
CREATE INDEX subscriptions_by_channel ON subscriptions(channel_id);
