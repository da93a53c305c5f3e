-- The PostgreSQL twin of sqlite/006-episode-keys.sql: an episode's key (the first 16 hex digits
-- of the SHA-256 of its guid, as bot/announce/markers.py computes it) stored and indexed.
ALTER TABLE episodes ADD COLUMN episode_key TEXT;
UPDATE episodes SET episode_key = substr(encode(sha256(convert_to(guid, 'UTF8')), 'hex'), 1, 16);
CREATE INDEX episodes_by_key ON episodes(episode_key);
