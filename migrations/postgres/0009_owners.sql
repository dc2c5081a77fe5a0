-- The owner's web app: accounts (argon2 hashes), their sessions (the cookie's SHA-256, never
-- the cookie itself) and the one-time setup link (its SHA-256 in settings).
CREATE TABLE users (
    id            UUID PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Every state-changing admin request carries this (form field or header).
    csrf_token   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- The dashboard's latest replies.
CREATE INDEX inbound_messages_kind_received ON inbound_messages (kind, received_at);
