#!/usr/bin/env bash
# The GPU check, in one go, within 8 minutes, for a machine with an NVIDIA GPU, CuPy,
# numba-cuda and torch (CUDA build) already installed and no network:
#   1. install this checkout without dependencies (pip, --no-index: nothing is downloaded);
#      when that fails every step runs from the checkout (it is on PYTHONPATH throughout)
#   2. the real-GPU test variants: GPUTENSOR_TEST_REAL_GPU=1 pytest -m gpu
#   3. the seed tour with "cuda" as the default device, its sections 1-2 compared with torch's
#   4. the GPU benchmarks (python -m benchmarks.gpu_bench) against CuPy, cuBLAS and torch CUDA
# and ends with the table, which it also appends to benchmarks/RESULTS.md.
# CuPy's and Numba's compiled kernels go to one cache folder that every step (and the next
# run) shares, so a kernel is compiled once. A step over its time cap gets SIGINT first, so
# pytest still prints its summary, which the table keeps.
# Usage: bash benchmarks/gpu_check.sh      (PYTHON=... picks the interpreter; default python;
#        GPU_CHECK_CACHE=... the kernel cache folder; GPU_CHECK_BUDGET=... the seconds)
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
BUDGET=${GPU_CHECK_BUDGET:-480}  # seconds for everything
MIN_STEP=${GPU_CHECK_MIN_STEP:-10}  # seconds a step gets even when the budget is spent
START=$(date +%s)
WORK=$(mktemp -d)
STATUS=0
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
CACHE=${GPU_CHECK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gputensor-gpu-check}
mkdir -p "$CACHE/cupy" "$CACHE/numba"
export CUPY_CACHE_DIR="$CACHE/cupy" NUMBA_CACHE_DIR="$CACHE/numba"

# seconds a step may take: at most $1, leaving $2 seconds for the steps after it
cap() {
    local rest=$((BUDGET - ($(date +%s) - START) - $2))
    if ((rest < $1)); then echo $((rest > MIN_STEP ? rest : MIN_STEP)); else echo "$1"; fi
}

# run a command with a time cap of $1 seconds: SIGINT at the cap (pytest then prints its
# summary), SIGKILL 20 s later; exit status 124 when the cap was hit
capped() {
    local seconds=$1
    shift
    timeout --signal=INT --kill-after=20 "$seconds" "$@"
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
GPUTENSOR_TEST_REAL_GPU=1 capped "$(cap 240 200)" "$PY" -m pytest -q -rfE -m gpu \
    -p no:cacheprovider >"$WORK/pytest.log" 2>&1
PYTEST_RC=$?
tail -20 "$WORK/pytest.log"
PYTEST_SUMMARY=$(grep -E "passed|failed|error|no tests ran" "$WORK/pytest.log" | tail -1)
[[ $PYTEST_RC -eq 124 ]] && PYTEST_SUMMARY="timed out; last: ${PYTEST_SUMMARY}"
((PYTEST_RC != 0)) && STATUS=1

echo "== 3/4 the seed tour on cuda"
capped "$(cap 60 140)" "$PY" - >"$WORK/tour.log" 2>&1 <<'EOF'
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
capped "$(cap 300 5)" "$PY" -m benchmarks.gpu_bench --out "$WORK/table.md" \
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
