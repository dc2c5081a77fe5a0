-- The owner's subscriber pages: a private note on each subscriber, the References of each
-- inbound message (so an answer threads under the reply it answers), the owner's answers to
-- replies, and indexes for listing subscribers by signup date and by name.
-- (Tracking per subscriber is the `tracking` column of 0002.)
ALTER TABLE subscribers ADD COLUMN note TEXT;

-- The Message-IDs of the `References` header, with brackets, oldest first, space-separated.
ALTER TABLE inbound_messages ADD COLUMN reference_ids TEXT;

-- An answer the owner wrote to a subscriber's reply. `id` is the id of the queued message
-- (`outbound_messages`, kind 'answer') that carries it; its state says whether it went out.
CREATE TABLE answers (
    id            UUID PRIMARY KEY,
    subscriber_id UUID NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    -- The reply it answers; kept (as NULL) if that reply is ever deleted.
    reply_id      BIGINT REFERENCES inbound_messages (id) ON DELETE SET NULL,
    subject       TEXT NOT NULL,
    body          TEXT NOT NULL,
    -- Threading headers, validated when the answer was written.
    in_reply_to   TEXT,
    reference_ids TEXT,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX answers_subscriber ON answers (subscriber_id, created_at);

CREATE INDEX subscribers_created ON subscribers (created_at, id);
-- A page sorted by name reads this instead of sorting every name (collation-aware sorting
-- is the slow part on Postgres; SQLite sorts 10,000 names in a few milliseconds).
CREATE INDEX subscribers_name ON subscribers (LOWER(name), LOWER(email), id);
