"""Reductions: sum, mean, ... each with dim (int, negative, tuple) and keepdim."""

from __future__ import annotations

from ..autograd.function import Op
from .common import normalize_dims

TENSOR_METHODS = ("sum", "mean")


def _expand_grad(xp, g, in_shape, dims, keepdim):
    """Broadcast a reduced gradient back to the input shape."""
    if not keepdim:
        g = xp.expand_dims(g, dims) if dims else g
    return xp.broadcast_to(g, in_shape)


class Sum(Op):
    """Sum over dims."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, dtype):
        ctx.in_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        if dtype is None and x.dtype.kind in "biu":
            dtype = "int64"
        return ctx.xp.asarray(x.sum(axis=dims, keepdims=keepdim, dtype=dtype))

    @staticmethod
    def backward(ctx, g):
        return _expand_grad(ctx.xp, g, ctx.in_shape, ctx.dims, ctx.keepdim), None, None, None


def sum(input, dim=None, keepdim=False, dtype=None):  # noqa: A001,A002
    """Sum of the elements, over all dims or the given ones."""
    dims = normalize_dims(dim, input.ndim)
    np_dtype = None if dtype is None else dtype.numpy
    if dim is None:
        return Sum.apply(input, dims, False, np_dtype)
    return SumDim.apply(input, dims, keepdim, np_dtype)


class SumDim(Sum):
    """Sum over the given dims."""

    opname, variant = "Sum", 1


class Mean(Op):
    """Mean over dims."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, dtype):
        ctx.in_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        count = 1
        for d in dims:
            count *= x.shape[d]
        ctx.count = count
        return ctx.xp.asarray(x.mean(axis=dims, keepdims=keepdim, dtype=dtype)
                              .astype(dtype or x.dtype, copy=False))

    @staticmethod
    def backward(ctx, g):
        g = g / max(ctx.count, 1)
        return _expand_grad(ctx.xp, g, ctx.in_shape, ctx.dims, ctx.keepdim), None, None, None


class MeanDim(Mean):
    """Mean over the given dims."""

    opname, variant = "Mean", 1


def mean(input, dim=None, keepdim=False, dtype=None):  # noqa: A002
    """Mean of the elements (floating point tensors, or with a float ``dtype``)."""
    target = dtype or input.dtype
    if not target.is_floating_point:
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           "floating point or complex dtype. Got: "
                           f"{_TYPE_NAMES[target.name]}")
    dims = normalize_dims(dim, input.ndim)
    np_dtype = None if dtype is None else dtype.numpy
    if dim is None:
        return Mean.apply(input, dims, False, np_dtype)
    return MeanDim.apply(input, dims, keepdim, np_dtype)


_TYPE_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short",
               "int32": "Int", "int64": "Long", "float16": "Half", "float32": "Float",
               "float64": "Double"}
