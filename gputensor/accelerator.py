"""``gputensor.accelerator``: the device-agnostic questions scripts ask at start-up.

The accelerator here is CUDA when it can run (a GPU with CuPy, or the simulated mode);
every answer comes from ``gputensor.cuda``. Without one, ``current_accelerator()`` is None
and asking about its devices raises torch's RuntimeError.
"""

from __future__ import annotations

from . import cuda
from .device import device

__all__ = ["current_accelerator", "current_device_idx", "current_device_index", "device_count",
           "device_index", "is_available", "set_device_idx", "set_device_index", "synchronize"]

_NONE_AVAILABLE = "Cannot access accelerator device when none is available."


def is_available() -> bool:
    """True when an accelerator (CUDA) can run here."""
    return cuda.is_available()


def current_accelerator(check_available: bool = False):
    """``device(type='cuda')`` when CUDA can run here, else None (as torch's CPU build)."""
    return device("cuda") if cuda.is_available() else None


def device_count() -> int:
    """The number of accelerator devices (0 without one)."""
    return cuda.device_count()


def _require() -> None:
    """Raise torch's RuntimeError when no accelerator is available."""
    if not cuda.is_available():
        raise RuntimeError(_NONE_AVAILABLE)


def current_device_index() -> int:
    """The index of the current accelerator device."""
    _require()
    return cuda.current_device()


def set_device_index(device) -> None:
    """Make ``device`` (an index, "cuda:N" or a device) the current accelerator device."""
    _require()
    cuda.set_device(device)


current_device_idx = current_device_index
set_device_idx = set_device_index


def synchronize(device=None) -> None:
    """Wait for the work queued on an accelerator device (the current one by default)."""
    _require()
    cuda.synchronize(device)


class device_index:  # noqa: N801 - torch's name
    """``with gputensor.accelerator.device_index(i):`` makes device ``i`` current inside."""

    def __init__(self, device, /):
        self.idx = device
        self.prev_idx = -1

    def __enter__(self):
        if self.idx is not None:
            self.prev_idx = current_device_index()
            set_device_index(self.idx)
        return self

    def __exit__(self, *exc_info):
        if self.idx is not None:
            set_device_index(self.prev_idx)
        return False
