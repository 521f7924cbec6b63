"""Activations along a dim or with a weight per channel: prelu, glu and softmin."""

from __future__ import annotations

import warnings

from ..autograd.function import Op
from ..dtypes import is_float_array_dtype
from . import pointwise, softmaxes
from .activations_more import _sigmoid
from .common import device_type, normalize_dim, not_implemented

__all__ = ["prelu"]


class PreluKernel(Op):
    """x where x > 0, else weight * x (weight broadcast along the channel dim 1)."""

    @staticmethod
    def forward(ctx, x, w):
        if not is_float_array_dtype(x.dtype):
            raise not_implemented("prelu", x.dtype, device_type(ctx))
        shape = [1] * x.ndim
        if x.ndim >= 2:
            shape[1] = w.size
        wb = w.reshape(shape) if x.ndim else w.reshape(())
        ctx.save_for_backward(x, w)
        return ctx.xp.where(x > 0, x, wb * x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        xp = ctx.xp
        shape = [1] * x.ndim
        if x.ndim >= 2:
            shape[1] = w.size
        wb = w.reshape(shape) if x.ndim else w.reshape(())
        # d/dx = 1 where x > 0, else weight; d/dweight = x where x <= 0, summed per channel
        grad_x = xp.where(x > 0, g, wb * g)
        grad_w_full = xp.where(x > 0, xp.zeros_like(g), x * g)
        if w.size == 1:
            grad_w = grad_w_full.sum().reshape(w.shape)
        else:
            axes = (0,) + tuple(range(2, x.ndim))
            grad_w = grad_w_full.sum(axis=axes).reshape(w.shape)
        return grad_x, grad_w


class Glu(Op):
    """a * sigmoid(b), a and b the halves of the input along ``dim``."""

    @staticmethod
    def forward(ctx, x, dim):
        if not is_float_array_dtype(x.dtype):
            raise not_implemented("glu", x.dtype, device_type(ctx))
        ctx.dim = dim
        a, sig = Glu.halves(ctx, x)
        ctx.save_for_backward(a, sig, x)
        return a * sig

    recomputed_when_lifted = (0, 1)  # a and sigmoid(b), from x

    @staticmethod
    def halves(ctx, x):
        """(a, sigmoid(b)): the first half of x along dim and the sigmoid of the second."""
        a, b = ctx.xp.split(x, [x.shape[ctx.dim] // 2], axis=ctx.dim)
        return a, _sigmoid(ctx.xp, b).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        a, sig, x = ctx.saved_tensors
        if ctx.backend.lifted:  # a backward that builds a graph: from x
            a, sig = Glu.halves(ctx, x)
        # d/da = sigmoid(b); d/db = a sigmoid(b) (1 - sigmoid(b))
        return ctx.xp.concatenate([g * sig, g * a * sig * (1 - sig)], axis=ctx.dim), None


def prelu(input, weight):
    """x where x > 0, else weight * x, one weight per channel (dim 1) or one for all."""
    if weight.ndim > 1:
        raise RuntimeError("prelu: Expected `weight` to be a scalar or 1D tensor, but got: "
                           f"ndim = {weight.ndim}")
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() != 1 and weight.numel() != channels:
        raise RuntimeError("Mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {weight.numel()} and channel size = "
                           f"{channels}.")
    return PreluKernel.apply(input, weight)


def glu(input, dim=-1):
    """a * sigmoid(b), a and b the two halves of ``input`` along ``dim``."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    axis = normalize_dim(dim, input.ndim)
    if input.shape[axis] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {axis} is size "
                           f"{input.shape[axis]}")
    return Glu.apply(input, axis)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along ``dim``."""
    if dim is None:
        warnings.warn("Implicit dimension choice for softmin has been deprecated. Change the "
                      "call to include dim=X as an argument.", stacklevel=_stacklevel - 1)
        dim = 0 if input.ndim in (0, 1, 3) else 1
    return softmaxes.softmax(pointwise.neg(input), dim, dtype=dtype)
