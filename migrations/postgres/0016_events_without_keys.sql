-- Opens and clicks are stored at the rate they arrive, one batch at a time: their table
-- checks no foreign keys (each insert looked up and locked its delivery, campaign,
-- subscriber and link: three quarters of an event's cost). What the keys did is done
-- where it happens: erasing a subscriber clears their id from their events in the same
-- transaction (store/erasure.rs); campaigns, deliveries and links are never deleted while
-- they have events (an erased person's link moves its clicks first).
ALTER TABLE events
    DROP CONSTRAINT IF EXISTS events_delivery_id_fkey,
    DROP CONSTRAINT IF EXISTS events_campaign_id_fkey,
    DROP CONSTRAINT IF EXISTS events_subscriber_id_fkey,
    DROP CONSTRAINT IF EXISTS events_link_id_fkey;
