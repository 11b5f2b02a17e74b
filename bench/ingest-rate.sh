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
set -euo pipefail
cd "$(dirname "$0")/.."

SPANS=${1:-100000}
ROUNDS=${2:-3}
DIR=${MUSTER_BENCH_DIR:-$HOME/.cache/muster-bench}/ingest
mkdir -p "$DIR"

cargo build --release --locked --bin muster >&2
BIN=${CARGO_TARGET_DIR:-target}/release/muster
INPUT="$DIR/spans-$SPANS.jsonl"
if [ ! -s "$INPUT" ]; then
  python3 bench/gen_otlp_spans.py "$SPANS" "$INPUT" 100
fi
echo "input: $INPUT ($(du -h "$INPUT" | cut -f1), $SPANS spans)" >&2

rates=()
for round in $(seq 1 "$ROUNDS"); do
  rm -rf "$DIR/store-$round"
  /usr/bin/time -f "%M" -o "$DIR/rss" "$BIN" --store "$DIR/store-$round/evidence.db" \
    ingest "$INPUT" --json > "$DIR/out.json"
  rate=$(python3 -c "import json;d=json.load(open('$DIR/out.json'));print(round(d['stored']/(d['elapsed_ms']/1000)))")
  stored=$(python3 -c "import json;print(json.load(open('$DIR/out.json'))['stored'])")
  echo "round $round: $stored events, $rate events/s, peak RSS $(( $(cat "$DIR/rss") / 1024 )) MB" >&2
  rates+=("$rate")
  [ "$round" -lt "$ROUNDS" ] && rm -rf "$DIR/store-$round"
done
median=$(printf '%s\n' "${rates[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "median ingest rate: $median events/s (target 100000)"

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
