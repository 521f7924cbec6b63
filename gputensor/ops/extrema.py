"""Extrema: max, min (values and indices), amax, amin, argmax, argmin."""

from __future__ import annotations

import collections

import numpy as np

from .._tensor_core import TensorCore
from ..autograd.function import Op
from . import pointwise
from .common import normalize_dim
from .out import write_out
from .reduce import expand_grad, reduce_axes, type_name

__all__ = ["max", "min", "amax", "amin", "argmax", "argmin"]


def _return_type(name):
    """A (values, indices) named tuple printing like torch's ``torch.return_types.<name>``."""
    base = collections.namedtuple(name, ("values", "indices"))

    def torch_repr(self):
        return (f"gputensor.return_types.{name}(\nvalues={self.values!r},\n"
                f"indices={self.indices!r})")

    cls = type(name, (base,), {"__slots__": (), "__repr__": torch_repr, "__str__": torch_repr,
                               "__doc__": f"The (values, indices) result of ``{name}(dim)``.",
                               "__module__": "gputensor.return_types", "n_fields": 2})
    return cls


# max_out, min_out: the type of max(dim)'s and min(dim)'s result given ``out=``, as torch's
return_types = collections.namedtuple("return_types", ("max", "min", "max_out", "min_out"))(
    *(_return_type(name) for name in ("max", "min", "max_out", "min_out")))

_NO_DIM = object()


def _check_full_nonempty(input, name):
    if input.numel() == 0:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() "
                           "== 0. Specify the reduction dim with the 'dim' argument.")


def _check_dims_nonempty(input, axes, name):
    for axis in axes:
        if input.shape[axis] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")


def _ties_mask(xp, x, value):
    """Where x equals the extreme value (NaN counts as equal to a NaN result)."""
    return (x == value) | (xp.isnan(x) & xp.isnan(value))


class MaxAll(Op):
    """The largest element (``max()``); ties share the gradient evenly."""

    opname, variant = "Max", 1
    reduce_name = "max"

    @classmethod
    def forward(cls, ctx, x):
        out = ctx.xp.asarray(getattr(x, cls.reduce_name)())
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        # d max = 1 / (number of ties) at every maximal element, 0 elsewhere
        x, out = ctx.saved_tensors
        mask = _ties_mask(ctx.xp, x, out)
        return ctx.xp.where(mask, g / mask.sum(), 0)  # 0 elsewhere even for a nan g (torch's CPU)


class MinAll(MaxAll):
    """The smallest element (``min()``); ties share the gradient evenly."""

    opname = "Min"
    reduce_name = "min"


class Amax(Op):
    """The largest elements over dims; ties share the gradient evenly."""

    reduce_name = "max"

    @classmethod
    def forward(cls, ctx, x, axes, keepdim):
        out = ctx.xp.asarray(getattr(x, cls.reduce_name)(axis=axes, keepdims=keepdim))
        ctx.save_for_backward(x, out)
        ctx.axes, ctx.keepdim = axes, keepdim
        return out

    @staticmethod
    def backward(ctx, g):
        # d amax = 1 / (number of ties) at each maximal element of its slice
        x, out = ctx.saved_tensors
        xp = ctx.xp
        out = expand_grad(xp, out, x.shape, ctx.axes, ctx.keepdim)
        mask = x == out
        count = mask.sum(axis=ctx.axes, keepdims=True)
        g = expand_grad(xp, g, x.shape, ctx.axes, ctx.keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):  # as torch: a slice whose max
            return (g / count) * mask, None, None  # is nan (no element equal) gets nan


class Amin(Amax):
    """The smallest elements over dims; ties share the gradient evenly."""

    reduce_name = "min"


class MaxDim(Op):
    """Largest values along a dim and their indices (``max(dim)``)."""

    opname = "Max"
    arg_name = "argmax"

    @classmethod
    def forward(cls, ctx, x, axis, keepdim):
        xp = ctx.xp
        ctx.in_shape = x.shape
        if x.ndim == 0:
            return x.copy(), xp.zeros((), dtype=np.int64)
        index = xp.expand_dims(getattr(x, cls.arg_name)(axis=axis), axis)
        values = xp.take_along_axis(x, index, axis=axis)
        ctx.axis, ctx.keepdim = axis, keepdim
        ctx.index = index
        ctx.non_differentiable = (1,)
        if not keepdim:
            values, index = values.squeeze(axis), index.squeeze(axis)
        return values, index.astype(np.int64, copy=False)

    @staticmethod
    def backward(ctx, g, g_index):
        # d max(dim) = 1 at the returned index, 0 elsewhere
        xp = ctx.xp
        if not ctx.in_shape:
            return g, None, None
        if not ctx.keepdim:
            g = xp.expand_dims(g, ctx.axis)
        shape = [1] * len(ctx.in_shape)
        shape[ctx.axis] = ctx.in_shape[ctx.axis]
        positions = xp.arange(ctx.in_shape[ctx.axis]).reshape(shape)
        return xp.where(positions == ctx.index, g, 0).astype(g.dtype), None, None


class MinDim(MaxDim):
    """Smallest values along a dim and their indices (``min(dim)``)."""

    opname = "Min"
    arg_name = "argmin"


def _extreme(name, all_op, dim_op, pair_fn, input, dim, keepdim, other):
    if other is not None or isinstance(dim, TensorCore):
        return pair_fn(input, dim if other is None else other)
    if dim is _NO_DIM:
        _check_full_nonempty(input, name)
        return all_op.apply(input)
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    axis = normalize_dim(dim, input.ndim)
    if input.ndim:
        _check_dims_nonempty(input, (axis,), name)
    values, indices = dim_op.apply(input, axis, keepdim)
    return getattr(return_types, name)(values, indices)


def max(input, dim=_NO_DIM, keepdim=False, *, other=None, out=None):
    """The largest element; with ``dim``, (values, indices) along it; with a tensor, maximum."""
    if out is not None:
        result = write_out("max", max(input, dim, keepdim, other=other), out)
        return return_types.max_out(*result) if isinstance(result, tuple) else result
    return _extreme("max", MaxAll, MaxDim, pointwise.maximum, input, dim, keepdim, other)


def min(input, dim=_NO_DIM, keepdim=False, *, other=None, out=None):
    """The smallest element; with ``dim``, (values, indices) along it; with a tensor, minimum."""
    if out is not None:
        result = write_out("min", min(input, dim, keepdim, other=other), out)
        return return_types.min_out(*result) if isinstance(result, tuple) else result
    return _extreme("min", MinAll, MinDim, pointwise.minimum, input, dim, keepdim, other)


def _check_out_dtype(input, out):
    """amax's and amin's ``out`` must have the input's dtype."""
    if out.dtype is not input.dtype:
        raise RuntimeError(f"Expected the dtype for input and out to match, but got "
                           f"{type_name(input.dtype)} for input's dtype and "
                           f"{type_name(out.dtype)} for out's dtype.")


def _amax_amin(op, name, input, dim, keepdim):
    axes = reduce_axes(dim, input.ndim)
    given = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim or ())
    if not given:
        _check_full_nonempty(input, name)
    for d in given:  # torch names the dim as it was given
        if input.ndim and input.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    return op.apply(input, axes, keepdim)


def amax(input, dim=(), keepdim=False, *, out=None):
    """The largest elements over the given dims (all when ``dim`` is empty)."""
    if out is not None:
        _check_out_dtype(input, out)
        return write_out("amax", amax(input, dim, keepdim), out)
    return _amax_amin(Amax, "amax", input, dim, keepdim)


def amin(input, dim=(), keepdim=False, *, out=None):
    """The smallest elements over the given dims (all when ``dim`` is empty)."""
    if out is not None:
        _check_out_dtype(input, out)
        return write_out("amin", amin(input, dim, keepdim), out)
    return _amax_amin(Amin, "amin", input, dim, keepdim)


def _arg_extreme(name, input, dim, keepdim):
    if input.dtype.name == "bool":
        raise RuntimeError(f"{name}(): does not support bool input")
    if dim is not None and (not isinstance(dim, (int, np.integer)) or isinstance(dim, bool)):
        raise TypeError(f"{name}(): argument 'dim' (position 1) must be int, not "
                        f"{type(dim).__name__}")
    with input._on_device():
        x = input._data
        xp = input._backend.xp
        if dim is None:
            if input.numel() == 0:
                raise IndexError(f"{name}(): Expected reduction dim to be specified for "
                                 "input.numel() == 0.")
            out = xp.asarray(getattr(x.reshape(-1), name)())
            if keepdim:
                out = out.reshape((1,) * x.ndim)
        else:
            axis = normalize_dim(dim, x.ndim)
            if x.ndim == 0:
                out = xp.zeros((), dtype=np.int64)
            else:
                _check_dims_nonempty(input, (axis,), name)
                out = xp.asarray(getattr(x, name)(axis=axis, keepdims=keepdim))
        return input._wrap(out.astype(np.int64, copy=False))


def argmax(input, dim=None, keepdim=False, *, out=None):
    """Index of the largest element (of the flattened tensor when ``dim`` is None)."""
    if out is not None:
        return write_out("argmax", argmax(input, dim, keepdim), out)
    return _arg_extreme("argmax", input, dim, keepdim)


def argmin(input, dim=None, keepdim=False, *, out=None):
    """Index of the smallest element (of the flattened tensor when ``dim`` is None)."""
    if out is not None:
        return write_out("argmin", argmin(input, dim, keepdim), out)
    return _arg_extreme("argmin", input, dim, keepdim)
