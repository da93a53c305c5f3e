-- Playback: where each member left off, their speed, and each guild's player for restarts.
-- The PostgreSQL twin of sqlite/004-playback.sql.

-- Resume where you left off: one row per (member, episode), written periodically while playing
-- and on pause, stop, skip and disconnect. finished = 1 once it counts as played.
CREATE TABLE playback_positions (
    user_id          BIGINT NOT NULL,
    episode_id       BIGINT NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
    position_seconds DOUBLE PRECISION NOT NULL CHECK (position_seconds >= 0),
    finished         BIGINT NOT NULL DEFAULT 0 CHECK (finished IN (0, 1)),
    updated_at       DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (user_id, episode_id)
);
CREATE INDEX playback_positions_recent ON playback_positions(user_id, updated_at)
    WHERE finished = 0;

-- A member's preferred speed, used when they start something (per user, across guilds).
CREATE TABLE playback_speeds (
    user_id    BIGINT PRIMARY KEY,
    speed      DOUBLE PRECISION NOT NULL CHECK (speed BETWEEN 0.5 AND 3.0),
    updated_at DOUBLE PRECISION NOT NULL
);

-- A guild's player, so it can continue after a restart: deleted when the player stops or leaves.
-- queue is a JSON array of {episode_id, title, duration, requested_by} (bot/player/queue.py).
CREATE TABLE playback_sessions (
    guild_id         BIGINT PRIMARY KEY,
    voice_channel_id BIGINT NOT NULL,
    text_channel_id  BIGINT NOT NULL,
    episode_id       BIGINT REFERENCES episodes(id) ON DELETE SET NULL,
    title            TEXT,
    duration_seconds BIGINT,
    requested_by     BIGINT,
    position_seconds DOUBLE PRECISION NOT NULL DEFAULT 0 CHECK (position_seconds >= 0),
    speed            DOUBLE PRECISION NOT NULL DEFAULT 1.0 CHECK (speed BETWEEN 0.5 AND 3.0),
    paused           BIGINT NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    queue            TEXT NOT NULL DEFAULT '[]',
    updated_at       DOUBLE PRECISION NOT NULL
);
