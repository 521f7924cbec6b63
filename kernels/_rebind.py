"""Build target-specific versions of the scalar rules in ``kernels.rules``.

``kernels/cpu`` and ``kernels/cuda`` compile the same rule functions with different
decorators (``numba.njit(inline="always")``, ``cuda.jit(device=True, inline="always")``);
a rule's calls to the helpers in ``rules.HELPERS`` must then reach the helpers compiled by
the same decorator, so each rule is rebuilt over a namespace that binds them.
"""

from __future__ import annotations

import hashlib
import types
from pathlib import Path

from . import rules

# a digest of rules.py: kernels inline the rules, but Numba's on-disk cache is keyed to the
# kernel's own source file, so each cached kernel carries the digest in its qualified name
RULES_DIGEST = hashlib.sha1(Path(rules.__file__).read_bytes()).hexdigest()[:12]


def rebind(fn, names: dict):
    """A copy of function ``fn`` whose global lookups find ``names`` first."""
    namespace = dict(fn.__globals__)
    namespace.update(names)
    rebound = types.FunctionType(fn.__code__, namespace, fn.__name__, fn.__defaults__,
                                 fn.__closure__)
    rebound.__qualname__ = fn.__qualname__
    return rebound


def compile_rules(decorate) -> dict:
    """``{name: decorate(rule)}`` for every rule, its helper calls bound to ``decorate(helper)``."""
    helpers = {name: decorate(fn) for name, fn in rules.HELPERS.items()}
    return {name: decorate(rebind(fn, helpers)) for name, fn in rules.RULES.items()}


def cache_keyed(fn, kind: str):
    """A copy of kernel ``fn`` named ``{name}_{kind}_{RULES_DIGEST}`` for the on-disk cache."""
    source = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__)
    source.__qualname__ = f"{fn.__name__}_{kind}_{RULES_DIGEST}"
    return source
