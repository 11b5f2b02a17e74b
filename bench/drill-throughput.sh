#!/usr/bin/env bash
# Drill throughput against the reference agent over loopback, with the evidence store on.
#
#   bench/drill-throughput.sh [REPEAT] [CONCURRENCY] [ROUNDS]
#
# Starts `muster refagent serve --hardened` as a separate process on 127.0.0.1, then runs the built-in
# scenarios REPEAT times each (default 50) at CONCURRENCY (default 10), ROUNDS times (default 5), each
# round into a fresh evidence store. Prints per-round figures and the medians: conversations per
# second, turns, and the engine's own overhead per turn (p50/p99: building requests, parsing replies,
# judging and writing evidence — excluding time spent waiting for the agent).
# MUSTER_BIN=/path/to/muster runs that build instead of building this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."

REPEAT=${1:-50}
CONCURRENCY=${2:-10}
ROUNDS=${3:-5}
PORT=${PORT:-18787}

# MUSTER_BIN=/path times another build (e.g. main's, for an A/B) without building.
if [ -n "${MUSTER_BIN:-}" ]; then
  BIN=$MUSTER_BIN
else
  cargo build --release --locked --bin muster >&2
  BIN=${CARGO_TARGET_DIR:-target}/release/muster
fi
WORK=$(mktemp -d)
trap 'kill "$AGENT_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT

if curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then
  echo "something already answers on 127.0.0.1:$PORT; stop it or set PORT=…" >&2
  exit 1
fi
"$BIN" refagent serve --hardened --port "$PORT" 2>"$WORK/agent.log" &
AGENT_PID=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
if ! kill -0 "$AGENT_PID" 2>/dev/null; then
  echo "the reference agent did not start:" >&2
  cat "$WORK/agent.log" >&2
  exit 1
fi

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(uname -sr)"
echo "work: $(ls library/scenarios/*.yaml | wc -l) scenarios x $REPEAT runs, concurrency $CONCURRENCY, $ROUNDS rounds"
for round in $(seq 1 "$ROUNDS"); do
  /usr/bin/time -f "%M" -o "$WORK/rss-$round" \
    "$BIN" --store "$WORK/evidence-$round.db" drill \
      --agent library/reference/agent.yaml --scenarios library/scenarios \
      --base-url "http://127.0.0.1:$PORT" --repeat "$REPEAT" --concurrency "$CONCURRENCY" --no-lock --json \
      >"$WORK/round-$round.json" || true
done

python3 - "$WORK" "$ROUNDS" <<'PY'
import json, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
rows = []
for r in range(1, rounds + 1):
    report = json.load(open(f"{work}/round-{r}.json"))
    t = report["timing"]
    rss_mb = int(open(f"{work}/rss-{r}").read().split()[-1]) / 1024
    rows.append((t["conversations"], t["turns"], t["wall_ms"] / 1000, t["conversations_per_second"],
                 t["engine_overhead_us"]["p50"], t["engine_overhead_us"]["p99"], t["agent_latency_ms"]["p50"], rss_mb,
                 report["counts"]))
    print(f"round {r}: {t['conversations']} conversations, {t['turns']} turns in {t['wall_ms']/1000:.2f}s = "
          f"{t['conversations_per_second']:.1f} conv/s; engine overhead/turn p50 {t['engine_overhead_us']['p50']:.0f} us, "
          f"p99 {t['engine_overhead_us']['p99']:.0f} us; agent p50 {t['agent_latency_ms']['p50']:.2f} ms; peak RSS {rss_mb:.0f} MB; {report['counts']}")
med = lambda i: statistics.median(row[i] for row in rows)
print(f"median: {med(3):.1f} conversations/s; engine overhead per turn p50 {med(4):.0f} us, p99 {med(5):.0f} us; "
      f"agent latency p50 {med(6):.2f} ms; peak RSS {med(7):.0f} MB")
PY
