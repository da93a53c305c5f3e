-- Short claims on shared work (a channel's deliveries, a request notice) by one bot process.
-- SQLite serves one process, so here they only ever name that process; the table exists so
-- both backends share one schema and one set of queries.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at REAL NOT NULL
);
