#!/usr/bin/env bash
# Campaign throughput and memory: hundred sends 10,000 personalised messages to postfix's
# smtp-sink, on SQLite and on Postgres, each against a bare lettre loop (TCP_NODELAY, same
# connections, same message size) measured in the same run.
#
#   bash benches/campaign.sh            # 10,000 messages, 8 connections
#   MESSAGES=2000 CONCURRENCY=4 bash benches/campaign.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MESSAGES="${MESSAGES:-10000}"
CONCURRENCY="${CONCURRENCY:-8}"
PORT="${SINK_PORT:-2525}"
PG="${HUNDRED_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
work="$(mktemp -d /tmp/hundred-campaign-bench.XXXXXX)"
trap 'kill "${sink_pid:-0}" 2>/dev/null || true; dropdb -h 127.0.0.1 -U postgres --if-exists hundred_bench_campaign >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

# postfix's smtp-sink, unpacked from Debian's package without installing a mail server.
if [ ! -x /tmp/postfix-x/root/usr/sbin/smtp-sink ]; then
  mkdir -p /tmp/postfix-x && (cd /tmp/postfix-x && { apt-get download postfix >/dev/null 2>&1 || { apt-get update -qq && apt-get download postfix; }; } && dpkg-deb -x postfix_*.deb root)
fi
export LD_LIBRARY_PATH=/tmp/postfix-x/root/usr/lib/postfix
/tmp/postfix-x/root/usr/sbin/smtp-sink -u root -m 256 "127.0.0.1:${PORT}" 1024 &
sink_pid=$!
sleep 0.5

cargo build --release --benches --quiet
bench="$(ls -t target/release/deps/campaign_send-* | grep -v '\.d$' | head -n1)"

echo "== SQLite =="
BENCH_SMTP="127.0.0.1:${PORT}" BENCH_DATABASE="sqlite://${work}/bench.db" \
  BENCH_MESSAGES="$MESSAGES" BENCH_CONCURRENCY="$CONCURRENCY" "$bench"

echo "== Postgres =="
dropdb -h 127.0.0.1 -U postgres --if-exists hundred_bench_campaign >/dev/null 2>&1 || true
createdb -h 127.0.0.1 -U postgres hundred_bench_campaign
BENCH_SMTP="127.0.0.1:${PORT}" BENCH_DATABASE="${PG%/*}/hundred_bench_campaign" \
  BENCH_MESSAGES="$MESSAGES" BENCH_CONCURRENCY="$CONCURRENCY" "$bench"
