-- The public archive (/archive): whether a campaign is shown there (the composer's
-- checkbox, the API's `public`), and its address there (`/archive/{slug}`), given the
-- first time it is needed once the campaign went out and kept after. Campaigns sent before
-- the archive existed stay out of it until the owner puts them in.
ALTER TABLE campaigns ADD COLUMN public BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE campaigns ADD COLUMN slug TEXT;
CREATE UNIQUE INDEX campaigns_slug ON campaigns (slug);
