"""Kernels made from templates: a copy of a function with some of its global names bound.

One kernel body can serve several kernels when the names it calls (an operation, an update
rule, a loop) are looked up in its globals: ``specialize`` copies the function over a
namespace that binds those names. Numba compiles each copy on its own; a distinct
qualified name keeps their entries in Numba's on-disk cache apart. ``source_digest`` keys
such names to the source of what they inline, so that editing it recompiles them.
"""

from __future__ import annotations

import hashlib
import types
from pathlib import Path


def specialize(fn, names: dict, name: str | None = None):
    """A copy of function ``fn`` whose global lookups find ``names`` first.

    ``name`` (default: fn's) becomes the copy's ``__name__`` and ``__qualname__``.
    """
    namespace = dict(fn.__globals__)
    namespace.update(names)
    copy = types.FunctionType(fn.__code__, namespace, name or fn.__name__, fn.__defaults__,
                              fn.__closure__)
    copy.__qualname__ = name or fn.__qualname__
    copy.__doc__ = fn.__doc__
    return copy


def source_digest(*modules) -> str:
    """A short digest of the source files of ``modules``."""
    digest = hashlib.sha1()
    for module in modules:
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:12]
