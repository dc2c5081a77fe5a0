#!/usr/bin/env bash
# The engagement-sorted subscriber list with 10,000 subscribers and about a million events,
# timed through the HTTP API, on SQLite and on Postgres, against the newest-first list
# measured in the same run.
#
#   bash benches/engagement.sh
#   SUBSCRIBERS=2000 bash benches/engagement.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SUBSCRIBERS="${SUBSCRIBERS:-10000}"
CAMPAIGNS="${CAMPAIGNS:-50}"
PG="${HUNDRED_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
work="$(mktemp -d /tmp/hundred-engagement-bench.XXXXXX)"
trap 'dropdb -h 127.0.0.1 -U postgres --if-exists hundred_bench_engagement >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

cargo build --release --benches --quiet
bench="$(ls -t target/release/deps/engagement_list-* | grep -v '\.d$' | head -n1)"

echo "== SQLite =="
BENCH_DATABASE="sqlite://${work}/bench.db" BENCH_SUBSCRIBERS="$SUBSCRIBERS" \
  BENCH_CAMPAIGNS="$CAMPAIGNS" "$bench"

echo "== Postgres =="
dropdb -h 127.0.0.1 -U postgres --if-exists hundred_bench_engagement >/dev/null 2>&1 || true
createdb -h 127.0.0.1 -U postgres hundred_bench_engagement
BENCH_DATABASE="${PG%/*}/hundred_bench_engagement" BENCH_SUBSCRIBERS="$SUBSCRIBERS" \
  BENCH_CAMPAIGNS="$CAMPAIGNS" "$bench"
