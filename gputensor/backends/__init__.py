"""Backends: one per device kind; the only place that knows numpy from cupy."""

from __future__ import annotations

from . import cpu

_BY_TYPE = {"cpu": cpu}


def backend_for(device_type: str):
    """The backend module for a device type ("cpu" or "cuda"), loading CUDA lazily."""
    try:
        return _BY_TYPE[device_type]
    except KeyError:
        if device_type == "cuda":
            raise RuntimeError(
                "CUDA backend is not available in this build: install the 'cuda12' or 'cuda13' "
                "extra on a machine with an NVIDIA GPU") from None
        raise
