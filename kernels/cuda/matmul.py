"""Tiled shared-memory float32 matmul, any M, N, K, batched with broadcast batch dimensions.

Each block computes a ``BM x BN`` tile of the output; per step of ``BK`` along K its
threads stage an A tile and a B tile in shared memory, then each thread accumulates a
``TM x TN`` register tile of outputs (rows ``ty + i*TY``, columns ``tx + j*TX``, a layout
that keeps shared-memory reads free of bank conflicts). Loads outside the matrices read
0 and stores are bounds-checked, so no shape needs to be a multiple of a tile. Inputs may
be strided (a transposed weight needs no copy): the tile loader walks consecutive threads
along whichever dimension has unit stride. The grid's z dimension walks the batch with
per-input batch strides, 0 for a broadcast batch dimension.

Real GPU: 16 x 16 threads, 8 x 8 outputs each (128 x 128 tiles, BK = 8). The simulator runs
every thread as a Python thread, so it uses the same code with a small configuration.

Index arithmetic is 32-bit when every size and buffer span is below 2^30 (the launcher picks
the int32 signature; int64 otherwise). Each thread's tile slots and source offsets are
computed once before the K loop, so a K step adds one product per load. Both tiles' rows
are padded by 4 floats: a transposed operand's stores, 8 apart along K, land in distinct
banks. Register use, from ptxas for sm_90 (``python -m gputensor.kernels.cuda.ptx
--registers``): the former kernel 200 per thread (one 256-thread block per SM); now the
default "loop" variant 128 with no spills under launch bounds (two blocks per SM), the
"unrolled" one (K step unrolled in the source: 128 shared loads per step instead of a loop
of 16) 216. Which one is faster needs a card: benchmarks/gpu_bench.py times both.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import cuda, float32

from ..templates import specialize
from . import launch

if not launch.REAL_SIZES:  # the simulator's small configuration
    TX, TY, TM, TN, BK = 4, 4, 2, 2, 4
else:
    TX, TY, TM, TN, BK = 16, 16, 8, 8, 8
BM = TY * TM  # rows of an output tile
BN = TX * TN  # columns of an output tile
THREADS = TX * TY
A_LOADS = BM * BK // THREADS  # A-tile elements each thread stages per K step
B_LOADS = BK * BN // THREADS
PAD = 4  # shared-memory row padding: the tiles' transposed stores hit distinct banks
A_ROW = BM + PAD
A_TILE = BK * A_ROW
B_ROW = BN + PAD  # a column-major B's stores walk K: 8 rows apart, padded to other banks
B_TILE = BK * B_ROW
ZERO = np.float32(0)
MAX_GRID_YZ = 65535
# sizes and buffer spans up to this take the 32-bit-index kernel (k0 + K stays below 2^31)
INT32_LIMIT = 2 ** 30
if BK not in (4, 8):
    raise ValueError("the unrolled K step below covers BK = 4 or 8")


@cuda.jit(device=True, inline="always")
def _a_slot(e, row_major):
    """(m, k) in the A tile of a thread's load ``e``: consecutive loads along K when A is
    row-major (coalesced reads), else along M."""
    if row_major:
        m = e // BK
        return m, e - m * BK
    k = e // BM
    return e - k * BM, k


@cuda.jit(device=True, inline="always")
def _b_slot(e, row_major):
    """(k, n) in the B tile of a thread's load ``e``: along N when B is row-major, else K."""
    if row_major:
        k = e // BN
        return k, e - k * BN
    n = e // BK
    return e - n * BK, n


@cuda.jit(device=True, inline="always")
def _k_step(kk, a_tile, b_tile, acc, ty, tx):
    """One k of the tiles: ``acc[i, j] += a[ty + i*TY, kk] * b[kk, tx + j*TX]``."""
    a_reg = cuda.local.array(TM, float32)
    b_reg = cuda.local.array(TN, float32)
    a_at = kk * A_ROW + ty
    b_at = kk * B_ROW + tx
    for i in range(TM):
        a_reg[i] = a_tile[a_at + i * TY]
    for j in range(TN):
        b_reg[j] = b_tile[b_at + j * TX]
    for i in range(TM):
        for j in range(TN):
            acc[i, j] += a_reg[i] * b_reg[j]


def matmul_kernel(out, a, b, a_off, b_off, M, N, K, batch, a_sb, a_sm, a_sk, b_sb, b_sk,
                  b_sn):
    """``out[z] = a[z] @ b[z]`` for ``z < batch``; a (M, K) and b (K, N) addressed by strides.

    ``a``/``b``: 1-D buffers with element offsets and strides (batch, row, column); ``out``:
    contiguous (batch, M, N) flattened. The next K step's tiles are read into registers
    while the current step multiplies, so global-memory latency overlaps the arithmetic.
    Index arithmetic is in ``IDX`` (int32 when every size and offset fits, else int64);
    each load's tile slot and source offset are computed once, before the K loop.
    """
    # launch: grid (ceil(N/BN), ceil(M/BM), min(batch, 65535)), block (TX, TY), CuPy's stream
    a_tile = cuda.shared.array(A_TILE, float32)  # [k * A_ROW + m]
    b_tile = cuda.shared.array(B_TILE, float32)  # [k * B_ROW + n]
    acc = cuda.local.array((TM, TN), float32)
    a_next = cuda.local.array(A_LOADS, float32)
    b_next = cuda.local.array(B_LOADS, float32)
    a_store = cuda.local.array(A_LOADS, IDX)  # noqa: F821 (bound per index type)
    a_k = cuda.local.array(A_LOADS, IDX)  # noqa: F821 (K when the row is outside A)
    a_src = cuda.local.array(A_LOADS, IDX)  # noqa: F821
    b_store = cuda.local.array(B_LOADS, IDX)  # noqa: F821
    b_k = cuda.local.array(B_LOADS, IDX)  # noqa: F821 (K when the column is outside B)
    b_src = cuda.local.array(B_LOADS, IDX)  # noqa: F821
    tx = IDX(cuda.threadIdx.x)  # noqa: F821
    ty = IDX(cuda.threadIdx.y)  # noqa: F821
    tid = IDX(ty * TX + tx)  # noqa: F821
    row0 = IDX(cuda.blockIdx.y * BM)  # noqa: F821
    col0 = IDX(cuda.blockIdx.x * BN)  # noqa: F821
    for load in range(A_LOADS):
        m, k = _a_slot(IDX(tid + load * THREADS), a_sk == 1)  # noqa: F821
        a_store[load] = IDX(k * A_ROW + m)  # noqa: F821
        inside = row0 + m < M
        a_k[load] = IDX(k) if inside else K  # noqa: F821
        a_src[load] = IDX(IDX(row0 + m) * a_sm + k * a_sk) if inside else 0  # noqa: F821
    for load in range(B_LOADS):
        k, n = _b_slot(IDX(tid + load * THREADS), b_sn == 1)  # noqa: F821
        b_store[load] = IDX(k * B_ROW + n)  # noqa: F821
        inside = col0 + n < N
        b_k[load] = IDX(k) if inside else K  # noqa: F821
        b_src[load] = IDX(k * b_sk + IDX(col0 + n) * b_sn) if inside else 0  # noqa: F821
    for z in range(cuda.blockIdx.z, batch, cuda.gridDim.z):
        for i in range(TM):
            for j in range(TN):
                acc[i, j] = ZERO
        a_base = IDX(a_off + IDX(z) * a_sb)  # noqa: F821
        b_base = IDX(b_off + IDX(z) * b_sb)  # noqa: F821
        k0 = IDX(0)  # noqa: F821
        for load in range(A_LOADS):
            a_next[load] = a[a_base + a_src[load]] if a_k[load] < K else ZERO
        for load in range(B_LOADS):
            b_next[load] = b[b_base + b_src[load]] if b_k[load] < K else ZERO
        while k0 < K:
            for load in range(A_LOADS):
                a_tile[a_store[load]] = a_next[load]
            for load in range(B_LOADS):
                b_tile[b_store[load]] = b_next[load]
            cuda.syncthreads()
            k0 = IDX(k0 + BK)  # noqa: F821 (the next step's tiles, read while this one runs)
            if k0 < K:
                a_step = IDX(a_base + k0 * a_sk)  # noqa: F821
                b_step = IDX(b_base + k0 * b_sk)  # noqa: F821
                for load in range(A_LOADS):
                    a_next[load] = (a[a_step + a_src[load]] if k0 + a_k[load] < K
                                    else ZERO)
                for load in range(B_LOADS):
                    b_next[load] = (b[b_step + b_src[load]] if k0 + b_k[load] < K
                                    else ZERO)
            if UNROLLED:  # noqa: F821 (bound per variant): Numba keeps range loops rolled
                _k_step(0, a_tile, b_tile, acc, ty, tx)
                _k_step(1, a_tile, b_tile, acc, ty, tx)
                _k_step(2, a_tile, b_tile, acc, ty, tx)
                _k_step(3, a_tile, b_tile, acc, ty, tx)
                if BK == 8:
                    _k_step(4, a_tile, b_tile, acc, ty, tx)
                    _k_step(5, a_tile, b_tile, acc, ty, tx)
                    _k_step(6, a_tile, b_tile, acc, ty, tx)
                    _k_step(7, a_tile, b_tile, acc, ty, tx)
            else:
                for kk in range(BK):
                    _k_step(kk, a_tile, b_tile, acc, ty, tx)
            cuda.syncthreads()
        out_base = IDX(IDX(z) * IDX(M * N))  # noqa: F821
        for i in range(TM):
            r = IDX(row0 + ty + i * TY)  # noqa: F821
            if r < M:
                for j in range(TN):
                    c = IDX(col0 + tx + j * TX)  # noqa: F821
                    if c < N:
                        out[IDX(out_base + r * N + c)] = acc[i, j]  # noqa: F821


def _signature(index: str) -> str:
    """The kernel's signature with sizes, offsets and strides of type ``index``."""
    return ("void(float32[::1], float32[::1], float32[::1], "
            + ", ".join([index] * 12) + ")")


SIGNATURES = {"int64": _signature("int64"), "int32": _signature("int32")}
SIGNATURE = SIGNATURES["int64"]
# variant -> whether the K step is unrolled in the source; benchmarks/gpu_bench.py times both.
# ptxas for sm_90 (int32 indices): "loop" fits 128 registers with no spills under the launch
# bounds below (two blocks of 256 threads per SM); "unrolled" takes 216 (one block per SM)
VARIANTS = {"loop": False, "unrolled": True}
VARIANT = "loop"  # the one ``matmul`` launches by default
MATMUL = {(index, variant): specialize(
              matmul_kernel, {"IDX": getattr(numba, index), "UNROLLED": unrolled},
              f"matmul_kernel_{index}_{variant}")
          for index in SIGNATURES for variant, unrolled in VARIANTS.items()}
# (index, variant) -> launch bounds: (threads per block, blocks per SM) the registers must
# allow; the int64 loop would spill under them (156 registers unbounded)
BOUNDS = {("int32", "loop"): (THREADS, 2)}
KERNELS = [(f"matmul.matmul_float32_{index}_{variant}", fn, [SIGNATURES[index]])
           for (index, variant), fn in MATMUL.items()]
# kernel name -> the launch bounds it is compiled with (read by ptx.py)
LAUNCH_BOUNDS = {f"matmul.matmul_float32_{index}_{variant}": bounds
                 for (index, variant), bounds in BOUNDS.items()}


def _batched(array, name: str):
    """``(buffer, offset, (batch, batch_stride, rows, row_stride, cols, col_stride))``."""
    if array.ndim not in (2, 3):
        raise ValueError(f"matmul: {name} must be 2-D or 3-D, got {array.ndim}-D")
    buffer, offset, strides = launch.flat_view(array)
    if array.ndim == 2:
        return buffer, offset, (1, 0, array.shape[0], strides[0], array.shape[1], strides[1])
    return buffer, offset, (array.shape[0], strides[0], array.shape[1], strides[1],
                            array.shape[2], strides[2])


def matmul(a, b, out=None, variant=None):
    """``a @ b`` for float32 2-D or batched 3-D arrays (a batch of 1 broadcasts).

    Returns ``out`` (allocated when None; else C-contiguous of the result's shape). NumPy
    arrays under the simulator, CuPy arrays on a GPU. ``variant``: a key of ``VARIANTS``
    (default ``VARIANT``).
    """
    launch.check_float(a, b)
    if np.dtype(a.dtype) != np.float32:
        raise TypeError(f"matmul kernel supports float32 only, got {np.dtype(a.dtype)}")
    a_buf, a_off, (ba, a_sb, M, a_sm, K, a_sk) = _batched(a, "a")
    b_buf, b_off, (bb, b_sb, K2, b_sk, N, b_sn) = _batched(b, "b")
    if K != K2:
        raise ValueError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
                         f"multiplied ({M}x{K} and {K2}x{N})")
    if ba != bb and 1 not in (ba, bb):
        raise ValueError(f"matmul: batch sizes {ba} and {bb} do not broadcast")
    batch = max(ba, bb)
    a_sb = a_sb if ba > 1 else 0
    b_sb = b_sb if bb > 1 else 0
    shape = (M, N) if a.ndim == 2 and b.ndim == 2 else (batch, M, N)
    xp = launch.array_module(a)
    if out is None:
        out = xp.empty(shape, dtype=np.float32)
    elif (tuple(out.shape) != shape or np.dtype(out.dtype) != np.float32
          or not out.flags.c_contiguous):
        raise ValueError(f"matmul: out must be a C-contiguous float32 array of shape {shape}")
    if out.size == 0:
        return out
    if K == 0:
        out.fill(0)
        return out
    grid_y = launch.ceil_div(M, BM)
    if grid_y > MAX_GRID_YZ:
        raise ValueError(f"matmul: {M} rows exceed the kernel's grid ({MAX_GRID_YZ * BM})")
    grid = (launch.ceil_div(N, BN), grid_y, min(batch, MAX_GRID_YZ))
    index = "int32" if max(a_buf.size, b_buf.size, out.size, M, N, K) <= INT32_LIMIT else "int64"
    variant = VARIANT if variant is None else variant
    kernel = launch.compiled(MATMUL[index, variant], SIGNATURES[index],
                             launch_bounds=BOUNDS.get((index, variant)))
    launch.configure(kernel, grid, (TX, TY))(
        out.reshape(-1), launch.inp(a_buf), launch.inp(b_buf), a_off, b_off, M, N, K, batch,
        a_sb, a_sm, a_sk, b_sb, b_sk, b_sn)
    return out
