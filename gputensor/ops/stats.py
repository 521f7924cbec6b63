"""Statistics: median, nanmedian, mode, nansum, nanmean, std_mean, var_mean, aminmax
(quantiles: quantiles.py)."""

from __future__ import annotations

import collections
import math

import numpy as np

from ..autograd.function import Op
from . import pointwise, reduce
from .common import normalize_dim, type_name
from .extrema import _return_type
from .out import write_out
from .reduce import Var, expand_grad, reduce_axes, reduced_count
from .sorting import SelectAlongDim, sort_indices

__all__ = ["aminmax", "median", "mode", "nanmean", "nanmedian", "nansum", "std_mean",
           "var_mean"]

median_type = _return_type("median")
nanmedian_type = _return_type("nanmedian")
mode_type = _return_type("mode")
_aminmax_base = collections.namedtuple("aminmax", ("min", "max"))


class aminmax_type(_aminmax_base):  # noqa: N801 - torch's name: torch.return_types.aminmax
    """The (min, max) result of ``aminmax``."""

    __slots__ = ()
    __module__ = "gputensor.return_types"

    def __repr__(self):
        return f"gputensor.return_types.aminmax(\nmin={self.min!r},\nmax={self.max!r})"

    __str__ = __repr__


# ---- median, nanmedian, mode ------------------------------------------------------------------
def _median_position(xp, x, axis, ignore_nan):
    """The position, in ascending order along ``axis``, of the (lower) median; for ``median``
    the first NaN where there is one (NaN sorts last)."""
    n = x.shape[axis]
    if x.dtype.kind != "f":
        return xp.full(x.shape[:axis] + (1,) + x.shape[axis + 1:], (n - 1) // 2, np.int64)
    nans = xp.isnan(x).sum(axis=axis, keepdims=True)
    if ignore_nan:
        return xp.maximum((n - nans - 1) // 2, 0)
    return xp.where(nans > 0, n - nans, (n - 1) // 2)


class MedianDim(SelectAlongDim):
    """The median along a dim and its index."""

    opname, variant = "Median", 1
    ignore_nan = False

    @classmethod
    def forward(cls, ctx, x, axis, keepdim):
        xp = ctx.xp
        ctx.in_shape, ctx.axis, ctx.extra_args = x.shape, axis, 2
        ctx.non_differentiable = (1,)
        if x.ndim == 0:
            return x.copy(), xp.zeros((), dtype=np.int64)
        order = sort_indices(xp, x, axis, False)
        position = _median_position(xp, x, axis, cls.ignore_nan)
        index = xp.take_along_axis(order, position, axis=axis)
        ctx.index = index
        values = xp.take_along_axis(x, index, axis=axis)
        if not keepdim:
            values, index = values.squeeze(axis), index.squeeze(axis)
        return values, index


class NanmedianDim(MedianDim):
    """The median of the non-NaN values along a dim and its index."""

    opname = "Nanmedian"
    ignore_nan = True


class MedianAll(Op):
    """The lower median of all elements; the gradient is shared by the elements equal to it."""

    opname = "Median"
    ignore_nan = False

    @classmethod
    def forward(cls, ctx, x):
        xp = ctx.xp
        flat = x.reshape(-1)
        if flat.size == 0:
            out = xp.full((), math.nan, dtype=x.dtype)
        else:
            order = sort_indices(xp, flat, 0, False)
            position = _median_position(xp, flat, 0, cls.ignore_nan)
            out = flat[order[position]].reshape(())
        ctx.x, ctx.out = x, out
        return out

    @staticmethod
    def backward(ctx, g):
        # d median = g shared evenly by the elements equal to the median
        xp, x, out = ctx.xp, ctx.x, ctx.out
        hit = (x == out) | (xp.isnan(x) & xp.isnan(out))
        return g * hit / xp.maximum(hit.sum(), 1)


class NanmedianAll(MedianAll):
    """The lower median of the non-NaN elements."""

    opname = "Nanmedian"
    ignore_nan = True


def _check_reduction(input, dim, name):
    axis = normalize_dim(dim, input.ndim)
    if input.ndim and input.shape[axis] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
    return axis


def _median(input, dim, keepdim, out, name, all_op, dim_op, result_type):
    if dim is None:
        return write_out(name, all_op.apply(input), out)
    axis = _check_reduction(input, dim, name)
    values, indices = dim_op.apply(input, axis, bool(keepdim))
    return write_out(name, result_type(values, indices), out)


def median(input, dim=None, keepdim=False, *, out=None):  # noqa: A002
    """The lower median of all elements, or (values, indices) of the medians along ``dim``."""
    return _median(input, dim, keepdim, out, "median", MedianAll, MedianDim, median_type)


def nanmedian(input, dim=None, keepdim=False, *, out=None):  # noqa: A002
    """``median`` ignoring NaN (NaN only where every value is NaN)."""
    return _median(input, dim, keepdim, out, "nanmedian", NanmedianAll, NanmedianDim,
                   nanmedian_type)


class Mode(SelectAlongDim):
    """The most frequent value along a dim (the smallest of ties) and its last index."""

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        xp = ctx.xp
        ctx.in_shape, ctx.axis, ctx.extra_args = x.shape, axis, 2
        ctx.non_differentiable = (1,)
        if x.ndim == 0:
            return x.copy(), xp.zeros((), dtype=np.int64)
        moved = xp.moveaxis(x, axis, -1)
        ordered = xp.sort(moved, axis=-1)
        counts = (ordered[..., :, None] == ordered[..., None, :]).sum(axis=-1)
        first = xp.argmax(counts, axis=-1)[..., None]  # the smallest of the most frequent
        value = xp.take_along_axis(ordered, first, axis=-1)
        n = moved.shape[-1]
        last = n - 1 - xp.argmax(xp.flip(moved == value, -1), axis=-1)[..., None]
        index = xp.moveaxis(last.astype(np.int64), -1, axis)
        ctx.index = index
        values = xp.take_along_axis(x, index, axis=axis)
        if not keepdim:
            values, index = values.squeeze(axis), index.squeeze(axis)
        return values, index


def mode(input, dim=-1, keepdim=False, *, out=None):  # noqa: A002
    """(values, indices): the most frequent value along ``dim`` and where it last occurs."""
    axis = _check_reduction(input, dim, "mode")
    values, indices = Mode.apply(input, axis, bool(keepdim))
    return write_out("mode", mode_type(values, indices), out)


# ---- NaN-ignoring sums and means ----------------------------------------------------------------
class Nansum(Op):
    """The sum with NaN counted as zero."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        xp = ctx.xp
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        ctx.nan = xp.isnan(x) if x.dtype.kind == "f" else None
        clean = x if ctx.nan is None else xp.where(ctx.nan, 0, x)
        return xp.asarray(clean.sum(axis=axes, keepdims=keepdim, dtype=dtype))

    @staticmethod
    def backward(ctx, g):
        # d nansum = 1 where x is not NaN (a product, as torch: inf * 0 is NaN)
        g = expand_grad(ctx.xp, g, ctx.in_shape, ctx.axes, ctx.keepdim)
        g = ctx.xp.broadcast_to(g, ctx.in_shape)
        return (g if ctx.nan is None else g * ~ctx.nan), None, None, None


def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):  # noqa: A002
    """The sum over all elements or the given dims, NaN counted as zero."""
    axes = reduce_axes(dim, input.ndim)
    if dtype is not None:
        result_dtype = dtype.numpy
    elif input.dtype.is_floating_point:
        result_dtype = input.dtype.numpy
    else:
        result_dtype = np.int64
    return write_out("nansum", Nansum.apply(input, axes, bool(keepdim), result_dtype), out)


def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):  # noqa: A002
    """The mean of the non-NaN elements over all elements or the given dims."""
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype "
                           f"but got {type_name(input.dtype)}")
    count = reduce.sum(pointwise.logical_not(pointwise.isnan(input)), dim, keepdim)
    result = pointwise.div(nansum(input, dim, keepdim, dtype=dtype), count)
    return write_out("nanmean", result, out)


# ---- std_mean, var_mean ------------------------------------------------------------------------
class VarMean(Var):
    """The variance and the mean together."""

    @classmethod
    def forward(cls, ctx, x, axes, correction, keepdim, full):
        spread = Var.forward.__func__(cls, ctx, x, axes, correction, keepdim, full)
        count = reduced_count(x.shape, axes)
        mean = ctx.xp.asarray(x.mean(axis=axes, keepdims=keepdim) if count else
                              ctx.xp.full(spread.shape, math.nan)).astype(x.dtype)
        ctx.count, ctx.in_shape = count, x.shape
        return spread, mean

    @classmethod
    def backward(cls, ctx, g_spread, g_mean):
        # d mean = 1 / n on each element; d var and d std as in var and std
        out = ctx.saved_tensors[0]
        grad = cls._spread_backward(ctx, g_spread, out)
        g_mean = expand_grad(ctx.xp, g_mean, ctx.in_shape, ctx.axes, ctx.keepdim)
        return grad + g_mean / max(ctx.count, 1), None, None, None, None

    @classmethod
    def _spread_backward(cls, ctx, g, out):
        # d var = 2 (x - mean) / (n - correction)
        return Var._var_backward(ctx, g)


class StdMean(VarMean):
    """The standard deviation and the mean together."""

    take_sqrt = True

    @classmethod
    def _spread_backward(cls, ctx, g, out):
        # d std = d var / (2 std); 0 where std is 0
        xp = ctx.xp
        zero = out == 0
        grad = Var._var_backward(ctx, g / (2 * xp.where(zero, 1, out)))
        zero = expand_grad(xp, zero, grad.shape, ctx.axes, ctx.keepdim)
        return xp.where(zero, 0, grad)


def _spread_mean(op, name, input, dim, unbiased, keepdim, correction):
    if isinstance(dim, bool):  # std_mean(x, False): the unbiased overload
        dim, unbiased = None, dim if unbiased is None else unbiased
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"{name} only support floating point and complex dtypes")
    if correction is None:
        correction = 0 if unbiased is False else 1
    axes = reduce_axes(dim, input.ndim)
    spread, mean = op.apply(input, axes, correction, bool(keepdim),
                            dim is None or input.ndim == 0)
    return spread, mean


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    """(variance, mean) over all elements or the given dims."""
    return _spread_mean(VarMean, "var_mean", input, dim, unbiased, keepdim, correction)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    """(standard deviation, mean) over all elements or the given dims."""
    return _spread_mean(StdMean, "std_mean", input, dim, unbiased, keepdim, correction)


# ---- aminmax -------------------------------------------------------------------------------------
class Aminmax(Op):
    """The smallest and the largest element together; ties share the gradient evenly."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        low = ctx.xp.asarray(x.min(axis=axes, keepdims=keepdim))
        high = ctx.xp.asarray(x.max(axis=axes, keepdims=keepdim))
        ctx.x, ctx.low, ctx.high, ctx.axes, ctx.keepdim = x, low, high, axes, keepdim
        return low, high

    @staticmethod
    def backward(ctx, g_low, g_high):
        # d amin = g / (number of minima) at each minimum, likewise for amax
        xp, x = ctx.xp, ctx.x
        grad = xp.zeros(x.shape, dtype=g_low.dtype)
        for g, value in ((g_low, ctx.low), (g_high, ctx.high)):
            value = expand_grad(xp, value, x.shape, ctx.axes, ctx.keepdim)
            hit = x == value
            count = hit.sum(axis=ctx.axes, keepdims=True)
            grad = grad + hit * expand_grad(xp, g, x.shape, ctx.axes, ctx.keepdim) / count
        return grad, None, None


def aminmax(input, *, dim=None, keepdim=False, out=None):  # noqa: A002
    """(min, max) over all elements or along ``dim``."""
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                               "operation has no identity.")
        axes = tuple(range(input.ndim))
    else:
        axis = normalize_dim(dim, input.ndim)
        if input.ndim and input.shape[axis] == 0:
            raise IndexError(f"aminmax: Expected reduction dim {axis} to have non-zero size.")
        axes = (axis,) if input.ndim else ()
    low, high = Aminmax.apply(input, axes, bool(keepdim))
    return write_out("aminmax", aminmax_type(low, high), out)
