"""Large elementwise arithmetic on all of Numba's threads: add, sub, mul, div.

For C-contiguous float32/float64 operands of one shape and dtype; each element is one IEEE
operation, so the result is bit-equal to NumPy's however the loop is split. The CPU backend
calls these from ``THREADED_FROM`` elements (below, NumPy's single-threaded ufuncs win: the
loop is memory-bound and waking the pool costs tens of microseconds).
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

__all__ = ["binary", "OPERATIONS"]


def _add(a, b, out):
    for i in prange(a.size):
        out[i] = a[i] + b[i]


def _sub(a, b, out):
    for i in prange(a.size):
        out[i] = a[i] - b[i]


def _mul(a, b, out):
    for i in prange(a.size):
        out[i] = a[i] * b[i]


def _div(a, b, out):
    for i in prange(a.size):
        out[i] = a[i] / b[i]


OPERATIONS = {"add": _add, "sub": _sub, "mul": _mul, "div": _div}
_TYPES = {np.dtype(np.float32): numba.float32, np.dtype(np.float64): numba.float64}
_COMPILED: dict = {}


def _kernel(name: str, dtype):
    """The threaded loop of ``name`` for ``dtype``, compiled on first use (cached on disk)."""
    kernel = _COMPILED.get((name, dtype))
    if kernel is None:
        array = _TYPES[dtype][::1]
        signature = numba.void(array, array, array)
        kernel = numba.njit(signature, parallel=True, cache=True, error_model="numpy")(
            OPERATIONS[name])
        _COMPILED[(name, dtype)] = kernel
    return kernel


def binary(name: str, a, b):
    """``a <name> b`` as a new array, or None where the operands do not suit the loops (not
    C-contiguous, not of one shape and a float32/float64 dtype)."""
    if (a.dtype != b.dtype or a.dtype not in _TYPES or a.shape != b.shape
            or not a.flags.c_contiguous or not b.flags.c_contiguous):
        return None
    out = np.empty(a.shape, dtype=a.dtype)
    _kernel(name, a.dtype)(a.reshape(-1), b.reshape(-1), out.reshape(-1))
    return out
