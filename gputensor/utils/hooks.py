"""``gputensor.utils.hooks``: marks for hooks (torch.utils.hooks)."""

from __future__ import annotations

__all__ = ["unserializable_hook"]


def unserializable_hook(f):
    """Mark hook ``f`` as one that pickling may leave out without a warning."""
    f.__torch_unserializable__ = True
    return f
