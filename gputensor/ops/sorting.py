"""Sorting and selection along a dim: sort, argsort, msort, topk, kthvalue."""

from __future__ import annotations

import math

import numpy as np

from .._tensor_core import normalize_dim
from ..autograd.function import Op
from .extrema import _return_type
from .out import write_out

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue"]

sort_type = _return_type("sort")
topk_type = _return_type("topk")
kthvalue_type = _return_type("kthvalue")


def sort_indices(xp, x, axis, descending):
    """Stable argsort along ``axis`` (int64); descending keeps equal elements in input order.

    NaN sorts as the largest value, as in torch.
    """
    if not descending:
        return xp.argsort(x, axis=axis, kind="stable").astype(np.int64, copy=False)
    flipped = xp.argsort(xp.flip(x, axis), axis=axis, kind="stable")
    return (x.shape[axis] - 1) - xp.flip(flipped, axis).astype(np.int64, copy=False)


def scatter_along_axis(xp, values, index, axis, shape):
    """Zeros of ``shape`` with ``values`` written at ``index`` along ``axis`` (no repeats)."""
    size = shape[axis]
    moved_shape = shape[:axis] + shape[axis + 1:] + (size,)
    rows = math.prod(moved_shape[:-1])
    picked = index.shape[axis]
    flat_index = xp.moveaxis(index, axis, -1).reshape(rows, picked)
    flat_values = xp.moveaxis(values, axis, -1).reshape(rows, picked)
    out = xp.zeros((rows, size), dtype=values.dtype)
    out[xp.arange(rows)[:, None], flat_index] = flat_values
    return xp.moveaxis(out.reshape(moved_shape), -1, axis)


class SelectAlongDim(Op):
    """Values picked along a dim at computed indices; the gradient goes back to them."""

    @staticmethod
    def backward(ctx, g, g_index):
        # d values = 1 at each picked position, 0 elsewhere
        if not ctx.in_shape:
            return (g,) + (None,) * ctx.extra_args
        index = ctx.index
        if g.ndim < index.ndim:  # kthvalue without keepdim
            g = ctx.xp.expand_dims(g, ctx.axis)
        grad = scatter_along_axis(ctx.xp, g, index, ctx.axis, ctx.in_shape)
        return (grad,) + (None,) * ctx.extra_args


class Sort(SelectAlongDim):
    """Sorted values along a dim and the indices they came from."""

    @staticmethod
    def forward(ctx, x, axis, descending):
        xp = ctx.xp
        ctx.in_shape, ctx.axis, ctx.extra_args = x.shape, axis, 2
        ctx.non_differentiable = (1,)
        if x.ndim == 0:
            return x.copy(), xp.zeros((), dtype=np.int64)
        index = sort_indices(xp, x, axis, descending)
        ctx.index = index
        return xp.take_along_axis(x, index, axis=axis), index


class SortStable(Sort):
    """``sort`` called with ``stable=`` (torch's SortBackward1)."""

    opname, variant = "Sort", 1


class Topk(SelectAlongDim):
    """The k largest (or smallest) values along a dim and their indices."""

    @staticmethod
    def forward(ctx, x, k, axis, largest):
        xp = ctx.xp
        ctx.in_shape, ctx.axis, ctx.extra_args = x.shape, axis, 3
        ctx.non_differentiable = (1,)
        if x.ndim == 0:
            return x.copy(), xp.zeros((), dtype=np.int64)
        index = xp.take(sort_indices(xp, x, axis, largest), xp.arange(k), axis=axis)
        ctx.index = index
        return xp.take_along_axis(x, index, axis=axis), index


class Kthvalue(SelectAlongDim):
    """The k-th smallest value along a dim and its index."""

    @staticmethod
    def forward(ctx, x, k, axis, keepdim):
        xp = ctx.xp
        ctx.in_shape, ctx.axis, ctx.extra_args = x.shape, axis, 3
        ctx.non_differentiable = (1,)
        if x.ndim == 0:
            return x.copy(), xp.zeros((), dtype=np.int64)
        index = xp.take(sort_indices(xp, x, axis, False), xp.arange(k - 1, k), axis=axis)
        ctx.index = index
        values = xp.take_along_axis(x, index, axis=axis)
        if not keepdim:
            values, index = values.squeeze(axis), index.squeeze(axis)
        return values, index


def sort(input, dim=-1, descending=False, stable=None, *, out=None):  # noqa: A002
    """(values, indices): ``input`` sorted along ``dim``; ties always keep their order."""
    axis = normalize_dim(dim, input.ndim)
    op = Sort if stable is None else SortStable
    values, indices = op.apply(input, axis, bool(descending))
    return write_out("sort", sort_type(values, indices), out)


def argsort(input, dim=-1, descending=False, stable=False):  # noqa: A002
    """The indices that sort ``input`` along ``dim`` (ties keep their order)."""
    axis = normalize_dim(dim, input.ndim)
    with input._on_device():
        if input.ndim == 0:
            return input._wrap(input._backend.xp.zeros((), dtype=np.int64))
        return input._wrap(sort_indices(input._backend.xp, input._data, axis, descending))


def msort(input, *, out=None):  # noqa: A002
    """``input`` sorted along its first dim."""
    axis = normalize_dim(0, input.ndim)
    return write_out("msort", Sort.apply(input, axis, False)[0], out)


def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):  # noqa: A002
    """(values, indices) of the ``k`` largest (``largest=False``: smallest) along ``dim``."""
    axis = normalize_dim(dim, input.ndim)
    size = input.shape[axis] if input.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    if input.dtype.name == "bool":
        raise RuntimeError(f"topk does not support bool dtypes on {input.device.type.upper()}")
    values, indices = Topk.apply(input, int(k), axis, bool(largest))
    return write_out("topk", topk_type(values, indices), out)


def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):  # noqa: A002
    """(values, indices) of the ``k``-th smallest element along ``dim``."""
    axis = normalize_dim(dim, input.ndim)
    size = input.shape[axis] if input.ndim else 1
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {axis}")
    values, indices = Kthvalue.apply(input, int(k), axis, bool(keepdim))
    return write_out("kthvalue", kthvalue_type(values, indices), out)
