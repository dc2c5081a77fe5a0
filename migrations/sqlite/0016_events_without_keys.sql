-- Opens and clicks are stored at the rate they arrive, one batch at a time: their table
-- checks no foreign keys (each insert looked up its delivery, campaign, subscriber and
-- link). What the keys did is done where it happens: erasing a subscriber clears their
-- id from their events in the same transaction (store/erasure.rs); campaigns, deliveries
-- and links are never deleted while they have events (an erased person's link moves its
-- clicks first). The rowid is the id: no sequence to keep per insert.
CREATE TABLE events_unkeyed (
    id            INTEGER PRIMARY KEY,
    delivery_id   BLOB NOT NULL,
    campaign_id   BLOB NOT NULL,
    subscriber_id BLOB,
    kind          TEXT NOT NULL CHECK (kind IN ('open', 'click')),
    link_id       INTEGER,
    verdict       TEXT NOT NULL CHECK (verdict IN ('human', 'machine', 'scanner')),
    reason        TEXT NOT NULL,
    at            INTEGER NOT NULL
);
INSERT INTO events_unkeyed (id, delivery_id, campaign_id, subscriber_id, kind, link_id, verdict, reason, at)
    SELECT id, delivery_id, campaign_id, subscriber_id, kind, link_id, verdict, reason, at FROM events;
DROP TABLE events;
ALTER TABLE events_unkeyed RENAME TO events;
CREATE INDEX events_delivery ON events (delivery_id, at);
CREATE INDEX events_campaign ON events (campaign_id, kind, verdict);
CREATE INDEX events_subscriber ON events (subscriber_id, at) WHERE subscriber_id IS NOT NULL;
