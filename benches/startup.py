#!/usr/bin/env python3
"""Start-up time of `hundred serve`: from just before the process is spawned to the first
200 answer of GET /healthz, and the idle resident memory a few seconds later.

    python3 benches/startup.py --bin target/release/hundred [--runs 10] [--port 18490]
                               [--postgres postgres://postgres@127.0.0.1:5432]
                               [--pg-params '?sslmode=disable'] [--rss-wait 5]

Cases, each run `--runs` times (the median is what to quote):
  sqlite-fresh     a new, empty SQLite file every run (creates it and runs the migrations)
  sqlite-migrated  one SQLite file that earlier runs already migrated
  postgres-fresh   a new, empty database every run (created before the clock starts)
  postgres-migrated one database that earlier runs already migrated

The probe opens a TCP connection and sends `GET /healthz` every 5 ms until a 200 comes
back. The clock starts right before the process is spawned, so the time includes exec,
reading the configuration, connecting, migrating and binding. Each process is stopped
with SIGTERM afterwards. Databases created here are dropped at the end.

With --rss-wait N (N > 0) the first run of each case also waits N seconds after the first
200 and reads VmRSS from /proc/PID/status: the idle resident memory.
Traffic goes to 127.0.0.1 only.
"""

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

POLL_S = 0.005


def probe(port, timeout=0.5):
    """One GET /healthz; returns the status code or None when nothing answers yet."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = b""
            while b"\r\n" not in data:
                chunk = sock.recv(1024)
                if not chunk:
                    break
                data += chunk
            parts = data.split(b" ", 2)
            return int(parts[1]) if len(parts) > 1 else None
    except (OSError, ValueError):
        return None


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def one_run(binary, env, cwd, port, rss_wait, limit_s=10.0):
    start = time.perf_counter()
    proc = subprocess.Popen([binary, "serve"], env=env, cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(cwd, "serve.log"), "ab"))
    try:
        while True:
            status = probe(port)
            now = time.perf_counter()
            if status == 200:
                elapsed_ms = (now - start) * 1000
                break
            if proc.poll() is not None:
                raise RuntimeError(f"hundred exited with {proc.returncode}; see {cwd}/serve.log")
            if now - start > limit_s:
                raise RuntimeError(f"no 200 from /healthz within {limit_s} s")
            time.sleep(POLL_S)
        rss = None
        if rss_wait > 0:
            time.sleep(rss_wait)
            rss = rss_kib(proc.pid)
        return elapsed_ms, rss
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=35)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def psql(pg, sql):
    subprocess.run(["psql", pg.rstrip("/") + "/postgres", "-qAtc", sql], check=True,
                   stdout=subprocess.DEVNULL)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default="target/release/hundred")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--port", type=int, default=18490)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432",
                        help="server URL without a database; empty to skip Postgres")
    parser.add_argument("--pg-params", default="",
                        help="appended to hundred's Postgres URLs, e.g. '?sslmode=disable'")
    parser.add_argument("--rss-wait", type=float, default=5.0)
    args = parser.parse_args()

    binary = os.path.abspath(args.bin)
    work = tempfile.mkdtemp(prefix="hundred-startup.")
    tag = f"{os.getpid()}_{int(time.time())}"
    created_dbs = []

    def base_env(database_url):
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HUNDRED_DATABASE_URL": database_url,
            "HUNDRED_LISTEN": f"127.0.0.1:{args.port}",
            "HUNDRED_PUBLIC_URL": f"http://127.0.0.1:{args.port}",
            "HUNDRED_OUTBOX_DIR": os.path.join(work, "outbox"),
        }

    results = {}
    rss = {}
    try:
        if probe(args.port) is not None:
            raise SystemExit(f"something already answers on 127.0.0.1:{args.port}")
        cases = ["sqlite-fresh", "sqlite-migrated"]
        if args.postgres:
            cases += ["postgres-fresh", "postgres-migrated"]
        for case in cases:
            times = []
            for i in range(args.runs):
                if case == "sqlite-fresh":
                    url = f"sqlite://{work}/fresh-{i}/hundred.db"
                elif case == "sqlite-migrated":
                    url = f"sqlite://{work}/migrated/hundred.db"
                elif case == "postgres-fresh":
                    db = f"hundred_bench_start_{tag}_{i}"
                    psql(args.postgres, f"CREATE DATABASE {db}")
                    created_dbs.append(db)
                    url = f"{args.postgres.rstrip('/')}/{db}{args.pg_params}"
                else:
                    db = f"hundred_bench_start_{tag}_m"
                    if db not in created_dbs:
                        psql(args.postgres, f"CREATE DATABASE {db}")
                        created_dbs.append(db)
                    url = f"{args.postgres.rstrip('/')}/{db}{args.pg_params}"
                # The migrated cases' first start migrates; it is a warm-up, not measured.
                if case.endswith("migrated") and i == 0:
                    one_run(binary, base_env(url), work, args.port, 0)
                wait = args.rss_wait if i == 0 else 0
                elapsed, kib = one_run(binary, base_env(url), work, args.port, wait)
                times.append(elapsed)
                if kib is not None:
                    rss[case] = kib
            results[case] = times
    finally:
        for db in created_dbs:
            try:
                psql(args.postgres, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
            except subprocess.CalledProcessError:
                print(f"warning: could not drop {db}", file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)

    print(f"startup: time from spawn to first 200 from /healthz, {args.runs} runs each, ms")
    for case, times in results.items():
        print(f"startup.{case} median={statistics.median(times):.1f} "
              f"min={min(times):.1f} max={max(times):.1f} "
              f"all={','.join(f'{t:.1f}' for t in times)}")
    for case, kib in rss.items():
        print(f"idle_rss.{case} {kib / 1024:.1f} MiB ({kib} kB VmRSS, {args.rss_wait:g} s after the first 200)")


if __name__ == "__main__":
    main()
