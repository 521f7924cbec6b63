"""Elementwise unary and binary kernels with broadcasting over strided inputs, rank <= 8.

Each input is addressed through a 1-D buffer, an element offset and per-dimension strides
in elements (0 for a broadcast dimension, negative for a flipped one), so transposed,
sliced and expanded arrays need no copy. The output is contiguous: thread ``i`` writes
``out[i]`` and finds the inputs' elements by splitting ``i`` into the output's
multi-index. Shapes and strides travel as ``UniTuple(int64, 8)`` kernel arguments,
passed by value: no host-to-device copy (and no synchronisation) per launch.
Before launching, dimensions of size 1 are dropped and neighbours that are contiguous
in every operand are merged, so a contiguous op runs the flat fast path.

Splitting an element number into a multi-index takes a division per dimension: below 2^31
elements the launcher picks the kernels' uint32 variants (``_u32``: 32-bit divisions, a few
instructions; a 64-bit one is a long software sequence on a GPU), the int64 ones above.

One kernel per op (the op's device function bound into a shared kernel body); float32
and float64 signatures. The scalar ``one`` argument, of the arrays' dtype, supplies the
constant the ops need so float32 kernels compute in float32.
"""

from __future__ import annotations

import math

from numba import cuda, int64, uint32

from ..templates import specialize
from . import launch
from .launch import MAX_DIMS, strided_offset, strided_offset_u32

DTYPES = ("float32", "float64")
if launch.SIMULATED:
    math = launch.SimMath()  # noqa: F811 (NaN and inf where Python's math would raise)


@cuda.jit(device=True, inline="always")
def _neg(x, one):
    return -x


@cuda.jit(device=True, inline="always")
def _abs(x, one):
    return abs(x)


@cuda.jit(device=True, inline="always")
def _exp(x, one):
    return math.exp(x)


@cuda.jit(device=True, inline="always")
def _log(x, one):
    return math.log(x)


@cuda.jit(device=True, inline="always")
def _log1p(x, one):
    return math.log1p(x)


@cuda.jit(device=True, inline="always")
def _expm1(x, one):
    return math.expm1(x)


@cuda.jit(device=True, inline="always")
def _sqrt(x, one):
    return math.sqrt(x)


@cuda.jit(device=True, inline="always")
def _rsqrt(x, one):
    return one / math.sqrt(x)


@cuda.jit(device=True, inline="always")
def _reciprocal(x, one):
    return one / x


@cuda.jit(device=True, inline="always")
def _square(x, one):
    return x * x


@cuda.jit(device=True, inline="always")
def _sin(x, one):
    return math.sin(x)


@cuda.jit(device=True, inline="always")
def _cos(x, one):
    return math.cos(x)


@cuda.jit(device=True, inline="always")
def _tanh(x, one):
    return math.tanh(x)


@cuda.jit(device=True, inline="always")
def _sigmoid(x, one):
    return one / (one + math.exp(-x))


@cuda.jit(device=True, inline="always")
def _relu(x, one):
    zero = one - one
    # NaN stays NaN, as torch.relu
    return zero if x <= zero else x


@cuda.jit(device=True, inline="always")
def _sign(x, one):
    zero = one - one
    if x > zero:
        return one
    if x < zero:
        return -one
    return x  # 0, -0 and NaN map to themselves


@cuda.jit(device=True, inline="always")
def _add(x, y):
    return x + y


@cuda.jit(device=True, inline="always")
def _sub(x, y):
    return x - y


@cuda.jit(device=True, inline="always")
def _mul(x, y):
    return x * y


@cuda.jit(device=True, inline="always")
def _div(x, y):
    return x / y


@cuda.jit(device=True, inline="always")
def _maximum(x, y):
    # a NaN in either input wins, as torch.maximum
    if x != x or x > y:
        return x
    return y


@cuda.jit(device=True, inline="always")
def _minimum(x, y):
    if x != x or x < y:
        return x
    return y


@cuda.jit(device=True, inline="always")
def _pow(x, y):
    return x ** y


UNARY_DEVICE = {"neg": _neg, "abs": _abs, "exp": _exp, "log": _log, "log1p": _log1p,
                "expm1": _expm1, "sqrt": _sqrt, "rsqrt": _rsqrt, "reciprocal": _reciprocal,
                "square": _square, "sin": _sin, "cos": _cos, "tanh": _tanh,
                "sigmoid": _sigmoid, "relu": _relu, "sign": _sign}
BINARY_DEVICE = {"add": _add, "sub": _sub, "mul": _mul, "div": _div, "maximum": _maximum,
                 "minimum": _minimum, "pow": _pow}
UNARY_OPS = tuple(UNARY_DEVICE)
BINARY_OPS = tuple(BINARY_DEVICE)


def unary_kernel(out, x, x_off, shape, x_strides, ndim, n, contiguous, one):
    """``out[i] = OP(x at the multi-index of i)`` for the ``n`` elements of contiguous ``out``.

    ``shape``/``x_strides``: the (coalesced) output shape and x's strides in elements, in
    the last ``ndim`` of ``MAX_DIMS`` slots; ``contiguous``: x is ``x[x_off + i]``.
    """
    # launch: 1-D grid-stride, one wave; grid launch.grid_size(n, kernel=...), block
    # launch.BLOCK, CuPy's stream
    start = cuda.grid(1)
    step = cuda.gridsize(1)
    if contiguous:
        # 4 elements per thread per turn, loads first: more bytes in flight per thread
        i = start
        while i + 3 * step < n:
            v0 = x[x_off + i]
            v1 = x[x_off + i + step]
            v2 = x[x_off + i + 2 * step]
            v3 = x[x_off + i + 3 * step]
            out[i] = OP(v0, one)  # noqa: F821 (bound per op)
            out[i + step] = OP(v1, one)  # noqa: F821
            out[i + 2 * step] = OP(v2, one)  # noqa: F821
            out[i + 3 * step] = OP(v3, one)  # noqa: F821
            i += 4 * step
        while i < n:
            out[i] = OP(x[x_off + i], one)  # noqa: F821
            i += step
    else:
        i = IDX(start)  # noqa: F821 (bound per index width)
        while i < n:
            out[i] = OP(x[x_off + OFFSET(i, shape, x_strides, ndim)], one)  # noqa: F821
            i = IDX(i + step)  # noqa: F821


def binary_kernel(out, x, y, x_off, y_off, shape, x_strides, y_strides, ndim, n, contiguous):
    """``out[i] = OP(x, y at the multi-index of i)``, broadcasting through zero strides.

    Arguments as in ``unary_kernel``, one offset and stride tuple per input.
    """
    # launch: 1-D grid-stride, one wave; grid launch.grid_size(n, kernel=...), block
    # launch.BLOCK, CuPy's stream
    start = cuda.grid(1)
    step = cuda.gridsize(1)
    if contiguous:
        # 4 elements per thread per turn, loads first: more bytes in flight per thread
        i = start
        while i + 3 * step < n:
            x0 = x[x_off + i]
            x1 = x[x_off + i + step]
            x2 = x[x_off + i + 2 * step]
            x3 = x[x_off + i + 3 * step]
            y0 = y[y_off + i]
            y1 = y[y_off + i + step]
            y2 = y[y_off + i + 2 * step]
            y3 = y[y_off + i + 3 * step]
            out[i] = OP(x0, y0)  # noqa: F821 (bound per op)
            out[i + step] = OP(x1, y1)  # noqa: F821
            out[i + 2 * step] = OP(x2, y2)  # noqa: F821
            out[i + 3 * step] = OP(x3, y3)  # noqa: F821
            i += 4 * step
        while i < n:
            out[i] = OP(x[x_off + i], y[y_off + i])  # noqa: F821
            i += step
    else:
        i = IDX(start)  # noqa: F821 (bound per index width)
        while i < n:
            xo, yo = PAIR_OFFSETS(i, shape, x_strides, y_strides, ndim)  # noqa: F821
            out[i] = OP(x[x_off + xo], y[y_off + yo])  # noqa: F821
            i = IDX(i + step)  # noqa: F821


def _pair_offsets_of(i, shape, x_strides, y_strides, ndim):
    """The offsets of element ``i`` in x and y, ``IDX`` the index type (int64, or uint32
    for 32-bit divisions)."""
    xo = 0
    yo = 0
    for k in range(MAX_DIMS):
        if k == ndim:
            break
        d = MAX_DIMS - 1 - k
        q = IDX(i // shape[d])  # noqa: F821 (bound per index width)
        idx = int64(IDX(i - q * shape[d]))  # noqa: F821
        xo += idx * x_strides[d]
        yo += idx * y_strides[d]
        i = q
    return xo, yo


_pair_offsets, _pair_offsets_u32 = (
    cuda.jit(device=True, inline="always")(specialize(_pair_offsets_of, {"IDX": kind}, name))
    for kind, name in ((int64, "_pair_offsets"), (uint32, "_pair_offsets_u32")))


# index width -> the names the kernel bodies' strided paths use
_WIDTHS = {"int64": {"IDX": int64, "OFFSET": strided_offset, "PAIR_OFFSETS": _pair_offsets},
           "uint32": {"IDX": uint32, "OFFSET": strided_offset_u32,
                      "PAIR_OFFSETS": _pair_offsets_u32}}


def _bind(template, op, device_fn, width):
    """A copy of kernel body ``template`` whose ``OP`` is ``device_fn`` and whose strided
    path indexes in ``width`` (int64, or uint32 for sizes below 2^31), named after both."""
    return specialize(template, {"OP": device_fn, **_WIDTHS[width]},
                      f"{template.__name__}_{op}{_SUFFIX[width]}")


def _tuple(kind):
    return f"UniTuple({kind}, {MAX_DIMS})"


_T64 = _tuple("int64")
_SUFFIX = {"int64": "", "uint32": "_u32"}


def _unary_signature(t, index):
    return (f"void({t}[::1], {t}[::1], int64, {_tuple(index)}, {_T64}, int64, {index}, "
            f"boolean, {t})")


def _binary_signature(t, index):
    return (f"void({t}[::1], {t}[::1], {t}[::1], int64, int64, {_tuple(index)}, {_T64}, "
            f"{_T64}, int64, {index}, boolean)")


# index width -> one signature per dtype; kernels by index width, then op
UNARY_SIGNATURES_BY_WIDTH = {w: [_unary_signature(t, w) for t in DTYPES] for w in _WIDTHS}
BINARY_SIGNATURES_BY_WIDTH = {w: [_binary_signature(t, w) for t in DTYPES] for w in _WIDTHS}
UNARY_SIGNATURES = UNARY_SIGNATURES_BY_WIDTH["int64"]
BINARY_SIGNATURES = BINARY_SIGNATURES_BY_WIDTH["int64"]
UNARY_BY_WIDTH = {w: {op: _bind(unary_kernel, op, fn, w) for op, fn in UNARY_DEVICE.items()}
                  for w in _WIDTHS}
BINARY_BY_WIDTH = {w: {op: _bind(binary_kernel, op, fn, w) for op, fn in BINARY_DEVICE.items()}
                   for w in _WIDTHS}
UNARY_KERNELS = UNARY_BY_WIDTH["int64"]
BINARY_KERNELS = BINARY_BY_WIDTH["int64"]

KERNELS = ([(f"elementwise.{op}{_SUFFIX[w]}", fn, UNARY_SIGNATURES_BY_WIDTH[w])
            for w, kernels in UNARY_BY_WIDTH.items() for op, fn in kernels.items()]
           + [(f"elementwise.{op}{_SUFFIX[w]}", fn, BINARY_SIGNATURES_BY_WIDTH[w])
              for w, kernels in BINARY_BY_WIDTH.items() for op, fn in kernels.items()])


def broadcast_strides(in_shape, in_strides, out_shape) -> tuple:
    """Strides (elements) reading an input of ``in_shape`` at ``out_shape``'s multi-index."""
    lead = len(out_shape) - len(in_shape)
    if lead < 0:
        raise ValueError(f"cannot broadcast shape {tuple(in_shape)} to {tuple(out_shape)}")
    strides = [0] * lead
    for size, stride, out_size in zip(in_shape, in_strides, out_shape[lead:]):
        if size == out_size:
            strides.append(stride if size != 1 else 0)
        elif size == 1:
            strides.append(0)
        else:
            raise ValueError(f"cannot broadcast shape {tuple(in_shape)} to {tuple(out_shape)}")
    return tuple(strides)


def coalesce(shape, strides_list):
    """Drop size-1 dimensions and merge neighbours contiguous in every operand.

    ``strides_list`` holds one stride tuple per input (the contiguous output always
    merges). Returns ``(shape, strides_list)`` with the same elements in the same order.
    """
    dims = [(size, [s[d] for s in strides_list]) for d, size in enumerate(shape) if size != 1]
    merged: list = []
    for size, strides in dims:
        if merged and all(prev == s * size for prev, s in zip(merged[-1][1], strides)):
            merged[-1] = (merged[-1][0] * size, strides)
        else:
            merged.append((size, strides))
    new_shape = tuple(size for size, _ in merged)
    new_strides = [tuple(strides[k] for _, strides in merged) for k in range(len(strides_list))]
    return new_shape, new_strides


def elementwise(op_name: str, out, *inputs):
    """Compute ``out = op(*inputs)`` with broadcasting; returns ``out``.

    ``out``: C-contiguous, of the broadcast shape; inputs: arrays (any strides, rank <= 8)
    of ``out``'s dtype, float32 or float64 (promote first). NumPy arrays under the
    simulator, CuPy arrays on a GPU.
    """
    if op_name in UNARY_KERNELS:
        arity, kernels, signatures = 1, UNARY_BY_WIDTH, UNARY_SIGNATURES_BY_WIDTH
    elif op_name in BINARY_KERNELS:
        arity, kernels, signatures = 2, BINARY_BY_WIDTH, BINARY_SIGNATURES_BY_WIDTH
    else:
        raise ValueError(f"unknown elementwise op {op_name!r}")
    if len(inputs) != arity:
        raise TypeError(f"{op_name} takes {arity} input(s), got {len(inputs)}")
    dtype = launch.check_float(out, *inputs)
    if not out.flags.c_contiguous:
        raise ValueError("elementwise: out must be C-contiguous")
    shape = tuple(out.shape)
    launch.pad(shape)
    n = int(out.size)
    if n == 0:
        return out
    buffers, offsets, strides_list = [], [], []
    for array in inputs:
        buffer, offset, strides = launch.flat_view(array)
        buffers.append(launch.inp(buffer))
        offsets.append(offset)
        strides_list.append(broadcast_strides(array.shape, strides, shape))
    shape, strides_list = coalesce(shape, strides_list)
    ndim = len(shape)
    contiguous = ndim == 0 or (ndim == 1 and all(s == (1,) for s in strides_list))
    width = "uint32" if n <= launch.INDEX32_LIMIT else "int64"
    kernel = launch.compiled(kernels[width][op_name], signatures[width][DTYPES.index(dtype.name)])
    config = launch.configure(kernel, launch.grid_size(n, kernel=kernel), launch.BLOCK)
    flat_out = out.reshape(-1)
    padded = [launch.pad(s) for s in strides_list]
    if arity == 1:
        config(flat_out, buffers[0], offsets[0], launch.pad(shape, 1), padded[0], ndim, n,
               contiguous, dtype.type(1))
    else:
        config(flat_out, buffers[0], buffers[1], offsets[0], offsets[1], launch.pad(shape, 1),
               padded[0], padded[1], ndim, n, contiguous)
    return out
