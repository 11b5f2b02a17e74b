#!/usr/bin/env bash
# The muster row of bench/vs-promptfoo.sh alone, measured in CPU time per process.
#
#   bench/drill-cpu.sh [N=1000] [RUNS=5]
#
# Env: DRILL_CPU_BIN (default: build and use ${CARGO_TARGET_DIR:-target}/release/muster),
#      DRILL_CPU_AGENT_BIN (default DRILL_CPU_BIN: the binary serving the agent, for A/B runs),
#      DRILL_CPU_WARMUP (default 100: conversations drilled first, not measured, so the agent's
#      one-time start-up work is not counted — vs-promptfoo.sh warms it with its cache check),
#      DRILL_CPU_FRESH_AGENT=1 (a new agent process per run; default one agent for all runs, as
#      vs-promptfoo.sh does), DRILL_CPU_PERF=DIR (`perf record` both processes into DIR, DWARF call
#      graphs unless DRILL_CPU_PERF_CG says otherwise).
#
# Starts `muster refagent serve --hardened` on 127.0.0.1, writes the one-scenario file vs-promptfoo.sh
# generates, and runs `muster --store FRESH.db drill --scenarios ... --repeat N --concurrency 10
# --no-lock --json >/dev/null` RUNS times. Per run: wall time, the drill's user+sys CPU (GNU time) and
# the agent's user+sys CPU during the run (/proc/PID/stat before and after). Prints every run and the
# medians. On this shared 2-core machine CPU time is the figure to compare; wall time moves with load.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
N=${1:-1000}
RUNS=${2:-5}
C=10
MESSAGE="What's your returns policy for a phone bought 10 days ago?"
CUSTOMER=LM-100004
PATTERN="14-day return window"

if [ -n "${DRILL_CPU_BIN:-}" ]; then
  BIN=$DRILL_CPU_BIN
else
  cargo build --release --locked --bin muster >&2
  BIN=$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/release/muster
fi
AGENT_BIN=${DRILL_CPU_AGENT_BIN:-$BIN}
WARMUP=${DRILL_CPU_WARMUP:-100}
[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time" >&2; exit 2; }

WORK=$(mktemp -d)
AGENT_PID=
cleanup() {
  [ -z "$AGENT_PID" ] || kill "$AGENT_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
TICK=$(getconf CLK_TCK)
# cpu_ticks PID — utime + stime of a process (all its threads), in clock ticks.
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

start_agent() {
  AGENT_PORT=$(free_port)
  "$AGENT_BIN" refagent serve --hardened --host 127.0.0.1 --port "$AGENT_PORT" 2>"$WORK/agent.log" >&2 &
  AGENT_PID=$!
  for _ in $(seq 1 200); do
    curl -fsS "http://127.0.0.1:$AGENT_PORT/healthz" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "the agent did not answer" >&2; exit 1
}
warm_up() {
  [ "$WARMUP" -gt 0 ] || return 0
  (cd "$WORK" && "$BIN" --store "$WORK/warmup-$AGENT_PORT.db" drill --agent "$REPO/library/reference/agent-openai.yaml" \
    --scenarios "$WORK/scenarios" --base-url "http://127.0.0.1:$AGENT_PORT" \
    --repeat "$WARMUP" --concurrency "$C" --no-lock --json >/dev/null 2>&1) || true
}
stop_agent() { kill "$AGENT_PID" 2>/dev/null || true; wait "$AGENT_PID" 2>/dev/null || true; AGENT_PID=; }

mkdir -p "$WORK/scenarios"
cat >"$WORK/scenarios/returns-question.yaml" <<YAML
version: 1
kind: scenario
id: returns-question
title: Customer asks about returning a phone bought 10 days ago
mode: advice
severity: low
ticket: Benchmark ticket, one turn, the same for muster and promptfoo.
persona:
  name: Tom Whitaker
customer:
  ref: $CUSTOMER
turns:
  - say: "$MESSAGE"
expect:
  - must_say:
      pattern: '$PATTERN'
      case_sensitive: true
YAML

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); N=$N, concurrency $C, $RUNS runs; drill $BIN, agent $AGENT_BIN" >&2
start_agent
warm_up
RESULTS=$WORK/results.tsv
: >"$RESULTS"
for run in $(seq 1 "$RUNS"); do
  if [ "${DRILL_CPU_FRESH_AGENT:-0}" = 1 ] && [ "$run" -gt 1 ]; then stop_agent; start_agent; warm_up; fi
  base=$WORK/run-$run
  if [ -n "${DRILL_CPU_PERF:-}" ]; then
    mkdir -p "$DRILL_CPU_PERF"
    perf record -F 1500 --call-graph "${DRILL_CPU_PERF_CG:-dwarf,32768}" -p "$AGENT_PID" -o "$DRILL_CPU_PERF/agent-$run.data" 2>/dev/null &
    PERF_PID=$!
    sleep 0.3
  fi
  a0=$(cpu_ticks "$AGENT_PID")
  if [ -n "${DRILL_CPU_PERF:-}" ]; then
    (cd "$WORK" && /usr/bin/time -f "%e %U %S %M" -o "$base.time" \
      perf record -F 1500 --call-graph "${DRILL_CPU_PERF_CG:-dwarf,32768}" -o "$DRILL_CPU_PERF/drill-$run.data" -- \
      "$BIN" --store "$base.db" drill --agent "$REPO/library/reference/agent-openai.yaml" \
        --scenarios "$WORK/scenarios" --base-url "http://127.0.0.1:$AGENT_PORT" \
        --repeat "$N" --concurrency "$C" --no-lock --json >"$base.out" 2>"$base.err") || true
  else
    (cd "$WORK" && /usr/bin/time -f "%e %U %S %M" -o "$base.time" \
      "$BIN" --store "$base.db" drill --agent "$REPO/library/reference/agent-openai.yaml" \
        --scenarios "$WORK/scenarios" --base-url "http://127.0.0.1:$AGENT_PORT" \
        --repeat "$N" --concurrency "$C" --no-lock --json >"$base.out" 2>"$base.err") || true
  fi
  a1=$(cpu_ticks "$AGENT_PID")
  if [ -n "${DRILL_CPU_PERF:-}" ]; then kill -INT "$PERF_PID"; wait "$PERF_PID" || true; fi
  passed=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counts"].get("pass", 0))' "$base.out" 2>/dev/null || echo "?")
  read -r wall user sys rss < <(tail -n 1 "$base.time")
  agent=$(awk -v a="$a0" -v b="$a1" -v t="$TICK" 'BEGIN { printf "%.2f", (b - a) / t }')
  drill=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$wall" "$drill" "$agent" "$rss" "$passed" "$(cut -d' ' -f1 /proc/loadavg)" >>"$RESULTS"
  echo "  run $run: wall ${wall} s, drill CPU ${drill} s (user $user, sys $sys), agent CPU ${agent} s, drill RSS $((rss / 1024)) MB, passed $passed/$N" >&2
done
python3 - "$RESULTS" "$N" <<'PY'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines()]
n = int(sys.argv[2])
col = lambda i: [float(r[i]) for r in rows]
m = lambda i: statistics.median(col(i))
both = [float(r[1]) + float(r[2]) for r in rows]
print(f"RESULT\t{m(0):.3f}\t{m(1):.3f}\t{m(2):.3f}\t{statistics.median(both):.3f}\t{m(3) / 1024:.0f}")
print(f"median of {len(rows)}: wall {m(0):.2f} s, drill CPU {m(1):.2f} s, agent CPU {m(2):.2f} s, "
      f"drill+agent {statistics.median(both):.2f} s, drill RSS {m(3) / 1024:.0f} MB")
bad = [r for r in rows if r[4] != str(n)]
if bad:
    print(f"WARNING: {len(bad)} run(s) did not pass all {n}")
PY
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
