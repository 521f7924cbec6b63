"""Backends: one object per device kind; the only place that knows numpy from cupy.

``backend_for(device_type)`` gives the kind's backend (``base.Backend``: ``xp`` plus the named
hooks ops call): ``cpu.cpu_backend`` always, a ``cuda_backend.CudaBackend`` loaded on the
first use of "cuda" (never at import, see backends/cuda_backend.py for the process-wide settings it
makes then). ``cuda``, ``cudnn``, ``mps``, ``openmp``, ``mkl`` and ``mkldnn`` are torch's
``torch.backends`` switch namespaces, for scripts that read or set them.
"""

from __future__ import annotations

import os

import numpy as np

from . import cuda, cudnn, mkl, mkldnn, mps, openmp
from .base import Backend, OutOfMemoryError
from .cpu import cpu_backend
from .cuda_backend import CudaBackend

__all__ = ["Backend", "OutOfMemoryError", "array_types", "backend_for", "forget_cuda",
           "loaded", "register_array_type", "simulated_cuda_devices", "simulating_cuda",
           "cuda", "cudnn", "mkl", "mkldnn", "mps", "openmp"]

_BY_TYPE = {"cpu": cpu_backend}  # device type -> its loaded backend
array_types = (np.ndarray,)  # the array classes of the loaded backends (CuPy's once loaded)
_CUDA_ERROR = []  # the RuntimeError text of a failed CUDA load, so asking again is cheap


def register_array_type(array_type) -> None:
    """Count ``array_type`` (a loaded backend's array class) among the backend arrays."""
    global array_types
    if array_type not in array_types:
        array_types = array_types + (array_type,)


def simulated_cuda_devices() -> int:
    """How many CUDA devices to simulate: N for GPUTENSOR_SIMULATE_CUDA=N (N >= 1), else 0.

    Simulated, "cuda" runs on stand-ins for CuPy arrays and the Numba simulator.
    """
    value = os.environ.get("GPUTENSOR_SIMULATE_CUDA", "")
    return int(value) if value.isdigit() else 0


def simulating_cuda() -> bool:
    """True when GPUTENSOR_SIMULATE_CUDA is a device count of 1 or more."""
    return simulated_cuda_devices() > 0


def loaded(device_type: str):
    """The backend of ``device_type`` if it is loaded, else None (loads nothing)."""
    return _BY_TYPE.get(device_type)


def backend_for(device_type: str) -> Backend:
    """The backend for a device type ("cpu" or "cuda"), loading CUDA on first use.

    Asking for "cuda" where it cannot run raises a RuntimeError that says why (the same
    error again on later calls, until ``forget_cuda()``).
    """
    backend = _BY_TYPE.get(device_type)
    if backend is not None:
        return backend
    if device_type != "cuda":
        raise RuntimeError(f"unknown device type: {device_type}")
    if _CUDA_ERROR:
        raise RuntimeError(_CUDA_ERROR[0])
    backend = CudaBackend()
    try:
        backend.load(simulated=simulated_cuda_devices())  # RuntimeError saying why it cannot
    except RuntimeError as err:
        _CUDA_ERROR.append(str(err))
        raise
    register_array_type(backend.array_type())
    _BY_TYPE["cuda"] = backend
    return backend


def forget_cuda() -> None:
    """Drop the loaded CUDA backend (or its load error) so the next use loads a new one."""
    _BY_TYPE.pop("cuda", None)
    _CUDA_ERROR.clear()
