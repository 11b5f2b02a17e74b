#!/usr/bin/env bash
# The exercise console under load, over loopback: event-stream clients held open while API
# requests arrive at a constant rate (open loop).
#
#   bench/console-load.sh [EXTRA GENERATOR ARGS…]
#
# Builds `muster` and the load generator (crates/muster-console/benches/console_load.rs) in release
# mode, makes a store in a temp dir with one facilitator account, starts `muster serve` on a free
# loopback port as a separate process, runs the generator against it, records the server's peak RSS
# (VmHWM) and CPU time, stops the server and writes everything to bench/results/console-load.json.
#
# Env (defaults in brackets): LOAD_DURATION [60] seconds, LOAD_RPS [500] requests a second,
# LOAD_CLIENTS [200] event streams, LOAD_EXERCISES [1] exercises the streams and requests are spread
# over, LOAD_PRELOAD [0] decisions logged into each exercise before the load, LOAD_MIX
# [state=50,log=20,list=20,decision=10], LOAD_OUT [bench/results/console-load.json].
# Extra arguments go to the generator (`--help` lists them).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

DURATION=${LOAD_DURATION:-60}
RPS=${LOAD_RPS:-500}
CLIENTS=${LOAD_CLIENTS:-200}
EXERCISES=${LOAD_EXERCISES:-1}
PRELOAD=${LOAD_PRELOAD:-0}
MIX=${LOAD_MIX:-state=50,log=20,list=20,decision=10}
OUT=${LOAD_OUT:-$ROOT/bench/results/console-load.json}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

echo "building (release)…" >&2
cargo build --release --locked -p muster-cli --bin muster >&2
GEN=$(cargo bench --locked -p muster-console --bench console_load --no-run --message-format=json |
  python3 -c 'import json,sys
exe=[json.loads(l).get("executable") for l in sys.stdin if l.startswith("{")]
print([e for e in exe if e][-1])')
BIN=$TARGET/release/muster
[ -x "$BIN" ] && [ -x "$GEN" ] || { echo "build failed: $BIN / $GEN" >&2; exit 1; }

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -INT "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

STORE=$WORK/console.db
PASSWORD="load-test-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
MUSTER_CONSOLE_PASSWORD=$PASSWORD "$BIN" --store "$STORE" console add-user loadtest \
  --name "Load test" --role facilitator --admin >&2

# Port 0: the kernel picks a free port and `muster serve` prints the address it got.
(cd "$WORK" && exec "$BIN" --store "$STORE" serve --listen 127.0.0.1:0) >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVER_PID=$!
URL=
for _ in $(seq 1 200); do
  URL=$(sed -n 's|^muster console on \(http://[^/]*\)/.*|\1|p' "$WORK/serve.out" | head -n1)
  [ -n "$URL" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.05
done
if [ -z "$URL" ]; then
  echo "muster serve did not start:" >&2
  cat "$WORK/serve.out" "$WORK/serve.err" >&2
  exit 1
fi
case "$URL" in http://127.*) ;; *) echo "not loopback: $URL" >&2; exit 1 ;; esac

CLK_TCK=$(getconf CLK_TCK)
proc_cpu() { awk -v t="$CLK_TCK" '{ sub(/^.*\) /, ""); printf "%.2f %.2f\n", $12 / t, $13 / t }' "/proc/$SERVER_PID/stat"; }
proc_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$SERVER_PID/status"; }

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
CPU_BEFORE=$(proc_cpu)
echo "server pid $SERVER_PID on $URL; load average $LOAD_BEFORE; running ${DURATION}s × ${RPS} req/s, $CLIENTS streams" >&2

set +e
MUSTER_CONSOLE_URL=$URL MUSTER_CONSOLE_USER=loadtest MUSTER_CONSOLE_PASSWORD=$PASSWORD \
  "$GEN" --duration "$DURATION" --rps "$RPS" --clients "$CLIENTS" --exercises "$EXERCISES" \
  --mix "$MIX" --preload "$PRELOAD" --server-pid "$SERVER_PID" --json "$@" >"$WORK/report.json"
GEN_STATUS=$?
set -e

CPU_AFTER=$(proc_cpu)
HWM_KB=$(proc_kb VmHWM)
RSS_KB=$(proc_kb VmRSS)
THREADS=$(proc_kb Threads)
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
kill -INT "$SERVER_PID" 2>/dev/null || true
for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done

if [ "$GEN_STATUS" -ne 0 ]; then
  echo "the load generator failed (exit $GEN_STATUS); server stderr:" >&2
  tail -n 20 "$WORK/serve.err" >&2
  exit 1
fi

mkdir -p "$(dirname "$OUT")"
python3 - "$WORK/report.json" "$OUT" <<PY
import json, os, platform, subprocess, sys
report = json.load(open(sys.argv[1]))
cpu_before = [float(x) for x in "$CPU_BEFORE".split()]
cpu_after = [float(x) for x in "$CPU_AFTER".split()]
def model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()
def git(*args):
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip()
    except Exception:
        return None
report["server"] = {
    "pid": $SERVER_PID,
    "url": "$URL",
    "peak_rss_mb": round(int("$HWM_KB") / 1024, 1),
    "rss_at_end_mb": round(int("$RSS_KB") / 1024, 1),
    "threads_at_end": int("$THREADS"),
    "cpu_s_during_run": {"user": round(cpu_after[0] - cpu_before[0], 2), "system": round(cpu_after[1] - cpu_before[1], 2)},
    "cpu_s_total": {"user": cpu_after[0], "system": cpu_after[1]},
}
report["machine"] = {
    "nproc": os.cpu_count(),
    "cpu": model(),
    "mem_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
    "kernel": platform.release(),
    "load_average_before": "$LOAD_BEFORE",
    "load_average_after": "$LOAD_AFTER",
}
# Files changed since the commit, other than the results themselves.
dirty = [l[3:] for l in (git("status", "--porcelain", "--untracked-files=no") or "").splitlines()
         if not l[3:].startswith("bench/results/")]
report["build"] = {"commit": git("rev-parse", "--short", "HEAD"), "uncommitted_files": dirty, "profile": "release"}
json.dump(report, open(sys.argv[2], "w"), indent=2)
open(sys.argv[2], "a").write("\n")
s = report["server"]; m = report["machine"]
print(f"server: peak RSS {s['peak_rss_mb']} MB, CPU during the run {s['cpu_s_during_run']['user']} s user + {s['cpu_s_during_run']['system']} s system")
print(f"machine: {m['nproc']} cores, {m['cpu']}, {m['mem_gib']} GiB; load average {m['load_average_before']} before, {m['load_average_after']} after")
print(f"written to {sys.argv[2]}")
PY
