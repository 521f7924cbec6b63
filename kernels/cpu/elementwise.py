"""Elementwise loops on Numba's threads: large add, sub, mul, div; powers by small numbers.

``binary``: for C-contiguous float32/float64 operands of one shape and dtype; each element is
one IEEE operation, so the result is bit-equal to NumPy's however the loop is split. The CPU
backend calls these from ``threaded_from`` elements (below, NumPy's single-threaded ufuncs
win: the loop is memory-bound and waking the pool costs tens of microseconds).

``power``: ``x ** e`` for the exponents torch computes by products (2, 3), a reciprocal (-1,
-2) or a reciprocal square root (-0.5), in one pass, the operations in torch's order (so
bit-equal to torch and to NumPy's passes); from ``POWER_PARALLEL_FROM`` elements on all
threads while they get cores (``thread_choice``).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import prange

from ..templates import specialize
from .thread_choice import thread_choice

__all__ = ["binary", "power", "OPERATIONS", "POWERS", "POWER_PARALLEL_FROM"]


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


def _square(a, out, one):
    for i in prange(a.size):
        out[i] = a[i] * a[i]


def _cube(a, out, one):
    for i in prange(a.size):
        value = a[i]
        out[i] = (value * value) * value


def _reciprocal(a, out, one):
    for i in prange(a.size):
        out[i] = one / a[i]


def _reciprocal_square(a, out, one):
    for i in prange(a.size):
        value = a[i]
        out[i] = one / (value * value)


def _reciprocal_sqrt(a, out, one):
    for i in prange(a.size):
        out[i] = one / math.sqrt(a[i])


POWERS = {2.0: _square, 3.0: _cube, -1.0: _reciprocal, -2.0: _reciprocal_square,
          -0.5: _reciprocal_sqrt}
# elements from which ``power`` runs on all threads: x ** 3.0 of 256k float32 (2-core machine,
# load 2-6) took 37 us on one thread, 13 us on two (NumPy's two passes 70 us, torch 15 us)
POWER_PARALLEL_FROM = 1 << 16


def _power_kernel(exponent: float, dtype, parallel: bool):
    """The loop of ``x ** exponent`` for ``dtype``, compiled on first use (cached on disk)."""
    key = ("power", exponent, dtype, parallel)
    kernel = _COMPILED.get(key)
    if kernel is None:
        scalar = _TYPES[dtype]
        source = POWERS[exponent]
        if not parallel:  # a name of its own in the on-disk cache
            source = specialize(source, {}, f"{source.__name__}_serial")
        kernel = numba.njit(numba.void(scalar[::1], scalar[::1], scalar), parallel=parallel,
                            cache=True, error_model="numpy")(source)
        _COMPILED[key] = kernel
    return kernel


def power(a, exponent: float):
    """``a ** exponent`` as a new array for an exponent of ``POWERS`` and a C-contiguous
    float32/float64 array, or None where they do not suit the loops."""
    if a.dtype not in _TYPES or exponent not in POWERS or not a.flags.c_contiguous:
        return None
    out = np.empty(a.shape, dtype=a.dtype)
    if a.size:
        exponent = float(exponent)
        serial = _power_kernel(exponent, a.dtype, False)
        args = (a.reshape(-1), out.reshape(-1), a.dtype.type(1))
        if a.size < POWER_PARALLEL_FROM:
            serial(*args)
        else:
            thread_choice.run(("power", exponent, a.dtype), a.size, serial,
                              _power_kernel(exponent, a.dtype, True), *args)
    return out
