#!/usr/bin/env bash
# Runs every fuzz target for a bounded time and prints, per target, the
# executions, the final coverage (cov/ft), the corpus size and the findings.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default 60 s, all)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and the nightly toolchain.
# Builds the seed corpora first if fuzz/corpus is missing (fuzz/seed.sh).
# Memory above 512 MB (-rss_limit_mb) and an input slower than 10 s
# (-timeout) count as findings, like a panic. Findings land in
# fuzz/artifacts/<target>/; logs in fuzz/logs/<target>.log. One target runs at
# a time (single job): exits 1 if any target found something.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(nir onnx target_ron qmodel_ron artifact npy nmcs speck_ron xylo_chip_ron xylo_spec lava_json loihi2_chip_ron)
# ASan's default 256 MB quarantine of freed memory alone pushes a long run
# past 512 MB of RSS (false out-of-memory reports); keep it small. Single
# allocations above 512 MB still count (-malloc_limit_mb follows rss_limit).
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=16}
cd "$root/fuzz"
[ -d corpus ] || ./seed.sh
mkdir -p logs
# -a: debug assertions (integer overflow panics count as findings).
cargo +nightly fuzz build -a
found=0
rows=()
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  before=$(find "artifacts/$t" -type f | wc -l)
  echo "== $t: ${secs}s" >&2
  set +e
  cargo +nightly fuzz run -a "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=512 -timeout=10 \
    -print_final_stats=1 >"logs/$t.log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "logs/$t.log" | awk '{print $2}' | tail -1)
  last=$(grep -E '^#[0-9]+.*cov: ' "logs/$t.log" | tail -1 || true)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
  corp=$(find "corpus/$t" -type f | wc -l)
  after=$(find "artifacts/$t" -type f | wc -l)
  new=$((after - before))
  kind=$(grep -oE 'ERROR: libFuzzer: [a-z-]+|panicked at [^:]+:[0-9]+' "logs/$t.log" | head -1 || true)
  [ "$rc" -eq 0 ] && [ "$new" -eq 0 ] || found=1
  rows+=("$(printf '%-11s %6s %10s %6s %7s %6s %8s  %s' "$t" "$secs" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$corp" "$new" "$kind")")
done
printf '%-11s %6s %10s %6s %7s %6s %8s  %s\n' target secs execs cov ft corpus findings first-finding
printf '%s\n' "${rows[@]}"
exit $found
