"""Ops along one dim in order: cumsum, cumprod, cummax, cummin, logcumsumexp, diff, flip, roll."""

from __future__ import annotations

import numpy as np

from .. import dtypes
from ..autograd.function import Op
from ..autograd.grad_mode import is_grad_enabled
from . import inplace, pointwise, shape
from .common import normalize_dim, normalize_dims
from .extrema import _return_type
from .out import write_out
from .reduce import acc_dtype, type_name

__all__ = ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "diff", "flip", "fliplr",
           "flipud", "roll"]

_INT64 = np.dtype("int64")
_REQUIRED = object()  # the default of ``dim`` where torch requires one

return_types = type("return_types", (), {"cummax": _return_type("cummax"),
                                         "cummin": _return_type("cummin")})


def _last(xp, x, axis):
    """``x`` with ``axis`` moved last (a 0-d array becomes 1-d)."""
    return x.reshape(1) if x.ndim == 0 else xp.moveaxis(x, axis, -1)


def _back(xp, y, axis, shape):
    """Undo ``_last``."""
    return y.reshape(shape) if len(shape) == 0 else xp.moveaxis(y, -1, axis)


def _reverse_cumsum(xp, g, axis):
    """sum_{j >= k} g_j along ``axis``: the adjoint of cumsum."""
    return xp.flip(xp.cumsum(xp.flip(g, axis), axis=axis), axis)


def scan(xp, arrays, combine):
    """An inclusive scan along the last axis of same-shaped ``arrays``, in log2(n) steps.

    ``combine(earlier, later)`` merges two tuples of partial results (an associative rule) and
    returns the merged tuple for the later positions.
    """
    n, step = arrays[0].shape[-1], 1
    while step < n:
        merged = combine(tuple(a[..., :-step] for a in arrays),
                         tuple(a[..., step:] for a in arrays))
        arrays = tuple(xp.concatenate([a[..., :step], m], axis=-1)
                       for a, m in zip(arrays, merged))
        step *= 2
    return arrays


def _check_dtype_arg(input, dtype):
    """torch refuses an integer ``dtype=`` for a result that would need a gradient."""
    if dtype is None:
        return None
    if not dtype.is_floating_point and input.requires_grad and is_grad_enabled():
        raise RuntimeError(f"Autograd not support dtype: {type_name(dtype)}")
    return dtype.numpy


def _check_dim_given(name, dim):
    if dim is _REQUIRED:
        raise TypeError(f'{name}() missing 1 required positional arguments: "dim"')


def _result_dtype(x, dtype):
    """torch's cumsum/cumprod dtype: ``dtype`` if given, int64 for integers and bools."""
    if dtype is not None:
        return np.dtype(dtype)
    return _INT64 if x.dtype.kind in "biu" else x.dtype


class Cumsum(Op):
    """Running sum along a dim."""

    @staticmethod
    def forward(ctx, x, axis, dtype):
        ctx.axis = axis
        out_dtype = _result_dtype(x, dtype)
        x = x.astype(out_dtype, copy=False)
        if x.ndim == 0:
            return x.copy()
        return ctx.xp.cumsum(x, axis=axis, dtype=acc_dtype(out_dtype)).astype(out_dtype,
                                                                               copy=False)

    @staticmethod
    def backward(ctx, g):
        # d out_j / d x_k = 1 for j >= k: the gradient is a reversed running sum
        if g.ndim == 0:
            return g, None, None
        return _reverse_cumsum(ctx.xp, g, ctx.axis), None, None


def _running(name, op, input, dim, dtype, out):  # noqa: A002
    """A running op (cumsum, cumprod) of ``input`` along ``dim``, with torch's checks."""
    _check_dim_given(name, dim)
    np_dtype = _check_dtype_arg(input, dtype)
    return write_out(name, op.apply(input, normalize_dim(dim, input.ndim), np_dtype), out)


def cumsum(input, dim=_REQUIRED, *, dtype=None, out=None):  # noqa: A002
    """Running sum along ``dim`` (integers and bools give int64)."""
    return _running("cumsum", Cumsum, input, dim, dtype, out)


def cumsum_(self, dim, *, dtype=None):
    """In-place running sum along ``dim``."""
    return inplace.apply_inplace(self, cumsum, dim, dtype=dtype)


class Cumprod(Op):
    """Running product along a dim."""

    @staticmethod
    def forward(ctx, x, axis, dtype):
        out_dtype = _result_dtype(x, dtype)
        x = x.astype(out_dtype, copy=False)
        out = x.copy() if x.ndim == 0 else ctx.xp.cumprod(x, axis=axis).astype(out_dtype,
                                                                               copy=False)
        ctx.save_for_backward(x, out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, g):
        # d out_j / d x_k = prod_{i <= j, i != k} x_i for j >= k. Before the first zero this
        # is out_j / x_k; at the first zero, the running product with that zero taken as 1;
        # after it, 0.
        x, out = ctx.saved_tensors
        xp = ctx.xp
        if x.ndim == 0 or x.size <= 1 or x.shape[ctx.axis] == 1:  # as torch: g itself
            return g, None, None
        axis = ctx.axis
        zero = x == 0
        zeros_so_far = xp.cumsum(zero, axis=axis)
        before = zeros_so_far == 0
        first_zero = zero & (zeros_so_far == 1)
        safe_x = xp.where(before, x, xp.ones_like(x))
        grad_before = _reverse_cumsum(xp, g * out, axis) / safe_x
        skipped = xp.cumprod(xp.where(first_zero, xp.ones_like(x), x), axis=axis)
        grad_zero = _reverse_cumsum(xp, g * skipped, axis)
        grad = xp.where(before, grad_before, xp.where(first_zero, grad_zero, 0))
        return grad.astype(g.dtype, copy=False), None, None


def cumprod(input, dim=_REQUIRED, *, dtype=None, out=None):  # noqa: A002
    """Running product along ``dim`` (integers and bools give int64)."""
    return _running("cumprod", Cumprod, input, dim, dtype, out)


def cumprod_(self, dim, *, dtype=None):
    """In-place running product along ``dim``."""
    return inplace.apply_inplace(self, cumprod, dim, dtype=dtype)


def _max_rule(xp):
    def combine(earlier, later):
        (v1, i1), (v2, i2) = earlier, later
        take_later = (v2 >= v1) | (xp.isnan(v2) if v2.dtype.kind == "f" else False)
        return xp.where(take_later, v2, v1), xp.where(take_later, i2, i1)
    return combine


def _min_rule(xp):
    def combine(earlier, later):
        (v1, i1), (v2, i2) = earlier, later
        take_later = (v2 <= v1) | (xp.isnan(v2) if v2.dtype.kind == "f" else False)
        return xp.where(take_later, v2, v1), xp.where(take_later, i2, i1)
    return combine


class Cummax(Op):
    """Running maximum along a dim and where it was (the latest of ties; NaN propagates)."""

    rule = staticmethod(_max_rule)

    @classmethod
    def forward(cls, ctx, x, axis):
        xp = ctx.xp
        ctx.shape, ctx.axis = x.shape, axis
        ctx.non_differentiable = (1,)
        moved = _last(xp, x, axis)
        index = xp.broadcast_to(xp.arange(moved.shape[-1], dtype=_INT64), moved.shape)
        values, indices = scan(xp, (moved, index), cls.rule(xp))
        ctx.indices = indices
        return _back(xp, values, axis, x.shape), _back(xp, indices, axis, x.shape)

    @staticmethod
    def backward(ctx, g, _):
        # d out_j = d x at out_j's index: scatter-add g into the input positions
        xp = ctx.xp
        moved = _last(xp, g, ctx.axis)
        grad = xp.zeros(moved.shape, dtype=g.dtype)
        if grad.size == 0:
            return grad.reshape(ctx.shape), None
        rows = xp.arange(moved.size // max(moved.shape[-1], 1), dtype=_INT64)[:, None]
        width = moved.shape[-1]
        flat = grad.reshape(-1)
        xp.add.at(flat, (rows * width + ctx.indices.reshape(-1, width)).reshape(-1),
                  moved.reshape(-1))
        return _back(xp, flat.reshape(moved.shape), ctx.axis, ctx.shape), None


class Cummin(Cummax):
    """Running minimum along a dim and where it was (the latest of ties; NaN propagates)."""

    rule = staticmethod(_min_rule)


def _extreme(op, name, input, dim, out):
    if input.ndim == 0 and dim not in (-1, 0):
        raise IndexError(f"{name}(): Expected reduction dim -1 or 0 for scalar but got {dim}")
    # torch checks no dim on an empty tensor
    axis = 0 if input.numel() == 0 else normalize_dim(dim, input.ndim)
    values, indices = op.apply(input, axis)
    return write_out(name, getattr(return_types, name)(values, indices), out)


def cummax(input, dim, *, out=None):  # noqa: A002
    """(values, indices): the running maximum along ``dim`` and its position."""
    return _extreme(Cummax, "cummax", input, dim, out)


def cummin(input, dim, *, out=None):  # noqa: A002
    """(values, indices): the running minimum along ``dim`` and its position."""
    return _extreme(Cummin, "cummin", input, dim, out)


def _log_add(xp):
    def combine(earlier, later):
        return (xp.logaddexp(earlier[0], later[0]),)
    return combine


def _logcumsumexp_last(xp, x):
    """log(cumsum(exp(x))) along the last axis, without overflow or underflow."""
    return scan(xp, (x,), _log_add(xp))[0]


class Logcumsumexp(Op):
    """log(cumsum(exp(x))) along a dim."""

    liftable = False  # its log-space backward has NaN derivatives where g is 0

    @staticmethod
    def forward(ctx, x, axis):
        xp = ctx.xp
        out = _back(xp, _logcumsumexp_last(xp, _last(xp, x, axis)), axis, x.shape)
        ctx.save_for_backward(x, out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, g):
        # d out_j / d x_k = exp(x_k - out_j) for j >= k; summed in log space, the positive and
        # the negative parts of g apart
        x, out = ctx.saved_tensors
        xp = ctx.xp
        axis = ctx.axis
        x_last, out_last, g_last = (_last(xp, a, axis) for a in (x, out, g))
        log_g = xp.log(xp.abs(g_last))
        log_pos = xp.where(g_last > 0, log_g, -np.inf) - out_last
        log_neg = xp.where(g_last < 0, log_g, -np.inf) - out_last
        rev = [xp.flip(_logcumsumexp_last(xp, xp.flip(a, -1)), -1) for a in (log_pos, log_neg)]
        grad = xp.exp(rev[0] + x_last) - xp.exp(rev[1] + x_last)
        return _back(xp, grad.astype(g.dtype, copy=False), axis, x.shape), None


def logcumsumexp(input, dim, *, out=None):  # noqa: A002
    """log(cumsum(exp(input))) along ``dim``, computed stably (floating point only)."""
    axis = normalize_dim(dim, input.ndim)
    if not input.dtype.is_floating_point:
        raise NotImplementedError(
            f"\"logcumsumexp_out_{input.device.type}\" not implemented for "
            f"'{type_name(input.dtype)}'")
    return write_out("logcumsumexp", Logcumsumexp.apply(input, axis), out)


def diff(input, n=1, dim=-1, prepend=None, append=None, *, out=None):  # noqa: A002
    """The n-th forward difference along ``dim`` (prepend/append joined first)."""
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    for extra in (prepend, append):
        if extra is not None and extra.ndim != input.ndim:
            raise RuntimeError("diff expects prepend or append to be the same dimension as "
                               "input")
    axis = normalize_dim(dim, input.ndim)
    parts = [t for t in (prepend, input, append) if t is not None]
    result = shape.cat(parts, axis) if len(parts) > 1 else input
    if n == 0:
        result = pointwise.clone(result)
    for _ in range(n):
        length = result.shape[axis]
        if length == 0:
            break
        later = shape.narrow(result, axis, 1, length - 1)
        earlier = shape.narrow(result, axis, 0, length - 1)
        if result.dtype == dtypes.bool:
            result = pointwise.logical_xor(later, earlier)
        else:
            result = pointwise.sub(later, earlier)
    return write_out("sub", result, out)  # torch names the op it runs


class Flip(Op):
    """The elements in reverse order along some dims (a copy)."""

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return ctx.xp.flip(x, axes).copy() if axes else x.copy()

    @staticmethod
    def backward(ctx, g):
        return (ctx.xp.flip(g, ctx.axes) if ctx.axes else g), None  # flip back


def flip(input, dims):  # noqa: A002
    """The elements in reverse order along each dim in ``dims``."""
    if not isinstance(dims, (tuple, list)):
        raise TypeError("flip(): argument 'dims' (position 2) must be tuple of ints, not "
                        f"{type(dims).__name__}")
    axes = normalize_dims(dims, input.ndim) if dims else ()
    return Flip.apply(input, axes if input.ndim else ())


def flip_method(input, *dims):  # noqa: A002
    """``Tensor.flip``: the dims as one sequence or as several ints."""
    if not dims:
        raise TypeError('flip() missing 1 required positional arguments: "dims"')
    return flip(input, dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list))
                else list(dims))


def fliplr(input):  # noqa: A002
    """Columns in reverse order (dim 1)."""
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, [1])


def flipud(input):  # noqa: A002
    """Rows in reverse order (dim 0)."""
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, [0])


class Roll(Op):
    """Elements shifted cyclically along dims (over the flattened tensor when no dims)."""

    @staticmethod
    def forward(ctx, x, shifts, axes):
        ctx.shifts, ctx.axes, ctx.shape = shifts, axes, x.shape
        if axes is None:
            return ctx.xp.roll(x.reshape(-1), shifts[0]).reshape(x.shape)
        return ctx.xp.roll(x, shifts, axes)

    @staticmethod
    def backward(ctx, g):
        # roll back by the opposite shifts
        back = tuple(-s for s in ctx.shifts)
        if ctx.axes is None:
            return ctx.xp.roll(g.reshape(-1), back[0]).reshape(ctx.shape), None, None
        return ctx.xp.roll(g, back, ctx.axes), None, None


def roll(input, shifts, dims=None):  # noqa: A002
    """Shift elements cyclically by ``shifts`` along ``dims`` (flattened when no dims)."""
    shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    if dims is None or (isinstance(dims, (tuple, list)) and not dims):
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                               "dims:0")
        return Roll.apply(input, tuple(int(s) for s in shifts), None)
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims:{len(dims)}")
    if input.ndim == 0:
        raise IndexError(f"Dimension specified as {dims[0]} but tensor has no dimensions")
    if input.numel() == 0:  # torch checks no dim on an empty tensor
        return Roll.apply(input, (0,), None)
    axes = tuple(normalize_dim(d, input.ndim) for d in dims)
    return Roll.apply(input, tuple(int(s) for s in shifts), axes)
