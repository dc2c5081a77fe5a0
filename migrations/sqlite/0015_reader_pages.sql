-- The reader's own page (/me/{token}): a pause, and erasures the person asked for.
--
-- paused_until: no campaign goes to them before it. pause_days: the days they paused in
-- all; pause_credit: the same span in the database's own time arithmetic (milliseconds
-- here, an interval on Postgres), added to their last signal where tiers are decided, so
-- the time they asked for no mail does not count against them; pause_rank_credit: the
-- same for the score (pause_days / the half-life), kept when the half-life changes.
ALTER TABLE subscribers ADD COLUMN paused_until INTEGER;
ALTER TABLE subscribers ADD COLUMN pause_days REAL NOT NULL DEFAULT 0;
ALTER TABLE subscribers ADD COLUMN pause_credit INTEGER NOT NULL DEFAULT 0;
ALTER TABLE subscribers ADD COLUMN pause_rank_credit REAL NOT NULL DEFAULT 0;
-- Whether the person erased themselves (the owner's pages count them, without the address).
ALTER TABLE erased_addresses ADD COLUMN by_person BOOLEAN NOT NULL DEFAULT FALSE;
