"""``gputensor.utils.dlpack``: DLPack capsules to and from tensors (torch.utils.dlpack)."""

from __future__ import annotations

from ..ops.dlpack import DLDeviceType, from_dlpack

__all__ = ["DLDeviceType", "from_dlpack", "to_dlpack"]


def to_dlpack(tensor):
    """A DLPack capsule sharing ``tensor``'s memory (consumed once by ``from_dlpack``); a
    versioned one (DLPack 1.0), which NumPy reads as writable memory."""
    return tensor.__dlpack__(max_version=(1, 0))
