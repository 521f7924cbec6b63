"""Reductions: sum, mean, prod, var, std, all, any; dim as int, negative int or tuple."""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import dtypes
from ..autograd.function import Op
from ..autograd.grad_mode import is_grad_enabled
from .common import normalize_dim, normalize_dims
from .out import write_out

__all__ = ["sum", "mean", "prod", "var", "std", "all", "any"]

_TYPE_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short",
               "int32": "Int", "int64": "Long", "float16": "Half", "float32": "Float",
               "bfloat16": "BFloat16", "float64": "Double"}
_INT64 = np.dtype("int64")
_FLOAT32 = np.dtype("float32")
_FLOAT64 = np.dtype("float64")


class _NoDim:
    """The default of ``dim`` where torch tells ``f()`` from ``f(dim=None)`` (grad_fn names)."""

    def __repr__(self):
        return "None"


NO_DIM = _NoDim()


def type_name(dt) -> str:
    """torch's ScalarType name of a NumPy dtype or gputensor dtype ('Float', 'Long', ...)."""
    return _TYPE_NAMES[dt.name if isinstance(dt, dtypes.dtype) else np.dtype(dt).name]


def reduce_axes(dim, ndim):
    """Normalized dims as NumPy axes; a 0-d tensor has nothing to reduce."""
    dims = normalize_dims(dim, ndim)
    return dims if ndim else ()


def reduced_count(shape, axes) -> int:
    """The number of elements that go into each reduced value."""
    return math.prod(shape[a] for a in axes)


def expand_grad(xp, g, in_shape, axes, keepdim):
    """Broadcast a reduced gradient (or result) back to the input shape."""
    if not keepdim and axes and g.ndim:  # (a 0-d gradient broadcasts as it is)
        g = xp.expand_dims(g, axes)
    return xp.broadcast_to(g, in_shape)


def acc_dtype(dt):
    """The dtype to accumulate in: float32 for float16 and bfloat16, else ``dt``."""
    return _FLOAT32 if dt == np.float16 or dt == dtypes.bfloat16.numpy else dt


def _int_to_long(dt):
    """torch's sum/prod result dtype: integer and bool inputs give int64."""
    return _INT64 if dt.kind in "biu" else dt


def _divide(xp, total, count):
    """total / count, NaN where count is 0 (mean of nothing), without NumPy warnings."""
    if count == 0:
        return xp.full_like(total, math.nan)
    return total / count


class Sum(Op):
    """Sum over all elements (``sum()``)."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        if dtype is None and (x.dtype == _FLOAT32 or x.dtype == _FLOAT64):  # the usual case
            return ctx.xp.asarray(x.sum(axis=axes, keepdims=keepdim))
        out_dtype = np.dtype(dtype) if dtype is not None else _int_to_long(x.dtype)
        x = x.astype(out_dtype, copy=False)
        total = x.astype(acc_dtype(out_dtype), copy=False).sum(axis=axes, keepdims=keepdim)
        return ctx.xp.asarray(total).astype(out_dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        # d sum = 1 for every element
        return expand_grad(ctx.xp, g, ctx.in_shape, ctx.axes, ctx.keepdim), None, None, None


class SumDim(Sum):
    """Sum over the given dims (``sum(dim)``)."""

    opname, variant = "Sum", 1


def _check_result_dtype(input, dtype):
    """torch refuses an integer ``dtype=`` for a result that would need a gradient."""
    if dtype is not None and not dtype.is_floating_point and input.requires_grad \
            and is_grad_enabled():
        raise RuntimeError(f"Autograd not support dtype: {type_name(dtype)}")
    return None if dtype is None else dtype.numpy


def sum(input, dim=NO_DIM, keepdim=False, *, dtype=None, out=None):
    """Sum of the elements, over all dims or the given ones (int, bool give int64)."""
    if out is not None:
        # computed in out's dtype when no dtype is given, as torch does
        return write_out("sum", sum(input, dim, keepdim, dtype=dtype or out.dtype), out)
    np_dtype = _check_result_dtype(input, dtype)
    if dim is NO_DIM:
        return Sum.apply(input, reduce_axes(None, input.ndim), False, np_dtype)
    return SumDim.apply(input, reduce_axes(dim, input.ndim), keepdim, np_dtype)


class Mean(Op):
    """Mean over all elements (``mean()``)."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        out_dtype = np.dtype(dtype) if dtype is not None else x.dtype
        ctx.count = reduced_count(x.shape, axes)
        total = x.astype(acc_dtype(out_dtype), copy=False).sum(axis=axes, keepdims=keepdim)
        out = _divide(ctx.xp, ctx.xp.asarray(total), ctx.count)
        return ctx.xp.asarray(out.astype(out_dtype, copy=False))  # 0-d: an array, no scalar

    @staticmethod
    def backward(ctx, g):
        # d mean = 1 / n for every element
        g = _divide(ctx.xp, g, ctx.count)
        return expand_grad(ctx.xp, g, ctx.in_shape, ctx.axes, ctx.keepdim), None, None, None


class MeanDim(Mean):
    """Mean over the given dims (``mean(dim)``)."""

    opname, variant = "Mean", 1


def mean(input, dim=NO_DIM, keepdim=False, *, dtype=None, out=None):
    """Mean of the elements (floating point tensors, or with a float ``dtype``)."""
    if out is not None:
        return write_out("mean", mean(input, dim, keepdim, dtype=dtype), out)
    if dtype is not None and not dtype.is_floating_point:
        raise RuntimeError("mean(): could not infer output dtype. Optional dtype must be either "
                           f"a floating point or complex dtype. Got: {type_name(dtype)}")
    if dtype is None and not input.dtype.is_floating_point:
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {type_name(input.dtype)}")
    np_dtype = None if dtype is None else dtype.numpy
    if dim is NO_DIM:
        return Mean.apply(input, reduce_axes(None, input.ndim), False, np_dtype)
    return MeanDim.apply(input, reduce_axes(dim, input.ndim), keepdim, np_dtype)


def _products_of_others(xp, x, axis):
    """For each element, the product of the other elements along ``axis`` (exact with zeros)."""
    y = xp.moveaxis(x, axis, -1)
    if y.shape[-1] == 0:
        return x
    ones = xp.ones(y.shape[:-1] + (1,), dtype=y.dtype)
    left = xp.concatenate([ones, xp.cumprod(y[..., :-1], axis=-1)], axis=-1)
    right = xp.cumprod(y[..., :0:-1], axis=-1)[..., ::-1]
    right = xp.concatenate([right, ones], axis=-1)
    return xp.moveaxis(left * right, -1, axis)


class Prod(Op):
    """Product of all elements (``prod()``)."""

    @staticmethod
    def forward(ctx, x, axis, keepdim, dtype):
        out_dtype = np.dtype(dtype) if dtype is not None else _int_to_long(x.dtype)
        x = x.astype(out_dtype, copy=False)
        with np.errstate(invalid="ignore"):  # inf * 0 is nan silently, as in torch
            result = ctx.xp.asarray(x.prod(axis=axis, keepdims=keepdim))
        ctx.save_for_backward(x, result)
        ctx.axis, ctx.keepdim = axis, keepdim
        return result

    @staticmethod
    def backward(ctx, g):
        # d prod / dx_i = product of the other elements: prod / x_i when no element is 0
        # (as torch, also for inf and nan), else computed without dividing by x_i
        x, result = ctx.saved_tensors
        xp = ctx.xp
        if x.ndim == 0:  # as torch: the gradient itself, whatever x is
            return g.reshape(()), None, None, None
        with np.errstate(invalid="ignore", divide="ignore"):
            if ctx.axis is None:
                others = _products_of_others(xp, x.reshape(-1), 0).reshape(x.shape)
                g = xp.broadcast_to(g.reshape(()), x.shape)
                result = result.reshape(())
            else:
                others = _products_of_others(xp, x, ctx.axis)
                g = expand_grad(xp, g, x.shape, (ctx.axis,), ctx.keepdim)
                if not ctx.keepdim:
                    result = xp.expand_dims(result, ctx.axis)
            quotient = (result / xp.where(x == 0, 1, x)).astype(x.dtype, copy=False)
            others = xp.where((x == 0).any(), others, quotient)
            return g * others, None, None, None


class ProdDim(Prod):
    """Product along one dim (``prod(dim)``)."""

    opname, variant = "Prod", 1


def prod(input, dim=NO_DIM, keepdim=False, *, dtype=None, out=None):
    """Product of the elements, over all of them or along one dim (int, bool give int64)."""
    if out is not None:
        # computed in out's dtype when no dtype is given, as torch does
        return write_out("prod", prod(input, dim, keepdim, dtype=dtype or out.dtype), out)
    np_dtype = _check_result_dtype(input, dtype)
    if dim is NO_DIM:
        return Prod.apply(input, None, False, np_dtype)
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}")
    axis = normalize_dim(dim, input.ndim)
    if input.ndim == 0:
        return ProdDim.apply(input, None, False, np_dtype)
    return ProdDim.apply(input, axis, keepdim, np_dtype)


class Var(Op):
    """Variance with a ``correction`` (Bessel's when 1)."""

    take_sqrt = False

    @classmethod
    def forward(cls, ctx, x, axes, correction, keepdim, full):
        xp = ctx.xp
        count = reduced_count(x.shape, axes)
        xa = x.astype(acc_dtype(x.dtype), copy=False)
        with np.errstate(invalid="ignore"):  # inf - inf is nan silently, as in torch
            centered = xa - _divide(xp, xa.sum(axis=axes, keepdims=True), count)
        if x.size:  # constant slices: exactly 0 as torch's Welford gives, not rounding noise
            high = xa.max(axis=axes, keepdims=True)
            constant = (high == xa.min(axis=axes, keepdims=True)) & xp.isfinite(high)
            centered = xp.where(constant, 0, centered).astype(centered.dtype, copy=False)
        squares = (centered * centered).sum(axis=axes, keepdims=keepdim)
        dof = count - correction
        if dof > 0:
            out = squares / dof
        else:  # torch: x / 0 with x >= 0, i.e. inf, or nan for 0 and nan
            out = xp.where(squares > 0, math.inf, math.nan).astype(squares.dtype)
        if cls.take_sqrt:
            out = xp.sqrt(out)
        out = xp.asarray(out).astype(x.dtype, copy=False)
        ctx.save_for_backward(out, x)
        ctx.centered, ctx.dof, ctx.axes, ctx.keepdim, ctx.full = \
            centered, dof, axes, keepdim, full
        return out

    recomputed_when_lifted = ("centered",)

    @staticmethod
    def _var_backward(ctx, g):
        # d var = 2 (x - mean) / (n - correction)
        xp, centered = ctx.xp, ctx.centered
        if ctx.backend.lifted:  # a backward that builds a graph: from x
            x = ctx.saved_tensors[1]
            centered = x - x.mean(axis=ctx.axes, keepdims=True)
        g = expand_grad(xp, g, centered.shape, ctx.axes, ctx.keepdim)
        if ctx.dof <= 0 and ctx.full:
            return g * xp.where(centered == 0, math.nan, math.inf)
        if ctx.dof == 0:  # 2 / 0 * g * (x - mean): inf with the sign, nan for 0
            product = g * centered
            return xp.where(product == 0, math.nan, xp.copysign(math.inf, product))
        return (2.0 / ctx.dof) * g * centered

    @staticmethod
    def backward(ctx, g):
        ctx.saved_tensors  # noqa: B018 - raises after backward freed the graph
        return Var._var_backward(ctx, g), None, None, None, None


class Std(Var):
    """Standard deviation: the square root of ``var``."""

    take_sqrt = True

    @staticmethod
    def backward(ctx, g):
        # d std = d var / (2 std); 0 where std is 0
        out = ctx.saved_tensors[0]
        xp = ctx.xp
        zero = out == 0
        grad = Var._var_backward(ctx, g / (2 * xp.where(zero, 1, out)))
        zero = expand_grad(xp, zero, grad.shape, ctx.axes, ctx.keepdim)
        return xp.where(zero, 0, grad).astype(grad.dtype), None, None, None, None


def _variance(op, name, input, dim, unbiased, keepdim, correction):
    if isinstance(dim, bool):  # var(False): the unbiased overload
        dim, unbiased = None, dim if unbiased is None else unbiased
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}() received an invalid combination of arguments - got both "
                        "'unbiased' and 'correction'")
    if not input.dtype.is_floating_point:
        raise RuntimeError("std and var only support floating point and complex dtypes")
    if correction is None:
        correction = 0 if unbiased is False else 1
    axes = reduce_axes(dim, input.ndim)
    if reduced_count(input.shape, axes) - correction <= 0:
        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the reduction factor (input numel divided by output numel).",
                      UserWarning, stacklevel=3)
    return op.apply(input, axes, correction, keepdim, dim is None or input.ndim == 0)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Variance over all elements or the given dims (unbiased unless told otherwise)."""
    if out is not None:
        return write_out("var", var(input, dim, unbiased, keepdim, correction=correction), out)
    return _variance(Var, "var", input, dim, unbiased, keepdim, correction)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Standard deviation over all elements or the given dims (unbiased by default)."""
    if out is not None:
        return write_out("std", std(input, dim, unbiased, keepdim, correction=correction), out)
    return _variance(Std, "std", input, dim, unbiased, keepdim, correction)


def _logical(input, dim, keepdim, reduce_name):
    with input._on_device():
        empty = dim is not None and not isinstance(dim, (int, np.integer)) and not tuple(dim)
        axes = () if empty else reduce_axes(dim, input.ndim)  # torch: dim=() reduces nothing
        nonzero = input._data != 0
        out = getattr(nonzero, reduce_name)(axis=axes, keepdims=keepdim)
        out = input._backend.xp.asarray(out)
        if input._data.dtype == np.uint8:
            out = out.astype(np.uint8)
        return input._wrap(out)


def all(input, dim=None, keepdim=False, *, out=None):
    """True where every element is nonzero (uint8 in, uint8 out; bool otherwise)."""
    if out is not None:
        return write_out("all", all(input, dim, keepdim), out)
    return _logical(input, dim, keepdim, "all")


def any(input, dim=None, keepdim=False, *, out=None):
    """True where some element is nonzero (uint8 in, uint8 out; bool otherwise)."""
    if out is not None:
        return write_out("any", any(input, dim, keepdim), out)
    return _logical(input, dim, keepdim, "any")
