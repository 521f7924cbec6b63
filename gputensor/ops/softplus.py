"""softplus(x) = log(1 + e^(beta x)) / beta, linear above a threshold (torch's formula)."""

from __future__ import annotations

from ..autograd.function import Op
from .common import as_array, device_type, float_dtype, not_implemented

__all__ = ["softplus"]


class Softplus(Op):
    """x where beta x > threshold, else log1p(exp(beta x)) / beta."""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        xp = ctx.xp
        if not x.dtype.kind == "f":
            raise not_implemented("softplus", x.dtype, device_type(ctx))
        x = x.astype(float_dtype(x.dtype), copy=False)
        scaled = x * x.dtype.type(beta)
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        smooth = xp.log1p(xp.exp(xp.minimum(scaled, threshold))) / x.dtype.type(beta)
        return as_array(xp, xp.where(scaled > threshold, x, smooth)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        xp = ctx.xp
        scaled = x * x.dtype.type(ctx.beta)
        z = xp.exp(xp.minimum(scaled, ctx.threshold))
        # d softplus = sigmoid(beta x) = z / (z + 1), 1 above the threshold
        return xp.where(scaled > ctx.threshold, g, g * z / (z + 1)), None, None


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * input)) / beta, elementwise (input where beta * input > threshold)."""
    return Softplus.apply(input, beta, threshold)
