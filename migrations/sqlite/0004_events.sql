-- Opens and clicks, each with the verdict (human, machine or scanner) and the reason in
-- words. Raw IP addresses and user agents are used to decide and never stored.
CREATE TABLE events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id   BLOB NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    campaign_id   BLOB NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    -- Kept when the subscriber is erased, without the person: the campaign's counts stay.
    subscriber_id BLOB REFERENCES subscribers (id) ON DELETE SET NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('open', 'click')),
    link_id       INTEGER REFERENCES campaign_links (id) ON DELETE CASCADE,
    verdict       TEXT NOT NULL CHECK (verdict IN ('human', 'machine', 'scanner')),
    reason        TEXT NOT NULL,
    at            INTEGER NOT NULL
);
CREATE INDEX events_delivery ON events (delivery_id, at);
CREATE INDEX events_campaign ON events (campaign_id, kind, verdict);
CREATE INDEX events_subscriber ON events (subscriber_id, at) WHERE subscriber_id IS NOT NULL;
