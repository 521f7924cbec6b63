"""``gputensor._dynamo``: torch._dynamo's reset and list_backends, for code that calls them."""

from __future__ import annotations

from .compile.api import BACKENDS, reset

__all__ = ["list_backends", "reset"]


def list_backends(exclude_tags=("debug", "experimental")) -> list:
    """The backend names gputensor.compile accepts (all replay the same way)."""
    return sorted(b for b in BACKENDS if b not in ("eager", "aot_eager") or not exclude_tags)
