-- Campaigns, their links, and one durable delivery row per recipient.

CREATE TABLE campaigns (
    id              UUID PRIMARY KEY,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    format          TEXT NOT NULL CHECK (format IN ('markdown', 'html')),
    preheader       TEXT,
    layout          TEXT NOT NULL DEFAULT 'default',
    status          TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'sending', 'paused', 'sent', 'cancelled')),
    scheduled_at    TIMESTAMPTZ,
    started_at      TIMESTAMPTZ,
    finished_at     TIMESTAMPTZ,
    -- how late a scheduled send started (the service was down at its time), in seconds
    late_by_seconds BIGINT,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX campaigns_due ON campaigns (scheduled_at) WHERE status = 'scheduled';

-- Every link of a campaign, so a click token names a link by number and the redirect goes
-- only to a URL we stored.
CREATE TABLE campaign_links (
    id          BIGSERIAL PRIMARY KEY,
    campaign_id UUID NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    url         TEXT NOT NULL,
    UNIQUE (campaign_id, url)
);

CREATE TABLE deliveries (
    id              UUID PRIMARY KEY,
    campaign_id     UUID NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    -- NULL once the subscriber is erased: the count stays, the person goes
    subscriber_id   UUID REFERENCES subscribers (id) ON DELETE SET NULL,
    state           TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'failed', 'skipped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    lease_owner     TEXT,
    lease_until     TIMESTAMPTZ,
    message_id      TEXT NOT NULL,
    smtp_reply      TEXT,
    -- a lease that expired with the message possibly handed to SMTP: counted, then resent
    resumed         INTEGER NOT NULL DEFAULT 0,
    sent_at         TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (campaign_id, subscriber_id)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'queued';
CREATE INDEX deliveries_campaign_state ON deliveries (campaign_id, state);
CREATE UNIQUE INDEX deliveries_message_id ON deliveries (message_id);

-- Tracking can be switched off per subscriber (no pixel, no rewritten links).
ALTER TABLE subscribers ADD COLUMN tracking BOOLEAN NOT NULL DEFAULT TRUE;
