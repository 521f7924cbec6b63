"""Parameters shared by the CUDA kernel tests: which array modules the kernels run on."""

import numpy as np
import pytest

from gputensor import backends
from gputensor.backends import simcupy
from gputensor.kernels.cuda import launch

SIMULATED = launch.SIMULATED


def _real_gpu() -> bool:
    if SIMULATED:
        return False
    try:
        import cupy
        return bool(cupy.cuda.is_available())
    except Exception:  # no cupy, or a cupy that cannot load its CUDA libraries
        return False


REAL_GPU = _real_gpu()
XPS = [
    pytest.param("numpy", id="sim", marks=pytest.mark.skipif(
        not SIMULATED, reason="the simulated variant needs NUMBA_ENABLE_CUDASIM=1")),
    pytest.param("cupy", id="gpu", marks=[pytest.mark.gpu, pytest.mark.skipif(
        not REAL_GPU, reason="needs a real NVIDIA GPU with CuPy (CUDA is simulated or absent)")]),
]


def array_module(name):
    """The kernels' array module for an XPS value: ``cupy``, or the simulated CUDA backend's
    arrays (with the kernels' launcher told about them, as the backend does on first use)."""
    if name == "cupy":
        import cupy
        return cupy
    backends.backend_for("cuda").kernel_module("launch")
    return simcupy.xp


def host(a):
    """A NumPy copy of a NumPy or CuPy array."""
    return np.array(a.get() if hasattr(a, "get") else a)
