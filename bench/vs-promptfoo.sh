#!/usr/bin/env bash
# muster and promptfoo side by side, in one run, on the same work against the same target.
#
#   bench/vs-promptfoo.sh
#
# Env: VS_PF_MAX_N (default 10000: N = 100, 1,000, 10,000; e.g. 1000 skips the 10,000 row),
#      VS_PF_LATENCY_N (default 1000), VS_PF_RUNS (default 3: runs per row for N <= 1,000),
#      MUSTER_BENCH_DIR (default ~/.cache/muster-bench: promptfoo is installed in its promptfoo/),
#      VS_PF_OUT (default bench/results/vs-promptfoo.json).
#
# Starts `muster refagent serve --hardened` as a separate process on 127.0.0.1. Both tools send N
# single-turn conversations — the same customer message, signed in as the same customer, one new
# conversation id each — to its OpenAI-compatible endpoint (/v1/chat/completions) at concurrency 10,
# and check every reply against the same regular expression:
#   muster:    one scenario (must_say), `muster --store FRESH.db drill --repeat N --concurrency 10 --json`
#              through library/reference/agent-openai.yaml (evidence store on, a fresh one per run);
#   promptfoo: 0.121.20, its `http` provider with the same request body and X-Conversation-Id header,
#              N tests with a `regex` assertion, `-j 10`, cache off (--no-cache and
#              PROMPTFOO_CACHE_ENABLED=false), telemetry, update check and sharing off, a fresh
#              PROMPTFOO_CONFIG_DIR (its result database) per run.
# Rows: N = 100, 1,000 (median of VS_PF_RUNS runs) and 10,000 (one run); N = 1,000 with 200 ms added
# per request by a loopback delay proxy (bench/delay_proxy.py) for both tools; and muster alone with
# 1,000 conversations at concurrency 1,000. Wall time and peak RSS come from GNU time (/usr/bin/time).
# Before the rows it checks that promptfoo's cache is really off: through a counting proxy, a second
# identical run with the cache on reaches the agent 0 times, and with the cache off N times.
# Prints a table and writes bench/results/vs-promptfoo.json.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

MAX_N=${VS_PF_MAX_N:-10000}
LAT_N=${VS_PF_LATENCY_N:-1000}
RUNS=${VS_PF_RUNS:-3}
C=10
DELAY_MS=200
BENCH_DIR=${MUSTER_BENCH_DIR:-$HOME/.cache/muster-bench}
PF_DIR=$BENCH_DIR/promptfoo
PF_VERSION=0.121.20
PF=$PF_DIR/node_modules/.bin/promptfoo
MESSAGE="What's your returns policy for a phone bought 10 days ago?"
CUSTOMER=LM-100004
# Matched case-sensitively by promptfoo (new RegExp(value), no flags) and by muster (case_sensitive).
PATTERN='14-day return window'
OUT=${VS_PF_OUT:-bench/results/vs-promptfoo.json}

for tool in node npm curl python3; do
  command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 2; }

# promptfoo: never phone home, never share, never use the cache.
export PROMPTFOO_DISABLE_TELEMETRY=1 PROMPTFOO_DISABLE_UPDATE=1 PROMPTFOO_DISABLE_SHARING=1 \
       PROMPTFOO_DISABLE_REMOTE_GENERATION=1 PROMPTFOO_CACHE_ENABLED=false NO_UPDATE_NOTIFIER=1
# Its home (result database, logs, cache) stays in the bench dir; every timed run gets a fresh one.
export PROMPTFOO_CONFIG_DIR=$PF_DIR/home
if [ ! -x "$PF" ] || [ "$("$PF" --version 2>/dev/null | tail -n 1)" != "$PF_VERSION" ]; then
  echo "installing promptfoo@$PF_VERSION into $PF_DIR" >&2
  mkdir -p "$PF_DIR"
  npm install --prefix "$PF_DIR" --no-audit --no-fund "promptfoo@$PF_VERSION" >&2
fi

cargo build --release --locked --bin muster >&2
BIN=$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/release/muster

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_http() { # wait_http URL
  for _ in $(seq 1 200); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "nothing answered at $1" >&2; exit 1
}
AGENT_PORT=$(free_port)
"$BIN" refagent serve --hardened --host 127.0.0.1 --port "$AGENT_PORT" 2>"$WORK/agent.log" >&2 &
PIDS+=($!)
wait_http "http://127.0.0.1:$AGENT_PORT/healthz"
COUNT_PORT=$(free_port)   # counting proxy, no delay: the cache check
python3 bench/delay_proxy.py "$COUNT_PORT" "$AGENT_PORT" 0 "$WORK/count-proxy.log" 2>"$WORK/count-proxy.err" &
PIDS+=($!)
DELAY_PORT=$(free_port)   # counting proxy, 200 ms per request: the latency row
python3 bench/delay_proxy.py "$DELAY_PORT" "$AGENT_PORT" "$DELAY_MS" 2>"$WORK/delay-proxy.err" &
PIDS+=($!)
wait_http "http://127.0.0.1:$COUNT_PORT/__count"
wait_http "http://127.0.0.1:$DELAY_PORT/__count"
count() { curl -fsS "http://127.0.0.1:$1/__count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])'; }

# The scenario muster runs (written to the work dir, not the library).
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

# pf_config N PORT LABEL FILE — the promptfoo config for the same work.
pf_config() {
  python3 - "$@" <<'PY'
import json, os, sys
n, port, label, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
# Conversation ids must be new to the agent (it keeps every conversation): label, N and a random nonce.
nonce = os.urandom(4).hex()
cfg = {
    "description": f"vs-promptfoo {label} N={n}",
    "prompts": ["{{message}}"],
    "providers": [{"id": "http", "config": {
        "url": f"http://127.0.0.1:{port}/v1/chat/completions",
        "method": "POST",
        "headers": {"Content-Type": "application/json", "X-Conversation-Id": "{{cid}}"},
        "body": {"model": "larkspur-support", "user": os.environ["CUSTOMER"], "stream": False,
                 "messages": [{"role": "user", "content": "{{prompt}}"}]},
        "transformResponse": "json.choices[0].message.content",
    }}],
    "defaultTest": {"assert": [{"type": "regex", "value": os.environ["PATTERN"]}]},
    "tests": [{"vars": {"message": os.environ["MESSAGE"], "cid": f"pf-{label}-n{n}-{nonce}-{i}"}} for i in range(n)],
    "evaluateOptions": {"maxConcurrency": 10},
}
json.dump(cfg, open(out, "w"), indent=1)  # JSON is YAML
PY
}
export CUSTOMER PATTERN MESSAGE

RUNS_TSV=$WORK/runs.tsv
: >"$RUNS_TSV"
# measure TOOL LABEL N RUN PORT CONC — one timed run; files in $WORK/TOOL-LABEL-N-RUN.*
measure() {
  local tool=$1 label=$2 n=$3 run=$4 port=$5 conc=$6
  local base=$WORK/$tool-$label-$n-$run rc=0 before=-1 after=-1
  [ "$port" = "$AGENT_PORT" ] || before=$(count "$port")
  if [ "$tool" = muster ]; then
    (cd "$WORK" && /usr/bin/time -f "%e %M" -o "$base.time" \
      "$BIN" --store "$base.db" drill --agent "$REPO/library/reference/agent-openai.yaml" \
        --scenarios "$WORK/scenarios" --base-url "http://127.0.0.1:$port" \
        --repeat "$n" --concurrency "$conc" --no-lock --json >"$base.out" 2>"$base.err") || rc=$?
  else
    pf_config "$n" "$port" "$label-$run" "$base.yaml"
    (cd "$WORK" && PROMPTFOO_CONFIG_DIR=$base.pfhome /usr/bin/time -f "%e %M" -o "$base.time" \
      "$PF" eval -c "$base.yaml" --no-cache -j "$conc" --no-table --no-progress-bar \
        -o "$base.out.json" >"$base.out" 2>"$base.err") || rc=$?
  fi
  [ "$port" = "$AGENT_PORT" ] || after=$(count "$port")
  local requests=-1
  [ "$before" = -1 ] || requests=$((after - before))
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$label" "$n" "$run" "$rc" "$requests" "$base" >>"$RUNS_TSV"
  echo "  $tool $label N=$n run $run: rc=$rc $(cat "$base.time" | tail -n 1) requests=$requests" >&2
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $LOAD_BEFORE" >&2

# 1. Is promptfoo's cache really off? Through the counting proxy, same config and home each time.
echo "cache check (promptfoo, N=100, counting proxy):" >&2
pf_config 100 "$COUNT_PORT" cachecheck "$WORK/cachecheck.yaml"
CACHE=()
for mode in on on off; do
  if [ "$mode" = on ]; then flags=(); cache_env=true; else flags=(--no-cache); cache_env=false; fi
  before=$(count "$COUNT_PORT")
  (cd "$WORK" && PROMPTFOO_CACHE_ENABLED=$cache_env PROMPTFOO_CONFIG_DIR=$WORK/cachecheck.pfhome \
    "$PF" eval -c "$WORK/cachecheck.yaml" "${flags[@]}" -j "$C" --no-table --no-progress-bar \
      -o "$WORK/cachecheck-$mode.json" >"$WORK/cachecheck.out" 2>&1) || true
  CACHE+=("$mode:$(( $(count "$COUNT_PORT") - before ))")
  echo "  cache $mode: ${CACHE[-1]#*:} requests reached the agent" >&2
done
# The ids the agent saw: one distinct X-Conversation-Id per test (promptfoo templates the header).
DISTINCT_IDS=$({ grep -io 'x-conversation-id: [^|]*' "$WORK/count-proxy.log" || true; } | sort -u | wc -l)
echo "  distinct X-Conversation-Id values seen: $DISTINCT_IDS (100 expected)" >&2

# 2. The rows, tools interleaved so both see the same machine state.
for n in 100 1000 10000; do
  [ "$n" -le "$MAX_N" ] || continue
  runs=$RUNS; [ "$n" -le 1000 ] || runs=1
  echo "N=$n, concurrency $C, $runs run(s):" >&2
  for run in $(seq 1 "$runs"); do
    measure muster lat0 "$n" "$run" "$AGENT_PORT" "$C"
    measure promptfoo lat0 "$n" "$run" "$AGENT_PORT" "$C"
  done
done
[ "$LAT_N" -le "$MAX_N" ] || LAT_N=$MAX_N
echo "N=$LAT_N, concurrency $C, ${DELAY_MS} ms added per request, $RUNS run(s):" >&2
for run in $(seq 1 "$RUNS"); do
  measure muster lat200 "$LAT_N" "$run" "$DELAY_PORT" "$C"
  measure promptfoo lat200 "$LAT_N" "$run" "$DELAY_PORT" "$C"
done
echo "muster alone, 1000 conversations at concurrency 1000:" >&2
measure muster c1000 1000 1 "$AGENT_PORT" 1000

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p "$(dirname "$OUT")"
python3 - "$RUNS_TSV" "$OUT" <<PY
import json, os, statistics, subprocess, sys
runs_tsv, out = sys.argv[1], sys.argv[2]
C, DELAY_MS = $C, $DELAY_MS

def version(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout.strip().splitlines()[-1]
    except Exception as e:  # noqa: BLE001
        return f"unknown ({e})"

runs = []
for line in open(runs_tsv):
    tool, label, n, run, rc, requests, base = line.rstrip("\n").split("\t")
    wall, rss_kb = open(base + ".time").read().split()[-2:]
    r = {"tool": tool, "label": label, "n": int(n), "run": int(run), "rc": int(rc),
         "wall_s": float(wall), "peak_rss_mb": round(int(rss_kb) / 1024, 1),
         "requests_at_proxy": None if requests == "-1" else int(requests)}
    if tool == "muster":
        try:
            rep = json.load(open(base + ".out"))
            r["passed"], r["failed"], r["inconclusive"] = (rep["counts"].get(k, 0) for k in ("pass", "fail", "inconclusive"))
            r["counts"] = rep["counts"]
            t = rep["timing"]
            r["agent_latency_ms_p50"] = t["agent_latency_ms"]["p50"]
            r["engine_overhead_us_p50"] = t["engine_overhead_us"]["p50"]
            r["turns"] = t["turns"]
        except Exception as e:  # noqa: BLE001
            r["error"] = f"unreadable report: {e}: {open(base + '.err').read()[-500:]}"
    else:
        try:
            rep = json.load(open(base + ".out.json"))
            res = rep["results"]
            st = res["stats"]
            r["passed"], r["failed"], r["errors"] = st.get("successes"), st.get("failures"), st.get("errors")
            r["cached_results"] = sum(1 for x in res["results"] if (x.get("response") or {}).get("cached"))
            r["results"] = len(res["results"])
        except Exception as e:  # noqa: BLE001
            r["error"] = f"unreadable output: {e}: {open(base + '.err').read()[-500:]}"
    runs.append(r)

def med(tool, label, n, key):
    vals = [r[key] for r in runs if (r["tool"], r["label"], r["n"]) == (tool, label, n)]
    return statistics.median(vals) if vals else None

def count(tool, label, n):
    return sum(1 for r in runs if (r["tool"], r["label"], r["n"]) == (tool, label, n))

rows = []
for label, n in sorted({(r["label"], r["n"]) for r in runs if r["label"] != "c1000"}, key=lambda x: (x[0], x[1])):
    row = {"label": label, "n": n, "concurrency": C, "runs": count("muster", label, n)}
    for tool in ("muster", "promptfoo"):
        row[tool] = {"wall_s": med(tool, label, n, "wall_s"), "peak_rss_mb": med(tool, label, n, "peak_rss_mb")}
    m, p = row["muster"], row["promptfoo"]
    row["wall_ratio_muster_over_promptfoo"] = round(m["wall_s"] / p["wall_s"], 3) if p["wall_s"] else None
    row["rss_ratio_muster_over_promptfoo"] = round(m["peak_rss_mb"] / p["peak_rss_mb"], 3) if p["peak_rss_mb"] else None
    if label == "lat200":
        # The agent's own time per request: its p50 latency at 0 ms as muster measured it, at the same N
        # if that row ran, else the largest N that did.
        lat0 = sorted({r["n"] for r in runs if (r["tool"], r["label"]) == ("muster", "lat0")}, key=lambda k: (k != n, -k))
        agent_ms = (med("muster", "lat0", lat0[0], "agent_latency_ms_p50") or 0.0) if lat0 else 0.0
        row["ideal_s"] = round(n / C * (DELAY_MS / 1000 + agent_ms / 1000), 2)
        row["ideal_note"] = (f"N/C x (0.2 s + the agent's own p50 latency at 0 ms as muster measured it"
                             f"{f' at N={lat0[0]}' if lat0 else ''}: {agent_ms:.2f} ms)")
    rows.append(row)
c1000 = [r for r in runs if r["label"] == "c1000"]

result = {
    "benchmark": "bench/vs-promptfoo.sh",
    "work": {"message": os.environ["MESSAGE"], "customer": os.environ["CUSTOMER"],
             "regex": os.environ["PATTERN"], "target": "muster refagent serve --hardened, /v1/chat/completions on 127.0.0.1",
             "concurrency": C, "latency_row_delay_ms": DELAY_MS,
             "muster": "one scenario with must_say (case-sensitive), drill --repeat N --concurrency 10 --json, fresh evidence store per run, agent-openai.yaml",
             "promptfoo": "http provider, same body and X-Conversation-Id header (one per test), regex assertion, -j 10, --no-cache + PROMPTFOO_CACHE_ENABLED=false, fresh PROMPTFOO_CONFIG_DIR per run, -o results.json"},
    "machine": {"nproc": os.cpu_count(), "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"),
                "mem_gib": round(int(next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal"))) / 1048576, 1),
                "load_before": "$LOAD_BEFORE", "load_after": "$LOAD_AFTER", "kernel": os.uname().release},
    "versions": {"muster": version(["$BIN", "--version"]).removeprefix("muster "), "promptfoo": version(["$PF", "--version"]), "node": version(["node", "--version"])},
    "cache_check": {"promptfoo_n": 100, "requests_reaching_agent": [{"cache": x.split(":")[0], "requests": int(x.split(":")[1])} for x in "${CACHE[*]}".split()],
                    "distinct_conversation_ids": int("$DISTINCT_IDS"),
                    "note": "same config and PROMPTFOO_CONFIG_DIR three times through a counting proxy: cache on (fills it), cache on again (0 requests = replayed), cache off (--no-cache, PROMPTFOO_CACHE_ENABLED=false)"},
    "rows": rows,
    "muster_1000_concurrent": c1000[0] if c1000 else None,
    "runs": runs,
}
json.dump(result, open(out, "w"), indent=2)

def fmt(x, unit=""):
    return "-" if x is None else f"{x:,.2f}{unit}" if isinstance(x, float) else f"{x:,}{unit}"
print(f"machine: {result['machine']['nproc']} cores, {result['machine']['cpu']}, {result['machine']['mem_gib']} GiB; "
      f"load {result['machine']['load_before']} before, {result['machine']['load_after']} after")
print(f"versions: muster {result['versions']['muster']}, promptfoo {result['versions']['promptfoo']}, node {result['versions']['node']}")
print("cache check (promptfoo N=100 via counting proxy): " + ", ".join(f"cache {c['cache']} -> {c['requests']} requests" for c in result["cache_check"]["requests_reaching_agent"])
      + f"; distinct conversation ids {result['cache_check']['distinct_conversation_ids']}")
print()
print("| row | N | runs | muster wall | promptfoo wall | muster/promptfoo | muster RSS | promptfoo RSS | muster/promptfoo |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    name = "0 ms" if r["label"] == "lat0" else f"+{DELAY_MS} ms (ideal {r['ideal_s']:.2f} s)"
    m, p = r["muster"], r["promptfoo"]
    print(f"| {name} | {r['n']:,} | {r['runs']} | {m['wall_s']:.2f} s | {p['wall_s']:.2f} s | {r['wall_ratio_muster_over_promptfoo']:.3f} | "
          f"{m['peak_rss_mb']:.0f} MB | {p['peak_rss_mb']:.0f} MB | {r['rss_ratio_muster_over_promptfoo']:.3f} |")
if c1000:
    c = c1000[0]
    print(f"\nmuster, 1,000 conversations at concurrency 1,000: {c['wall_s']:.2f} s, peak RSS {c['peak_rss_mb']:.0f} MB "
          f"({'under' if c['peak_rss_mb'] < 200 else 'NOT under'} 200 MB), counts {c.get('counts')}")
bad = [r for r in runs if r.get("error") or r.get("passed") != r["n"] or (r["tool"] == "promptfoo" and r.get("cached_results"))
       or (r["requests_at_proxy"] is not None and r["requests_at_proxy"] != r["n"])]
for r in bad:
    print(f"WARNING: {r['tool']} {r['label']} N={r['n']} run {r['run']}: rc={r['rc']} passed={r.get('passed')} "
          f"cached={r.get('cached_results')} requests={r['requests_at_proxy']} {r.get('error', '')}")
print(f"\nwrote {out}")
PY
