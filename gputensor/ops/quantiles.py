"""Quantiles: quantile and nanquantile (q a number or a 1-D tensor, five interpolations)."""

from __future__ import annotations

import numpy as np

from .. import dtypes
from .._tensor_core import TensorCore
from ..autograd.function import Op
from .common import normalize_dim
from .out import write_out
from .sorting import sort_indices

__all__ = ["nanquantile", "quantile"]

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


class Quantile(Op):
    """Quantiles of rows: interpolation between the sorted values around each rank.

    torch computes quantile as a sequence of ops ending in a squeeze; this single op carries
    that last node's name.
    """

    opname, variant = "Squeeze", 4

    @staticmethod
    def forward(ctx, rows, q, interpolation, ignore_nan, out_shape):
        xp = ctx.xp
        n = rows.shape[-1]
        order = sort_indices(xp, rows, 1, False)
        ordered = xp.take_along_axis(rows, order, axis=1)
        nans = xp.isnan(rows).sum(axis=1, keepdims=True)  # (rows, 1)
        if ignore_nan:  # ranks among the non-NaN values (an all-NaN row: rank 0, its NaN)
            rank = xp.maximum(q[:, None, None] * (n - nans - 1), 0)
        else:  # a row with NaN: the last sorted value, a NaN
            rank = xp.where(nans > 0, n - 1, q[:, None, None] * (n - 1))
        if interpolation == "lower":
            rank = xp.floor(rank)
        elif interpolation == "higher":
            rank = xp.ceil(rank)
        elif interpolation == "nearest":
            rank = xp.round(rank)
        below = xp.clip(xp.floor(rank), 0, n - 1).astype(np.int64)
        above = xp.clip(xp.ceil(rank), 0, n - 1).astype(np.int64)
        weight = (rank - below) if interpolation != "midpoint" else xp.where(above > below,
                                                                              0.5, 0.0)
        weight = weight.astype(rows.dtype)
        low = xp.take_along_axis(xp.broadcast_to(ordered, rank.shape[:1] + ordered.shape),
                                 below, axis=2)
        high = xp.take_along_axis(xp.broadcast_to(ordered, rank.shape[:1] + ordered.shape),
                                  above, axis=2)
        result = (low + weight * (high - low)).astype(rows.dtype)
        ctx.order, ctx.below, ctx.above, ctx.weight = order, below, above, weight
        ctx.n, ctx.shape = n, result.shape
        return result.reshape(out_shape)

    @staticmethod
    def backward(ctx, g):
        # d quantile = (1 - w) at the value below the rank and w at the one above
        xp = ctx.xp
        g = g.reshape(ctx.shape)
        positions = xp.arange(ctx.n)
        grad_sorted = ((positions == ctx.below) * (1 - ctx.weight) * g
                       + (positions == ctx.above) * ctx.weight * g).sum(axis=0)
        inverse = xp.argsort(ctx.order, axis=1)
        return xp.take_along_axis(grad_sorted, inverse, axis=1), None, None, None, None


def _quantile(name, input, q, dim, keepdim, interpolation, out, ignore_nan):
    if not isinstance(input, TensorCore):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if input.dtype not in (dtypes.float32, dtypes.float64):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if isinstance(q, TensorCore):
        if q.ndim > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        if q.dtype != input.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        q_values, q_shape = q._data.reshape(-1), tuple(q.shape)
        xp = q._backend.xp
        if bool(xp.any((q_values < 0) | (q_values > 1))):  # one read back to the host
            raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    else:
        if not 0 <= q <= 1:
            raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {q}")
        q_values, q_shape = None, ()
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    if input.numel() == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    with input._on_device():
        if q_values is None:
            q_values = input._backend.asarray(np.asarray([q], dtype=input.dtype.numpy),
                                              index=input._device.index)
        if dim is None:
            rows = input.reshape(1, -1)
            kept = (1,) * input.ndim if keepdim else ()
        else:
            axis = normalize_dim(dim, input.ndim)
            moved = input.movedim(axis, -1) if input.ndim else input.reshape(1)
            rows = moved.reshape(-1, moved.shape[-1])
            kept = tuple(1 if i == axis else n for i, n in enumerate(input.shape)) if keepdim \
                else tuple(n for i, n in enumerate(input.shape) if i != axis)
        out_shape = q_shape + kept
        result = Quantile.apply(rows, q_values, interpolation, ignore_nan, out_shape)
    return write_out(name, result, out)


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear",  # noqa: A002
             out=None):
    """The ``q``-th quantiles (a number or a 1-D tensor) of all elements or along ``dim``."""
    return _quantile("quantile", input, q, dim, keepdim, interpolation, out, False)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear",  # noqa: A002
                out=None):
    """``quantile`` ignoring NaN (NaN only where every value is NaN)."""
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, out, True)
