"""More elementwise activations of torch.nn.functional: softplus, hardtanh, relu6, hardswish,
hardsigmoid, mish, selu, celu, logsigmoid, threshold, the shrinks, softsign and tanhshrink."""

from __future__ import annotations

import numpy as np

from ..autograd.function import Op
from ..dtypes import is_float_array_dtype
from . import pointwise
from .activations import Elu, EluResult, _number
from .common import device_type, not_implemented, type_name
from .inplace import apply_inplace

__all__ = ["selu", "selu_", "celu", "celu_", "threshold", "threshold_", "hardshrink"]

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class Activation(Op):
    """y = compute(xp, x, *params); backward is ``derivative(xp, g, x, *params)``.

    ``kernel`` (torch's kernel name) refuses inputs that are not floating point;
    ``copy_input`` (the in-place forms) saves a copy of x, which the write overwrites.
    """

    kernel = None
    copy_input = False

    @classmethod
    def forward(cls, ctx, x, *params):
        if cls.kernel is not None and not is_float_array_dtype(x.dtype):
            raise not_implemented(cls.kernel, x.dtype, device_type(ctx))
        ctx.save_for_backward(x.copy() if cls.copy_input else x)
        ctx.params = params
        return cls.compute(ctx.xp, x, *params).astype(x.dtype, copy=False)

    @classmethod
    def backward(cls, ctx, g):
        (x,) = ctx.saved_tensors
        return (cls.derivative(ctx.xp, g, x, *ctx.params),) + (None,) * len(ctx.params)


class Softplus(Activation):
    """log(1 + exp(beta x)) / beta, or x where beta x > threshold."""

    kernel = "softplus"

    @staticmethod
    def compute(xp, x, beta, threshold):
        scaled = x * x.dtype.type(beta)
        return xp.where(scaled > threshold, x, xp.log1p(xp.exp(scaled)) / x.dtype.type(beta))

    @staticmethod
    def derivative(xp, g, x, beta, threshold):
        # d softplus = z / (z + 1), z = exp(beta x); 1 above the threshold
        scaled = x * x.dtype.type(beta)
        z = xp.exp(scaled)
        return xp.where(scaled > threshold, g, g * z / (z + 1))


class Hardtanh(Activation):
    """x clamped to [min_val, max_val] (integers allowed)."""

    @staticmethod
    def compute(xp, x, low, high):
        return xp.minimum(xp.maximum(x, x.dtype.type(low)), x.dtype.type(high))

    @staticmethod
    def derivative(xp, g, x, low, high):
        # d hardtanh = 1 inside (min_val, max_val), else 0 (read from x or from the result)
        return xp.where((x > low) & (x < high), g, xp.zeros_like(g))


class HardtanhResult(Hardtanh):
    """In-place hardtanh: the same mask, read from the result."""

    opname = "Hardtanh"

    @classmethod
    def forward(cls, ctx, x, low, high):
        y = Hardtanh.compute(ctx.xp, x, low, high).astype(x.dtype, copy=False)
        ctx.save_for_backward(y)
        ctx.params = (low, high)
        return y


class Hardswish(Activation):
    """x * relu6(x + 3) / 6."""

    kernel = "hardswish"

    @staticmethod
    def compute(xp, x):
        return x * xp.minimum(xp.maximum(x + 3, 0), 6) / 6

    @staticmethod
    def derivative(xp, g, x):
        # d hardswish = 0 below -3, x / 3 + 1/2 up to 3, 1 above
        return xp.where(x < -3, xp.zeros_like(g), xp.where(x <= 3, g * (x / 3 + 0.5), g))


class HardswishCopy(Hardswish):
    """In-place hardswish (the input saved as a copy)."""

    opname, copy_input = "Hardswish", True


class Hardsigmoid(Activation):
    """relu6(x + 3) / 6."""

    kernel = "hardsigmoid"

    @staticmethod
    def compute(xp, x):
        return xp.minimum(xp.maximum(x + 3, 0), 6) / 6

    @staticmethod
    def derivative(xp, g, x):
        # d hardsigmoid = 1/6 inside (-3, 3), else 0
        return xp.where((x > -3) & (x < 3), g / 6, xp.zeros_like(g))


class HardsigmoidCopy(Hardsigmoid):
    """In-place hardsigmoid (the input saved as a copy)."""

    opname, copy_input = "Hardsigmoid", True


def _softplus_one(xp, x):
    """log(1 + exp(x)) without overflow."""
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


def _sigmoid(xp, x):
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


class Mish(Activation):
    """x * tanh(softplus(x))."""

    kernel = "mish"

    @staticmethod
    def compute(xp, x):
        return x * xp.tanh(_softplus_one(xp, x))

    @staticmethod
    def derivative(xp, g, x):
        # d mish = t + x s (1 - t^2), t = tanh(softplus(x)), s = sigmoid(x)
        t = xp.tanh(_softplus_one(xp, x))
        return g * (t + x * _sigmoid(xp, x) * (1 - t * t))


class MishCopy(Mish):
    """In-place mish (the input saved as a copy)."""

    opname, copy_input = "Mish", True


class LogSigmoid(Activation):
    """log(sigmoid(x)) = min(x, 0) - log(1 + exp(-|x|))."""

    kernel = "log_sigmoid"

    @staticmethod
    def compute(xp, x):
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    @staticmethod
    def derivative(xp, g, x):
        # d logsigmoid = 1 - sigmoid(x) = sigmoid(-x)
        return g * _sigmoid(xp, -x)


class Threshold(Activation):
    """x where x > threshold, else value (integers allowed)."""

    @staticmethod
    def compute(xp, x, threshold, value):
        return xp.where(x > threshold, x, x.dtype.type(value))

    @staticmethod
    def derivative(xp, g, x, threshold, value):
        # d threshold = 1 where x > threshold (in place: where the result is), else 0
        return xp.where(x > threshold, g, xp.zeros_like(g))


class ThresholdCopy(Threshold):
    """In-place threshold (the input saved as a copy, torch's second overload's name)."""

    opname, variant, copy_input = "Threshold", 1, True


class Softshrink(Activation):
    """x - lambd above lambd, x + lambd below -lambd, else 0."""

    kernel = "softshrink"

    @staticmethod
    def compute(xp, x, lambd):
        low = x.dtype.type(lambd)
        return xp.where(x > low, x - low, xp.where(x < -low, x + low, xp.zeros_like(x)))

    @staticmethod
    def derivative(xp, g, x, lambd):
        # d softshrink = 0 inside [-lambd, lambd], else 1
        return xp.where((x >= -lambd) & (x <= lambd), xp.zeros_like(g), g)


class Hardshrink(Activation):
    """0 inside [-lambd, lambd], else x."""

    kernel = "hardshrink"

    @staticmethod
    def compute(xp, x, lambd):
        return xp.where((x >= -lambd) & (x <= lambd), xp.zeros_like(x), x)

    derivative = Softshrink.derivative  # d hardshrink = 0 inside [-lambd, lambd], else 1


class Celu(Elu):
    """celu: elu with input_scale 1 / alpha, under torch's own node name."""


class CeluResult(EluResult):
    """In-place celu, from the result."""

    opname, variant = "Celu", 1


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, linear where beta x > threshold."""
    return Softplus.apply(input, _number("softplus", "beta", 2, beta),
                          _number("softplus", "threshold", 3, threshold))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clamped to [min_val, max_val]."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if inplace:
        return hardtanh_(input, min_val, max_val)
    return Hardtanh.apply(input, min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """In-place hardtanh."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return apply_inplace(input, HardtanhResult.apply, min_val, max_val)


def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def _maybe_inplace(input, inplace, op, copy_op):
    if inplace:
        return apply_inplace(input, copy_op.apply)
    return op.apply(input)


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6."""
    return _maybe_inplace(input, inplace, Hardswish, HardswishCopy)


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6."""
    return _maybe_inplace(input, inplace, Hardsigmoid, HardsigmoidCopy)


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    return _maybe_inplace(input, inplace, Mish, MishCopy)


def selu(input, inplace=False):
    """scale * elu(x, alpha) with the self-normalising constants."""
    if inplace:
        return selu_(input)
    return Elu.apply(input, SELU_ALPHA, SELU_SCALE, 1.0)


def selu_(input):
    """In-place selu."""
    return apply_inplace(input, EluResult.apply, SELU_ALPHA, SELU_SCALE, 1.0)


def _celu_alpha(alpha):
    alpha = float(alpha)
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return alpha


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    if inplace:
        return celu_(input, alpha)
    alpha = _celu_alpha(alpha)
    return Celu.apply(input, alpha, 1.0, 1.0 / alpha)


def celu_(input, alpha=1.0):
    """In-place celu."""
    alpha = _celu_alpha(alpha)
    return apply_inplace(input, CeluResult.apply, alpha, 1.0, 1.0 / alpha)


def logsigmoid(input):
    """log(sigmoid(x)), computed stably."""
    return LogSigmoid.apply(input)


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else value."""
    if inplace:
        return threshold_(input, threshold, value)
    return Threshold.apply(input, threshold, value)


def threshold_(input, threshold, value):
    """In-place threshold."""
    return apply_inplace(input, ThresholdCopy.apply, threshold, value)


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, else 0."""
    dt = input._data.dtype
    if is_float_array_dtype(dt) and not 0 <= lambd <= float(np.finfo(dt).max):
        limit = f"{float(np.finfo(dt).max):g}"
        raise RuntimeError(f"lambda must be in range [0, {limit}] for input dtype "
                           f"{type_name(dt)}, but found {lambd:g}")
    if not is_float_array_dtype(dt):
        raise NotImplementedError(f"\"softshrink_check\" not implemented for '{type_name(dt)}'")
    return Softshrink.apply(input, float(lambd))


def hardshrink(input, lambd=0.5):
    """0 inside [-lambd, lambd], else x."""
    return Hardshrink.apply(input, float(lambd))


def softsign(input):
    """x / (1 + |x|)."""
    return pointwise.div(input, pointwise.add(pointwise.abs(input), 1))


def tanhshrink(input):
    """x - tanh(x)."""
    return pointwise.sub(input, pointwise.tanh(input))
