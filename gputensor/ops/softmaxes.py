"""Numerically stable logsumexp, softmax and log_softmax."""

from __future__ import annotations

import math

import numpy as np

from .. import dtypes
from ..autograd.function import Op
from ..dtypes import is_float_array_dtype
from .common import normalize_dim
from .out import write_out
from .reduce import acc_dtype, expand_grad, reduce_axes, type_name

__all__ = ["logsumexp", "softmax", "log_softmax"]


def _shifted_max(xp, x, axes):
    """The max over ``axes`` (kept), 0 where it is not finite or there is nothing to reduce."""
    if x.size == 0:
        return xp.zeros(tuple(1 if i in axes else n for i, n in enumerate(x.shape)), x.dtype)
    peak = x.max(axis=axes, keepdims=True)
    return xp.where(xp.isfinite(peak), peak, 0).astype(x.dtype)


class Logsumexp(Op):
    """log(sum(exp(x))) over dims, shifted by the max so it cannot overflow."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        xp = ctx.xp
        out_dtype = x.dtype if is_float_array_dtype(x.dtype) else dtypes.get_default_dtype().numpy
        xa = x.astype(acc_dtype(out_dtype), copy=False)
        peak = _shifted_max(xp, xa, axes)
        total = xp.exp(xa - peak).sum(axis=axes, keepdims=True)
        empty = total == 0  # every element -inf, or none at all
        out = xp.log(xp.where(empty, 1, total)) + xp.where(empty, -math.inf, peak)
        if not keepdim and axes:
            out = out.squeeze(axes)
        out = xp.asarray(out).astype(out_dtype, copy=False)
        ctx.save_for_backward(x, out)
        ctx.axes, ctx.keepdim = axes, keepdim
        return out

    @staticmethod
    def backward(ctx, g):
        # d logsumexp = exp(x - logsumexp) = softmax(x)
        x, out = ctx.saved_tensors
        xp = ctx.xp
        out = expand_grad(xp, out, x.shape, ctx.axes, ctx.keepdim)
        return expand_grad(xp, g, x.shape, ctx.axes, ctx.keepdim) * xp.exp(x - out), None, None


def logsumexp(input, dim, keepdim=False, *, out=None):
    """log(sum(exp(input))) over the given dims, computed stably (ints give floats)."""
    if out is not None:
        if not out.dtype.is_floating_point:
            raise RuntimeError(f"logsumexp(): Expected floating point type for result tensor, "
                               f"but got: {type_name(out.dtype)}")
        return write_out("logsumexp", logsumexp(input, dim, keepdim), out)
    if dim is None:
        raise TypeError("logsumexp(): argument 'dim' (position 1) must be tuple of ints, not "
                        "NoneType")
    if (not isinstance(dim, (int, np.integer)) and len(tuple(dim)) == 0 and not keepdim
            and input.ndim and input.numel()):  # torch's behaviour for dim=()
        ones = ", ".join("1" * input.ndim)
        raise RuntimeError(f"output with shape [] doesn't match the broadcast shape [{ones}]")
    return Logsumexp.apply(input, reduce_axes(dim, input.ndim), keepdim)


class Softmax(Op):
    """exp(x) / sum(exp(x)) along one dim, shifted by the max."""

    log = False  # the backend's row kernel computes log_softmax when set

    @classmethod
    def forward(cls, ctx, x, axis, dtype):
        if dtype is not None:
            x = x.astype(dtype, copy=False)
        ctx.axis = axis
        ctx.last_dim = axis == x.ndim - 1  # the backend's row kernels may serve it
        if x.size == 0:
            ctx.last_dim = False
            ctx.save_for_backward(x)
            return x.copy()
        if ctx.last_dim:
            rows = ctx.backend.softmax_rows(x.reshape(-1, x.shape[-1]), None, cls.log)
            if rows is not None:
                out = rows.reshape(x.shape)
                ctx.save_for_backward(out)
                return out
        xa = x.astype(acc_dtype(x.dtype), copy=False)
        shifted = xa - xa.max(axis=axis, keepdims=True)
        out = ctx.xp.asarray(cls.normalize(ctx.xp, shifted, axis).astype(x.dtype, copy=False))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def normalize(xp, shifted, axis):
        """The result from inputs shifted so their max along ``axis`` is 0 (a new array,
        overwritten: two passes fewer over fresh memory)."""
        e = xp.exp(shifted, out=shifted) if shifted.ndim else xp.exp(shifted)  # (0-d: a scalar)
        e /= e.sum(axis=axis, keepdims=True)
        return e

    @classmethod
    def backward(cls, ctx, g):
        (y,) = ctx.saved_tensors
        if ctx.last_dim:  # the backend's row kernel (array_backward's derivative) if it has one
            n = y.shape[-1]
            grad = ctx.backend.softmax_rows_backward(g.reshape(-1, n), y.reshape(-1, n), None,
                                                     cls.log)
            if grad is not None:
                return grad.reshape(y.shape), None, None
        return cls.array_backward(ctx, g, y), None, None

    @staticmethod
    def array_backward(ctx, g, y):
        """The input gradient from the output ``y``, by array operations."""
        # d softmax: y * (g - sum(g * y))
        return y * (g - (g * y).sum(axis=ctx.axis, keepdims=True))


class LogSoftmax(Softmax):
    """x - logsumexp(x) along one dim."""

    log = True

    @staticmethod
    def normalize(xp, shifted, axis):
        """log softmax from inputs shifted so their max along ``axis`` is 0."""
        return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))

    @staticmethod
    def array_backward(ctx, g, y):
        """The input gradient from the output ``y``, by array operations."""
        # d log_softmax: g - softmax * sum(g)
        return g - ctx.xp.exp(y) * g.sum(axis=ctx.axis, keepdims=True)


def _softmax_like(op, kernel, input, dim, dtype):
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{kernel}(): argument 'dim' must be int, not {type(dim).__name__}")
    axis = normalize_dim(dim, input.ndim)
    result = dtype or input.dtype
    if not result.is_floating_point and input.numel():  # torch returns an empty one as it is
        last = "_lastdim" if axis == input.ndim - 1 or input.ndim == 0 else ""
        raise NotImplementedError(f'"{kernel}{last}_kernel_impl" not implemented for '
                                  f"'{type_name(result)}'")
    np_dtype = None if dtype is None else dtype.numpy
    return op.apply(input, axis if input.ndim else (), np_dtype)


def softmax(input, dim, dtype=None):
    """exp(input) / sum(exp(input)) along ``dim``, computed stably."""
    return _softmax_like(Softmax, "softmax", input, dim, dtype)


def log_softmax(input, dim, dtype=None):
    """input - logsumexp(input) along ``dim``, computed stably."""
    return _softmax_like(LogSoftmax, "log_softmax", input, dim, dtype)
