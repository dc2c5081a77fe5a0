-- A sender reads back the batch it just claimed by its lease.
CREATE INDEX deliveries_lease ON deliveries (lease_owner, lease_until) WHERE lease_owner IS NOT NULL;
