-- One row per server that has added a feed with /feed add: an add first writes its server's row,
-- so two adds in one server take turns counting against announce.max_feeds_per_server and
-- inserting (on PostgreSQL the row lock does this; on SQLite write transactions already take turns).
CREATE TABLE guild_locks (
    guild_id  INTEGER PRIMARY KEY,
    locked_at REAL NOT NULL
) STRICT;
