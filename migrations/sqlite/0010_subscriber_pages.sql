-- The owner's subscriber pages: a private note on each subscriber, the References of each
-- inbound message (so an answer threads under the reply it answers), the owner's answers to
-- replies, and an index for listing subscribers by signup date.
-- (Tracking per subscriber is the `tracking` column of 0002.)
ALTER TABLE subscribers ADD COLUMN note TEXT;

-- The Message-IDs of the `References` header, with brackets, oldest first, space-separated.
ALTER TABLE inbound_messages ADD COLUMN reference_ids TEXT;

-- An answer the owner wrote to a subscriber's reply. `id` is the id of the queued message
-- (`outbound_messages`, kind 'answer') that carries it; its state says whether it went out.
CREATE TABLE answers (
    id            BLOB PRIMARY KEY,
    subscriber_id BLOB NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    -- The reply it answers; kept (as NULL) if that reply is ever deleted.
    reply_id      INTEGER REFERENCES inbound_messages (id) ON DELETE SET NULL,
    subject       TEXT NOT NULL,
    body          TEXT NOT NULL,
    -- Threading headers, validated when the answer was written.
    in_reply_to   TEXT,
    reference_ids TEXT,
    created_at    INTEGER NOT NULL
);
CREATE INDEX answers_subscriber ON answers (subscriber_id, created_at);

CREATE INDEX subscribers_created ON subscribers (created_at, id);
