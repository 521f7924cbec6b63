#!/usr/bin/env bash
# The GPU check, in one go, within 8 minutes, for a machine with an NVIDIA GPU, CuPy,
# numba-cuda and torch (CUDA build) already installed and no network:
#   1. install this checkout without dependencies (pip, --no-index: nothing is downloaded)
#   2. the real-GPU test variants: GPUTENSOR_TEST_REAL_GPU=1 pytest -m gpu
#   3. the seed tour with "cuda" as the default device, its sections 1-2 compared with torch's
#   4. the GPU benchmarks (benchmarks/gpu_bench.py) against CuPy, cuBLAS and torch CUDA
# and ends with the table, which it also appends to benchmarks/RESULTS.md.
# Usage: bash benchmarks/gpu_check.sh      (PYTHON=... picks the interpreter; default python)
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
BUDGET=${GPU_CHECK_BUDGET:-480}  # seconds for everything
START=$(date +%s)
WORK=$(mktemp -d)
STATUS=0

# seconds a step may take: at most $1, leaving $2 seconds for the steps after it
cap() {
    local rest=$((BUDGET - ($(date +%s) - START) - $2))
    if ((rest < $1)); then echo $((rest > 10 ? rest : 10)); else echo "$1"; fi
}

if ! GPU_NAME=$(timeout 60 "$PY" -c "import cupy; p = cupy.cuda.runtime.getDeviceProperties(0)
print(p['name'].decode() if isinstance(p['name'], bytes) else p['name'])" 2>"$WORK/gpu.log"); then
    echo "no usable GPU: $(tail -1 "$WORK/gpu.log")"
    echo "gpu_check.sh needs an NVIDIA GPU with CuPy; nothing was run or recorded."
    exit 2
fi
echo "GPU: $GPU_NAME"

echo "== 1/4 install gputensor (no dependencies, no network)"
if ! timeout 90 "$PY" -m pip install -q --no-deps --no-build-isolation --no-index -e . \
        >"$WORK/pip.log" 2>&1; then
    echo "pip install failed (run from the checkout instead):"; tail -3 "$WORK/pip.log"
fi
# without an install, gputensor.kernels (kernels/ in the checkout) is not importable: link it
# into the package for this run
if ! "$PY" -c "import gputensor.kernels" 2>/dev/null && [[ ! -e gputensor/kernels ]]; then
    ln -s ../kernels gputensor/kernels && trap 'rm -f gputensor/kernels' EXIT
    "$PY" -c "import gputensor.kernels" || { echo "gputensor cannot be imported"; STATUS=1; }
fi

echo "== 2/4 GPUTENSOR_TEST_REAL_GPU=1 pytest -m gpu"
GPUTENSOR_TEST_REAL_GPU=1 timeout "$(cap 240 200)" "$PY" -m pytest -q -m gpu \
    -p no:cacheprovider 2>&1 | tee "$WORK/pytest.log" | tail -20
PYTEST_RC=${PIPESTATUS[0]}
PYTEST_SUMMARY=$(grep -E "passed|failed|error|no tests ran" "$WORK/pytest.log" | tail -1)
[[ $PYTEST_RC -eq 124 ]] && PYTEST_SUMMARY="timed out; last: ${PYTEST_SUMMARY}"
((PYTEST_RC != 0)) && STATUS=1

echo "== 3/4 the seed tour on cuda"
timeout "$(cap 60 140)" "$PY" - >"$WORK/tour.log" 2>&1 <<'EOF'
import contextlib
import difflib
import io
import runpy
import sys

import torch

import gputensor

TOUR = "examples/seed_tour.py"


def run(module):
    """The tour's output with ``module`` imported as gputensor and "cuda" the default device."""
    saved = sys.modules.get("gputensor")
    sys.modules["gputensor"] = module
    module.set_default_device("cuda")
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(TOUR, run_name="__main__")
    finally:
        module.set_default_device("cpu")
        sys.modules["gputensor"] = saved
    return out.getvalue()


ours = run(gputensor)
assert "device='cuda:0'" in ours, "the tour's tensors are not on cuda"
print(ours[-400:])
if not torch.cuda.is_available():
    print("RESULT: ran to the end (torch CUDA unavailable: output not compared)")
    sys.exit(0)
mine = ours.split("== 3. Modules ==")[0].replace("gputensor.", "torch.")
theirs = run(torch).split("== 3. Modules ==")[0]
if mine != theirs:
    sys.stdout.writelines(list(difflib.unified_diff(
        theirs.splitlines(True), mine.splitlines(True), "torch", "gputensor"))[:40])
    print("RESULT: ran to the end, but sections 1-2 differ from torch's (diff above)")
    sys.exit(1)
print("RESULT: ran to the end; sections 1-2 print exactly what torch prints on cuda")
EOF
TOUR_RC=$?
tail -12 "$WORK/tour.log"
TOUR_RESULT=$(grep "^RESULT: " "$WORK/tour.log" | tail -1 | cut -c9-)
if [[ -z $TOUR_RESULT ]]; then
    TOUR_RESULT="failed (exit $TOUR_RC): $(grep -E "Error|error" "$WORK/tour.log" | tail -1 \
        | cut -c1-200)"
fi
((TOUR_RC != 0)) && STATUS=1

echo "== 4/4 GPU benchmarks"
timeout "$(cap 300 5)" "$PY" benchmarks/gpu_bench.py --out "$WORK/table.md" \
    >"$WORK/bench.log" 2>&1
BENCH_RC=$?
if [[ ! -s $WORK/table.md ]]; then
    STATUS=1
    tail -20 "$WORK/bench.log"
    {
        echo "## ${GPU_NAME}, $(date -u '+%Y-%m-%d %H:%M UTC')"
        echo
        echo "The benchmarks did not finish (exit $BENCH_RC); see gpu_bench.py's output."
    } >"$WORK/table.md"
fi
{
    echo "- pytest -m gpu: ${PYTEST_SUMMARY:-no summary}"
    echo "- seed tour on cuda: ${TOUR_RESULT}"
    echo "- gpu_check.sh took $(($(date +%s) - START)) s"
} >>"$WORK/table.md"
{ echo; cat "$WORK/table.md"; } >>benchmarks/RESULTS.md
echo
echo "== results (appended to benchmarks/RESULTS.md)"
cat "$WORK/table.md"
exit $STATUS
