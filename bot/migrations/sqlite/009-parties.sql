-- Listening parties (issue 16): one row per Discord scheduled event the bot made for an episode,
-- so a restart before the start time still holds the party.
-- state: 'scheduled' until a process claims the start ('started': it joins, posts the notice,
-- plays), then 'finished'; 'canceled' when the event was cancelled or deleted in Discord, or
-- the episode or channel went. Claiming is one UPDATE from 'scheduled', so one process starts it.
CREATE TABLE parties (
    event_id          INTEGER PRIMARY KEY,
    guild_id          INTEGER NOT NULL,
    voice_channel_id  INTEGER NOT NULL,
    text_channel_id   INTEGER NOT NULL,
    episode_id        INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
    created_by        INTEGER NOT NULL,
    starts_at         REAL NOT NULL,
    state             TEXT NOT NULL DEFAULT 'scheduled'
                      CHECK (state IN ('scheduled', 'started', 'finished', 'canceled')),
    notice_message_id INTEGER,
    updated_at        REAL NOT NULL
) STRICT;
CREATE INDEX parties_due ON parties(starts_at) WHERE state = 'scheduled';
