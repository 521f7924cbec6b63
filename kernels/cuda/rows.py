"""Layer norm and softmax on CUDA: one block per row, shared-memory reductions.

The row functions of ``kernels/rows.py`` run with a block of ``ROW_BLOCK`` threads per row
(thread ``t`` takes elements ``t, t + ROW_BLOCK, ...``); ``ROW_SUM``/``ROW_MAX`` are tree
reductions in the block's shared array, whose result every thread gets. The grid strides
over rows, one wave of resident blocks at most. Layer norm's weight and bias gradients are
column sums: one thread per column loops over the rows (consecutive threads read
consecutive addresses; when columns are too few to fill the GPU, the rows are split in chunks
whose sums are added atomically, so their order varies between runs).

Inputs are C-contiguous float32 or float64 (the entry points make them so); results are new
arrays. The entry points take the same arguments as ``kernels/cpu/rows.py``'s.
"""

from __future__ import annotations

import math
import sys

import numba
import numpy as np
from numba import cuda

from .. import rows as row_functions
from ..templates import source_digest, specialize
from . import launch

DTYPES = ("float32", "float64")
ROW_BLOCK = launch.BLOCK  # threads per row (a power of 2)
MIN_CHUNK = 32  # rows a thread of the weight and bias gradients sums at least
if launch.SIMULATED:
    math = launch.SimMath()  # noqa: F811 (NaN and inf where Python's math would raise)


@cuda.jit(device=True, inline="always")
def block_sum(value, scratch):
    """The sum of every thread's ``value``, returned to each thread of the block."""
    lane = cuda.threadIdx.x
    scratch[lane] = value
    cuda.syncthreads()
    step = ROW_BLOCK // 2
    while step > 0:
        if lane < step:
            scratch[lane] += scratch[lane + step]
        cuda.syncthreads()
        step //= 2
    total = scratch[0]
    cuda.syncthreads()  # scratch is reused by the next reduction
    return total


@cuda.jit(device=True, inline="always")
def block_max(value, scratch):
    """The max of every thread's ``value`` (a NaN wins), returned to each thread."""
    lane = cuda.threadIdx.x
    scratch[lane] = value
    cuda.syncthreads()
    step = ROW_BLOCK // 2
    while step > 0:
        if lane < step:
            other = scratch[lane + step]
            if other > scratch[lane] or other != other:
                scratch[lane] = other
        cuda.syncthreads()
        step //= 2
    top = scratch[0]
    cuda.syncthreads()
    return top


_ROWS = row_functions.compile_rows(
    cuda.jit(device=True, inline="always"),
    {"ROW_SUM": block_sum, "ROW_MAX": block_max, "math": math,
     "LARGER": cuda.jit(device=True, inline="always")(row_functions.larger_or_nan),
     "OPAQUE": cuda.jit(device=True, inline="always")(row_functions.same_value)})


def layer_norm_forward_kernel(x, weight, bias, y, mean, rstd, rows, n, inv_n, eps, one,
                              has_weight, has_bias):
    """Layer norm forward of every row: ``y``, and each row's ``mean`` and ``rstd``."""
    # launch: one block of ROW_BLOCK threads per row, grid-stride over rows; grid
    # min(rows, launch.max_blocks(kernel, ROW_BLOCK)), CuPy's stream
    scratch = cuda.shared.array(ROW_BLOCK, ACC)  # noqa: F821 (bound per dtype)
    lane = cuda.threadIdx.x
    for r in range(cuda.blockIdx.x, rows, cuda.gridDim.x):
        start = r * n
        row_mean, row_rstd = LN_FORWARD(x[start:start + n], weight, bias,  # noqa: F821
                                        y[start:start + n], n, inv_n, eps, one, has_weight,
                                        has_bias, lane, ROW_BLOCK, scratch)
        if lane == 0:
            mean[r] = row_mean
            rstd[r] = row_rstd


def layer_norm_backward_kernel(g, x, weight, dx, mean, rstd, rows, n, inv_n, one, has_weight):
    """Layer norm input gradient of every row."""
    # launch: as layer_norm_forward_kernel
    scratch = cuda.shared.array(ROW_BLOCK, ACC)  # noqa: F821
    lane = cuda.threadIdx.x
    for r in range(cuda.blockIdx.x, rows, cuda.gridDim.x):
        start = r * n
        LN_BACKWARD(g[start:start + n], x[start:start + n], weight,  # noqa: F821
                    dx[start:start + n], mean[r], rstd[r], n, inv_n, one, has_weight, lane,
                    ROW_BLOCK, scratch)


def layer_norm_columns_kernel(g, x, mean, rstd, dweight, dbias, rows, n, chunks, chunk_rows,
                              one):
    """Layer norm weight and bias gradients: a thread per (column, chunk of rows), its sums
    added atomically into zeroed ``dweight``/``dbias`` when there are several chunks."""
    # launch: 1-D grid-stride over n * chunks items; grid launch.grid_size(items, kernel=...),
    # block launch.BLOCK, CuPy's stream
    for item in range(cuda.grid(1), n * chunks, cuda.gridsize(1)):
        chunk = item // n
        column = item - chunk * n
        first = chunk * chunk_rows
        sum_g_xhat, sum_g = LN_COLUMNS(g, x, mean, rstd, column, first,  # noqa: F821
                                       min(first + chunk_rows, rows), n, one)
        if chunks > 1:
            cuda.atomic.add(dweight, column, sum_g_xhat)
            cuda.atomic.add(dbias, column, sum_g)
        else:
            dweight[column] = sum_g_xhat
            dbias[column] = sum_g


def softmax_forward_kernel(x, additive, keep, y, rows, n, mask_rows, mask_kind, log, zero,
                           minus_inf):
    """Softmax or log-softmax of every (masked) row."""
    # launch: as layer_norm_forward_kernel
    scratch = cuda.shared.array(ROW_BLOCK, ACC)  # noqa: F821
    lane = cuda.threadIdx.x
    for r in range(cuda.blockIdx.x, rows, cuda.gridDim.x):
        start = r * n
        m = (r % mask_rows) * n
        SOFTMAX_FORWARD(x[start:start + n], additive[m:m + n], keep[m:m + n],  # noqa: F821
                        y[start:start + n], n, mask_kind, log, zero, minus_inf, lane,
                        ROW_BLOCK, scratch)


def softmax_backward_kernel(g, y, keep, dx, rows, n, mask_rows, mask_kind, log, zero):
    """Softmax or log-softmax input gradient of every row."""
    # launch: as layer_norm_forward_kernel
    scratch = cuda.shared.array(ROW_BLOCK, ACC)  # noqa: F821
    lane = cuda.threadIdx.x
    for r in range(cuda.blockIdx.x, rows, cuda.gridDim.x):
        start = r * n
        m = (r % mask_rows) * n
        SOFTMAX_BACKWARD(g[start:start + n], y[start:start + n], keep[m:m + n],  # noqa: F821
                         dx[start:start + n], n, mask_kind, log, zero, lane, ROW_BLOCK,
                         scratch)


_BOUND = {"LN_FORWARD": _ROWS["layer_norm_forward_row"],
          "LN_BACKWARD": _ROWS["layer_norm_backward_row"],
          "LN_COLUMNS": _ROWS["layer_norm_column_sums"],
          "SOFTMAX_FORWARD": _ROWS["softmax_forward_row"],
          "SOFTMAX_BACKWARD": _ROWS["softmax_backward_row"]}


# the kernels' names carry a digest of their sources (the row functions live in another
# file), so that Numba's on-disk cache never serves a kernel built from older ones
_DIGEST = source_digest(row_functions, sys.modules[__name__])


def _specialize(template, dtype: str):
    """``template`` with the row functions and ``ACC`` (the shared array's type) bound."""
    return specialize(template, {**_BOUND, "ACC": getattr(numba, dtype)},
                      f"{template.__name__}_{dtype}_{_DIGEST}")


def _signatures(template) -> dict:
    """``{dtype: signature}`` of a kernel."""
    def one(t):
        a, keep = f"{t}[::1]", "boolean[::1]"
        return {
            "layer_norm_forward_kernel": f"void({a}, {a}, {a}, {a}, {a}, {a}, int64, int64, "
                                         f"{t}, {t}, {t}, boolean, boolean)",
            "layer_norm_backward_kernel": f"void({a}, {a}, {a}, {a}, {a}, {a}, int64, int64, "
                                          f"{t}, {t}, boolean)",
            "layer_norm_columns_kernel": f"void({a}, {a}, {a}, {a}, {a}, {a}, int64, int64, "
                                         f"int64, int64, {t})",
            "softmax_forward_kernel": f"void({a}, {a}, {keep}, {a}, int64, int64, int64, int64, "
                                      f"boolean, {t}, {t})",
            "softmax_backward_kernel": f"void({a}, {a}, {keep}, {a}, int64, int64, int64, int64, "
                                       f"boolean, {t})",
        }[template.__name__]
    return {dtype: one(dtype) for dtype in DTYPES}


_TEMPLATES = (layer_norm_forward_kernel, layer_norm_backward_kernel, layer_norm_columns_kernel,
              softmax_forward_kernel, softmax_backward_kernel)
# kernel name -> {dtype: (pyfunc, signature)}
_BY_DTYPE = {t.__name__: {d: (_specialize(t, d), s) for d, s in _signatures(t).items()}
             for t in _TEMPLATES}
KERNELS = [(f"rows.{name}_{d}", pyfunc, [sig])
           for name, table in _BY_DTYPE.items() for d, (pyfunc, sig) in table.items()]


def _kernel(name: str, dtype):
    """Kernel ``name`` compiled for ``dtype``."""
    pyfunc, signature = _BY_DTYPE[name][np.dtype(dtype).name]
    return launch.compiled(pyfunc, signature)


def _row_launch(kernel, rows: int):
    """The launch configuration of a one-block-per-row kernel over ``rows`` rows."""
    return launch.configure(kernel, min(rows, launch.max_blocks(kernel, ROW_BLOCK)), ROW_BLOCK)


def _flat(array, dtype=None):
    """``array`` as a C-contiguous 1-D array (of ``dtype`` when given)."""
    if dtype is not None and array.dtype != dtype:
        array = array.astype(dtype)
    return launch.contiguous(array).reshape(-1)


def _optional(xp, array, dtype):
    """A parameter's flat array, or an empty one in its place."""
    return xp.empty(0, dtype=dtype) if array is None else _flat(array, dtype)


def layer_norm_forward(x2, weight, bias, eps):
    """``(y, mean, rstd)`` of the rows of 2-D ``x2`` (weight and bias: n values or None)."""
    dtype = launch.check_float(x2)
    xp = launch.array_module(x2)
    rows, n = (int(s) for s in x2.shape)
    y = xp.empty((rows, n), dtype=dtype)
    mean = xp.empty(rows, dtype=dtype)
    rstd = xp.empty(rows, dtype=dtype)
    if rows and n:
        kernel = _kernel("layer_norm_forward_kernel", dtype)
        _row_launch(kernel, rows)(
            launch.inp(_flat(x2)), launch.inp(_optional(xp, weight, dtype)),
            launch.inp(_optional(xp, bias, dtype)), y.reshape(-1), mean, rstd, rows, n,
            dtype.type(1) / n, dtype.type(eps), dtype.type(1), weight is not None,
            bias is not None)
    return y, mean, rstd


def layer_norm_backward(g2, x2, mean, rstd, weight, needs):
    """``(dx, dweight, dbias)`` from the saved ``mean``/``rstd`` (None where not in
    ``needs``; dweight and dbias as flat arrays of n)."""
    dtype = launch.check_float(x2, mean, rstd)
    xp = launch.array_module(x2)
    rows, n = (int(s) for s in x2.shape)
    g, x = _flat(g2, dtype), _flat(x2)
    dx = dweight = dbias = None
    if needs[0]:
        dx = xp.empty((rows, n), dtype=dtype)
        if rows and n:
            kernel = _kernel("layer_norm_backward_kernel", dtype)
            _row_launch(kernel, rows)(
                launch.inp(g), launch.inp(x), launch.inp(_optional(xp, weight, dtype)),
                dx.reshape(-1), launch.inp(mean), launch.inp(rstd), rows, n, dtype.type(1) / n,
                dtype.type(1), weight is not None)
    if needs[1] or needs[2]:
        dweight, dbias = xp.zeros(n, dtype=dtype), xp.zeros(n, dtype=dtype)
        if rows and n:
            kernel = _kernel("layer_norm_columns_kernel", dtype)
            # chunks of rows per column: enough threads to fill the GPU, each >= MIN_CHUNK rows
            max_threads = launch.max_blocks(kernel) * launch.BLOCK
            chunks = min(max(1, max_threads // n), launch.ceil_div(rows, MIN_CHUNK))
            chunk_rows = launch.ceil_div(rows, chunks)
            launch.configure(kernel, launch.grid_size(n * chunks, kernel=kernel), launch.BLOCK)(
                launch.inp(g), launch.inp(x), launch.inp(mean), launch.inp(rstd), dweight,
                dbias, rows, n, chunks, chunk_rows, dtype.type(1))
    return dx, dweight if needs[1] else None, dbias if needs[2] else None


def softmax_forward(x2, mask, log):
    """Softmax (``log``: log-softmax) of the rows of 2-D ``x2``, optionally masked."""
    dtype = launch.check_float(x2)
    xp = launch.array_module(x2)
    rows, n = (int(s) for s in x2.shape)
    y = xp.empty((rows, n), dtype=dtype)
    additive, keep, mask_rows, kind = row_functions.mask_parts(xp, mask, dtype)
    if rows and n:
        kernel = _kernel("softmax_forward_kernel", dtype)
        _row_launch(kernel, rows)(
            launch.inp(_flat(x2)), launch.inp(additive), launch.inp(keep), y.reshape(-1), rows,
            n, mask_rows, kind, bool(log), dtype.type(0), dtype.type(-np.inf))
    return y


def softmax_backward(g2, y, mask, log):
    """The input gradient of ``softmax_forward`` from its output ``y``."""
    dtype = launch.check_float(y)
    xp = launch.array_module(y)
    rows, n = (int(s) for s in y.shape)
    dx = xp.empty((rows, n), dtype=dtype)
    _, keep, mask_rows, kind = row_functions.mask_parts(xp, mask, dtype)
    if rows and n:
        kernel = _kernel("softmax_backward_kernel", dtype)
        _row_launch(kernel, rows)(
            launch.inp(_flat(g2, dtype)), launch.inp(_flat(y)), launch.inp(keep),
            dx.reshape(-1), rows, n, mask_rows, kind, bool(log), dtype.type(0))
    return dx
