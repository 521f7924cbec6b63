"""Backends: one per device kind; the only place that knows numpy from cupy."""

from __future__ import annotations

import os

import numpy as np

from . import cpu, cudnn

_BY_TYPE = {"cpu": cpu}
array_types = (np.ndarray,)  # the array classes of the loaded backends (CuPy's once loaded)


def register_array_type(array_type) -> None:
    """Count ``array_type`` (a loaded backend's array class) among the backend arrays."""
    global array_types
    if array_type not in array_types:
        array_types = array_types + (array_type,)
_CUDA_ERROR = []  # the RuntimeError text of a failed CUDA load, so asking again is cheap


class OutOfMemoryError(RuntimeError):
    """A device ran out of memory (``gputensor.cuda.OutOfMemoryError``, as torch's)."""


def simulated_cuda_devices() -> int:
    """How many CUDA devices to simulate: N for GPUTENSOR_SIMULATE_CUDA=N (N >= 1), else 0.

    Simulated, "cuda" runs on NumPy stand-ins for CuPy arrays and the Numba simulator.
    """
    value = os.environ.get("GPUTENSOR_SIMULATE_CUDA", "")
    return int(value) if value.isdigit() else 0


def simulating_cuda() -> bool:
    """True when GPUTENSOR_SIMULATE_CUDA is a device count of 1 or more."""
    return simulated_cuda_devices() > 0


def backend_for(device_type: str):
    """The backend module for a device type ("cpu" or "cuda"), loading CUDA on first use.

    Asking for "cuda" where it cannot run raises a RuntimeError that says why (the same
    error again on later calls, until ``forget_cuda()``).
    """
    backend = _BY_TYPE.get(device_type)
    if backend is not None:
        return backend
    if device_type == "cuda":
        if _CUDA_ERROR:
            raise RuntimeError(_CUDA_ERROR[0])
        from . import cuda
        try:
            # raises RuntimeError saying why it cannot
            cuda.load(simulated=simulated_cuda_devices())
        except RuntimeError as err:
            _CUDA_ERROR.append(str(err))
            raise
        _BY_TYPE["cuda"] = cuda
        return cuda
    raise RuntimeError(f"unknown device type: {device_type}")


def forget_cuda() -> None:
    """Drop the loaded CUDA backend (or its load error) so the next use loads it again."""
    _BY_TYPE.pop("cuda", None)
    _CUDA_ERROR.clear()
