"""Layer norm and softmax on the CPU: a ``prange`` loop over rows of the row functions.

The row functions of ``kernels/rows.py`` (inlined) run one row per iteration of a
``numba.prange`` loop (lane 0 of 1; the row reductions return their value). One
explicit signature per dtype (float32, float64) is compiled on first use and cached on disk;
the kernels' names carry a digest of their sources. Inputs are C-contiguous 2-D
``(rows, n)`` arrays (the entry points make them so); results are new arrays.
"""

from __future__ import annotations

import math
import sys
import types

import numba
import numpy as np
from numba import prange

from .. import rows as row_functions
from ..templates import source_digest, specialize
from . import fast_math
from .thread_choice import thread_choice


@numba.njit(inline="always")
def _row_value(value, scratch):
    """One worker per row: the row's reduction is the worker's own value."""
    return value


PARAMETER_CHUNKS = 16  # runs of rows whose weight and bias gradients the threads sum apart
_CPU_NAMES = {"ROW_SUM": _row_value, "ROW_MAX": _row_value, "LARGER": fast_math.maxnum,
              "OPAQUE": fast_math.opaque}
_ROWS = row_functions.compile_rows(numba.njit(inline="always"), _CPU_NAMES)
# float32 rows call a vectorisable exp (fast_math.exp32, ~1 ulp) instead of libm's scalar
# expf: softmax's forward (one exp per element) then runs as SIMD code, faster than NumPy's
_MATH32 = types.ModuleType("math32")
_MATH32.exp, _MATH32.log, _MATH32.sqrt = fast_math.exp32, math.log, math.sqrt
_ROWS32 = row_functions.compile_rows(numba.njit(inline="always"),
                                     {**_CPU_NAMES, "math": _MATH32})


def layer_norm_forward_loop(x, weight, bias, y, mean, rstd, rows, n, inv_n, eps, one,
                            has_weight, has_bias):
    """Layer norm forward of every row (generated from layer_norm_forward_row)."""
    for r in prange(rows):
        fast_math.wide_vectors()  # (in the loop: a threaded build's body is its own function)
        start = r * n
        mean[r], rstd[r] = LN_FORWARD(x[start:start + n], weight, bias,  # noqa: F821
                                      y[start:start + n], n, inv_n, eps, one, has_weight,
                                      has_bias, 0, 1, mean)


def layer_norm_backward_loop(g, x, weight, dx, mean, rstd, partial, rows, n, chunks, inv_n,
                             one, has_weight, needs_dx, needs_params):
    """Layer norm gradients in one pass over the rows, cut in ``chunks`` runs of rows: the
    input gradient of each row (``needs_dx``), and each run's part of the weight and bias
    gradients (``needs_params``) added in row order into its two rows of the zeroed
    ``partial`` (``(chunks, 2, n)``: the sums of ``g * xhat`` and of ``g``)."""
    per_chunk = (rows + chunks - 1) // chunks
    for chunk in prange(chunks):
        fast_math.wide_vectors()
        sums = partial[2 * n * chunk:2 * n * (chunk + 1)]
        for r in range(chunk * per_chunk, min(rows, (chunk + 1) * per_chunk)):
            start = r * n
            if needs_dx:
                LN_BACKWARD(g[start:start + n], x[start:start + n], weight,  # noqa: F821
                            dx[start:start + n], mean[r], rstd[r], n, inv_n, one, has_weight,
                            0, 1, mean)
            if needs_params:
                LN_ACCUMULATE(g[start:start + n], x[start:start + n], mean[r],  # noqa: F821
                              rstd[r], sums[:n], sums[n:], n, 0, 1)


def softmax_forward_loop(x, additive, keep, y, rows, n, mask_rows, zero, minus_inf):
    """Softmax or log-softmax of every (masked) row (``MASK_KIND`` and ``LOG`` are bound:
    constants, the row's loops have no branch)."""
    for r in prange(rows):
        fast_math.wide_vectors()  # (in the loop: a threaded build's body is its own function)
        start = r * n
        m = (r % mask_rows) * n
        SOFTMAX_FORWARD(x[start:start + n], additive[m:m + n], keep[m:m + n],  # noqa: F821
                        y[start:start + n], n, MASK_KIND, LOG, zero, minus_inf, 0, 1,  # noqa
                        x)


def softmax_backward_loop(g, y, keep, dx, rows, n, mask_rows, zero):
    """Softmax or log-softmax input gradient of every row."""
    for r in prange(rows):
        fast_math.wide_vectors()  # (in the loop: a threaded build's body is its own function)
        start = r * n
        m = (r % mask_rows) * n
        SOFTMAX_BACKWARD(g[start:start + n], y[start:start + n], keep[m:m + n],  # noqa: F821
                         dx[start:start + n], n, MASK_KIND, LOG, zero, 0, 1, g)  # noqa: F821


_DIGEST = source_digest(row_functions, fast_math, sys.modules[__name__])


def _bound(rows: dict) -> dict:
    """The loops' names bound to the row functions of ``rows``."""
    return {"LN_FORWARD": rows["layer_norm_forward_row"],
            "LN_BACKWARD": rows["layer_norm_backward_row"],
            "LN_ACCUMULATE": rows["layer_norm_accumulate_row"],
            "SOFTMAX_FORWARD": rows["softmax_forward_row"],
            "SOFTMAX_BACKWARD": rows["softmax_backward_row"]}


_LOOP_SOURCES = (layer_norm_forward_loop, layer_norm_backward_loop, softmax_forward_loop,
                 softmax_backward_loop)
LOOPS = {loop.__name__: specialize(loop, _bound(_ROWS), f"{loop.__name__}_cpu_{_DIGEST}")
         for loop in _LOOP_SOURCES}
LOOPS32 = {loop.__name__: specialize(loop, _bound(_ROWS32), f"{loop.__name__}_cpu32_{_DIGEST}")
           for loop in _LOOP_SOURCES}
_NUMBA_TYPES = {np.dtype(np.float32): numba.float32, np.dtype(np.float64): numba.float64}
_COMPILED: dict = {}
# elements; smaller arrays run a one-thread build of the same loop. From 64k elements the
# rows split over Numba's threads pay while the threads get cores (thread_choice.py picks
# the build per call): each core's cache then holds its share of the rows
# (float32, 2-core machine at load 2-5, microseconds serial -> parallel, torch on 2 threads:
# softmax forward (256, 1024) 210 -> 103, torch 64; its backward 98 -> 25, torch 19; layer norm
# forward 59 -> 29, torch 41; softmax forward (64, 1024) 55 -> 30; at (32, 1024) a tie)
SERIAL_BELOW = 1 << 16
# the row sums may be reordered (and so vectorised); no contraction to fused multiply-adds
# (gh - mean(gh) must stay exactly 0 for one element); NaN and inf keep their meaning
FASTMATH = {"reassoc"}
# softmax's loops may also fuse multiply-adds (exp32's polynomial: its pass 10% faster)
SOFTMAX_FASTMATH = {"reassoc", "contract"}


def _signature(name: str, scalar):
    """The explicit Numba signature of loop ``name`` for element type ``scalar``."""
    array, keep = scalar[::1], numba.boolean[::1]
    i64, flag = numba.int64, numba.boolean
    return {
        "layer_norm_forward_loop": numba.void(array, array, array, array, array, array, i64,
                                              i64, scalar, scalar, scalar, flag, flag),
        "layer_norm_backward_loop": numba.void(array, array, array, array, array, array, array,
                                               i64, i64, i64, scalar, scalar, flag, flag, flag),
        "softmax_forward_loop": numba.void(array, array, keep, array, i64, i64, i64, scalar,
                                           scalar),
        "softmax_backward_loop": numba.void(array, array, keep, array, i64, i64, i64, scalar),
    }[name]


def run_loop(name: str, dtype, size: int, *args, mask_kind: int = 0, log: bool = False):
    """Run loop ``name`` for ``dtype`` on ``args``: its one-thread build below
    ``SERIAL_BELOW`` elements, else the build ``thread_choice`` picks."""
    serial = compiled_loop(name, dtype, False, mask_kind, log)
    if size < SERIAL_BELOW:
        return serial(*args)
    parallel = compiled_loop(name, dtype, True, mask_kind, log)
    return thread_choice.run((name, dtype, mask_kind, log), size, serial, parallel, *args)


def compiled_loop(name: str, dtype, parallel: bool, mask_kind: int = 0, log: bool = False):
    """Loop ``name`` compiled for ``dtype`` (float32 or float64), threaded or not, compiling
    on first use; softmax's loops are built for one ``mask_kind`` and ``log`` each."""
    dtype = np.dtype(dtype)
    key = (name, dtype, parallel) + ((mask_kind, log) if name.startswith("softmax") else ())
    kernel = _COMPILED.get(key)
    if kernel is None:
        source = (LOOPS32 if dtype == np.float32 else LOOPS)[name]
        # each build needs a name of its own in the on-disk cache
        tag = f"{source.__name__}_{mask_kind}{int(log)}{'' if parallel else '_serial'}"
        source = specialize(source, {"MASK_KIND": mask_kind, "LOG": log}, tag)
        kernel = numba.njit(_signature(name, _NUMBA_TYPES[dtype]), parallel=parallel,
                            cache=True, error_model="numpy",
                            fastmath=SOFTMAX_FASTMATH if key[3:] else FASTMATH)(source)
        _COMPILED[key] = kernel
    return kernel


def _flat(array, dtype=None):
    """``array`` as a writeable C-contiguous 1-D array (of ``dtype`` when given): the loops'
    signatures take writeable arrays, and a broadcast gradient is a read-only view."""
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    array = np.ascontiguousarray(array)
    return (array if array.flags.writeable else array.copy()).reshape(-1)


def _optional(array, dtype):
    """A parameter's flat array, or an empty one in its place."""
    return np.empty(0, dtype=dtype) if array is None else _flat(array, dtype)


def layer_norm_forward(x2, weight, bias, eps):
    """``(y, mean, rstd)`` of the rows of 2-D ``x2`` (weight and bias: n values or None)."""
    dtype = x2.dtype
    rows, n = x2.shape
    y = np.empty((rows, n), dtype=dtype)
    mean = np.empty(rows, dtype=dtype)
    rstd = np.empty(rows, dtype=dtype)
    if rows and n:
        run_loop("layer_norm_forward_loop", dtype, x2.size,
            _flat(x2), _optional(weight, dtype), _optional(bias, dtype), y.reshape(-1), mean,
            rstd, rows, n, dtype.type(1) / n, dtype.type(eps), dtype.type(1),
            weight is not None, bias is not None)
    return y, mean, rstd


def layer_norm_backward(g2, x2, mean, rstd, weight, needs):
    """``(dx, dweight, dbias)`` from the saved ``mean``/``rstd``; ``needs``: which (None if
    not needed; dweight and dbias as flat arrays of n)."""
    dtype = x2.dtype
    rows, n = x2.shape
    needs_params = bool(needs[1] or needs[2])
    dx = np.empty((rows, n), dtype=dtype) if needs[0] else np.empty((0, 0), dtype=dtype)
    # from SERIAL_BELOW elements the weight and bias gradients are summed in PARAMETER_CHUNKS
    # runs of rows (either build, whatever the thread count: the same sums on any machine)
    chunks = max(min(rows, PARAMETER_CHUNKS if x2.size >= SERIAL_BELOW else 1), 1)
    partial = np.zeros((chunks, 2, n) if needs_params else 0, dtype=dtype)
    if rows and n and (needs[0] or needs_params):
        run_loop("layer_norm_backward_loop", dtype, x2.size,
            _flat(g2, dtype), _flat(x2), _optional(weight, dtype), dx.reshape(-1), mean, rstd,
            partial.reshape(-1), rows, n, chunks, dtype.type(1) / n, dtype.type(1),
            weight is not None, bool(needs[0]), needs_params)
    dweight = dbias = None
    if needs_params:
        sums = partial[0] if chunks == 1 else partial.sum(axis=0)
        dweight, dbias = sums[0], sums[1]
    return (dx if needs[0] else None, dweight if needs[1] else None,
            dbias if needs[2] else None)


def softmax_forward(x2, mask, log):
    """Softmax (``log``: log-softmax) of the rows of 2-D ``x2``, optionally masked."""
    dtype = x2.dtype
    rows, n = x2.shape
    y = np.empty((rows, n), dtype=dtype)
    additive, keep, mask_rows, kind = row_functions.mask_parts(np, mask, dtype)
    if rows and n:
        run_loop("softmax_forward_loop", dtype, x2.size, _flat(x2), additive, keep,
                 y.reshape(-1), rows, n, mask_rows, dtype.type(0), dtype.type(-np.inf),
                 mask_kind=kind, log=bool(log))
    return y


def softmax_backward(g2, y, mask, log):
    """The input gradient of ``softmax_forward`` from its output ``y``."""
    dtype = y.dtype
    rows, n = y.shape
    dx = np.empty((rows, n), dtype=dtype)
    _, keep, mask_rows, kind = row_functions.mask_parts(np, mask, dtype)
    if rows and n:
        run_loop("softmax_backward_loop", dtype, y.size, _flat(g2, dtype), _flat(y), keep,
                 dx.reshape(-1), rows, n, mask_rows, dtype.type(0), mask_kind=kind,
                 log=bool(log))
    return dx
