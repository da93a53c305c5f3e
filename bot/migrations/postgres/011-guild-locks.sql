-- The PostgreSQL twin of sqlite/011-guild-locks.sql: one row per server that has added a feed
-- with /feed add. An add upserts its server's row first, so concurrent adds in one server wait on
-- that row lock and each counts what the one before it inserted.
CREATE TABLE guild_locks (
    guild_id  BIGINT PRIMARY KEY,
    locked_at DOUBLE PRECISION NOT NULL
);
