"""``gputensor.compiler``: torch.compiler's reset, disable and is_compiling."""

from __future__ import annotations

from .compile.api import is_compiling, reset

__all__ = ["disable", "is_compiling", "reset"]


def disable(fn=None, recursive=True, *, reason=None):
    """Run ``fn`` eagerly: returned as it is (gputensor.compile traces by running the
    function, so a disabled inner function's ops are part of an outer compiled program)."""
    if fn is None:
        return lambda f: disable(f, recursive, reason=reason)
    return fn
