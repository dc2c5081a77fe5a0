-- pgbench baseline: the durable work of one `POST /subscribe` for a new address, written
-- by hand, in one transaction, statement by statement as `Store::signup` sends them:
-- the subscriber row with its consent fields, the consent_events row, and the queued
-- confirmation in outbound_messages.
--
--   pgbench -n -M prepared -c 32 -j 2 -T 15 -D run=<tag> -D n=0 -D consent=<version> \
--           -f benches/pgbench_signup.sql <database migrated by `hundred migrate`>
--
-- Distinct addresses: p-<run>-c<client_id>-<n>@example.com, where n is a per-client
-- counter (pgbench variables live as long as the client, so `\set n :n + 1` counts that
-- client's transactions). `run` differs between the warm-up and the measured run. If an
-- address ever collided, ON CONFLICT would return no row, `\gset` would fail and pgbench
-- would report the client as aborted, so a clean run proves there was no collision.
-- `consent` is the version of a row in consent_texts (the foreign key is checked, as it
-- is for hundred). Ids come from gen_random_uuid() (hundred makes UUIDv7 in Rust).

\set n :n + 1
BEGIN;
INSERT INTO subscribers (id, email, email_key, name, status, attributes, created_at,
    updated_at, signed_up_at, signup_ip, signup_user_agent, signup_source,
    consent_text_version, last_confirmation_sent_at)
VALUES (gen_random_uuid(),
    'p-' || :run || '-c' || :client_id || '-' || :n || '@example.com',
    'p-' || :run || '-c' || :client_id || '-' || :n || '@example.com',
    'Bench Reader ' || :n, 'pending', '{}', now(), now(), now(),
    '127.0.0.1', 'pgbench-signup-bench', 'json', :consent, now())
ON CONFLICT (email_key) DO NOTHING
RETURNING id, email \gset s_
INSERT INTO consent_events (subscriber_id, kind, at, ip, user_agent, source, consent_text_version)
VALUES (:s_id, 'signup', now(), '127.0.0.1', 'pgbench-signup-bench', 'json', :consent);
INSERT INTO outbound_messages (id, kind, subscriber_id, recipient, state, attempts,
    next_attempt_at, message_id, created_at)
VALUES (gen_random_uuid(), 'confirmation', :s_id, :s_email, 'queued', 0, now(),
    '<' || replace(gen_random_uuid()::text, '-', '') || '@localhost>', now());
COMMIT;
