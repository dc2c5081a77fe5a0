#!/usr/bin/env bash
# Open-pixel throughput: wrk at 64 connections against hundred's /t/o/{token} (every open
# judged and stored) and, in the same run, against a bare axum handler answering the same
# GIF (benches/pixel_baseline.rs), and against `bare-pixel-store` from ../shared/baseline
# (the same GIF with every hit stored in batches through one writer: the durable limit).
# After each hundred run the service is stopped (SIGTERM: it stores everything queued) and
# the stored events are counted against wrk's count.
#
#   bash benches/pixel.sh                       # SQLite and Postgres, 15 s each
#   BENCH_DURATION=5s BENCH_ONLY=sqlite bash benches/pixel.sh
#   BENCH_KIND=click bash benches/pixel.sh      # the click redirect (/t/c/) instead
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${BENCH_DURATION:-15s}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
RECIPIENTS="${BENCH_RECIPIENTS:-500}"
PG="${HUNDRED_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
KIND="${BENCH_KIND:-open}"
case "$KIND" in open|click) ;; *) echo "BENCH_KIND is open or click" >&2; exit 2 ;; esac
HUNDRED_PORT=18090
BASE_PORT=18091
work="$(mktemp -d /tmp/hundred-pixel-bench.XXXXXX)"
cleanup() {
  kill "${server_pid:-0}" "${base_pid:-0}" 2>/dev/null || true
  dropdb -h 127.0.0.1 -U postgres --if-exists hundred_bench_pixel >/dev/null 2>&1 || true
  dropdb -h 127.0.0.1 -U postgres --if-exists hundred_bench_store >/dev/null 2>&1 || true
  [ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

command -v wrk >/dev/null || { apt-get install -y wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y wrk >/dev/null; }; }
cargo build --release --locked --quiet --bin hundred
cargo build --release --locked --quiet --bench pixel_baseline
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
baseline_bin="$(ls -t "$target_dir"/release/deps/pixel_baseline-* | grep -v '\.d$' | head -n1)"
# The durable baseline, built outside its folder (which is shared).
store_bin=""
if [ -d ../shared/baseline ]; then
  (cd ../shared/baseline && CARGO_TARGET_DIR="$target_dir/baseline" cargo build --release --quiet --bin bare-pixel-store)
  store_bin="$target_dir/baseline/release/bare-pixel-store"
fi
bin="$target_dir/release/hundred"

wait_http() { for _ in $(seq 1 200); do curl -sf -o /dev/null "$1" && return 0; sleep 0.05; done; echo "no answer from $1" >&2; return 1; }
value() { grep "^bench.$1 " "$2" | awk '{print $2}'; }

# Always run in a subshell (`$(…)` or `run_env() {`): it execs, so `$!` is the server itself.
run_env() {
  exec env -i PATH="$PATH" HOME="$HOME" \
    HUNDRED_DATABASE_URL="$1" HUNDRED_LISTEN="127.0.0.1:$HUNDRED_PORT" \
    HUNDRED_PUBLIC_URL="http://127.0.0.1:$HUNDRED_PORT" HUNDRED_OUTBOX_DIR="$work/outbox" \
    HUNDRED_FROM="Bakery <news@bakery.example>" HUNDRED_SEND_RATE=100000 RUST_LOG=warn "${@:2}"
}

# One campaign to $RECIPIENTS subscribers through the .eml outbox; the pixel paths of
# every copy go to $work/paths, the paths of each copy's visible link to $work/clicks.
prepare() {
  local url="$1"
  rm -rf "$work/outbox"
  local token
  token="$(run_env "$url" "$bin" token create --name bench)"
  run_env "$url" "$bin" serve >"$work/serve.log" 2>&1 &
  server_pid=$!
  wait_http "http://127.0.0.1:$HUNDRED_PORT/healthz"
  python3 - "$token" "$RECIPIENTS" "$HUNDRED_PORT" "$work" <<'PY'
import email, glob, json, sys, time, urllib.request
token, count, port, work = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def api(method, path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"{}")
for i in range(count):
    api("POST", "/subscribers", {"email": f"reader{i}@example.com", "status": "confirmed", "consent": "benchmark"})
cid = api("POST", "/campaigns", {"subject": "Pixel", "body": "Hello [menu](https://bakery.example/menu)"})["id"]
api("POST", f"/campaigns/{cid}/send", {})
while api("GET", f"/campaigns/{cid}")["status"] != "sent":
    time.sleep(0.2)
paths, clicks = [], []
for name in glob.glob(f"{work}/outbox/*.eml"):
    msg = email.message_from_binary_file(open(name, "rb"))
    for part in msg.walk():
        if part.get_content_type() == "text/html":
            html = part.get_payload(decode=True).decode()
            at = html.find("/t/o/")
            if at >= 0:
                paths.append(html[at:html.find('"', at)])
            # The first tracked link is the menu; the hidden link comes last.
            at = html.find("/t/c/")
            if at >= 0:
                clicks.append(html[at:html.find('"', at)])
assert len(paths) >= count, f"{len(paths)} pixels for {count} subscribers"
open(f"{work}/paths", "w").write("\n".join(paths) + "\n")
open(f"{work}/clicks", "w").write("\n".join(clicks) + "\n")
PY
}

count_events() {
  case "$1" in
    sqlite:*) sqlite3 "${1#sqlite://}" "SELECT COUNT(*) FROM events WHERE kind = '$KIND'" ;;
    *) psql -At "$1" -c "SELECT COUNT(*) FROM events WHERE kind = '$KIND'" ;;
  esac
}

measure() {
  local name="$1" url="$2" targets=paths
  [ "$KIND" = click ] && targets=clicks
  echo "== $name ($KIND) =="
  prepare "$url"
  BENCH_PATHS="$work/$targets" wrk -t2 -c"$CONNECTIONS" -d3s -s benches/pixel.lua "http://127.0.0.1:$HUNDRED_PORT" >"$work/warm.out"
  BENCH_PATHS="$work/$targets" wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s benches/pixel.lua \
    "http://127.0.0.1:$HUNDRED_PORT" >"$work/hundred.out"
  kill -TERM "$server_pid"; wait "$server_pid" || true
  local stored; stored="$(count_events "$url")"

  BENCH_LISTEN="127.0.0.1:$BASE_PORT" "$baseline_bin" 2>/dev/null &
  base_pid=$!
  wait_http "http://127.0.0.1:$BASE_PORT/t/o/x"
  BENCH_PATHS="$work/$targets" wrk -t2 -c"$CONNECTIONS" -d3s -s benches/pixel.lua "http://127.0.0.1:$BASE_PORT" >/dev/null
  BENCH_PATHS="$work/$targets" wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s benches/pixel.lua \
    "http://127.0.0.1:$BASE_PORT" >"$work/base.out"
  kill "$base_pid"; wait "$base_pid" 2>/dev/null || true

  local store_rps="" store_line=""
  if [ -n "$store_bin" ]; then
    local store_db="$3"
    "$store_bin" "127.0.0.1:$BASE_PORT" "$store_db" >"$work/store.log" 2>&1 &
    base_pid=$!
    wait_http "http://127.0.0.1:$BASE_PORT/t/o/x"
    BENCH_PATHS="$work/$targets" wrk -t2 -c"$CONNECTIONS" -d3s -s benches/pixel.lua "http://127.0.0.1:$BASE_PORT" >/dev/null
    BENCH_PATHS="$work/$targets" wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s benches/pixel.lua \
      "http://127.0.0.1:$BASE_PORT" >"$work/store.out"
    kill -TERM "$base_pid"; wait "$base_pid" 2>/dev/null || true
    store_rps="$(value rps "$work/store.out")"
    store_line="$(tail -n1 "$work/store.log")"
  fi

  local requests answered rps base_rps
  requests="$(value requests "$work/hundred.out")"
  # Every open answered, warm-up included, must be stored.
  answered=$((requests + $(value requests "$work/warm.out")))
  rps="$(value rps "$work/hundred.out")"; base_rps="$(value rps "$work/base.out")"
  printf '%-28s %s\n' "requests (measured run)" "$requests (non-2xx: $(value non2xx "$work/hundred.out"), socket errors: $(value socket_errors "$work/hundred.out"))"
  # wrk does not count the requests still in flight when it stops (at most one per
  # connection per run); the server answered and stored those too.
  local lost=$((answered - stored)); [ "$lost" -lt 0 ] && lost=0
  printf '%-28s %s\n' "${KIND}s stored" "$stored for $answered answers counted by wrk, warm-up included (lost: $lost)"
  printf '%-28s %s req/s, p50 %s ms, p99 %s ms\n' "hundred" "$rps" "$(value p50_ms "$work/hundred.out")" "$(value p99_ms "$work/hundred.out")"
  printf '%-28s %s req/s, p50 %s ms, p99 %s ms\n' "baseline (bare axum)" "$base_rps" "$(value p50_ms "$work/base.out")" "$(value p99_ms "$work/base.out")"
  printf '%-28s %s\n' "ratio" "$(python3 -c "print(f'{$rps / $base_rps:.2f}')")"
  if [ -n "$store_rps" ]; then
    printf '%-28s %s req/s, p50 %s ms, p99 %s ms (%s)\n' "bare-pixel-store" "$store_rps" "$(value p50_ms "$work/store.out")" "$(value p99_ms "$work/store.out")" "$store_line"
    printf '%-28s %s\n' "ratio to bare-pixel-store" "$(python3 -c "print(f'{$rps / $store_rps:.2f}')")"
  fi
}

if [ "${BENCH_ONLY:-sqlite}" != postgres ]; then
  measure SQLite "sqlite://$work/bench.db" "$work/store.db"
fi
if [ "${BENCH_ONLY:-postgres}" != sqlite ]; then
  dropdb -h 127.0.0.1 -U postgres --if-exists hundred_bench_pixel >/dev/null 2>&1 || true
  createdb -h 127.0.0.1 -U postgres hundred_bench_pixel
  dropdb -h 127.0.0.1 -U postgres --if-exists hundred_bench_store >/dev/null 2>&1 || true
  createdb -h 127.0.0.1 -U postgres hundred_bench_store
  measure Postgres "${PG%/*}/hundred_bench_pixel" "${PG%/*}/hundred_bench_store"
fi
