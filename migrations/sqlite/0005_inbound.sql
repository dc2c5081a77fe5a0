-- Mail that comes back: replies, automatic replies, bounces and complaints, each matched to
-- the subscriber (and the copy) it answers where that can be told, and kept unmatched
-- otherwise. The same Message-ID twice is one message.
CREATE TABLE inbound_messages (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at   INTEGER NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('reply', 'auto_reply', 'hard_bounce', 'soft_bounce', 'complaint')),
    -- A subscriber's erasure takes their replies with it.
    subscriber_id BLOB REFERENCES subscribers (id) ON DELETE CASCADE,
    delivery_id   BLOB REFERENCES deliveries (id) ON DELETE SET NULL,
    campaign_id   BLOB REFERENCES campaigns (id) ON DELETE SET NULL,
    -- How it was matched: 'reply token', 'bounce token', 'In-Reply-To', 'returned Message-ID',
    -- 'recipient address', 'From address'; NULL when it could not be.
    matched_by    TEXT,
    message_id    TEXT,
    from_address  TEXT,
    subject       TEXT,
    sent_at       INTEGER,
    -- A reply's new text (quote trimmed); a bounce's diagnostic.
    text          TEXT,
    -- A bounce's status code (5.1.1).
    status        TEXT,
    -- Why an automatic reply is one; a complaint's feedback type.
    detail        TEXT
);
CREATE UNIQUE INDEX inbound_messages_message_id ON inbound_messages (message_id);
CREATE INDEX inbound_messages_subscriber ON inbound_messages (subscriber_id, received_at);
CREATE INDEX inbound_messages_campaign ON inbound_messages (campaign_id, kind);
