#!/usr/bin/env bash
# Distributed drill throughput: the same drill run by 1, 2 and 4 `muster worker` processes.
#
#   bench/drill-workers.sh [REPEAT] [LATENCY_MS] [WORKER_CONCURRENCY] [ROUNDS]
#
# The reference agent holds every reply back LATENCY_MS (default 250), as a model would, so a
# conversation spends its time waiting and workers scale on waiting rather than on this machine's
# cores. Each round drills the built-in scenarios that plant no test data (runs of a scenario that
# does are serialised across all workers, which would measure that lock instead) REPEAT times each
# (default 40) with `muster drill --distributed`, and N workers of WORKER_CONCURRENCY conversations
# each (default 4), into a fresh PostgreSQL database; ROUNDS rounds (default 3) per worker count,
# median reported. Everything listens on and talks to 127.0.0.1 only.
#
# Needs MUSTER_TEST_POSTGRES_URL (an admin URL on a loopback cluster; scripts/postgres.sh starts
# one). MUSTER_BIN=/path/to/muster runs that build instead of building this checkout.
# Writes bench/results/drill-workers.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

REPEAT=${1:-40}
LATENCY_MS=${2:-250}
WORKER_CONCURRENCY=${3:-4}
ROUNDS=${4:-3}
PORT=${PORT:-18797}
ADMIN=${MUSTER_TEST_POSTGRES_URL:?set MUSTER_TEST_POSTGRES_URL to a loopback PostgreSQL admin URL}
case "$ADMIN" in
  *@127.0.0.1:*|*@localhost:*|*@\[::1\]:*) ;;
  *) echo "MUSTER_TEST_POSTGRES_URL must point at a loopback address" >&2; exit 2 ;;
esac

if [ -n "${MUSTER_BIN:-}" ]; then
  BIN=$MUSTER_BIN
else
  cargo build --release --locked --bin muster >&2
  BIN=${CARGO_TARGET_DIR:-target}/release/muster
fi
WORK=$(mktemp -d)
PIDS=()
DBS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for db in "${DBS[@]}"; do psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then
  echo "something already answers on 127.0.0.1:$PORT; stop it or set PORT=…" >&2
  exit 1
fi
"$BIN" refagent serve --hardened --host 127.0.0.1 --port "$PORT" --latency-ms "$LATENCY_MS" 2>"$WORK/agent.log" &
PIDS+=($!)
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

mkdir -p "$WORK/scenarios"
for f in library/scenarios/*.yaml; do
  grep -q '^setup:' "$f" || cp "$f" "$WORK/scenarios/"
done
SCENARIOS=$(ls "$WORK/scenarios" | wc -l)

OUT=bench/results/drill-workers.txt
{
  echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(uname -sr)"
  echo "work: $SCENARIOS scenarios (no test data) x $REPEAT runs = $((SCENARIOS * REPEAT)) conversations; agent latency ${LATENCY_MS} ms per reply; $WORKER_CONCURRENCY conversations per worker; $ROUNDS rounds; loopback only"
} | tee "$OUT"

for workers in 1 2 4; do
  for round in $(seq 1 "$ROUNDS"); do
    db="muster_bench_workers_${workers}_${round}_$$"
    DBS+=("$db")
    psql "$ADMIN" -qc "CREATE DATABASE $db" >/dev/null
    url="${ADMIN%/*}/$db"
    "$BIN" db migrate --store "$url" >/dev/null
    "$BIN" --store "$url" drill --distributed \
      --agent library/reference/agent.yaml --scenarios "$WORK/scenarios" \
      --base-url "http://127.0.0.1:$PORT" --repeat "$REPEAT" --no-lock --json \
      >"$WORK/w$workers-r$round.json" 2>"$WORK/w$workers-r$round.err" &
    drill=$!
    PIDS+=($drill)
    # Workers that exit when idle must not start before the drill has queued its conversations.
    for _ in $(seq 1 600); do
      [ "$(psql "$url" -Atc "SELECT count(*) FROM drill_queue" 2>/dev/null || echo 0)" -gt 0 ] && break
      kill -0 "$drill" 2>/dev/null || break
      sleep 0.1
    done
    wpids=()
    for w in $(seq 1 "$workers"); do
      "$BIN" --store "$url" worker --id "bench-$w" --concurrency "$WORKER_CONCURRENCY" --exit-when-idle \
        >/dev/null 2>"$WORK/w$workers-r$round-worker$w.err" &
      wpids+=($!)
      PIDS+=($!)
    done
    wait "$drill" || true
    for pid in "${wpids[@]}"; do wait "$pid" || true; done
    psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
  done
done

python3 - "$WORK" "$ROUNDS" <<'PY' | tee -a "$OUT"
import json, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
base = None
for workers in (1, 2, 4):
    rates = []
    for r in range(1, rounds + 1):
        report = json.load(open(f"{work}/w{workers}-r{r}.json"))
        t = report["timing"]
        rates.append(t["conversations_per_second"])
        print(f"{workers} worker(s), round {r}: {t['conversations']} conversations, {t['turns']} turns in "
              f"{t['wall_ms']/1000:.2f}s = {t['conversations_per_second']:.2f} conv/s; agent p50 "
              f"{t['agent_latency_ms']['p50']:.0f} ms; {report['counts']}")
    med = statistics.median(rates)
    base = base or med
    print(f"{workers} worker(s): median {med:.2f} conversations/s ({med / base:.2f}x one worker)")
PY
