#!/usr/bin/env bash
# Signup benchmark, end to end. From the repository root:
#
#   benches/signup.sh
#
# 1. builds the release binary (cargo build --release --locked) and copies it to a temp dir,
# 2. hundred on SQLite (fresh file): start, warm up, then wrk at 32 connections against
#    POST /subscribe (JSON, a distinct address per request, benches/signup.lua), stop,
#    check the database against the 200s,
# 3. the same on Postgres (a fresh database created for the run, dropped at the end),
# 4. the pgbench baseline (benches/pgbench_signup.sql) at the same concurrency on another
#    fresh database migrated by `hundred migrate`,
# 5. start-up time and idle memory (benches/startup.py),
# 6. prints a summary (also written to $BENCH_OUT/summary.txt if BENCH_OUT is set).
#
# Needs: wrk, pgbench, psql/createdb/dropdb, sqlite3, curl, python3, and Postgres on
# 127.0.0.1:5432 with trust auth for user postgres. All traffic stays on 127.0.0.1.
#
# Knobs (environment): BENCH_DURATION (15 s per measured run), BENCH_WARMUP (3 s),
# BENCH_CONNECTIONS (32), BENCH_THREADS (2), BENCH_PORT (18480), BENCH_PG
# (postgres://postgres@127.0.0.1:5432), BENCH_SEND_RATE (unset: hundred's default of 50
# messages/s), BENCH_NO_BUILD=1 (use target/release/hundred as it is), BENCH_BIN=path
# (use that binary, no build), BENCH_RUST_LOG (hundred's RUST_LOG; unset: its default,
# which logs one INFO line per signup), BENCH_PG_PARAMS (appended to the Postgres URLs of
# hundred and pgbench, e.g. '?sslmode=disable'; unset: hundred's default, and pgbench uses
# TLS exactly when hundred's connections did in this run),
# BENCH_SKIP_STARTUP=1, BENCH_ONLY=sqlite|postgres|pgbench (one part only), BENCH_KEEP=1
# (keep the temp dir with logs), BENCH_OUT=dir (copy logs and summary there).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DURATION=${BENCH_DURATION:-15}
WARMUP=${BENCH_WARMUP:-3}
CONNS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-2}
PORT=${BENCH_PORT:-18480}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
ONLY=${BENCH_ONLY:-}
TAG="$$_$(date +%s)"

for tool in wrk pgbench psql createdb dropdb sqlite3 curl python3; do
  command -v "$tool" >/dev/null || { echo "error: $tool is not installed" >&2; exit 1; }
done
pg_isready -q -d "$PG/postgres" || { echo "error: Postgres does not answer at $PG" >&2; exit 1; }
if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then
  echo "error: something already listens on 127.0.0.1:$PORT (set BENCH_PORT)" >&2; exit 1
fi

WORK=$(mktemp -d /tmp/hundred-bench.XXXXXX)
SERVER_PID=""
CREATED_DBS=()
SUMMARY="$WORK/summary.txt"

cleanup() {
  local rc=$?
  # Only on an early exit: the normal path has stopped the server already.
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  for db in "${CREATED_DBS[@]}"; do
    dropdb -h 127.0.0.1 -U postgres --if-exists --force "$db" 2>/dev/null ||
      echo "warning: could not drop database $db" >&2
  done
  if [[ -n "${BENCH_OUT:-}" ]]; then
    mkdir -p "$BENCH_OUT" && cp -r "$WORK"/. "$BENCH_OUT"/ 2>/dev/null || true
  fi
  if [[ "${BENCH_KEEP:-0}" == 1 ]]; then
    echo "logs kept in $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n== %s ==\n' "$*" >&2; }
out() { printf '%s\n' "$*" | tee -a "$SUMMARY" >&2; }
# The value of "bench.<key>" in a wrk output file.
field() { awk -v k="bench.$2" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "$1"; }
want() { [[ -z "$ONLY" || "$ONLY" == "$1" ]]; }

# --- build -----------------------------------------------------------------------------
if [[ -z "${BENCH_BIN:-}" && "${BENCH_NO_BUILD:-0}" != 1 ]]; then
  say "cargo build --release"
  cargo build --release --locked
fi
# A private copy, so a rebuild during the run cannot swap the binary under us.
BIN="$WORK/hundred"
cp "${BENCH_BIN:-target/release/hundred}" "$BIN"
if [[ -n "${BENCH_SOURCE:-}" ]]; then
  SOURCE=$BENCH_SOURCE
else
  SOURCE="commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), uncommitted changes in src/Cargo/migrations/templates: $(git status --porcelain -- src Cargo.toml Cargo.lock migrations templates 2>/dev/null | wc -l) files"
fi

# Two cores are easily disturbed: wait (up to BENCH_QUIET_WAIT s, default 600) until no
# compiler, linker, browser or other benchmark is running, and record what else was busy.
busy_others() {
  ps -eo pid=,comm= | awk -v me="${SERVER_PID:-0}" \
    '$1 != me && $2 ~ /^(cargo|rustc|cc|ld|cc1|collect2|chromium|chromedriver|pgbench|wrk|hundred)$/'
}
wait_quiet() {
  local waited=0
  while [[ -n "$(busy_others)" ]] && ((waited < ${BENCH_QUIET_WAIT:-600})); do
    ((waited == 0)) && echo "waiting for other heavy processes to finish: $(busy_others | awk '{ print $2 }' | sort | uniq -c | xargs)" >&2
    sleep 5
    waited=$((waited + 5))
  done
  local left
  left=$(busy_others | awk '{ print $2 }' | sort | uniq -c | xargs)
  [[ -n "$left" ]] && out "warning: measured while these were running: $left"
  return 0
}
# After a measured run: did something heavy start meanwhile?
check_quiet_after() {
  local left
  left=$(busy_others | awk '{ print $2 }' | sort | uniq -c | xargs)
  [[ -n "$left" ]] && out "warning: $1 was measured while these started running: $left"
  return 0
}

# --- the server --------------------------------------------------------------------------
# Runs `hundred serve` in $WORK/<name> (so no .env from the repository is read) with only
# the variables below: no SMTP URL, so mail goes to .eml files in the outbox folder.
start_server() {
  local name=$1 url=$2
  local dir="$WORK/$name"
  mkdir -p "$dir/outbox"
  local env=(
    "PATH=$PATH"
    "HUNDRED_DATABASE_URL=$url"
    "HUNDRED_LISTEN=127.0.0.1:$PORT"
    "HUNDRED_PUBLIC_URL=http://127.0.0.1:$PORT"
    "HUNDRED_OUTBOX_DIR=$dir/outbox"
    "HUNDRED_SIGNUP_BURST=100000000"
    "HUNDRED_SIGNUP_PER_MINUTE=100000000"
  )
  [[ -n "${BENCH_SEND_RATE:-}" ]] && env+=("HUNDRED_SEND_RATE=$BENCH_SEND_RATE")
  [[ -n "${BENCH_RUST_LOG:-}" ]] && env+=("RUST_LOG=$BENCH_RUST_LOG")
  (cd "$dir" && exec env -i "${env[@]}" "$BIN" serve >"$dir/serve.log" 2>&1) &
  SERVER_PID=$!
  for _ in $(seq 1 500); do
    if [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")" == 200 ]]; then
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$dir/serve.log" >&2; echo "error: hundred exited" >&2; exit 1; }
    sleep 0.02
  done
  echo "error: hundred did not become healthy in 10 s" >&2
  exit 1
}

# SIGTERM, then up to 40 s for the graceful shutdown (hundred's own grace period for sends
# is 30 s). A server still running then is killed and the hang is reported.
SHUTDOWN_NOTE=""
stop_server() {
  local start=$SECONDS
  kill -TERM "$SERVER_PID"
  for _ in $(seq 1 400); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -KILL "$SERVER_PID"
    SHUTDOWN_NOTE="did NOT exit within 40 s of SIGTERM (killed)"
  else
    SHUTDOWN_NOTE="exited $((SECONDS - start)) s after SIGTERM"
  fi
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

# CPU accounting over a measured run, in clock ticks: the whole machine (busy, total) from
# /proc/stat, and one process (utime + stime) from /proc/PID/stat.
TICK=$(getconf CLK_TCK)
cpu_machine() { awk '/^cpu / { busy = $2 + $3 + $4 + $7 + $8 + $9; print busy, busy + $5 + $6 }' /proc/stat; }
cpu_proc() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# "machine busy %, machine CPU µs per operation[, hundred CPU µs per operation]" from
# "busy0 total0 busy1 total1 [proc0 proc1]" and the number of operations.
cpu_report() {
  awk -v t="$TICK" -v n="$2" '{
    db = $3 - $1; dt = $4 - $2
    printf "machine %.0f%% busy (of %d cores), machine CPU %.0f us per op", 100 * db / dt, '"$(nproc)"', db / t * 1e6 / n
    if (NF >= 6) printf ", of which hundred %.0f us", ($6 - $5) / t * 1e6 / n
  }' <<<"$1"
}

rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# wrk: a warm-up with its own addresses, then the measured run.
run_wrk() {
  local name=$1
  local dir="$WORK/$name"
  BENCH_RUN="${name}w" wrk -t"$THREADS" -c"$CONNS" -d"${WARMUP}s" --timeout 10s \
    -s "$ROOT/benches/signup.lua" "http://127.0.0.1:$PORT/subscribe" >"$dir/wrk-warmup.txt"
  local m0 p0
  m0=$(cpu_machine)
  p0=$(cpu_proc "$SERVER_PID")
  BENCH_RUN="${name}m" wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --timeout 10s --latency \
    -s "$ROOT/benches/signup.lua" "http://127.0.0.1:$PORT/subscribe" >"$dir/wrk.txt"
  echo "$m0 $(cpu_machine) $p0 $(cpu_proc "$SERVER_PID")" >"$dir/cpu.txt"
  check_quiet_after "$name"
  cat "$dir/wrk.txt" >&2
}

# Compares the rows in the database with the responses wrk counted. A request wrk sent
# but had no answer to when its clock ran out may still have been committed, so the
# subscriber count must lie between the 200s and the requests sent.
check_counts() {
  local name=$1 subs=$2 events=$3 messages=$4 states=$5
  local dir="$WORK/$name"
  local ok=$(($(field "$dir/wrk-warmup.txt" ok200) + $(field "$dir/wrk.txt" ok200)))
  local sent=$(($(field "$dir/wrk-warmup.txt" sent) + $(field "$dir/wrk.txt" sent)))
  local non200=$(($(field "$dir/wrk-warmup.txt" non200) + $(field "$dir/wrk.txt" non200)))
  local verdict
  if ((subs >= ok && subs <= sent && events == subs && messages == subs)); then
    verdict="OK: none lost"
  else
    verdict="MISMATCH"
    CHECK_FAILED=1
  fi
  local emls
  emls=$(find "$dir/outbox" -name '*.eml' | wc -l)
  local errors
  errors=$(grep -c -E 'ERROR|WARN' "$dir/serve.log" || true)
  out "$name.check 200s(warm-up+run)=$ok requests_sent=$sent non200=$non200 subscribers=$subs consent_events=$events outbound_messages=$messages -> $verdict ($((subs - ok)) committed without a counted 200: in flight when wrk stopped)"
  out "$name.sender outbound states: $states; .eml files written: $emls; WARN/ERROR log lines: $errors"
}

report_wrk() {
  local name=$1 f="$WORK/$1/wrk.txt"
  out "$name.throughput $(field "$f" rps) req/s (200s: $(field "$f" ok_rps)/s) over $(field "$f" duration_s) s, $CONNS connections, $THREADS wrk threads"
  out "$name.latency p50=$(field "$f" lat_p50_ms) ms p90=$(field "$f" lat_p90_ms) ms p99=$(field "$f" lat_p99_ms) ms max=$(field "$f" lat_max_ms) ms mean=$(field "$f" lat_mean_ms) ms"
  out "$name.cpu $(cpu_report "$(cat "$WORK/$name/cpu.txt")" "$(field "$f" responses)") (op = answered request; the machine figure includes wrk, Postgres and the sender)"
  out "$name.responses sent=$(field "$f" sent) answered=$(field "$f" responses) 200=$(field "$f" ok200) non200=$(field "$f" non200) ($(field "$f" non200_by_status)) socket errors: $(field "$f" socket_errors)"
}

CHECK_FAILED=0
: >"$SUMMARY"
out "# hundred signup benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
out "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
out "source: $SOURCE"
out "tools: $(wrk --version 2>&1 | head -n1 | cut -d' ' -f1-2); $(pgbench --version); $(psql "$PG/postgres" -Atc 'SHOW server_version') (fsync=$(psql "$PG/postgres" -Atc 'SHOW fsync'), synchronous_commit=$(psql "$PG/postgres" -Atc 'SHOW synchronous_commit'))"
out "load: ${DURATION}s measured after ${WARMUP}s warm-up, $CONNS connections, $THREADS client threads; sender rate ${BENCH_SEND_RATE:-50 (default)} msg/s; RUST_LOG ${BENCH_RUST_LOG:-unset (default: info)}; Postgres URL params: ${BENCH_PG_PARAMS:-none}${BENCH_BIN:+; binary: $BENCH_BIN}"

# --- hundred on SQLite ---------------------------------------------------------------------
if want sqlite; then
  say "hundred on SQLite"
  wait_quiet
  mkdir -p "$WORK/sqlite"
  DB="$WORK/sqlite/hundred.db"
  start_server sqlite "sqlite://$DB"
  run_wrk sqlite
  RSS_AFTER=$(rss_mib "$SERVER_PID")
  stop_server
  q() { sqlite3 "$DB" "$1"; }
  check_counts sqlite "$(q 'SELECT COUNT(*) FROM subscribers')" \
    "$(q "SELECT COUNT(*) FROM consent_events WHERE kind = 'signup'")" \
    "$(q "SELECT COUNT(*) FROM outbound_messages WHERE kind = 'confirmation'")" \
    "$(q "SELECT group_concat(state || '=' || n, ' ') FROM (SELECT state, COUNT(*) n FROM outbound_messages GROUP BY state)")"
  report_wrk sqlite
  out "sqlite.rss_after_load ${RSS_AFTER} MiB; shutdown: $SHUTDOWN_NOTE"
fi

# --- hundred on Postgres -------------------------------------------------------------------
if want postgres; then
  say "hundred on Postgres"
  wait_quiet
  DBNAME="hundred_bench_${TAG}_app"
  createdb -h 127.0.0.1 -U postgres "$DBNAME"
  CREATED_DBS+=("$DBNAME")
  psql "$PG/postgres" -qc CHECKPOINT
  start_server postgres "$PG/$DBNAME${BENCH_PG_PARAMS:-}"
  run_wrk postgres
  RSS_AFTER=$(rss_mib "$SERVER_PID")
  # Whether hundred's connections use TLS, so pgbench can be given the same.
  HUNDRED_TLS=$(psql "$PG/postgres" -Atc "SELECT COALESCE(bool_or(s.ssl), false) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = '$DBNAME'")
  # Sessions of hundred's pool left inside a transaction nobody will finish (see
  # BENCHMARKS.md: a request cancelled during BEGIN leaks one).
  sleep 2
  LEAKED=$(psql "$PG/postgres" -Atc "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = '$DBNAME' AND state LIKE 'idle in transaction%' AND now() - xact_start > interval '1 second'")
  stop_server
  q() { psql "$PG/$DBNAME" -Atc "$1"; }
  check_counts postgres "$(q 'SELECT COUNT(*) FROM subscribers')" \
    "$(q "SELECT COUNT(*) FROM consent_events WHERE kind = 'signup'")" \
    "$(q "SELECT COUNT(*) FROM outbound_messages WHERE kind = 'confirmation'")" \
    "$(q "SELECT string_agg(state || '=' || n, ' ') FROM (SELECT state, COUNT(*) n FROM outbound_messages GROUP BY state) s")"
  report_wrk postgres
  out "postgres.rss_after_load ${RSS_AFTER} MiB"
  out "postgres.tls hundred's connections use TLS: $HUNDRED_TLS"
  out "postgres.leaked_transactions $LEAKED pool sessions idle in transaction 2 s after the load; shutdown: $SHUTDOWN_NOTE"
fi

# --- pgbench baseline ------------------------------------------------------------------------
if want pgbench; then
  say "pgbench baseline"
  wait_quiet
  DBNAME="hundred_bench_${TAG}_pgbench"
  createdb -h 127.0.0.1 -U postgres "$DBNAME"
  CREATED_DBS+=("$DBNAME")
  (cd "$WORK" && env -i "PATH=$PATH" "HUNDRED_DATABASE_URL=$PG/$DBNAME" "$BIN" migrate)
  psql "$PG/$DBNAME" -qc "INSERT INTO consent_texts (version, text, first_shown_at) VALUES ('pgbench00001', 'Yes, send me the newsletter by email.', now())"
  psql "$PG/postgres" -qc CHECKPOINT
  mkdir -p "$WORK/pgbench"
  # pgbench talks to Postgres the way hundred did in this run: with TLS or without.
  # BENCH_PG_PARAMS overrides; with BENCH_ONLY=pgbench, libpq's default (sslmode=prefer).
  if [[ -n "${BENCH_PG_PARAMS:-}" ]]; then
    PGB_PARAMS=$BENCH_PG_PARAMS
  elif [[ "${HUNDRED_TLS:-}" == t ]]; then
    PGB_PARAMS="?sslmode=require"
  elif [[ "${HUNDRED_TLS:-}" == f ]]; then
    PGB_PARAMS="?sslmode=disable"
  else
    PGB_PARAMS=""
  fi
  PGB=(pgbench -n -M prepared -c "$CONNS" -j "$THREADS" -D n=0 -D consent=pgbench00001
    -f "$ROOT/benches/pgbench_signup.sql")
  "${PGB[@]}" -T "$WARMUP" -D run=1 "$PG/$DBNAME$PGB_PARAMS" >"$WORK/pgbench/warmup.txt" 2>&1
  M0=$(cpu_machine)
  "${PGB[@]}" -T "$DURATION" -D run=2 -l --log-prefix="$WORK/pgbench/tx" "$PG/$DBNAME$PGB_PARAMS" \
    >"$WORK/pgbench/pgbench.txt" 2>&1
  M1=$(cpu_machine)
  check_quiet_after pgbench
  cat "$WORK/pgbench/pgbench.txt" >&2
  pgf() { grep -m1 "$1" "$WORK/pgbench/pgbench.txt" | sed -E "s/.*$1[^0-9]*([0-9.]+).*/\1/"; }
  TPS=$(pgf 'tps =')
  PROCESSED=$(pgf 'number of transactions actually processed:')
  FAILED=$(grep -m1 'number of failed transactions' "$WORK/pgbench/pgbench.txt" | awk -F': ' '{ print $2 }')
  WARM_PROCESSED=$(grep -m1 'number of transactions actually processed:' "$WORK/pgbench/warmup.txt" | sed -E 's/.*: ([0-9]+).*/\1/')
  # Per-transaction log: the 3rd field is the transaction's latency in microseconds.
  cat "$WORK"/pgbench/tx.* | awk '{ print $3 }' | sort -n >"$WORK/pgbench/latencies"
  N=$(wc -l <"$WORK/pgbench/latencies")
  pct() { awk -v n="$N" -v p="$1" 'NR == int((n - 1) * p / 100) + 1 { printf "%.2f", $1 / 1000; exit }' "$WORK/pgbench/latencies"; }
  SUBS=$(psql "$PG/$DBNAME" -Atc 'SELECT COUNT(*) FROM subscribers')
  EVENTS=$(psql "$PG/$DBNAME" -Atc 'SELECT COUNT(*) FROM consent_events')
  MSGS=$(psql "$PG/$DBNAME" -Atc 'SELECT COUNT(*) FROM outbound_messages')
  out "pgbench.throughput $TPS tps over ${DURATION} s, -c $CONNS -j $THREADS, -M prepared, URL params: ${PGB_PARAMS:-none}"
  out "pgbench.latency p50=$(pct 50) ms p90=$(pct 90) ms p99=$(pct 99) ms max=$(tail -n1 "$WORK/pgbench/latencies" | awk '{ printf "%.2f", $1 / 1000 }') ms mean=$(pgf 'latency average =') ms (from $N logged transactions)"
  out "pgbench.cpu $(cpu_report "$M0 $M1" "$PROCESSED") (op = transaction; includes pgbench itself)"
  EXPECT=$((WARM_PROCESSED + PROCESSED))
  if ((SUBS == EXPECT && EVENTS == EXPECT && MSGS == EXPECT)); then V="OK"; else V="MISMATCH"; CHECK_FAILED=1; fi
  out "pgbench.check transactions(warm-up+run)=$EXPECT failed=${FAILED:-?} subscribers=$SUBS consent_events=$EVENTS outbound_messages=$MSGS -> $V"
fi

# --- ratios ---------------------------------------------------------------------------------
if [[ -z "$ONLY" ]]; then
  PG_RPS=$(field "$WORK/postgres/wrk.txt" ok_rps)
  SQ_RPS=$(field "$WORK/sqlite/wrk.txt" ok_rps)
  out "ratio hundred-postgres/pgbench = $(awk -v a="$PG_RPS" -v b="$TPS" 'BEGIN { printf "%.2f", a / b }') (target >= 0.5)"
  out "ratio hundred-sqlite/pgbench = $(awk -v a="$SQ_RPS" -v b="$TPS" 'BEGIN { printf "%.2f", a / b }') (for information)"
fi

# --- start-up time and idle memory ----------------------------------------------------------
if [[ "${BENCH_SKIP_STARTUP:-0}" != 1 && -z "$ONLY" ]]; then
  say "start-up time and idle memory"
  wait_quiet
  python3 "$ROOT/benches/startup.py" --bin "$BIN" --runs 10 --port "$PORT" --postgres "$PG" \
    --pg-params "${BENCH_PG_PARAMS:-}" | tee -a "$SUMMARY" >&2
fi

printf '\n' >&2
say "summary"
cat "$SUMMARY"
if ((CHECK_FAILED)); then
  echo "error: a count check failed (see above)" >&2
  exit 1
fi
