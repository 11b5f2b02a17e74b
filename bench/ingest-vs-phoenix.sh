#!/usr/bin/env bash
# muster's OTLP ingest side by side with Arize Phoenix's, on the same spans, in one run.
#
#   bench/ingest-vs-phoenix.sh [SPANS=20000] [ROUNDS=3]   # ~12 minutes here, nearly all of it Phoenix
#   MUSTER_BIN=/path/to/muster bench/ingest-vs-phoenix.sh 10000 3  # ~6 minutes, no cargo build
#
# Generates SPANS OTLP/JSON GenAI chat spans with bench/gen_otlp_spans.py (as bench/ingest-rate.sh:
# 100 spans per body, ~1 KB of output text per span, two muster events per span) and converts each
# body to protobuf once, before any timing. Then ROUNDS times, each tool in a fresh store and as its
# own server process on 127.0.0.1 (bench/phoenix_bench.py does the rounds):
#   - muster:  `muster --store FRESH/evidence.db ingest --listen 127.0.0.1:PORT --json`;
#   - Phoenix: arize-phoenix (pinned below, in a venv) `phoenix serve`, SQLite (its default) in a
#              fresh PHOENIX_WORKING_DIR, HTTP and OTLP gRPC bound to 127.0.0.1, telemetry off;
# the same client POSTs the same protobuf bodies to each one's /v1/traces, one after another on one
# keep-alive connection (PHOENIX_BENCH_CONCURRENCY="1 4" adds a run with 4 connections). Timed from
# the first request until every span is stored: muster answers after the batch is committed;
# Phoenix answers first and inserts later, so its spans table is counted until it holds them all.
# Also `muster ingest FILE.jsonl` (the OTLP/JSON file) into a fresh store, for context.
# Prints a table (spans/s, events/s, peak RSS, CPU seconds, store size, median of ROUNDS, the ratio
# muster ÷ Phoenix, machine, load, versions) and writes it as JSON to
# bench/results/ingest-vs-phoenix.json.
#
# MUSTER_BIN=/path/to/muster skips `cargo build --release --locked --bin muster`. MUSTER_BENCH_DIR
# (default ~/.cache/muster-bench) holds the input (ingest/spans-SPANS.jsonl, shared with
# ingest-rate.sh), the venv (phoenix-venv, made on first use; needs PyPI) and, while it runs, the
# stores; every store and server is removed at the end. All traffic stays on 127.0.0.1.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

SPANS=${1:-20000}
ROUNDS=${2:-3}
CONCURRENCY=${PHOENIX_BENCH_CONCURRENCY:-1}
BENCH_DIR=${MUSTER_BENCH_DIR:-$HOME/.cache/muster-bench}
VENV=$BENCH_DIR/phoenix-venv
PHOENIX_VERSION=20.26.1
OUT_JSON=$ROOT/bench/results/ingest-vs-phoenix.json
STARTED=$(date +%s)

mkdir -p "$BENCH_DIR/ingest"
WORK=$(mktemp -d "$BENCH_DIR/vs-phoenix.XXXXXX")
PIDS=$WORK/server.pids
: >"$PIDS"
cleanup() {
  # Servers run in their own process groups (the helper starts them with setsid); stop any left.
  local pid
  while read -r pid; do
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  done <"$PIDS"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- Phoenix venv ----------------------------------------------------------------------------------
have_phoenix() {
  [ -x "$VENV/bin/python" ] &&
    [ "$("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("arize-phoenix"))' 2>/dev/null)" = "$PHOENIX_VERSION" ] &&
    "$VENV/bin/python" -c 'import opentelemetry.proto.collector.trace.v1.trace_service_pb2, google.protobuf.json_format' 2>/dev/null
}
if ! have_phoenix; then
  echo "creating $VENV and installing arize-phoenix==$PHOENIX_VERSION (and opentelemetry-proto)" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "arize-phoenix==$PHOENIX_VERSION" opentelemetry-proto >&2
fi
have_phoenix || { echo "arize-phoenix $PHOENIX_VERSION did not install" >&2; exit 1; }
PY=$VENV/bin/python

# --- muster ----------------------------------------------------------------------------------------
if [ -n "${MUSTER_BIN:-}" ]; then
  BIN=$MUSTER_BIN
else
  cargo build --release --locked --bin muster >&2
  BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/muster
fi
[ -x "$BIN" ] || { echo "no muster binary at $BIN" >&2; exit 1; }

# --- input -----------------------------------------------------------------------------------------
INPUT=$BENCH_DIR/ingest/spans-$SPANS.jsonl
if [ ! -s "$INPUT" ]; then
  python3 bench/gen_otlp_spans.py "$SPANS" "$INPUT" 100 >&2
fi
BODIES=$WORK/bodies.bin
CONVERTED=$("$PY" bench/phoenix_bench.py convert "$INPUT" "$BODIES")
echo "input: $INPUT ($(du -h "$INPUT" | cut -f1), $SPANS spans); protobuf: $CONVERTED" >&2

# --- rounds ----------------------------------------------------------------------------------------
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load before: $LOAD_BEFORE" >&2
RESULTS=$WORK/rounds.jsonl
: >"$RESULTS"
one() { # TOOL ROUND [CONCURRENCY]: one measurement in a fresh directory, appended to RESULTS
  local tool=$1 round=$2 conc=${3:-1} dir=$WORK/$1-$2-c${3:-1}
  "$PY" bench/phoenix_bench.py round --tool "$tool" --round "$round" --concurrency "$conc" \
    --spans "$SPANS" --bodies "$BODIES" --jsonl "$INPUT" --muster-bin "$BIN" \
    --workdir "$dir" --pidfile "$PIDS" >"$WORK/last.json"
  cat "$WORK/last.json" >>"$RESULTS"
  python3 - "$WORK/last.json" >&2 <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
name = r["tool"] + (f" c={r['concurrency']}" if r["concurrency"] else "")
ev = f", {r['events_per_s']:,} events/s" if r.get("events_per_s") is not None else ""
ans = f", answered in {r['answered_s']:.2f} s" if r.get("answered_s") is not None else ""
extra = ""
if r["tool"] == "phoenix":
    extra = f", ready in {r['ready_s']} s, API count {r['api_record_count']}, 503 retries {r['retries_503']}"
elif r["tool"] == "muster-listen":
    extra = f", store verify intact={r['store_verify']['intact']} ({r['store_verify']['events_checked']} events)"
print(f"round {r['round']}: {name}: {r['spans_stored']}/{r['spans_sent']} spans stored in {r['stored_s']:.2f} s"
      f"{ans}: {r['spans_per_s']:,} spans/s{ev}, peak RSS {r['peak_rss_mb']} MB, CPU {r['cpu_s']} s, "
      f"store {r['store_mb']} MB, load {r['load_after']}{extra}")
PY
  rm -rf "$dir"
}
for round in $(seq 1 "$ROUNDS"); do
  for conc in $CONCURRENCY; do
    # alternate which tool goes first, so neither always meets the other's leftovers (page cache,
    # a disk still writing back)
    if [ $((round % 2)) -eq 1 ]; then
      one muster-listen "$round" "$conc"
      one phoenix "$round" "$conc"
    else
      one phoenix "$round" "$conc"
      one muster-listen "$round" "$conc"
    fi
  done
  one muster-file "$round"
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load after: $LOAD_AFTER" >&2

# --- report ----------------------------------------------------------------------------------------
pyver() { "$PY" -c "from importlib.metadata import version; print(version('$1'))" 2>/dev/null || echo unknown; }
python3 - "$WORK/meta.json" <<PY
import json, sys
converted = json.loads('''$CONVERTED''')
meta = {
    "spans": $SPANS, "rounds": $ROUNDS, "concurrency": [int(c) for c in "$CONCURRENCY".split()],
    "bodies": converted["bodies"], "spans_per_body": 100, "pb_bytes": converted["bytes"],
    "jsonl_bytes": $(stat -c %s "$INPUT"), "input": "bench/gen_otlp_spans.py $SPANS OUT.jsonl 100",
    "nproc": $(nproc), "cpu": """$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)""",
    "kernel": "$(uname -sr)", "load_before": "$LOAD_BEFORE", "load_after": "$LOAD_AFTER",
    "run_s": $(($(date +%s) - STARTED)),
    "muster_bin": "$BIN",
    "versions": {
        "muster": "$("$BIN" --version | cut -d' ' -f2)",
        "commit": "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)",
        "arize-phoenix": "$(pyver arize-phoenix)",
        "phoenix sqlite (sqlean)": "$("$PY" -c 'import sqlean; print(sqlean.sqlite_version)' 2>/dev/null || echo unknown)",
        "muster sqlite (bundled)": "$( (strings "$BIN" 2>/dev/null || true) | grep -m1 -xE '3\.[0-9]{2}\.[0-9]+' || echo unknown)",
        "python (Phoenix, client)": "$("$PY" -c 'import platform; print(platform.python_version())')",
        "SQLAlchemy": "$(pyver SQLAlchemy)", "aiosqlite": "$(pyver aiosqlite)", "uvicorn": "$(pyver uvicorn)",
        "protobuf": "$(pyver protobuf)", "opentelemetry-proto": "$(pyver opentelemetry-proto)",
    },
    "notes": [
        "client: one Python process (http.client, keep-alive), the same code and the same protobuf "
        "bodies for both tools; N connections = N threads; a 503/429 answer is retried after 0.1 s",
        "muster: the answer to each request means committed (one transaction per request: events, "
        "per-field digests, hash chain, FTS5 rows by trigger, progress row; WAL, synchronous=NORMAL); "
        "each raw body is also kept under received/; stored is checked with the receiver's own count "
        "on Ctrl-C and with 'muster store verify' after it stopped (digests and chain, counted)",
        "Phoenix answers a request before it inserts (a background task decodes the spans into a queue; "
        "a bulk inserter commits up to 100 spans per transaction, one savepoint per span, with a cost "
        "calculation per span); 'stored' is when a read-only SQLite connection counts SPANS rows in its "
        "spans table (polled every 0.1 s, not through its API, so the polling takes no time from its "
        "server's single event loop); its GraphQL recordCount is read afterwards as a cross-check",
        "Phoenix runs SQLite with journal_mode=WAL and synchronous=OFF (a commit is not fsynced); "
        "muster with synchronous=NORMAL",
        "Phoenix stores one row per span (plus a trace row per trace; every generated span is its own "
        "trace), its attributes as JSON, with its own indexes; muster stores two events per span, the "
        "model call and the agent's message, each with digests, a chain link and full-text index rows",
        "Phoenix's OTLP gRPC receiver, which it binds to [::] whatever PHOENIX_HOST says, is bound to "
        "127.0.0.1 by bench/phoenix_bench.py serve-phoenix (a wrapper of 'phoenix serve'); "
        "PHOENIX_TELEMETRY_ENABLED=false, PHOENIX_ALLOW_EXTERNAL_RESOURCES=false, "
        "PHOENIX_DISABLE_AGENT_ASSISTANT=true, otherwise Phoenix's defaults (SQLite, "
        "PHOENIX_MAX_SPANS_QUEUE_SIZE 20000)",
        "muster ingest FILE reads the OTLP/JSON Lines file, not the protobuf bodies; its time is "
        "muster's own elapsed_ms (store open and process start not included), as in ingest-rate.sh",
        "peak RSS = VmHWM of the server process and its children (each one's count is in rounds_raw.processes), read "
        "just before it is stopped; CPU = user+sys of that process tree from ready to stored "
        "(start-up, e.g. Phoenix's migrations, not included)",
        "rounds alternate which tool goes first; both servers share the 2 cores with the client",
    ],
}
json.dump(meta, open(sys.argv[1], "w"), indent=2)
PY
mkdir -p "$(dirname "$OUT_JSON")"
"$PY" bench/phoenix_bench.py report "$RESULTS" "$OUT_JSON" "$WORK/meta.json"
