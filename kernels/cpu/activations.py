"""GELU forward and backward on the CPU: one fused loop each over the flat input.

The element functions of ``kernels/gelu.py`` run inside a loop compiled by Numba per dtype
and form (erf or tanh): float32 binds the vectorisable ``exp32``/``erf32``/``tanh32`` of
``fast_math`` (the loop becomes SIMD code, as torch's vectorised kernel), float64 binds
``math``'s functions. From ``PARALLEL_FROM`` elements a ``prange`` build may spread the loop
over Numba's threads. Compiled on first use, cached on disk (names carry a digest of the
sources).
"""

from __future__ import annotations

import math
import sys

import numba
import numpy as np
from numba import prange

from .. import gelu as gelu_functions
from ..templates import source_digest, specialize
from . import fast_math
from .thread_choice import thread_choice

__all__ = ["gelu_forward", "gelu_backward", "PARALLEL_FROM"]

# elements from which the loops may run on all of Numba's threads (thread_choice.py picks
# the build per call: threaded while the threads get cores). 256k float32, 2-core machine,
# us one thread -> two: forward 201 -> 91, backward 313 -> 156 (erf); when the machine is
# busy (load 8) the threaded loops took 1-18 ms, the one-thread ones 200-550 us
PARALLEL_FROM = 1 << 16
_FASTMATH = {"contract"}  # multiply-adds may fuse (as torch's fmadd); NaN and inf kept
_MATH = {np.dtype(np.float32): {"EXP": fast_math.exp32, "ERF": fast_math.erf32,
                                "TANH": fast_math.tanh32,
                                "ERF_GIVEN_GAUSS": fast_math.erf32_given_gauss},
         np.dtype(np.float64): {"EXP": math.exp, "ERF": math.erf, "TANH": math.tanh,
                                "ERF_GIVEN_GAUSS": fast_math.erf_ignoring_gauss}}


def gelu_forward_loop(x, y, half, one, alpha, beta, kappa):
    """``y = gelu(x)`` over flat arrays."""
    for i in prange(x.size):
        fast_math.wide_vectors()  # (in the loop: a threaded build's body is its own function)
        y[i] = FORWARD(x[i], USE_TANH, half, one, alpha, beta, kappa)  # noqa: F821


def gelu_backward_loop(g, x, dx, half, one, alpha, beta, kappa):
    """``dx = g * gelu'(x)`` over flat arrays."""
    for i in prange(x.size):
        fast_math.wide_vectors()
        dx[i] = BACKWARD(g[i], x[i], USE_TANH, half, one, alpha, beta, kappa)  # noqa: F821


_DIGEST = source_digest(gelu_functions, fast_math, sys.modules[__name__])
_COMPILED: dict = {}


def _loop(name: str, dtype, use_tanh: bool, parallel: bool):
    """Loop ``name`` compiled for ``dtype``, the form and the threading (on first use)."""
    key = (name, dtype, use_tanh, parallel)
    kernel = _COMPILED.get(key)
    if kernel is None:
        inline = numba.njit(inline="always")
        bound = {"USE_TANH": use_tanh,
                 "FORWARD": inline(specialize(gelu_functions.gelu_forward_value, _MATH[dtype])),
                 "BACKWARD": inline(specialize(gelu_functions.gelu_backward_value,
                                               _MATH[dtype]))}
        tag = f"{name}_{dtype.name}_{'tanh' if use_tanh else 'erf'}_{int(parallel)}_{_DIGEST}"
        source = specialize(globals()[name], bound, tag)
        kernel = numba.njit(parallel=parallel, cache=True, error_model="numpy",
                            fastmath=_FASTMATH)(source)
        _COMPILED[key] = kernel
    return kernel


def _constants(dtype, use_tanh: bool):
    """``(half, one, alpha, beta, kappa)`` in ``dtype`` (beta: the backward's pdf factor in
    the erf form, sqrt(2 / pi) in the tanh form)."""
    kind = dtype.type
    beta = gelu_functions.TANH_BETA if use_tanh else gelu_functions.INV_SQRT_2PI
    return (kind(0.5), kind(1), kind(gelu_functions.SQRT1_2), kind(beta),
            kind(gelu_functions.TANH_KAPPA))


def _run(name: str, dtype, use_tanh: bool, size: int, *args):
    """Loop ``name`` on ``args``: one thread below ``PARALLEL_FROM`` elements, else the build
    ``thread_choice`` picks."""
    serial = _loop(name, dtype, use_tanh, False)
    if size < PARALLEL_FROM:
        return serial(*args)
    return thread_choice.run((name, dtype, use_tanh), size, serial,
                             _loop(name, dtype, use_tanh, True), *args)


def gelu_forward(x, use_tanh: bool):
    """gelu of a float32/float64 array (any layout); a new C-contiguous array."""
    x = np.ascontiguousarray(x)
    y = np.empty(x.shape, dtype=x.dtype)
    if x.size:
        _run("gelu_forward_loop", x.dtype, use_tanh, x.size, x.reshape(-1), y.reshape(-1),
             *_constants(x.dtype, use_tanh))
    return y


def gelu_backward(g, x, use_tanh: bool):
    """The input gradient of gelu at ``x`` for ``g`` (same shape and dtype)."""
    x = np.ascontiguousarray(x)
    g = np.ascontiguousarray(g)
    dx = np.empty(x.shape, dtype=x.dtype)
    if x.size:
        _run("gelu_backward_loop", x.dtype, use_tanh, x.size, g.reshape(-1), x.reshape(-1),
             dx.reshape(-1), *_constants(x.dtype, use_tanh))
    return dx
