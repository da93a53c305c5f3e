-- The PostgreSQL twin of sqlite/007-leases.sql: short claims on shared work (a channel's
-- deliveries, a request notice) by one process of a cluster. A claim whose holder died runs out
-- at expires_at and may then be taken by another process.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
