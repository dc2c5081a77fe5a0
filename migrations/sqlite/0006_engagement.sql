-- Genuine interest per copy and per subscriber.
--
-- Each copy keeps when a person first opened it (a human click counts as an open),
-- clicked in it, and replied to it: repeats stay in `events` for reports and count once
-- here. Machine opens and scanner clicks never set these.
ALTER TABLE deliveries ADD COLUMN opened_at INTEGER;
ALTER TABLE deliveries ADD COLUMN clicked_at INTEGER;
ALTER TABLE deliveries ADD COLUMN replied_at INTEGER;
UPDATE deliveries SET
    opened_at = (SELECT MIN(e.at) FROM events e WHERE e.delivery_id = deliveries.id AND e.verdict = 'human'),
    clicked_at = (SELECT MIN(e.at) FROM events e
                  WHERE e.delivery_id = deliveries.id AND e.verdict = 'human' AND e.kind = 'click'),
    replied_at = (SELECT MIN(i.received_at) FROM inbound_messages i
                  WHERE i.delivery_id = deliveries.id AND i.kind = 'reply')
WHERE id IN (SELECT delivery_id FROM events WHERE verdict = 'human'
             UNION SELECT delivery_id FROM inbound_messages WHERE kind = 'reply');
CREATE INDEX deliveries_subscriber ON deliveries (subscriber_id, created_at);

-- A subscriber's interest, kept up to date by whatever records a human signal (see
-- src/domain/engagement.rs). `rank` orders by the decayed score without recomputing it:
-- log2 of the sum of weight * 2^(days since 1970 / half-life); NULL: no human signal.
CREATE TABLE engagement (
    subscriber_id          BLOB PRIMARY KEY REFERENCES subscribers (id) ON DELETE CASCADE,
    rank                   REAL,
    opens                  INTEGER NOT NULL DEFAULT 0,
    clicks                 INTEGER NOT NULL DEFAULT 0,
    replies                INTEGER NOT NULL DEFAULT 0,
    last_open_at           INTEGER,
    last_click_at          INTEGER,
    last_reply_at          INTEGER,
    last_signal_at         INTEGER,
    campaigns              INTEGER NOT NULL DEFAULT 0,
    campaigns_since_signal INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX engagement_rank ON engagement (rank);

-- The tiers a campaign is for (a JSON array of names); NULL: every confirmed subscriber.
ALTER TABLE campaigns ADD COLUMN audience_tiers TEXT;
