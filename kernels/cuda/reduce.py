"""Sum-to-shape: the un-broadcast reduction of gradients, one kernel launch.

``sum_to_shape(array, shape)`` sums a contiguous array over its leading dimensions and
over the dimensions where ``shape`` has 1. Dimensions are classified as kept or reduced,
size-1 dimensions dropped and neighbours of the same kind merged; then one of two
kernels runs:

- ``sum_columns``: one thread per output element (consecutive threads read consecutive
  addresses) loops over the reduced elements; used when the innermost dimension is kept
  or the reduced extent is small, e.g. a bias gradient ``(batch, features) -> (features,)``.
- ``sum_blocks``: one block per output element, its threads stride over the reduced
  elements (coalesced when the innermost dimension is reduced) and combine in shared
  memory; e.g. ``(rows, cols) -> (rows, 1)`` or a full sum.

When there are too few outputs to fill the GPU, each output's reduced range is split in
chunks summed in parallel and combined with ``cuda.atomic.add`` into a zeroed output (the
float sum order then varies between runs). Sums accumulate in the array's dtype. Below
2^31 elements the kernels' uint32 variants split element numbers into offsets with 32-bit
divisions (the same elements in the same order: the same sums, bit for bit).
"""

from __future__ import annotations

import numba
import numpy as np
from numba import cuda

from ..templates import specialize
from . import launch
from .launch import MAX_DIMS, strided_offset, strided_offset_u32

DTYPES = ("float32", "float64")
REDUCE_BLOCK = launch.BLOCK  # threads per block of sum_blocks (a power of 2)
# sum_blocks serves reductions whose innermost dimension is reduced and at least this long
BLOCKS_MIN_INNER = 64
# a chunk of sum_columns covers at least this many reduced elements per thread
MIN_CHUNK = 32


def sum_columns(out, x, out_shape, out_strides, n_out_dims, red_shape, red_strides,
                n_red_dims, n_out, n_red, chunks, chunk_len, atomic):
    """Thread per (output element, chunk): ``out[o] (+)= sum of x over chunk's reduced elements``.

    ``out_shape``/``out_strides`` and ``red_shape``/``red_strides`` (x's strides, in elements)
    describe the kept and the reduced dimensions in the last ``n_*_dims`` slots.
    """
    # launch: 1-D grid-stride over n_out * chunks items; grid
    # launch.grid_size(items, kernel=...), block launch.BLOCK, CuPy's stream
    for item in range(cuda.grid(1), n_out * chunks, cuda.gridsize(1)):
        c = item // n_out
        o = item - c * n_out
        base = OFFSET(IDX(o), out_shape, out_strides, n_out_dims)  # noqa: F821
        acc = ZERO  # noqa: F821 (bound per dtype)
        for r in range(c * chunk_len, min((c + 1) * chunk_len, n_red)):
            acc += x[base + OFFSET(IDX(r), red_shape, red_strides, n_red_dims)]  # noqa: F821
        if atomic:
            cuda.atomic.add(out, o, acc)
        else:
            out[o] = acc


def sum_blocks(out, x, out_shape, out_strides, n_out_dims, red_shape, red_strides,
               n_red_dims, n_out, n_red, chunks, chunk_len, atomic):
    """Block per (output element, chunk): a shared-memory tree sum over the chunk.

    Arguments as in ``sum_columns``.
    """
    # launch: grid-stride over n_out * chunks items, one block each; grid
    # min(items, launch.max_blocks(kernel, REDUCE_BLOCK)), block REDUCE_BLOCK, CuPy's stream
    partial = cuda.shared.array(REDUCE_BLOCK, ACC)  # noqa: F821 (bound per dtype)
    tid = cuda.threadIdx.x
    for item in range(cuda.blockIdx.x, n_out * chunks, cuda.gridDim.x):
        o = item // chunks
        c = item - o * chunks
        base = OFFSET(IDX(o), out_shape, out_strides, n_out_dims)  # noqa: F821
        acc = ZERO  # noqa: F821
        for r in range(c * chunk_len + tid, min((c + 1) * chunk_len, n_red), REDUCE_BLOCK):
            acc += x[base + OFFSET(IDX(r), red_shape, red_strides, n_red_dims)]  # noqa: F821
        partial[tid] = acc
        cuda.syncthreads()
        s = REDUCE_BLOCK // 2
        while s > 0:
            if tid < s:
                partial[tid] += partial[tid + s]
            cuda.syncthreads()
            s //= 2
        if tid == 0:
            if atomic:
                cuda.atomic.add(out, o, partial[0])
            else:
                out[o] = partial[0]
        cuda.syncthreads()  # partial is reused by the next item


# index width -> how the kernels split an element number into offsets (int64, or uint32
# with 32-bit divisions when the array has fewer than 2^31 elements)
_WIDTHS = {"int64": {"IDX": numba.int64, "OFFSET": strided_offset},
           "uint32": {"IDX": numba.uint32, "OFFSET": strided_offset_u32}}
_SUFFIX = {"int64": "", "uint32": "_u32"}


def _specialize(template, dtype: str, width: str = "int64"):
    """A copy of ``template`` with ``ACC``/``ZERO`` bound to ``dtype``'s type and zero, and
    its offsets computed in ``width``."""
    names = {"ACC": getattr(numba, dtype), "ZERO": np.dtype(dtype).type(0), **_WIDTHS[width]}
    return specialize(template, names, f"{template.__name__}_{dtype}{_SUFFIX[width]}")


_TUPLE = f"UniTuple(int64, {MAX_DIMS})"


def _signature(dtype: str, width: str = "int64") -> str:
    shape = f"UniTuple({width}, {MAX_DIMS})"
    return (f"void({dtype}[::1], {dtype}[::1], {shape}, {_TUPLE}, int64, {shape}, {_TUPLE}, "
            "int64, int64, int64, int64, int64, boolean)")


SIGNATURES = {dtype: _signature(dtype) for dtype in DTYPES}
COLUMNS = {dtype: _specialize(sum_columns, dtype) for dtype in DTYPES}
BLOCKS = {dtype: _specialize(sum_blocks, dtype) for dtype in DTYPES}
# (dtype, width) -> kernel or signature; the int64 entries are the ones above
SIGNATURES_BY_WIDTH = {(d, w): _signature(d, w) for d in DTYPES for w in _WIDTHS}
COLUMNS_BY_WIDTH = {(d, w): _specialize(sum_columns, d, w) for d in DTYPES for w in _WIDTHS}
BLOCKS_BY_WIDTH = {(d, w): _specialize(sum_blocks, d, w) for d in DTYPES for w in _WIDTHS}
KERNELS = ([(f"reduce.sum_columns_{d}{_SUFFIX[w]}", COLUMNS_BY_WIDTH[d, w],
             [SIGNATURES_BY_WIDTH[d, w]]) for d in DTYPES for w in _WIDTHS]
           + [(f"reduce.sum_blocks_{d}{_SUFFIX[w]}", BLOCKS_BY_WIDTH[d, w],
               [SIGNATURES_BY_WIDTH[d, w]]) for d in DTYPES for w in _WIDTHS])


def _plan(in_shape, shape):
    """Merged kept and reduced dimensions of a contiguous ``in_shape`` summed to ``shape``.

    Returns ``(kept, reduced)``: lists of ``(size, stride)`` from outer to inner, and
    whether the innermost dimension is reduced.
    """
    lead = len(in_shape) - len(shape)
    if lead < 0:
        raise ValueError(f"sum_to_shape: cannot sum shape {tuple(in_shape)} to {tuple(shape)}")
    target = (1,) * lead + tuple(shape)
    strides = [1] * len(in_shape)
    for d in range(len(in_shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * in_shape[d + 1]
    groups: list = []  # [kind, size, stride], kind True for reduced
    for size, want, stride in zip(in_shape, target, strides):
        if want != size and want != 1:
            raise ValueError(f"sum_to_shape: cannot sum shape {tuple(in_shape)} "
                             f"to {tuple(shape)}")
        if size == 1:
            continue
        reduced = want == 1
        if groups and groups[-1][0] == reduced:
            groups[-1][1] *= size
            groups[-1][2] = stride
        else:
            groups.append([reduced, size, stride])
    kept = [(size, stride) for reduced, size, stride in groups if not reduced]
    red = [(size, stride) for reduced, size, stride in groups if reduced]
    inner_reduced = bool(groups) and groups[-1][0]
    return kept, red, inner_reduced


def sum_to_shape(array, shape):
    """``array`` summed over leading dimensions and those where ``shape`` has 1: a new array.

    ``array``: float32/float64, rank <= 8 (made contiguous if it is not); NumPy under the
    simulator, CuPy on a GPU. The result has exactly ``shape``.
    """
    shape = tuple(int(s) for s in shape)
    dtype = launch.check_float(array)
    launch.pad(array.shape)
    xp = launch.array_module(array)
    array = launch.contiguous(array)
    kept, red, inner_reduced = _plan(tuple(array.shape), shape)
    n_out = 1
    for size, _ in kept:
        n_out *= size
    n_red = 1
    for size, _ in red:
        n_red *= size
    if array.size == 0:
        return xp.zeros(shape, dtype=dtype)
    if n_red == 1:
        return array.reshape(shape).copy()
    use_blocks = inner_reduced and red[-1][0] >= BLOCKS_MIN_INNER
    width = "uint32" if array.size <= launch.INDEX32_LIMIT else "int64"
    kernels = BLOCKS_BY_WIDTH if use_blocks else COLUMNS_BY_WIDTH
    kernel = launch.compiled(kernels[dtype.name, width], SIGNATURES_BY_WIDTH[dtype.name, width])
    if use_blocks:
        # blocks per output: enough chunks to fill the GPU, each >= 4 elements per thread
        max_blocks = launch.max_blocks(kernel, REDUCE_BLOCK)
        chunks = min(max(1, max_blocks // n_out), launch.ceil_div(n_red, REDUCE_BLOCK * 4))
    else:
        max_threads = launch.max_blocks(kernel) * launch.BLOCK
        chunks = min(max(1, max_threads // n_out), launch.ceil_div(n_red, MIN_CHUNK))
    chunk_len = launch.ceil_div(n_red, chunks)
    atomic = chunks > 1
    out = (xp.zeros if atomic else xp.empty)(shape, dtype=dtype)
    items = n_out * chunks
    if use_blocks:
        config = launch.configure(kernel, min(items, max_blocks), REDUCE_BLOCK)
    else:
        config = launch.configure(kernel, launch.grid_size(items, kernel=kernel), launch.BLOCK)
    config(out.reshape(-1), launch.inp(array.reshape(-1)),
           launch.pad([s for s, _ in kept], 1), launch.pad([t for _, t in kept]), len(kept),
           launch.pad([s for s, _ in red], 1), launch.pad([t for _, t in red]), len(red),
           n_out, n_red, chunks, chunk_len, atomic)
    return out
