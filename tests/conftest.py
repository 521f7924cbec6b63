"""Test setup: the "cuda" device runs simulated unless GPUTENSOR_TEST_REAL_GPU=1.

The variables are set here, before gputensor or numba is imported, so every test in the
process sees the same CUDA mode: NumPy arrays stand in for CuPy's and every Numba CUDA
kernel runs in Numba's simulator (slowly: CUDA tests use tiny shapes). With
GPUTENSOR_TEST_REAL_GPU=1 nothing is simulated and "cuda" is CuPy on a real GPU; that is how
``pytest -m gpu`` runs on a GPU machine. Tests marked ``gpu`` are skipped elsewhere.
"""

import os
import sys

REAL_GPU = os.environ.get("GPUTENSOR_TEST_REAL_GPU") == "1"
if not REAL_GPU:
    os.environ["GPUTENSOR_SIMULATE_CUDA"] = "1"
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"

import pytest  # noqa: E402
from kernel_params import XPS, array_module  # noqa: E402

from gputensor import backends  # noqa: E402

GPU_SKIP_REASON = "needs a real NVIDIA GPU with CuPy"
def pytest_runtest_setup(item):
    """Skip ``gpu`` tests unless this run is on a real GPU (GPUTENSOR_TEST_REAL_GPU=1)."""
    if item.get_closest_marker("gpu") is not None and not REAL_GPU:
        pytest.skip(GPU_SKIP_REASON)


@pytest.fixture(params=["sim", pytest.param("gpu", marks=pytest.mark.gpu)])
def cuda_device(request):
    """The "cuda" device, once simulated and once on a real GPU (skipped without one).

    The simulated variant is skipped in a real-GPU run, whose "cuda" is not simulated.
    """
    if request.param == "sim" and REAL_GPU:
        pytest.skip("the simulated variant: this run uses a real GPU")
    return "cuda"


@pytest.fixture(params=["cpu", "sim", pytest.param("gpu", marks=pytest.mark.gpu)])
def device(request):
    """The device an op table runs on: "cpu", then "cuda" simulated and on a real GPU.

    The CUDA variants are those of ``cuda_device``; the op checkers in helpers.py make
    gputensor's inputs there and compare with torch on the CPU.
    """
    if request.param == "sim" and REAL_GPU:
        pytest.skip("the simulated variant: this run uses a real GPU")
    return "cpu" if request.param == "cpu" else "cuda"


@pytest.fixture(params=["sim", pytest.param("gpu", marks=pytest.mark.gpu)])
def second_cuda_device(request, monkeypatch):
    """"cuda:1": the second of two simulated devices, or a real machine's second GPU.

    The real-GPU variant is skipped on a machine with one GPU. Device 0 is current
    again afterwards (the simulated backend is reloaded with one device).
    """
    if request.param == "sim":
        if REAL_GPU:
            pytest.skip("the simulated variant: this run uses a real GPU")
        monkeypatch.setenv("GPUTENSOR_SIMULATE_CUDA", "2")
        backends.forget_cuda()
        yield "cuda:1"
        monkeypatch.undo()
        backends.forget_cuda()
        return
    import gputensor
    if gputensor.cuda.device_count() < 2:
        pytest.skip("needs two GPUs")
    yield "cuda:1"
    gputensor.cuda.set_device(0)


@pytest.fixture(params=XPS)
def xp(request):
    """The CUDA kernels' array module: the simulated CuPy (simulated kernels) or ``cupy``."""
    return array_module(request.param)


@pytest.fixture
def cuda_unavailable(monkeypatch):
    """CUDA as on a machine without a GPU: simulation off, the backend to be loaded again.

    Restores the simulated backend afterwards (tensors made on "cuda" inside the test are
    not usable after it).
    """
    monkeypatch.setenv("GPUTENSOR_SIMULATE_CUDA", "0")
    if REAL_GPU:  # a GPU is here: hide CuPy, as on a machine without it
        monkeypatch.setitem(sys.modules, "cupy", None)
    backends.forget_cuda()
    yield
    monkeypatch.undo()
    backends.forget_cuda()
