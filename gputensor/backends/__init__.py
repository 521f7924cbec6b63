"""Backends: one per device kind; the only place that knows numpy from cupy."""

from __future__ import annotations

import os

from . import cpu

_BY_TYPE = {"cpu": cpu}
_CUDA_ERROR = []  # the RuntimeError text of a failed CUDA load, so asking again is cheap


class OutOfMemoryError(RuntimeError):
    """A device ran out of memory (``gputensor.cuda.OutOfMemoryError``, as torch's)."""


def simulating_cuda() -> bool:
    """True when GPUTENSOR_SIMULATE_CUDA=1: "cuda" runs on NumPy and the Numba simulator."""
    return os.environ.get("GPUTENSOR_SIMULATE_CUDA") == "1"


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
            cuda.load(simulated=simulating_cuda())  # raises RuntimeError saying why it cannot
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
