-- Per campaign, kept as they change so the headline never counts every copy: recipients
-- who showed genuine interest (copies with a first human open, click or reply; added to by
-- the transactions that set them, once per campaign per transaction), and copies
-- delivered, counted once when the send finishes.
ALTER TABLE campaigns ADD COLUMN engaged INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN delivered INTEGER;
UPDATE campaigns SET engaged = (SELECT COUNT(opened_at) FROM deliveries d WHERE d.campaign_id = campaigns.id);
UPDATE campaigns SET delivered = (SELECT COUNT(*) FROM deliveries d WHERE d.campaign_id = campaigns.id AND d.state = 'sent')
WHERE status = 'sent';
