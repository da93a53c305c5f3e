-- Narration requests, their votes, and an outbox of what each member must be told.

CREATE TABLE requests (
    id                INTEGER PRIMARY KEY,
    guild_id          INTEGER NOT NULL,
    channel_id        INTEGER NOT NULL,  -- where it was asked; the fallback for closed DMs
    post_key          TEXT NOT NULL,     -- lw:<id>, ea:<id> or a normalised URL
    url               TEXT NOT NULL,     -- the canonical URL
    title             TEXT,
    note              TEXT,
    requester_id      INTEGER NOT NULL,
    status            TEXT NOT NULL DEFAULT 'open'
                      CHECK (status IN ('open', 'approved', 'rejected', 'narrated')),
    reason            TEXT,
    decided_by        INTEGER,
    decided_at        REAL,
    episode_id        INTEGER REFERENCES episodes(id) ON DELETE SET NULL,
    public_message_id INTEGER,
    review_message_id INTEGER,
    created_at        REAL NOT NULL,
    UNIQUE (guild_id, post_key)
) STRICT;
CREATE INDEX requests_by_key ON requests(post_key) WHERE status IN ('open', 'approved');
CREATE INDEX requests_by_requester ON requests(requester_id, created_at);

-- The requester's own request counts as the first vote.
CREATE TABLE request_votes (
    request_id INTEGER NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (request_id, user_id)
) STRICT;

-- Written in the same transaction as the decision, sent later, marked when delivered.
CREATE TABLE request_notices (
    request_id INTEGER NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('approved', 'rejected', 'narrated')),
    sent_at    REAL,
    PRIMARY KEY (request_id, user_id, kind)
) STRICT;
CREATE INDEX request_notices_unsent ON request_notices(request_id) WHERE sent_at IS NULL;
