#!/usr/bin/env bash
# The two evidence-store backends side by side on the same data: ingest rate of OTLP/JSON GenAI
# spans into SQLite and into PostgreSQL, then `muster reconstruct --customer` time in each store.
#
#   bench/store-backends.sh [SPANS=50000] [ROUNDS=3]
#
# Each round ingests the same generated file (bench/gen_otlp_spans.py: two events a span) into a
# fresh SQLite file and a fresh, migrated PostgreSQL database, alternately, with the release build;
# the medians of the rounds are printed with their ratio. Then the last round's stores answer the
# same customer's timeline (first, middle and last customer of the input) 5 times each, and the
# medians are printed. PostgreSQL comes from MUSTER_BENCH_POSTGRES_URL (a database the script may
# create databases from), else scripts/postgres.sh starts the loopback test cluster.
# MUSTER_BIN=/path runs that build instead of building this checkout.
set -euo pipefail
cd "$(dirname "$0")/.."

SPANS=${1:-50000}
ROUNDS=${2:-3}
DIR=${MUSTER_BENCH_DIR:-$HOME/.cache/muster-bench}/backends
mkdir -p "$DIR"

if [ -n "${MUSTER_BIN:-}" ]; then
  BIN=$MUSTER_BIN
else
  cargo build --release --locked --bin muster >&2
  BIN=${CARGO_TARGET_DIR:-target}/release/muster
fi
ADMIN=${MUSTER_BENCH_POSTGRES_URL:-$(scripts/postgres.sh)}
BASE=${ADMIN%/*}

INPUT="$DIR/spans-$SPANS.jsonl"
if [ ! -s "$INPUT" ]; then
  python3 bench/gen_otlp_spans.py "$SPANS" "$INPUT" 100
fi
echo "input: $INPUT ($(du -h "$INPUT" | cut -f1), $SPANS spans)" >&2
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
fresh_db() {
  psql -q "$ADMIN" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
  "$BIN" --store "$BASE/$1" db migrate >/dev/null
}
# One ingest: prints "events events/s peak-RSS-MB cpu-seconds".
ingest() {
  /usr/bin/time -f "%M %U %S" -o "$DIR/rss" "$BIN" --store "$1" ingest "$INPUT" --json >"$DIR/out.json"
  python3 - "$DIR/out.json" "$DIR/rss" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
rss, user, sys_ = open(sys.argv[2]).read().split()
print(d['stored'], round(d['stored'] / (d['elapsed_ms'] / 1000)), int(rss) // 1024, round(float(user) + float(sys_), 2))
PY
}

sqlite_rates=(); pg_rates=()
for round in $(seq 1 "$ROUNDS"); do
  rm -rf "$DIR/sqlite"
  read -r stored rate rss cpu < <(ingest "$DIR/sqlite/evidence.db")
  echo "round $round, SQLite:     $stored events, $rate events/s, peak RSS $rss MB, muster CPU $cpu s" >&2
  sqlite_rates+=("$rate")
  fresh_db muster_bench_backends
  read -r stored rate rss cpu < <(ingest "$BASE/muster_bench_backends")
  echo "round $round, PostgreSQL: $stored events, $rate events/s, peak RSS $rss MB, muster CPU $cpu s" >&2
  pg_rates+=("$rate")
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
s=$(median "${sqlite_rates[@]}"); p=$(median "${pg_rates[@]}")
echo "median ingest rate: SQLite $s events/s, PostgreSQL $p events/s (PostgreSQL ÷ SQLite $(python3 -c "print(round($p/$s, 2))"))"
echo "store size: SQLite $(du -sh "$DIR/sqlite" | cut -f1), PostgreSQL $(psql -At "$BASE/muster_bench_backends" -c "SELECT pg_size_pretty(pg_database_size(current_database()))")"

customers=$(( SPANS / 64 ))
for customer in cust-0 "cust-$(( customers / 2 ))" "cust-$(( customers - 1 ))"; do
  for backend in SQLite PostgreSQL; do
    store="$DIR/sqlite/evidence.db"
    [ "$backend" = PostgreSQL ] && store="$BASE/muster_bench_backends"
    times=()
    for _ in 1 2 3 4 5; do
      times+=("$("$BIN" --store "$store" reconstruct --customer "$customer" --json \
        | python3 -c "import json,sys;d=json.load(sys.stdin);print(round(d['reconstruction_ms'], 1))")")
    done
    events=$("$BIN" --store "$store" reconstruct --customer "$customer" --json | python3 -c "import json,sys;print(len(json.load(sys.stdin)['events']))")
    echo "reconstruct --customer $customer, $backend: $events events, median $(median "${times[@]}") ms (runs: ${times[*]})"
  done
done
