#!/usr/bin/env bash
# The detectors' quality and speed in one run: precision, recall and F1 per personal-data type on the
# seeded corpus; injection recall on BIPIA attacks in customer content and false alarms on NotInject;
# precision and recall of commitments and escalation cues on the labelled sets; then throughput.
# Usage: bench/detect-quality.sh [SEED=1] [N=10000]
set -euo pipefail
cd "$(dirname "$0")/.."

seed="${1:-1}"
n="${2:-10000}"

echo "== personal data (seed $seed, $n messages)"
cargo run -q --release --locked -p muster-detect-eval --example eval-personal -- --seed "$seed" --n "$n"
echo
echo "== prompt injection"
cargo run -q --release --locked -p muster-detect-eval --example eval-injection -- --seed "$seed"
echo
echo "== commitments and escalation cues"
cargo run -q --release --locked -p muster-detect-eval --example eval-cues
echo
echo "== throughput (one core)"
cargo bench -q --locked -p muster-detect --bench throughput
echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
