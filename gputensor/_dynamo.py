"""``gputensor._dynamo``: torch._dynamo's reset, config.recompile_limit and list_backends."""

from __future__ import annotations

from .compile.api import BACKENDS, Unsupported, config, reset

__all__ = ["config", "list_backends", "reset", "Unsupported"]


def list_backends(exclude_tags=("debug", "experimental")) -> list:
    """The backend names gputensor.compile accepts (all replay the same way)."""
    return sorted(b for b in BACKENDS if b not in ("eager", "aot_eager") or not exclude_tags)
