#!/usr/bin/env bash
# Packing a drill of ~10,000 events, PDF included, against the issue's target (under 2 s), and the
# PDF step side by side with the peer route: headless Chromium printing the same pack's index.html
# (`--print-to-pdf`), the usual way HTML reports become PDFs. Medians of ROUNDS runs each.
#
#   bench/pack.sh            # ROUNDS=5 CONVERSATIONS=1800 (about 10,200 events)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-5}"
export ROUNDS CONVERSATIONS="${CONVERSATIONS:-1800}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== muster: assemble + evidence + charts + HTML + PDF + signed manifest (cargo bench, release)"
KEEP="$work/pack" cargo bench -q -p muster-pack --bench pack 2>/dev/null | tee "$work/muster.txt"

chromium_bin="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$chromium_bin" ]; then
  echo "chromium not found: no side-by-side (Debian: apt-get install chromium)" >&2
  exit 0
fi
echo "== peer: headless Chromium --print-to-pdf of the same index.html"
times=()
for i in $(seq 1 "$ROUNDS"); do
  start=$(date +%s%N)
  "$chromium_bin" --headless --no-sandbox --disable-gpu --no-pdf-header-footer \
    --user-data-dir="$work/profile" --print-to-pdf="$work/chromium.pdf" \
    "file://$work/pack/index.html" >/dev/null 2>&1
  end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  times+=("$ms")
  echo "round $i: ${ms} ms, $(stat -c %s "$work/chromium.pdf") bytes"
done
chromium_median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
muster_pdf=$(sed -n 's/.*(PDF \([0-9]*\) ms).*/\1/p' "$work/muster.txt" | tail -1)
muster_total=$(sed -n 's/^median of [0-9]*: \([0-9]*\) ms.*/\1/p' "$work/muster.txt" | tail -1)
echo "== medians: muster PDF ${muster_pdf} ms (whole pack ${muster_total} ms); Chromium print ${chromium_median} ms"
awk -v m="$muster_pdf" -v c="$chromium_median" 'BEGIN { if (m > 0) printf "ratio: Chromium takes %.1fx muster'"'"'s PDF time\n", c / m }'
