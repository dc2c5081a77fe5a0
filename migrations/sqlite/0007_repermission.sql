-- Re-permission: dormant subscribers asked "still want this?". Each request waits for a
-- "keep me" answer until answer_by; after that the owner may unsubscribe those who did not
-- answer, in one action (never automatically). One open request per subscriber.
CREATE TABLE permission_requests (
    id            BLOB PRIMARY KEY,
    subscriber_id BLOB NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    asked_at      INTEGER NOT NULL,
    answer_by     INTEGER NOT NULL,
    kept_at       INTEGER,
    -- 'kept' (answered), 'unsubscribed' (did not answer; the owner removed them)
    outcome       TEXT CHECK (outcome IN ('kept', 'unsubscribed')),
    closed_at     INTEGER
);
CREATE UNIQUE INDEX permission_requests_open ON permission_requests (subscriber_id) WHERE closed_at IS NULL;
CREATE INDEX permission_requests_subscriber ON permission_requests (subscriber_id, asked_at);

-- A "keep me" answer is a human signal like a click.
ALTER TABLE engagement ADD COLUMN last_kept_at INTEGER;
