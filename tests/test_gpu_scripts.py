"""The GPU check scripts, run where no GPU is: benchmarks/gpu_check.sh must stop cleanly, and
every section of benchmarks/gpu_bench.py must run end to end on the simulated device.

The benchmarks are written for CuPy on a real GPU; here a small stand-in for the parts of
CuPy they use (on the simulation's arrays), tiny sizes and one timed call per measurement
make every section run our kernels through the same code, so a broken call fails CI
instead of a GPU session. Timings here mean nothing and are not checked.
"""

import os
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest

from gputensor import backends

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_check_stops_cleanly_without_a_gpu(tmp_path):
    results = ROOT / "benchmarks" / "RESULTS.md"
    before = results.read_text()
    env = {k: v for k, v in os.environ.items()
           if k not in ("GPUTENSOR_SIMULATE_CUDA", "NUMBA_ENABLE_CUDASIM")}
    env["PYTHON"] = sys.executable
    done = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_check.sh")], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "no usable GPU" in done.stdout and "nothing was run or recorded" in done.stdout
    assert results.read_text() == before


# stands for python on a GPU machine where the editable install fails: it logs each call with
# the variables gpu_check.sh must set, and its pytest is still running at the step's time cap
FAKE_PYTHON = r"""#!/usr/bin/env bash
args="$*"
echo "$PYTHONPATH|$CUPY_CACHE_DIR|$NUMBA_CACHE_DIR|${args//$'\n'/ }" >>"$FAKE_LOG"
case "$*" in
    *"import cupy"*) echo "Fake GPU" ;;
    "-m pip"*) echo "error: no editable install here"; exit 1 ;;
    "-m pytest"*)
        trap 'echo "3 passed in 1.00s"; exit 2' INT
        echo "..."; sleep 60 & wait ;;
    "-m benchmarks.gpu_bench"*) out=${args##*--out }; echo "| bench | row |" >"${out%% *}" ;;
    -) cat >/dev/null; echo "RESULT: ran to the end" ;;
esac
exit 0
"""


def test_gpu_check_runs_from_the_checkout_and_keeps_caches_and_the_summary(tmp_path):
    (tmp_path / "benchmarks").mkdir()
    script = tmp_path / "benchmarks" / "gpu_check.sh"
    script.write_text((ROOT / "benchmarks" / "gpu_check.sh").read_text())
    (tmp_path / "benchmarks" / "RESULTS.md").write_text("# results\n")
    fake = tmp_path / "python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    log = tmp_path / "calls.log"
    env = dict(os.environ, PYTHON=str(fake), FAKE_LOG=str(log), GPU_CHECK_BUDGET="1",
               GPU_CHECK_MIN_STEP="1", GPU_CHECK_CACHE=str(tmp_path / "cache"))
    env.pop("PYTHONPATH", None)
    done = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr  # the tests did not finish
    calls = [line.split("|", 3) for line in log.read_text().splitlines()]
    steps = [args for _, _, _, args in calls]
    assert any(a.startswith("-m pip install") for a in steps)
    assert any(a.startswith("-m pytest") for a in steps) and "-" in steps
    assert any(a.startswith("-m benchmarks.gpu_bench") for a in steps)
    for path, cupy_cache, numba_cache, args in calls:  # every step: one cache, the checkout
        assert path.split(":")[0] == str(tmp_path), args
        assert (cupy_cache, numba_cache) == (str(tmp_path / "cache" / "cupy"),
                                             str(tmp_path / "cache" / "numba")), args
    results = (tmp_path / "benchmarks" / "RESULTS.md").read_text()
    assert "| bench | row |" in results
    assert "- pytest -m gpu: timed out; last: 3 passed in 1.00s" in results


class _Event:
    """Stands for cupy.cuda.Event: records the wall clock."""

    def record(self):
        self.time = time.perf_counter()

    def synchronize(self):
        pass


class _FakeCupy(types.SimpleNamespace):
    """What is not set on it comes from the simulated device's array namespace."""

    def __getattr__(self, name):
        return getattr(backends.backend_for("cuda").xp, name)


def _fake_cupy():
    """The parts of CuPy that gpu_bench.py uses, over the simulated device's arrays."""
    xp = backends.backend_for("cuda").xp
    rng = np.random.default_rng(0)
    fake = _FakeCupy(__version__="simulated")
    fake.random = types.SimpleNamespace(
        random=lambda shape, dtype=np.float32: xp.asarray(rng.random(shape, dtype=dtype)))
    device = types.SimpleNamespace(synchronize=lambda: None, id=0)
    runtime = types.SimpleNamespace(getDeviceProperties=lambda index: {"name": b"simulated"},
                                    driverGetVersion=lambda: 0)
    fake.cuda = types.SimpleNamespace(
        Event=_Event, Device=lambda index=None: device, runtime=runtime,
        get_elapsed_time=lambda start, end: max(end.time - start.time, 1e-9) * 1e3)
    fake.get_default_memory_pool = lambda: types.SimpleNamespace(free_all_blocks=lambda: None)
    return fake


def test_every_gpu_benchmark_section_runs(monkeypatch, tmp_path):
    if not backends.simulating_cuda():
        pytest.skip("a real GPU run: gpu_check.sh runs the benchmarks for real")
    from benchmarks import (
        gpu_bench,
        gpu_bench_conv,
        gpu_bench_graphs,
        gpu_bench_kernels,
        gpu_bench_launch,
    )

    # the benchmarks import the kernel modules themselves: the backend first hands the
    # simulated arrays to the kernels' launcher (as it does on its own first kernel)
    backends.backend_for("cuda").kernel_module("elementwise")
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy())
    for name, value in {"N": 4096, "ADAM_PARAMS": 1000, "MATMUL_SIZE": 8,
                        "MLP_SIZES": (12, 8, 8, 4), "MLP_BATCH": 3,
                        "CE_SHAPES": ((4, 3),), "SMALL": 12, "ROW_SHAPES": ((3, 5),),
                        "GELU_SIZES": (7,)}.items():
        monkeypatch.setattr(gpu_bench, name, value)
    # one call per measurement (the simulator is slow); the copy reference is made up
    timed, wall = gpu_bench.Timer.__call__, gpu_bench.Timer.wall
    monkeypatch.setattr(gpu_bench.Timer, "__call__",
                        lambda self, fn, reps=1, warmup=0, events="cupy":
                        timed(self, fn, 1, 0, events))
    monkeypatch.setattr(gpu_bench.Timer, "wall", lambda self, fn, reps=1, warmup=0:
                        wall(self, fn, 1, 0))
    monkeypatch.setattr(gpu_bench, "bench_copy", lambda report, timer, cupy: 1e9)
    monkeypatch.setattr(gpu_bench_conv, "CONV_SHAPE", (2, 3, 6, 6))
    monkeypatch.setattr(gpu_bench_graphs, "MLP_SIZES", (12, 8, 8, 4))
    monkeypatch.setattr(gpu_bench_graphs, "MLP_BATCH", 3)
    monkeypatch.setattr(gpu_bench_launch, "LAUNCH_ELEMENTS", 12)
    monkeypatch.setattr(gpu_bench_launch, "LAUNCHES", 1)
    for name, value in {"CE_KERNEL_SHAPES": ((3, 4),), "MATMUL_KERNEL_SIZE": 8,
                        "STRIDED_SIDE": 6}.items():
        monkeypatch.setattr(gpu_bench_kernels, name, value)
    out = tmp_path / "table.md"
    assert gpu_bench.main(["--quick", "--out", str(out)]) == 0
    table = out.read_text()
    assert "error" not in table, table
    for row in ("elementwise add", "broadcast add", "add, transposed input", "fused Adam step",
                "gputensor.optim.Adam.step on cuda", "matmul 8x8 float32",
                "MLP 784-512-512-10", "sum_to_shape", "activation_backward tanh",
                "cross_entropy forward+backward (4, 3)", "activation_backward relu, (3, 4)",
                "layer_norm forward+backward (3, 5)", "log_softmax forward+backward (3, 5)",
                "conv2d 3x3 forward+backward (2, 3, 6, 6)",
                "max_pool2d 2x2 forward+backward (2, 3, 6, 6)",
                "gelu none forward+backward 7", "gelu tanh forward+backward 7",
                "host time per launch, 3-array kernel, 12 float32",
                "cross_entropy kernels forward+backward (3, 4)",
                "cross_entropy forward kernel (3, 4)", "matmul 8x8 float32, variant loop",
                "matmul 8x8 float32, variant unrolled",
                "elementwise add, transposed 6x6 float32 (32-bit index)"):
        assert row in table, row
