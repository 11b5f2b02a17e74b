#!/usr/bin/env bash
# Ingest rate of OTLP/JSON GenAI spans into the default (SQLite) evidence store, with the FTS5
# index updated in the same transaction as every insert, and reconstruction time of one customer's
# timeline in the resulting store.
#
#   bench/ingest-rate.sh [SPANS=100000] [ROUNDS=3]
#
# Generates SPANS chat spans (bench/gen_otlp_spans.py: ~1 KB of output text each, 100 spans per
# JSON Lines body, two events per span: the model call and the agent's message), then ROUNDS times
# ingests the file into a fresh store with the release build and reports events/s (the median),
# peak resident memory, and `muster reconstruct --customer` time (median of 5 queries) on the last
# store. Set MUSTER_BENCH_DIR for where the input and stores go (default ~/.cache/muster-bench).
# A/B: set MUSTER_BASELINE_BIN to another build of muster (e.g. one built from main) and every
# round ingests with it too, right after the current build, so both see the same machine load;
# both medians are printed, with CPU seconds (user + sys) per round. MUSTER_BIN=/path runs that
# build instead of building this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."

SPANS=${1:-100000}
ROUNDS=${2:-3}
DIR=${MUSTER_BENCH_DIR:-$HOME/.cache/muster-bench}/ingest
mkdir -p "$DIR"

if [ -n "${MUSTER_BIN:-}" ]; then
  BIN=$MUSTER_BIN
else
  cargo build --release --locked --bin muster >&2
  BIN=${CARGO_TARGET_DIR:-target}/release/muster
fi
INPUT="$DIR/spans-$SPANS.jsonl"
if [ ! -s "$INPUT" ]; then
  python3 bench/gen_otlp_spans.py "$SPANS" "$INPUT" 100
fi
echo "input: $INPUT ($(du -h "$INPUT" | cut -f1), $SPANS spans)" >&2

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# One ingest into a fresh store: prints "events/s peak-RSS-MB cpu-seconds".
one() {
  local bin=$1 store=$2
  rm -rf "$store"
  /usr/bin/time -f "%M %U %S" -o "$DIR/rss" "$bin" --store "$store/evidence.db" \
    ingest "$INPUT" --json > "$DIR/out.json"
  python3 - "$DIR/out.json" "$DIR/rss" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
rss, user, sys_ = open(sys.argv[2]).read().split()
print(d['stored'], round(d['stored'] / (d['elapsed_ms'] / 1000)), int(rss) // 1024, round(float(user) + float(sys_), 2))
PY
}
rates=(); base_rates=()
for round in $(seq 1 "$ROUNDS"); do
  read -r stored rate rss cpu < <(one "$BIN" "$DIR/store-$round")
  echo "round $round: $stored events, $rate events/s, peak RSS $rss MB, CPU $cpu s" >&2
  rates+=("$rate")
  [ "$round" -lt "$ROUNDS" ] && rm -rf "$DIR/store-$round"
  if [ -n "${MUSTER_BASELINE_BIN:-}" ]; then
    read -r stored rate rss cpu < <(one "$MUSTER_BASELINE_BIN" "$DIR/store-baseline")
    echo "round $round, baseline: $stored events, $rate events/s, peak RSS $rss MB, CPU $cpu s" >&2
    base_rates+=("$rate")
    rm -rf "$DIR/store-baseline"
  fi
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "median ingest rate: $(median "${rates[@]}") events/s (target 100000)"
if [ -n "${MUSTER_BASELINE_BIN:-}" ]; then
  echo "baseline median ingest rate: $(median "${base_rates[@]}") events/s ($MUSTER_BASELINE_BIN)"
fi

STORE="$DIR/store-$ROUNDS/evidence.db"
echo "store: $(du -h "$STORE" | cut -f1)" >&2
# A customer in the middle of the input (64 spans, 128 events each).
customer="cust-$(( SPANS / 128 ))"
times=()
for _ in 1 2 3 4 5; do
  ms=$("$BIN" --store "$STORE" reconstruct --customer "$customer" --json \
    | python3 -c "import json,sys;d=json.load(sys.stdin);print(len(d['events']), round(d['reconstruction_ms'], 1))")
  times+=("$ms")
done
printf '%s\n' "${times[@]}" | sort -k2 -n | awk '{a[NR]=$0} END {split(a[int((NR+1)/2)], m, " "); print "reconstruct --customer: " m[1] " events in " m[2] " ms (median of " NR ")"}'
