-- The PostgreSQL twin of sqlite/005-request-locks.sql: one row per member who has made a
-- request. A new request upserts its member's row first, so concurrent requests from one member
-- wait on that row lock and each counts what the one before it inserted.
CREATE TABLE request_locks (
    user_id   BIGINT PRIMARY KEY,
    locked_at DOUBLE PRECISION NOT NULL
);
