-- The PostgreSQL twin of sqlite/009-parties.sql: listening parties (issue 16), one row per Discord
-- scheduled event the bot made for an episode, so a restart before the start still holds it.
-- state: 'scheduled' until a process claims the start ('started': it joins, posts the notice,
-- plays), then 'finished'; 'canceled' when the event was cancelled or deleted in Discord, or
-- the episode or channel went. Claiming is one UPDATE from 'scheduled', so one process starts it.
CREATE TABLE parties (
    event_id          BIGINT PRIMARY KEY,
    guild_id          BIGINT NOT NULL,
    voice_channel_id  BIGINT NOT NULL,
    text_channel_id   BIGINT NOT NULL,
    episode_id        BIGINT NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
    created_by        BIGINT NOT NULL,
    starts_at         DOUBLE PRECISION NOT NULL,
    state             TEXT NOT NULL DEFAULT 'scheduled'
                      CHECK (state IN ('scheduled', 'started', 'finished', 'canceled')),
    notice_message_id BIGINT,
    updated_at        DOUBLE PRECISION NOT NULL
);
CREATE INDEX parties_due ON parties(starts_at) WHERE state = 'scheduled';
