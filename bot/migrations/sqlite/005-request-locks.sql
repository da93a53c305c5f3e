-- One row per member who has made a request: a new request first writes its member's row, so two
-- requests from one member take turns counting against the limits and inserting (on PostgreSQL the
-- row lock does this; on SQLite every write transaction already takes turns).
CREATE TABLE request_locks (
    user_id   INTEGER PRIMARY KEY,
    locked_at REAL NOT NULL
) STRICT;
