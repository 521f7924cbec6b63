"""Adaptive pooling (windows that tile the input into a given output size) and max
unpooling, forward and backward side by side."""

from __future__ import annotations

import numpy as np

from .._tensor_core import FLOAT_TYPE_NAMES
from ..autograd.function import Op
from . import reduce, views

__all__ = ["adaptive_avg_pool1d"]  # torch's top-level name (nn.functional has them all)


def _window_bounds(size, out):
    """torch's adaptive windows: [floor(o*size/out), ceil((o+1)*size/out)) for each o."""
    o = np.arange(out)
    return (o * size) // out, -((-(o + 1) * size) // out)


def _average_matrix(size, out):
    """The (out, size) matrix whose rows average each adaptive window (host numbers)."""
    start, end = _window_bounds(size, out)
    positions = np.arange(size)
    inside = (positions >= start[:, None]) & (positions < end[:, None])
    return inside / (end - start)[:, None]


class AdaptiveAvgPool2D(Op):
    """The mean of each adaptive window: A_h @ x @ A_w^T with averaging matrices."""

    @staticmethod
    def forward(ctx, x, out_size):
        backend = ctx.backend
        rows = backend.asarray(_average_matrix(x.shape[-2], out_size[0]), dtype=x.dtype)
        columns = backend.asarray(_average_matrix(x.shape[-1], out_size[1]).T, dtype=x.dtype)
        ctx.matrices = rows, columns
        return backend.matmul(backend.matmul(rows, x), columns)

    @staticmethod
    def backward(ctx, g):
        # d (A x B) = A^T g B^T
        rows, columns = ctx.matrices
        matmul = ctx.backend.matmul
        return matmul(matmul(rows.T, g), columns.T), None


class AdaptiveMaxPool2D(Op):
    """The max of each adaptive window (first maximum; NaN wins) and its flat index."""

    @staticmethod
    def forward(ctx, x, out_size):
        xp, backend = ctx.xp, ctx.backend
        h, w = x.shape[-2:]
        (hs, he), (ws, we) = _window_bounds(h, out_size[0]), _window_bounds(w, out_size[1])
        best = arg = None
        for a in range(int((he - hs).max())):
            rows = np.minimum(hs + a, he - 1)  # a short window repeats its last row
            for b in range(int((we - ws).max())):
                columns = np.minimum(ws + b, we - 1)
                flat = backend.asarray(rows[:, None] * w + columns[None, :])
                v = x[..., backend.asarray(rows)[:, None], backend.asarray(columns)[None, :]]
                if best is None:
                    best, arg = v, xp.broadcast_to(flat, v.shape)
                    continue
                take = v > best
                if x.dtype.kind == "f":
                    take |= v != v
                best, arg = xp.where(take, v, best), xp.where(take, flat, arg)
        ctx.arg, ctx.in_shape = arg, x.shape
        ctx.non_differentiable = (1,)
        return best, xp.ascontiguousarray(arg).astype(np.int64)

    @staticmethod
    def backward(ctx, g, _):
        # d max = the gradient routed to the window's chosen element
        return scatter_to_planes(ctx, g, ctx.arg, ctx.in_shape), None


def scatter_to_planes(ctx, g, indices, shape):
    """A zero array of ``shape`` with ``g`` added at ``indices`` (flat in each last-two-dims
    plane)."""
    xp = ctx.xp
    plane = shape[-2] * shape[-1]
    planes = int(np.prod(shape[:-2], dtype=np.int64))
    out = xp.zeros(planes * plane, dtype=g.dtype)
    offsets = (xp.arange(planes) * plane).reshape(shape[:-2] + (1, 1))
    positions = (indices + offsets).reshape(-1)
    ctx.backend.scatter_accumulate(out, positions, g.reshape(-1), "sum")
    return out.reshape(shape)


class MaxUnpool2D(Op):
    """Each value placed at its index in a zero plane of ``out_size``."""

    @staticmethod
    def forward(ctx, x, indices, out_size):
        xp = ctx.xp
        planes = int(np.prod(x.shape[:-2], dtype=np.int64))
        plane = out_size[0] * out_size[1]
        out = xp.zeros((planes, plane), dtype=x.dtype)
        rows = xp.arange(planes)[:, None]
        out[rows, indices.reshape(planes, -1)] = x.reshape(planes, -1)
        ctx.indices, ctx.rows = indices, rows
        return out.reshape(x.shape[:-2] + tuple(out_size))

    @staticmethod
    def backward(ctx, g):
        # d unpool = the gradient read back at the indices
        indices, rows = ctx.indices, ctx.rows
        planes = rows.shape[0]
        grad = g.reshape(planes, -1)[rows, indices.reshape(planes, -1)]
        return grad.reshape(indices.shape), None, None


# ---- functions -------------------------------------------------------------------------
def _shape_list(shape):
    return "[" + ", ".join(str(n) for n in shape) + "]"


def _output_pair(name, output_size, x):
    """``output_size`` (an int, or a pair where None keeps the input's size) as two ints."""
    if isinstance(output_size, int):
        pair = (output_size, output_size)
    else:
        pair = tuple(output_size)
        if len(pair) != 2:
            raise RuntimeError(f"{name}: output_size must be 2")
    pair = tuple(x.shape[-2 + i] if n is None else n for i, n in enumerate(pair))
    if min(pair) < 0:
        raise RuntimeError(f"{name}: elements of output_size must be greater than or equal to 0 "
                           f"but received {{{pair[0]}, {pair[1]}}}")
    return pair


def adaptive_avg_pool2d(input, output_size):
    """The mean over adaptive windows of (N, C, H, W) or (C, H, W) ``input``."""
    if input.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got "
                           f"{_shape_list(input.shape)}")
    out_size = _output_pair("adaptive_avg_pool2d", output_size, input)
    if out_size == (1, 1):
        return reduce.mean(input, (-1, -2), keepdim=True)  # as torch: MeanBackward1
    return AdaptiveAvgPool2D.apply(input, out_size)


def adaptive_avg_pool1d(input, output_size):
    """The mean over adaptive windows of (N, C, L) or (C, L) ``input``."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor "
                           "for argument #1 'self' (while checking arguments for "
                           "adaptive_avg_pool1d)")
    size = output_size if isinstance(output_size, int) else tuple(output_size)[0]
    out = adaptive_avg_pool2d(views.unsqueeze(input, -2), (1, size))
    return views.squeeze(out, -2)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """The max over adaptive windows of (N, C, H, W) or (C, H, W) ``input`` (and the flat
    indices of the maxima when ``return_indices``)."""
    if input.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_max_pool2d(): Expected 3D or 4D tensor, but got: "
                           f"{_shape_list(input.shape)}")
    out_size = _output_pair("adaptive_max_pool2d", output_size, input)
    out, indices = AdaptiveMaxPool2D.apply(input, out_size)
    return (out, indices) if return_indices else out


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """The max over adaptive windows of (N, C, L) or (C, L) ``input``."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"adaptive_max_pool1d(): Expected 2D or 3D tensor, but got: "
                           f"{_shape_list(input.shape)}")
    size = output_size if isinstance(output_size, int) else tuple(output_size)[0]
    out, indices = AdaptiveMaxPool2D.apply(views.unsqueeze(input, -2), (1, size))
    out, indices = views.squeeze(out, -2), views.squeeze(indices, -2)
    return (out, indices) if return_indices else out


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def _unpool_size(x, kernel, stride, padding, output_size):
    """torch's _unpool_output_size."""
    dims = len(kernel)
    default = [(x.shape[-dims + d] - 1) * stride[d] + kernel[d] - 2 * padding[d]
               for d in range(dims)]
    if output_size is None:
        return tuple(default)
    if len(output_size) == dims + 2:
        output_size = output_size[2:]
    if len(output_size) != dims:
        raise ValueError(f"output_size should be a sequence containing {dims} or {dims + 2} "
                         f"elements, but it has a length of '{len(output_size)}'")
    for d in range(dims):
        low, high = default[d] - stride[d], default[d] + stride[d]
        if not low < output_size[d] < high:
            raise ValueError(f'invalid output_size "{output_size}" (dim {d} must be between '
                             f"{low} and {high})")
    return tuple(output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of max_pool2d: each value of ``input`` at its index in a zero plane."""
    kernel = _pair(kernel_size)
    stride = kernel if stride is None else _pair(stride)
    out_size = _unpool_size(input, kernel, stride, _pair(padding), output_size)
    if indices._data.dtype != np.int64:
        raise RuntimeError("elements in indices should be type int64 but got: "
                           f"{FLOAT_TYPE_NAMES[indices._data.dtype.name][:-len('Tensor')]}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({_shape_list(input.shape)}) but got indices tensor with shape: "
                           f"{_shape_list(indices.shape)}")
    return MaxUnpool2D.apply(input, indices, out_size)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of max_pool1d: each value of ``input`` at its index in a zero row."""
    kernel = (_pair(kernel_size)[0],)
    stride = kernel if stride is None else (_pair(stride)[0],)
    (size,) = _unpool_size(input, kernel, stride, (_pair(padding)[0],), output_size)
    out = max_unpool2d(views.unsqueeze(input, -1), views.unsqueeze(indices, -1), (kernel[0], 1),
                       (stride[0], 1), 0, (size, 1))
    return views.squeeze(out, -1)
