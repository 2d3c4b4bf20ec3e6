#!/usr/bin/env bash
# Create (or update) the benchmark-only venv .venv-bench at the repository root.
# It holds the product's runtime requirements plus the peer solvers (PyVRP,
# pyvroom), which the product itself never imports.
# Usage: bash benchmarks/setup_venv.sh   (PYTHON=python3.11 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
if [ ! -x .venv-bench/bin/python ]; then
    "$PYTHON" -m venv .venv-bench
fi
.venv-bench/bin/pip install --quiet --disable-pip-version-check \
    -r requirements.txt -r benchmarks/requirements.txt
.venv-bench/bin/python -c "import ortools, pyvrp, vroom" && echo "benchmark venv ready: .venv-bench"
