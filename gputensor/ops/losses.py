"""Regression losses as fused ops (mse, l1, smooth_l1, huber) and the reduction helpers."""

from __future__ import annotations

import math
import warnings

from ..autograd.function import Op
from ..autograd.grad_mode import is_grad_enabled
from ..dtypes import is_float_array_dtype
from . import pointwise as pw
from . import reduce as rd
from .common import (
    as_array,
    check_broadcast,
    device_type,
    is_array,
    not_implemented,
    result_dtype,
    type_name,
)

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"]

_REDUCTIONS = ("none", "mean", "sum")
_LEGACY = "size_average and reduce args will be deprecated, please use reduction='{}' instead."


def legacy_reduction(size_average, reduce, emit_warning=True) -> str:
    """torch's reduction string for the deprecated ``size_average`` / ``reduce`` arguments."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        result = "mean"
    elif reduce:
        result = "sum"
    else:
        result = "none"
    if emit_warning:
        warnings.warn(_LEGACY.format(result), stacklevel=3)
    return result


def resolve_reduction(size_average, reduce, reduction) -> str:
    """The reduction to use: the legacy arguments win when given, as in torch."""
    if size_average is not None or reduce is not None:
        return legacy_reduction(size_average, reduce)
    return reduction


def check_reduction(reduction) -> str:
    """``reduction`` validated as torch's ``_Reduction.get_enum`` does."""
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' "
                      "instead.", stacklevel=3)
        return "mean"
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def reduce_loss(xp, loss, reduction, count=None):
    """Apply a reduction to elementwise losses; mean divides by ``count`` (default: size)."""
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return as_array(xp, total)
    count = loss.size if count is None else count
    if not is_array(count) and not count:  # an empty loss: torch's mean is nan
        return as_array(xp, total * math.nan).astype(loss.dtype, copy=False)
    # a count on the device is not read back (0 / 0 gives torch's nan when all is ignored)
    return as_array(xp, total / count).astype(loss.dtype, copy=False)


def grad_scale(g, reduction, count):
    """The incoming gradient as a per-element factor (mean divides by ``count``)."""
    return g / count if reduction == "mean" else g


def refuse_grad(function, name, tensor):
    """torch's error for a loss argument that must not require grad (weights)."""
    if tensor is not None and tensor.requires_grad and is_grad_enabled():
        raise RuntimeError(f"The function '{function}' is not differentiable with respect to "
                           f"argument '{name}'. This input cannot have requires_grad True.")


# ---- elementwise regression losses -------------------------------------------------------
class MseLoss(Op):
    """(x - y)^2, reduced; the subclasses change the elementwise loss."""

    kernel = "mse"

    @classmethod
    def forward(cls, ctx, x, y, reduction, param):
        xp = ctx.xp
        dt = cls.result_dtype(x, y)
        if not is_float_array_dtype(dt):
            cls.integer_error(ctx, dt, reduction)
        x, y = x.astype(dt, copy=False), y.astype(dt, copy=False)
        d = x - y
        ctx.save_for_backward(d, x, y)
        ctx.reduction, ctx.param = reduction, param
        loss = as_array(xp, cls.loss(xp, d, param))
        return reduce_loss(xp, loss, reduction)

    @staticmethod
    def result_dtype(x, y):
        """The dtype the loss is computed in."""
        return result_dtype(x, y)

    @classmethod
    def integer_error(cls, ctx, dt, reduction):
        """torch's error for integer operands."""
        raise not_implemented(cls.kernel, dt, device_type(ctx))

    recomputed_when_lifted = (0,)  # d = x - y

    @classmethod
    def backward(cls, ctx, g):
        d, x, y = ctx.saved_tensors
        if ctx.backend.lifted:
            d = x - y
        gd = grad_scale(g, ctx.reduction, d.size) * cls.derivative(ctx.xp, d, ctx.param)
        return gd, (-gd if ctx.needs_input_grad[1] else None), None, None

    @staticmethod
    def loss(xp, d, param):
        """The elementwise loss of a difference ``d``."""
        return d * d

    @staticmethod
    def derivative(xp, d, param):
        """d loss / d d."""
        return 2 * d  # d (x - y)^2 = 2 (x - y)


class L1Loss(MseLoss):
    """|x - y| (torch names its node after the reduction: Mean, Sum or Abs)."""

    @classmethod
    def integer_error(cls, ctx, dt, reduction):
        """Integers work for sum and none (torch's mean refuses them)."""
        if reduction == "mean":
            raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either "
                               f"a floating point or complex dtype. Got: {type_name(dt)}")

    @staticmethod
    def loss(xp, d, param):
        """|d|."""
        return xp.abs(d)

    @staticmethod
    def derivative(xp, d, param):
        """sign(d), 0 at nan as torch's."""
        return ((d > 0).astype(d.dtype) - (d < 0))  # d |x - y| = sign(x - y)


class L1Mean(L1Loss):
    """l1_loss with reduction='mean'."""

    opname = "Mean"


class L1Sum(L1Loss):
    """l1_loss with reduction='sum'."""

    opname = "Sum"


class L1None(L1Loss):
    """l1_loss with reduction='none'."""

    opname = "Abs"


class SmoothL1Loss(MseLoss):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta."""

    kernel = "smooth_l1"

    @staticmethod
    def loss(xp, d, beta):
        """The smooth L1 loss of ``d``."""
        a = xp.abs(d)
        return xp.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta)

    @staticmethod
    def derivative(xp, d, beta):
        """d / beta inside (-beta, beta), else sign(d)."""
        return xp.where(xp.abs(d) < beta, d / beta, xp.sign(d))


class HuberLoss(MseLoss):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta)."""

    kernel = "huber"

    @staticmethod
    def result_dtype(x, y):
        """torch's huber_loss keeps a float input's dtype and refuses an integer input."""
        dt = result_dtype(x, y)
        if is_float_array_dtype(x.dtype) or not is_float_array_dtype(dt):
            return x.dtype if is_float_array_dtype(x.dtype) else dt
        raise RuntimeError(f"result type {type_name(dt)} can't be cast to the desired output "
                           f"type {type_name(x.dtype)}")

    @staticmethod
    def loss(xp, d, delta):
        """The Huber loss of ``d``."""
        a = xp.abs(d)
        return xp.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))

    @staticmethod
    def derivative(xp, d, delta):
        """d inside (-delta, delta), else delta sign(d)."""
        return xp.where(xp.abs(d) < delta, d, delta * xp.sign(d))


def _warn_size(input, target):
    if input.shape != target.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size "
                      f"({input.shape}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", stacklevel=3)
    check_broadcast(tuple(input.shape), tuple(target.shape))


def _weighted(elementwise, input, target, weight, reduction, mean_by_weight):
    """torch's composite weighted form: loss * weight, mean dividing by sum(weight) or size."""
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = pw.mul(elementwise(input, target), weight)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return rd.sum(loss)
    if reduction == "mean":
        return pw.div(rd.sum(loss), rd.sum(weight)) if mean_by_weight else rd.mean(loss)
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', "
                     "'sum'.")


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error (reduction 'mean', 'sum' or 'none'; optional elementwise weight)."""
    _warn_size(input, target)
    reduction = resolve_reduction(size_average, reduce, reduction)
    if weight is not None:
        return _weighted(lambda a, b: MseLoss.apply(a, b, "none", None), input, target, weight,
                         reduction, True)
    return MseLoss.apply(input, target, check_reduction(reduction), None)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error (reduction 'mean', 'sum' or 'none'; optional elementwise weight)."""
    _warn_size(input, target)
    reduction = resolve_reduction(size_average, reduce, reduction)
    if weight is not None:
        return _weighted(lambda a, b: L1None.apply(a, b, "none", None), input, target, weight,
                         reduction, True)
    reduction = check_reduction(reduction)
    op = {"mean": L1Mean, "sum": L1Sum, "none": L1None}[reduction]
    return op.apply(input, target, reduction, None)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Squared error below ``beta``, absolute error above (l1_loss when beta is 0)."""
    _warn_size(input, target)
    reduction = resolve_reduction(size_average, reduce, reduction)
    if beta == 0.0:
        return l1_loss(input, target, reduction=reduction)
    reduction = check_reduction(reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    return SmoothL1Loss.apply(input, target, reduction, float(beta))


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Squared error below ``delta``, delta-scaled absolute error above."""
    _warn_size(input, target)
    if weight is None:
        reduction = check_reduction(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    if weight is not None:
        return _weighted(lambda a, b: HuberLoss.apply(a, b, "none", float(delta)), input, target,
                         weight, reduction, False)
    return HuberLoss.apply(input, target, reduction, float(delta))
