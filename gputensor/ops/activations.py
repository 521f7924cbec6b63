"""Activation functions of torch.nn.functional: leaky_relu, elu, gelu, silu, dropout."""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import random_draws
from ..autograd.function import Op
from ..dtypes import is_float_array_dtype
from .common import type_name
from .creation import default_generator
from .inplace import apply_inplace
from .reduce import acc_dtype

__all__ = ["leaky_relu", "leaky_relu_", "elu", "elu_", "gelu", "silu", "dropout"]

_SQRT1_2 = 1 / math.sqrt(2)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_TANH_BETA = math.sqrt(2 / math.pi)
_TANH_KAPPA = 0.044715





def _check_float(kernel, x):
    if not is_float_array_dtype(x.dtype):
        raise NotImplementedError(f'"{kernel}" not implemented for \'{type_name(x.dtype)}\'')


def _number(name, arg, position, value):
    if not isinstance(value, numbers.Number) or isinstance(value, bool):
        raise TypeError(f"{name}(): argument '{arg}' (position {position}) must be Number, not "
                        f"{type(value).__name__}")
    return float(value)


class LeakyRelu(Op):
    """x where x > 0, else negative_slope * x."""

    @staticmethod
    def forward(ctx, x, slope):
        _check_float("leaky_relu_cpu", x)
        ctx.save_for_backward(x)
        ctx.slope = slope
        return ctx.xp.where(x > 0, x, x * x.dtype.type(slope))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        # d leaky_relu = 1 where x > 0, else negative_slope
        return ctx.xp.where(x > 0, g, g * g.dtype.type(ctx.slope)), None


class LeakyReluResult(LeakyRelu):
    """In-place leaky_relu: the derivative is read from the result."""

    opname, variant = "LeakyRelu", 1

    @staticmethod
    def forward(ctx, x, slope):
        y = LeakyRelu.forward(ctx, x, slope)
        ctx.save_for_backward(y)
        return y


class Elu(Op):
    """scale * x where x > 0, else scale * alpha * (exp(input_scale * x) - 1) (elu, selu, celu)."""

    @staticmethod
    def forward(ctx, x, alpha, scale=1.0, input_scale=1.0):
        _check_float("elu_cpu", x)
        xp = ctx.xp
        ctx.save_for_backward(x)
        ctx.coefs = (alpha, scale, input_scale)
        kind = x.dtype.type
        negative = kind(alpha * scale) * xp.expm1(x * kind(input_scale)) if input_scale != 1 \
            else kind(alpha * scale) * xp.expm1(x)
        positive = x if scale == 1 else x * kind(scale)
        return xp.where(x > 0, positive, negative).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        xp = ctx.xp
        alpha, scale, input_scale = ctx.coefs
        kind = x.dtype.type
        # d elu = scale where x > 0, else scale * alpha * input_scale * exp(input_scale * x)
        negative = g * (kind(alpha * scale * input_scale) * xp.exp(x * kind(input_scale)))
        return xp.where(x > 0, g * kind(scale), negative), None, None, None


class EluResult(Elu):
    """In-place elu: the derivative is read from the result."""

    opname, variant = "Elu", 1

    @staticmethod
    def forward(ctx, x, alpha, scale=1.0, input_scale=1.0):
        y = Elu.forward(ctx, x, alpha, scale, input_scale)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        alpha, scale, input_scale = ctx.coefs
        kind = y.dtype.type
        # d elu = scale where y > 0, else input_scale * (y + scale * alpha)
        return (ctx.xp.where(y > 0, g * kind(scale),
                             g * (kind(input_scale) * (y + kind(scale * alpha)))),
                None, None, None)


class Gelu(Op):
    """x * Phi(x), exact (erf) or with torch's tanh approximation."""

    @staticmethod
    def forward(ctx, x, approximate):
        _check_float("GeluKernelImpl", x)
        ctx.approximate = approximate
        y = ctx.backend.gelu(x, approximate)
        if y is not None:  # one fused kernel; its backward recomputes from x
            ctx.save_for_backward(x, None)
            return y
        saved = Gelu.inner_or_cdf(ctx, x)
        ctx.save_for_backward(x, saved)
        if approximate == "tanh":
            xa = x.astype(acc_dtype(x.dtype), copy=False)
            return (0.5 * xa * (1 + saved)).astype(x.dtype, copy=False)
        return (x * saved).astype(x.dtype, copy=False)

    recomputed_when_lifted = (1,)

    @staticmethod
    def inner_or_cdf(ctx, x):
        """tanh(inner) (the tanh approximation) or the normal cdf Phi(x), in float32 at least."""
        xp = ctx.xp
        if ctx.approximate == "tanh":
            xa = x.astype(acc_dtype(x.dtype), copy=False)
            return xp.tanh(_TANH_BETA * (xa + _TANH_KAPPA * xa * xa * xa))
        erf = ctx.backend.special_function("erf", (x * _SQRT1_2).astype(acc_dtype(x.dtype)))
        return (0.5 * (1 + erf)).astype(acc_dtype(x.dtype), copy=False)

    @staticmethod
    def backward(ctx, g):
        x, saved = ctx.saved_tensors
        xp = ctx.xp
        if saved is None or ctx.backend.lifted:  # the fused kernel's, or the formula's
            fused = None if ctx.backend.lifted else ctx.backend.gelu_backward(
                g, x, ctx.approximate)
            if fused is not None:  # the kernel's derivative is the formula's below
                return fused, None
            saved = Gelu.inner_or_cdf(ctx, x)
        x = x.astype(saved.dtype, copy=False)
        if ctx.approximate == "tanh":
            # d = 0.5 (1 + t) + 0.5 x (1 - t^2) beta (1 + 3 kappa x^2), t = tanh(inner)
            slope = (1 - saved * saved) * _TANH_BETA * (1 + 3 * _TANH_KAPPA * x * x)
            return g * (0.5 * (1 + saved) + 0.5 * x * slope), None
        # d gelu = Phi(x) + x phi(x)
        return g * (saved + x * (_INV_SQRT_2PI * xp.exp(-0.5 * x * x))), None


class Silu(Op):
    """x * sigmoid(x)."""

    @staticmethod
    def forward(ctx, x):
        _check_float("silu_cpu", x)
        sig = Silu.sigmoid(ctx.xp, x)
        ctx.save_for_backward(x, sig)
        return x * sig

    recomputed_when_lifted = (1,)

    @staticmethod
    def sigmoid(xp, x):
        """sigmoid(x) without overflow."""
        e = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, sig = ctx.saved_tensors
        if ctx.backend.lifted:
            sig = Silu.sigmoid(ctx.xp, x)
        # d silu = s (1 + x (1 - s)), s = sigmoid(x)
        return g * (sig * (1 + x * (1 - sig)))


class Dropout(Op):
    """x times a mask of 0 and 1/(1-p) (torch's CPU dropout is a multiplication)."""

    opname = "Mul"

    @staticmethod
    def forward(ctx, x, mask):
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, g):
        (mask,) = ctx.saved_tensors
        return g * mask, None  # d (x * mask) = mask


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x where x > 0, else negative_slope * x."""
    slope = _number("leaky_relu", "negative_slope", 2, negative_slope)
    if inplace:
        return leaky_relu_(input, slope)
    return LeakyRelu.apply(input, slope)


def leaky_relu_(input, negative_slope=0.01):
    """In-place leaky_relu."""
    slope = _number("leaky_relu_", "negative_slope", 2, negative_slope)
    return apply_inplace(input, LeakyReluResult.apply, slope)


def elu(input, alpha=1.0, inplace=False):
    """x where x > 0, else alpha * (exp(x) - 1)."""
    alpha = _number("elu", "alpha", 2, alpha)
    if inplace:
        return elu_(input, alpha)
    return Elu.apply(input, alpha)


def elu_(input, alpha=1.0):
    """In-place elu."""
    return apply_inplace(input, EluResult.apply, _number("elu_", "alpha", 2, alpha))


def gelu(input, approximate="none"):
    """x * Phi(x) (Phi the standard normal CDF); approximate='tanh' uses torch's tanh form."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return Gelu.apply(input, approximate)


def silu(input, inplace=False):
    """x * sigmoid(x)."""
    if inplace:
        return apply_inplace(input, Silu.apply)
    return Silu.apply(input)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the others by 1/(1-p) (when training)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0 or input.numel() == 0:
        return input
    data = input._data
    if not is_float_array_dtype(data.dtype):
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{type_name(data.dtype)}")
    keep = 1.0 - p
    # torch's CPU dropout: noise = empty_like(input).bernoulli_(1 - p).div_(1 - p); input * noise
    draws = random_draws.uniform_double(default_generator, input.numel())
    kept = random_draws.place(draws < keep, input.shape, data.strides)
    scale = data.dtype.type(1) / data.dtype.type(keep) if keep else data.dtype.type(0)
    mask = np.multiply(kept, scale, dtype=data.dtype)
    mask = input._backend.asarray(mask, index=input._device.index)
    if inplace:
        return apply_inplace(input, Dropout.apply, mask)
    return Dropout.apply(input, mask)
