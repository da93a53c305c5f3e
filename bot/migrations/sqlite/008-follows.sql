-- Personal follows (issue 16): a member is sent a DM when a new episode matches one of theirs.

-- kind 'feed': feed_id is the feed, value is its id as text; 'author' and 'keyword': value is
-- the text folded (casefold, spaces collapsed), shown is what the member typed. A follow made in
-- a guild matches only episodes of feeds that guild subscribes to.
CREATE TABLE follows (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    guild_id   INTEGER NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('feed', 'author', 'keyword')),
    value      TEXT NOT NULL,
    shown      TEXT NOT NULL,
    feed_id    INTEGER REFERENCES feeds(id) ON DELETE CASCADE,
    created_at REAL NOT NULL,
    UNIQUE (user_id, guild_id, kind, value)
) STRICT;
CREATE INDEX follows_by_value ON follows(kind, value);

-- One row per (episode, member), whatever number of their follows match: 'pending' until the DM
-- is sent, then 'sent'; 'closed' = their DMs were closed (never retried); 'unfollowed' = the
-- follow went before the DM did. nonce is the DM's enforce-nonce, so a retry after a crash
-- cannot send it twice.
CREATE TABLE follow_deliveries (
    episode_id INTEGER NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    follow_id  INTEGER REFERENCES follows(id) ON DELETE SET NULL,
    state      TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'closed', 'unfollowed')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    nonce      TEXT NOT NULL,
    message_id INTEGER,
    updated_at REAL NOT NULL,
    PRIMARY KEY (episode_id, user_id)
) STRICT;
CREATE INDEX follow_deliveries_pending ON follow_deliveries(updated_at) WHERE state = 'pending';

-- Members whose DMs were found closed: told once (the one notice), then not sent to until they
-- follow something again or press a button that shows they can be reached.
CREATE TABLE follow_dms_closed (
    user_id     INTEGER PRIMARY KEY,
    closed_at   REAL NOT NULL,
    notice_sent INTEGER NOT NULL DEFAULT 0 CHECK (notice_sent IN (0, 1))
) STRICT;
