#!/usr/bin/env bash
# Builds the fuzz seed corpora under fuzz/corpus/<target>/ (gitignored) from
# the repo's fixtures, examples and targets and from /work/shared/fixtures
# (or $NMC_SHARED_FIXTURES) when present. Small files only: at most 64 KiB,
# 170 KiB for NIR (so the conv fixtures kitchen_sink and mnist_conv are in),
# 100 KiB for ONNX (examples/onnx_mnist);
# larger seeds cut the executions per second tenfold.
# The .q.ron and .nmca seeds are made with the nmc CLI (built in release if
# absent). Rerunning replaces the seed files; inputs libFuzzer added stay.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${NMC_SHARED_FIXTURES:-/work/shared/fixtures}
corpus=$root/fuzz/corpus
mkdir -p "$corpus"/{nir,onnx,target_ron,speck_ron,qmodel_ron,artifact,npy,nmcs,xylo_spec,xylo_chip_ron,lava_json,loihi2_chip_ron}

# add TARGET FILE...: copy each small file as seed-<parent>-<basename> (the
# parent keeps same-named fixtures of different directories apart, e.g.
# xylo/audio2/*.spec.npz and xylo/imu/*.spec.npz)
add() {
  local t=$1 max=$((64 * 1024))
  [ "$t" = nir ] && max=$((170 * 1024))
  [ "$t" = onnx ] && max=$((100 * 1024))
  shift
  for f in "$@"; do
    [ -f "$f" ] || continue
    [ "$(stat -c %s "$f")" -le "$max" ] || continue
    cp "$f" "$corpus/$t/seed-$(basename "$(dirname "$f")")-$(basename "$f")"
  done
}

shopt -s nullglob globstar
add nir "$root"/tests/fixtures/**/*.nir "$root"/examples/*/*.nir "$shared"/nir-paper/**/*.nir
add onnx "$root"/examples/*/*.onnx "$root"/crates/*/tests/fixtures/**/*.onnx
add target_ron "$root"/targets/*.ron
add xylo_chip_ron "$root"/targets/xylo-*.ron
add loihi2_chip_ron "$root"/targets/loihi2.ron
add xylo_spec "$root"/tests/fixtures/xylo/**/*.spec.npz
add speck_ron "$root"/targets/*.ron
add lava_json "$root"/tests/fixtures/lava/*.json
add nmcs "$root"/tests/golden/**/*.nmcs
add npy "$root"/examples/*/*.npy "$root"/crates/*/tests/fixtures/**/*.npy "$shared"/nir-paper/**/*.npy "$shared"/datasets/*.npy

# The targets' RON in a few hand-made variants that hit other branches.
printf '(schema_version: 99)' >"$corpus/target_ron/seed-bad-version.ron"
printf '()' >"$corpus/target_ron/seed-empty.ron"

# .npz seeds: zip two .npy files, stored and deflated (python3 is not
# required; skipped without `zip`).
if command -v zip >/dev/null; then
  tmp=$(mktemp -d)
  cp "$shared"/nir-paper/02_cnn/results/lava_accuracy.npy "$tmp"/a.npy 2>/dev/null || true
  cp "$root"/examples/mnist_conv/test_labels.npy "$tmp"/b.npy
  (cd "$tmp" && zip -q -0 stored.npz ./*.npy && zip -q -9 deflated.npz ./*.npy)
  cp "$tmp"/stored.npz "$corpus/npy/seed-stored.npz"
  cp "$tmp"/deflated.npz "$corpus/npy/seed-deflated.npz"
  rm -rf "$tmp"
fi

# Quantized models and artifacts from the nmc CLI.
nmc=${NMC:-$root/target/release/nmc}
if [ ! -x "$nmc" ]; then
  (cd "$root" && cargo build --release -p nmc --locked)
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for model in "$shared"/nir-paper/01_lif/lif_norse.nir "$shared"/nir-paper/01_lif/two_lif_neurons.nir \
  "$shared"/nir-paper/03_rnn/braille_noDelay_bias_zero.nir "$root"/tests/fixtures/bad-nir/valid/nested_ports.nir \
  "$root"/examples/mnist_conv/mnist_conv.nir; do
  [ -f "$model" ] || continue
  stem=$(basename "$model" .nir)
  for t in tiny loihi1; do
    if "$nmc" quantize "$model" --target $t -o "$tmp/$stem-$t.q.ron" >/dev/null 2>&1; then
      add qmodel_ron "$tmp/$stem-$t.q.ron"
    fi
    if "$nmc" compile "$model" --target $t -o "$tmp/$stem-$t.nmca" >/dev/null 2>&1; then
      add artifact "$tmp/$stem-$t.nmca"
      # The artifact target also takes a bare payload (it writes the header):
      # seeds without the 20-byte header reach the decoder directly.
      tail -c +21 "$tmp/$stem-$t.nmca" >"$tmp/$stem-$t.payload"
      add artifact "$tmp/$stem-$t.payload"
    fi
  done
done

for t in nir onnx target_ron speck_ron qmodel_ron artifact npy nmcs xylo_spec xylo_chip_ron lava_json loihi2_chip_ron; do
  printf '%-11s %4d files %8d bytes\n' "$t" "$(find "$corpus/$t" -type f | wc -l)" \
    "$(find "$corpus/$t" -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}')"
done
