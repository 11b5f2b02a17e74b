#!/usr/bin/env bash
# Runs every fuzz target for a bounded time on the stable toolchain (cargo-fuzz with
# `--sanitizer none`: coverage-guided, no sanitizers, so it looks for panics and broken invariants).
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-30}"
tools="${MUSTER_TOOLS_DIR:-$HOME/.cache/muster-tools}"
export PATH="$tools/bin:$PATH"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz into $tools" >&2
  cargo install --locked --root "$tools" cargo-fuzz
fi

for target in $(cargo fuzz list); do
  echo "== fuzz $target for ${seconds}s" >&2
  mkdir -p "fuzz/corpus/$target"
  # A crash makes cargo-fuzz exit non-zero and leaves the input under fuzz/artifacts/$target/.
  set +e
  cargo fuzz run --sanitizer none "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
    -max_total_time="$seconds" -print_final_stats=1 >"fuzz/last-$target.log" 2>&1
  status=$?
  set -e
  grep -E "^(Done|stat::number_of_executed_units)" "fuzz/last-$target.log" >&2 || true
  if [ "$status" -ne 0 ]; then
    tail -40 "fuzz/last-$target.log" >&2
    echo "fuzz target $target failed; the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
done
