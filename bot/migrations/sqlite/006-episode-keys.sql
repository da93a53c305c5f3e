-- An episode's key (bot/announce/markers.py: the first 16 hex digits of the SHA-256 of its guid)
-- stored and indexed, so the episode a button names is found without hashing every guid.
-- sha256_hex is the bot's own SQLite function (bot/storage/sqlite.py).
ALTER TABLE episodes ADD COLUMN episode_key TEXT;
UPDATE episodes SET episode_key = substr(sha256_hex(guid), 1, 16);
CREATE INDEX episodes_by_key ON episodes(episode_key);
