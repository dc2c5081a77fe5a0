-- Only our own mail changes a subscriber. `proof` says what ties an inbound message to its
-- subscriber beyond an address anyone could write: 'token' (the signed token of a recipient
-- address), 'message-id' (one of our Message-IDs: In-Reply-To, References, the returned
-- copy), 'authentication' (a reply whose From domain passed DKIM or DMARC at a server the
-- owner trusts) or 'owner' (the owner applied it, or marked the reply genuine). NULL: only
-- an address ties it, or nothing does. A reply without proof is kept and shown as
-- unverified, and counts for nothing.
ALTER TABLE inbound_messages ADD COLUMN proof TEXT
    CHECK (proof IN ('token', 'message-id', 'authentication', 'owner'));
UPDATE inbound_messages SET proof = CASE matched_by
    WHEN 'reply token' THEN 'token'
    WHEN 'bounce token' THEN 'token'
    WHEN 'In-Reply-To' THEN 'message-id'
    WHEN 'returned Message-ID' THEN 'message-id'
END;

-- A hard bounce or complaint tied only by an address waits for the owner ('pending'), who
-- applies it or dismisses it; nothing changes until then.
ALTER TABLE inbound_messages ADD COLUMN review TEXT
    CHECK (review IN ('pending', 'applied', 'dismissed'));
ALTER TABLE inbound_messages ADD COLUMN reviewed_at INTEGER;
CREATE INDEX inbound_messages_review ON inbound_messages (review, received_at);

-- Replies matched by their From address alone no longer count: weigh everyone again at the
-- next start (as a changed half-life does).
DELETE FROM settings WHERE key = 'engagement_half_life_days';
