-- Small facts the bot keeps about itself, e.g. the hash of the last registered command set.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
