-- SQLite keeps times as INTEGER milliseconds since the Unix epoch (see store::Timestamp)
-- and UUIDs as 16-byte BLOBs.
-- The foundation: settings, subscribers with their consent, the outgoing-mail queue,
-- API tokens, and the hashes of erased addresses.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Every consent text ever shown, so a subscriber's record says exactly what they agreed to.
CREATE TABLE consent_texts (
    version        TEXT PRIMARY KEY,
    text           TEXT NOT NULL,
    first_shown_at INTEGER NOT NULL
);

CREATE TABLE subscribers (
    id                        BLOB PRIMARY KEY,
    email                     TEXT NOT NULL,
    -- lower-cased ASCII form: uniqueness is case-insensitive
    email_key                 TEXT NOT NULL UNIQUE,
    name                      TEXT,
    status                    TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'unsubscribed', 'bounced', 'complained')),
    attributes                TEXT NOT NULL DEFAULT '{}',
    created_at                INTEGER NOT NULL,
    updated_at                INTEGER NOT NULL,
    signed_up_at              INTEGER NOT NULL,
    signup_ip                 TEXT,
    signup_user_agent         TEXT,
    signup_source             TEXT NOT NULL,
    consent_text_version      TEXT REFERENCES consent_texts (version),
    stated_consent            TEXT,
    confirmed_at              INTEGER,
    confirmed_ip              TEXT,
    unsubscribed_at           INTEGER,
    unsubscribe_method        TEXT,
    last_confirmation_sent_at INTEGER
);
CREATE INDEX subscribers_status ON subscribers (status, created_at);

-- The history behind the consent fields: every signup, confirmation and unsubscription.
CREATE TABLE consent_events (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    subscriber_id        BLOB NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    kind                 TEXT NOT NULL,
    at                   INTEGER NOT NULL,
    ip                   TEXT,
    user_agent           TEXT,
    source               TEXT,
    consent_text_version TEXT,
    detail               TEXT
);
CREATE INDEX consent_events_subscriber ON consent_events (subscriber_id, at);

-- One-way hashes of erased addresses, so an import never brings them back.
CREATE TABLE erased_addresses (
    email_hash TEXT PRIMARY KEY,
    erased_at  INTEGER NOT NULL
);

CREATE TABLE api_tokens (
    id           BLOB PRIMARY KEY,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

-- The durable queue of single messages (confirmations, welcomes). A request only inserts a
-- row; sender workers claim rows under a lease, send, and record the result.
CREATE TABLE outbound_messages (
    id              BLOB PRIMARY KEY,
    kind            TEXT NOT NULL,
    subscriber_id   BLOB REFERENCES subscribers (id) ON DELETE CASCADE,
    recipient       TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT,
    lease_until     INTEGER,
    message_id      TEXT NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX outbound_messages_due ON outbound_messages (next_attempt_at) WHERE state = 'queued';
CREATE INDEX outbound_messages_subscriber ON outbound_messages (subscriber_id);
