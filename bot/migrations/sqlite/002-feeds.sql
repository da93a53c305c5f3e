-- Feeds, the channels they post to, the episodes seen, and delivery per (episode, channel).

CREATE TABLE feeds (
    id                   INTEGER PRIMARY KEY,
    url                  TEXT NOT NULL UNIQUE,  -- as configured or added: the feed's identity
    fetch_url            TEXT NOT NULL,         -- where it is fetched now (permanent redirects move it)
    title                TEXT,
    image                TEXT,
    poll_seconds         INTEGER NOT NULL DEFAULT 300,
    from_config          INTEGER NOT NULL DEFAULT 0,
    etag                 TEXT,
    last_modified        TEXT,
    body_hash            TEXT,
    polled_once          INTEGER NOT NULL DEFAULT 0,
    last_polled_at       REAL,
    last_success_at      REAL,
    last_error           TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    failure_notified     INTEGER NOT NULL DEFAULT 0,  -- admins were told it is failing
    next_poll_at         REAL NOT NULL DEFAULT 0,
    added_at             REAL NOT NULL
) STRICT;

CREATE TABLE subscriptions (
    id              INTEGER PRIMARY KEY,
    feed_id         INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    guild_id        INTEGER NOT NULL DEFAULT 0,
    channel_id      INTEGER NOT NULL,
    mention_role_id INTEGER NOT NULL DEFAULT 0,
    from_config     INTEGER NOT NULL DEFAULT 0,
    seeded          INTEGER NOT NULL DEFAULT 0,  -- the backlog decision was made for this channel
    blocked_error   TEXT,                          -- why posting here fails (admins told once)
    created_at      REAL NOT NULL,
    UNIQUE (feed_id, channel_id)
) STRICT;

CREATE TABLE episodes (
    id               INTEGER PRIMARY KEY,
    feed_id          INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    guid             TEXT NOT NULL,
    title            TEXT NOT NULL,
    published_at     REAL,
    audio_url        TEXT,
    duration_seconds INTEGER,
    source_key       TEXT,
    data             TEXT NOT NULL,  -- the parsed episode as JSON
    first_seen_at    REAL NOT NULL,
    UNIQUE (feed_id, guid)
) STRICT;
CREATE INDEX episodes_by_source_key ON episodes(source_key);
CREATE INDEX episodes_by_published ON episodes(feed_id, published_at);

-- One row per (episode, channel): 'pending' until Discord has the message, then 'sent'.
-- 'skipped' = older than the channel's subscription (never to be posted);
-- 'digest' = pending, but to be posted as part of one digest message.
CREATE TABLE deliveries (
    episode_id  INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
    channel_id  INTEGER NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'digest', 'sent', 'skipped')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    round       INTEGER NOT NULL DEFAULT 0,  -- bumped when an admin asks to post it again
    message_id  INTEGER,
    last_error  TEXT,
    updated_at  REAL NOT NULL,
    PRIMARY KEY (episode_id, channel_id)
) STRICT;
CREATE INDEX deliveries_waiting ON deliveries(channel_id, state) WHERE state IN ('pending', 'digest');
