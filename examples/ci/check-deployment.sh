#!/usr/bin/env bash
# Fails a CI job when the deployed behaviour of a model changes.
#
#   check-deployment.sh MODEL INPUT GOLDEN [--bless]
#
# Compiles MODEL for loihi1, verifies it against its float reference (A = B,
# no register overflow) and compares every deployed spike with GOLDEN, a spike
# file recorded earlier with --bless and committed next to the model.
# Exit codes (docs/cli.md): 0 same deployment; 5 the deployment changed (or
# A ≠ B); 6 a register overflowed; 3 bad input or a golden recorded on another
# input; 4 the model no longer fits the chip.
set -euo pipefail
NMC=${NMC:-nmc}
model=$1 input=$2 golden=$3
shift 3

"$NMC" compile "$model" --target loihi1 -o "${TMPDIR:-/tmp}/deployment.nmca" >/dev/null
"$NMC" verify "$model" --target loihi1 --input "$input" --steps 20 --strict \
    --expect "$golden" "$@"
