#!/usr/bin/env bash
# Reproduces the Postgres connection leak found while benchmarking (see BENCHMARKS.md,
# "Problems found"): a `POST /subscribe` whose client disconnects while the handler is
# inside `pool.begin()` leaves a pooled connection inside a transaction that nothing
# ends. Later statements borrowed on that connection (the sender's "mark sent" updates,
# lease claims) run inside it, are invisible to everyone else and hold their row locks; on
# SIGTERM the sender's `release_leases` waits for those locks and `hundred serve` never
# exits.
#
#   benches/cancel_repro.sh   (BENCH_NO_BUILD=1: no release build; BENCH_BIN=path: use that binary)
#   BENCH_ROUTE=api benches/cancel_repro.sh   (POST /api/v1/subscribers with a token instead
#                                              of POST /subscribe)
#
# Starts hundred on a fresh Postgres database on 127.0.0.1, runs 2-second wrk bursts
# (benches/signup.lua; wrk closes its connections with requests in flight when its time
# is up, like visitors closing a tab) until a pool session is left in a transaction (at
# most 10), waits 10 s, then reports: leaked sessions, BEGINs that found a transaction
# already open, messages written as .eml vs messages committed as sent, and whether the
# server exits within 40 s of SIGTERM. Everything it creates is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${BENCH_PORT:-18481}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
DB="hundred_bench_cancel_$$"
WORK=$(mktemp -d /tmp/hundred-cancel.XXXXXX)
PID=""
cleanup() {
  [[ -n "$PID" ]] && kill -KILL "$PID" 2>/dev/null || true
  dropdb -h 127.0.0.1 -U postgres --if-exists --force "$DB" 2>/dev/null || true
  [[ "${BENCH_KEEP:-0}" == 1 ]] && echo "logs kept in $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT

[[ -n "${BENCH_BIN:-}" || "${BENCH_NO_BUILD:-0}" == 1 ]] || cargo build --release --locked
cp "${BENCH_BIN:-target/release/hundred}" "$WORK/hundred"
createdb -h 127.0.0.1 -U postgres "$DB"
mkdir -p "$WORK/outbox"
(cd "$WORK" && exec env -i "PATH=$PATH" "HUNDRED_DATABASE_URL=$PG/$DB" \
  "HUNDRED_LISTEN=127.0.0.1:$PORT" "HUNDRED_PUBLIC_URL=http://127.0.0.1:$PORT" \
  "HUNDRED_OUTBOX_DIR=$WORK/outbox" HUNDRED_SIGNUP_BURST=100000000 \
  HUNDRED_SIGNUP_PER_MINUTE=100000000 ./hundred serve >"$WORK/serve.log" 2>&1) &
PID=$!
URL="http://127.0.0.1:$PORT/subscribe"
AUTH=""
if [[ "${BENCH_ROUTE:-subscribe}" == api ]]; then
  URL="http://127.0.0.1:$PORT/api/v1/subscribers"
  AUTH="Bearer $(cd "$WORK" && env -i "PATH=$PATH" "HUNDRED_DATABASE_URL=$PG/$DB" ./hundred token create --name cancel-repro 2>/dev/null)"
fi
for _ in $(seq 1 200); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.05; done

leaked() {
  psql "$PG/postgres" -Atc "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = '$DB' AND state LIKE 'idle in transaction%' AND now() - xact_start > interval '1 second'"
}
# Up to ten 2-second wrk bursts at 32 connections: each ends by closing its connections
# with ~32 signups in flight, which cancels them at whatever await they were at. After
# each burst, look for a pool session left inside a transaction; stop at the first.
for round in $(seq 1 10); do
  BENCH_RUN="cancel$round" BENCH_AUTH="$AUTH" wrk -t2 -c32 -d2s -s benches/signup.lua \
    "$URL" >"$WORK/wrk-$round.txt"
  sleep 2
  n=$(leaked)
  echo "burst $round: $(awk '$1 == "bench.sent" { s = $2 } $1 == "bench.ok200" { o = $2 } $1 == "bench.non200_by_status" { x = $2 } END { print s " sent, " o " answered 200, others: " x }' "$WORK/wrk-$round.txt"); pool sessions idle in a transaction open for > 1 s: $n"
  ((n > 0)) && break
done

# Let the sender (50 messages/s by default) work through some of the queue.
sleep 10
q() { psql "$PG/$DB" -Atc "$1"; }
echo "after 10 s more: pool sessions idle in a transaction open for > 1 s: $(leaked)"
echo "'there is already a transaction in progress' warnings: $(grep -c 'already a transaction in progress' "$WORK/serve.log" || true)"
EML=$(find "$WORK/outbox" -name '*.eml' | wc -l)
SENT=$(q "SELECT COUNT(*) FROM outbound_messages WHERE state = 'sent'")
echo ".eml files written: $EML; rows committed as sent (seen from another session): $SENT; written but not committed as sent: $((EML - SENT))"
echo "rows still leased but not marked sent (seen from another session): $(q "SELECT COUNT(*) FROM outbound_messages WHERE state = 'queued' AND lease_owner IS NOT NULL")"
kill -TERM "$PID"
start=$SECONDS
for _ in $(seq 1 400); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$PID" 2>/dev/null; then
  echo "hundred did NOT exit within 40 s of SIGTERM; blocked sessions:"
  psql "$PG/postgres" -Atc "SELECT pid, state, wait_event_type, pg_blocking_pids(pid), left(query, 80) FROM pg_stat_activity WHERE datname = '$DB' AND (wait_event_type = 'Lock' OR state LIKE 'idle in transaction%')"
else
  echo "hundred exited $((SECONDS - start)) s after SIGTERM"
  PID=""
fi
