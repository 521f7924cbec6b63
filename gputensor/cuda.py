"""``gputensor.cuda``: whether a CUDA device can be used, and how many there are."""

from __future__ import annotations

from . import backends


def is_available() -> bool:
    """True when a CUDA backend is loaded and sees at least one GPU."""
    backend = backends._BY_TYPE.get("cuda")
    return backend is not None and backend.device_count() > 0


def device_count() -> int:
    """The number of CUDA devices the backend sees (0 without one)."""
    backend = backends._BY_TYPE.get("cuda")
    return backend.device_count() if backend is not None else 0
