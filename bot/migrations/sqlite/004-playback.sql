-- Playback: where each member left off, their speed, and each guild's player for restarts.


-- Resume where you left off: one row per (member, episode), written periodically while playing
-- and on pause, stop, skip and disconnect. finished = 1 once it counts as played.
CREATE TABLE playback_positions (
    user_id          INTEGER NOT NULL,
    episode_id       INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
    position_seconds REAL NOT NULL CHECK (position_seconds >= 0),
    finished         INTEGER NOT NULL DEFAULT 0 CHECK (finished IN (0, 1)),
    updated_at       REAL NOT NULL,
    PRIMARY KEY (user_id, episode_id)
) STRICT;
CREATE INDEX playback_positions_recent ON playback_positions(user_id, updated_at)
    WHERE finished = 0;

-- A member's preferred speed, used when they start something (per user, across guilds).
CREATE TABLE playback_speeds (
    user_id    INTEGER PRIMARY KEY,
    speed      REAL NOT NULL CHECK (speed BETWEEN 0.5 AND 3.0),
    updated_at REAL NOT NULL
) STRICT;

-- A guild's player, so it can continue after a restart: deleted when the player stops or leaves.
-- queue is a JSON array of {episode_id, title, duration, requested_by} (bot/player/queue.py).
CREATE TABLE playback_sessions (
    guild_id         INTEGER PRIMARY KEY,
    voice_channel_id INTEGER NOT NULL,
    text_channel_id  INTEGER NOT NULL,
    episode_id       INTEGER REFERENCES episodes(id) ON DELETE SET NULL,
    title            TEXT,
    duration_seconds INTEGER,
    requested_by     INTEGER,
    position_seconds REAL NOT NULL DEFAULT 0 CHECK (position_seconds >= 0),
    speed            REAL NOT NULL DEFAULT 1.0 CHECK (speed BETWEEN 0.5 AND 3.0),
    paused           INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    queue            TEXT NOT NULL DEFAULT '[]',
    updated_at       REAL NOT NULL
) STRICT;
