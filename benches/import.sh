#!/usr/bin/env bash
# A CSV import of the largest file the web form takes (10 MB, ~198,000 rows), timed with
# `hundred import` (the code the form runs) on SQLite and on Postgres: once as new pending
# subscribers (each with a confirmation message queued), once as already confirmed, and,
# as the baseline of the same run, the same file again (every row read and found already
# on the list, nothing written).
#
#   bash benches/import.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PG_ADMIN="${HUNDRED_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
work="$(mktemp -d /tmp/hundred-import-bench.XXXXXX)"
trap 'for db in hundred_bench_import_p hundred_bench_import_c; do dropdb -h 127.0.0.1 -U postgres --if-exists $db >/dev/null 2>&1 || true; done; rm -rf "$work"' EXIT

cargo build --release --locked --quiet --bin hundred
hundred="$PWD/target/release/hundred"

python3 - "$work/list.csv" <<'PY'
import sys
size, n = 0, 0
with open(sys.argv[1], "w") as f:
    f.write("email,name,city\n")
    while size < 10 * 1024 * 1024 - 200:
        line = f"person{n}@example{n % 97}.com,Person Number {n},Town{n % 13}\n"
        f.write(line)
        size += len(line)
        n += 1
print(f"{n} rows, {size} bytes")
PY

run() { # database url, label, extra flags
  local url="$1" label="$2"; shift 2
  local start end
  start=$(date +%s.%N)
  (cd "$work" && HUNDRED_DATABASE_URL="$url" HUNDRED_PUBLIC_URL=http://localhost:8080 \
    "$hundred" import --basis "bench" --basis-kind other "$@" list.csv >/dev/null)
  end=$(date +%s.%N)
  printf '%-40s %6.2f s\n' "$label" "$(echo "$end - $start" | bc)"
}

for mode in pending confirmed; do
  flag=(); [ "$mode" = confirmed ] && flag=(--confirmed)
  db="hundred_bench_import_${mode:0:1}"
  echo "== SQLite, $mode =="
  rm -f "$work/$mode.db"*
  run "sqlite://$work/$mode.db" "import" "${flag[@]}"
  run "sqlite://$work/$mode.db" "baseline: the same file again" "${flag[@]}"
  echo "== Postgres, $mode =="
  dropdb -h 127.0.0.1 -U postgres --if-exists "$db" >/dev/null 2>&1 || true
  createdb -h 127.0.0.1 -U postgres "$db"
  run "${PG_ADMIN%/*}/$db" "import" "${flag[@]}"
  run "${PG_ADMIN%/*}/$db" "baseline: the same file again" "${flag[@]}"
done
