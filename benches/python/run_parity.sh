#!/usr/bin/env bash
# Accuracy parity of the SDK's built-in algorithms against scikit-learn, on the same split.
#   benches/python/run_parity.sh        (from the repository root, or from anywhere)
# 1. a venv in target/parity-venv with benches/python/requirements.txt;
# 2. parity.py writes the CSV files and sklearn.json into target/parity;
# 3. `cargo bench -p sagemaker --bench parity` trains the same through the SDK and prints the
#    Markdown table.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
venv="$root/target/parity-venv"
out="$root/target/parity"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r benches/python/requirements.txt

OMP_NUM_THREADS=1 "$venv/bin/python" benches/python/parity.py "$out"

SAGEMAKER_PARITY_DIR="$out" cargo bench -p sagemaker --bench parity
