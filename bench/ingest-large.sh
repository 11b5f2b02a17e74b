#!/usr/bin/env bash
# Peak memory while ingesting one large OTLP/JSON input, and reconstruction time of one customer's
# timeline in the store it leaves (the store's size in events is the input's spans × 2).
#
#   bench/ingest-large.sh [SPANS=1000000] [QUERIES=5]
#
# 1,000,000 spans is a 1.84 GB input and a 2,000,000-event store (~9 GB); 2,750,000 spans is about
# 5 GB. Check `df -h` first: the store takes ~4.5 KB per event. Prints peak RSS (GNU time), the
# ingest rate, and `muster reconstruct --customer` for three customers (start, middle, end of the
# input), each QUERIES times: the first query of each (cold-ish page cache) and the median.
# Deletes nothing: remove $MUSTER_BENCH_DIR/large when done. Set MUSTER_BIN to time another build.
set -euo pipefail
cd "$(dirname "$0")/.."

SPANS=${1:-1000000}
QUERIES=${2:-5}
DIR=${MUSTER_BENCH_DIR:-$HOME/.cache/muster-bench}/large
mkdir -p "$DIR"

if [ -z "${MUSTER_BIN:-}" ]; then
  cargo build --release --locked --bin muster >&2
  MUSTER_BIN=${CARGO_TARGET_DIR:-target}/release/muster
fi
INPUT="$DIR/spans-$SPANS.jsonl"
if [ ! -s "$INPUT" ]; then
  python3 bench/gen_otlp_spans.py "$SPANS" "$INPUT" 100
fi
echo "input: $INPUT ($(du -h "$INPUT" | cut -f1), $SPANS spans); load: $(cut -d' ' -f1-3 /proc/loadavg)"

rm -rf "$DIR/store"
/usr/bin/time -f "%M %U %S %e" -o "$DIR/time" "$MUSTER_BIN" --store "$DIR/store/evidence.db" \
  ingest "$INPUT" --json > "$DIR/out.json"
read -r rss user sys wall < "$DIR/time"
python3 - "$DIR/out.json" "$rss" "$user" "$sys" "$wall" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
rss, user, sys_, wall = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
print(f"ingested {d['stored']} events in {wall:.0f} s: {d['stored'] / (d['elapsed_ms'] / 1000):.0f} events/s, "
      f"CPU {user:.0f} s user + {sys_:.0f} s sys; peak RSS {rss // 1024} MB")
PY
echo "store: $(du -h "$DIR/store/evidence.db" | cut -f1); load: $(cut -d' ' -f1-3 /proc/loadavg)"

# Customers hold 64 spans (128 events) each: the first, the middle and the last.
last=$(( (SPANS - 1) / 64 ))
for customer in cust-0 "cust-$(( last / 2 ))" "cust-$last"; do
  times=()
  for _ in $(seq 1 "$QUERIES"); do
    times+=("$("$MUSTER_BIN" --store "$DIR/store/evidence.db" reconstruct --customer "$customer" --json \
      | python3 -c "import json,sys;d=json.load(sys.stdin);print(len(d['events']), round(d['reconstruction_ms'], 1))")")
  done
  first=${times[0]}
  printf '%s\n' "${times[@]}" | sort -k2 -n | awk -v c="$customer" -v f="$first" \
    '{a[NR]=$0} END {split(a[int((NR+1)/2)], m, " "); split(f, g, " "); print "reconstruct --customer " c ": " m[1] " events, first " g[2] " ms, median " m[2] " ms of " NR}'
done
