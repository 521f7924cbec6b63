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
"""

from __future__ import annotations

import numpy as np
from numba import cuda, float32

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
PAD = 4  # shared-memory row padding: the A tile's transposed stores hit distinct banks
A_ROW = BM + PAD
A_TILE = BK * A_ROW
B_TILE = BK * BN
ZERO = np.float32(0)
MAX_GRID_YZ = 65535


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
def _fetch(a, b, a_base, b_base, a_sm, a_sk, b_sk, b_sn, M, N, K, row0, col0, k0, tid,
           a_regs, b_regs):
    """Read the A and B tiles at K offset ``k0`` into registers (0 outside the matrices)."""
    for load in range(A_LOADS):
        m, k = _a_slot(tid + load * THREADS, a_sk == 1)
        value = ZERO
        if row0 + m < M and k0 + k < K:
            value = a[a_base + (row0 + m) * a_sm + (k0 + k) * a_sk]
        a_regs[load] = value
    for load in range(B_LOADS):
        k, n = _b_slot(tid + load * THREADS, b_sn == 1)
        value = ZERO
        if k0 + k < K and col0 + n < N:
            value = b[b_base + (k0 + k) * b_sk + (col0 + n) * b_sn]
        b_regs[load] = value


def matmul_kernel(out, a, b, a_off, b_off, M, N, K, batch, a_sb, a_sm, a_sk, b_sb, b_sk,
                  b_sn):
    """``out[z] = a[z] @ b[z]`` for ``z < batch``; a (M, K) and b (K, N) addressed by strides.

    ``a``/``b``: 1-D buffers with element offsets and strides (batch, row, column); ``out``:
    contiguous (batch, M, N) flattened. The next K step's tiles are read into registers
    while the current step multiplies, so global-memory latency overlaps the arithmetic.
    """
    # launch: grid (ceil(N/BN), ceil(M/BM), min(batch, 65535)), block (TX, TY), CuPy's stream
    a_tile = cuda.shared.array(A_TILE, float32)  # [k * A_ROW + m]
    b_tile = cuda.shared.array(B_TILE, float32)  # [k * BN + n]
    acc = cuda.local.array((TM, TN), float32)
    a_reg = cuda.local.array(TM, float32)
    b_reg = cuda.local.array(TN, float32)
    a_next = cuda.local.array(A_LOADS, float32)
    b_next = cuda.local.array(B_LOADS, float32)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    tid = ty * TX + tx
    row0 = cuda.blockIdx.y * BM
    col0 = cuda.blockIdx.x * BN
    for z in range(cuda.blockIdx.z, batch, cuda.gridDim.z):
        for i in range(TM):
            for j in range(TN):
                acc[i, j] = ZERO
        a_base = a_off + z * a_sb
        b_base = b_off + z * b_sb
        _fetch(a, b, a_base, b_base, a_sm, a_sk, b_sk, b_sn, M, N, K, row0, col0, 0, tid,
               a_next, b_next)
        for k0 in range(0, K, BK):
            for load in range(A_LOADS):
                m, k = _a_slot(tid + load * THREADS, a_sk == 1)
                a_tile[k * A_ROW + m] = a_next[load]
            for load in range(B_LOADS):
                k, n = _b_slot(tid + load * THREADS, b_sn == 1)
                b_tile[k * BN + n] = b_next[load]
            cuda.syncthreads()
            if k0 + BK < K:
                _fetch(a, b, a_base, b_base, a_sm, a_sk, b_sk, b_sn, M, N, K, row0, col0,
                       k0 + BK, tid, a_next, b_next)
            a_at = ty
            b_at = tx
            for _k in range(BK):
                for i in range(TM):
                    a_reg[i] = a_tile[a_at + i * TY]
                for j in range(TN):
                    b_reg[j] = b_tile[b_at + j * TX]
                a_at += A_ROW
                b_at += BN
                for i in range(TM):
                    for j in range(TN):
                        acc[i, j] += a_reg[i] * b_reg[j]
            cuda.syncthreads()
        out_base = z * M * N
        for i in range(TM):
            r = row0 + ty + i * TY
            if r < M:
                for j in range(TN):
                    c = col0 + tx + j * TX
                    if c < N:
                        out[out_base + r * N + c] = acc[i, j]


SIGNATURE = ("void(float32[::1], float32[::1], float32[::1], int64, int64, int64, int64, int64, "
             "int64, int64, int64, int64, int64, int64, int64)")
KERNELS = [("matmul.matmul_float32", matmul_kernel, [SIGNATURE])]


def _batched(array, name: str):
    """``(buffer, offset, (batch, batch_stride, rows, row_stride, cols, col_stride))``."""
    if array.ndim not in (2, 3):
        raise ValueError(f"matmul: {name} must be 2-D or 3-D, got {array.ndim}-D")
    buffer, offset, strides = launch.flat_view(array)
    if array.ndim == 2:
        return buffer, offset, (1, 0, array.shape[0], strides[0], array.shape[1], strides[1])
    return buffer, offset, (array.shape[0], strides[0], array.shape[1], strides[1],
                            array.shape[2], strides[2])


def matmul(a, b, out=None):
    """``a @ b`` for float32 2-D or batched 3-D arrays (a batch of 1 broadcasts).

    Returns ``out`` (allocated when None; else C-contiguous of the result's shape). NumPy
    arrays under the simulator, CuPy arrays on a GPU.
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
    kernel = launch.compiled(matmul_kernel, SIGNATURE)
    launch.configure(kernel, grid, (TX, TY))(
        out.reshape(-1), launch.inp(a_buf), launch.inp(b_buf), a_off, b_off, M, N, K, batch,
        a_sb, a_sm, a_sk, b_sb, b_sk, b_sn)
    return out
