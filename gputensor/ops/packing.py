"""Row gathers behind ``nn.utils.rnn``: packing padded sequences, reordering a batch."""

from __future__ import annotations

import numpy as np

from .._tensor_core import TensorCore
from ..autograd.function import Op
from .common import normalize_dim

__all__ = []


class PackPaddedSequence(Op):
    """Rows of a (rows, *) array taken in the order of a host index (each row at most once)."""

    @staticmethod
    def forward(ctx, x, index):
        ctx.rows = x.shape[0]
        ctx.index = ctx.xp.asarray(index)
        return ctx.xp.ascontiguousarray(x[ctx.index])

    @staticmethod
    def backward(ctx, g):
        grad = ctx.xp.zeros((ctx.rows,) + g.shape[1:], dtype=g.dtype)
        grad[ctx.index] = g  # d take = the gradient put back where each row came from
        return grad, None


class IndexSelect(Op):
    """The entries at a host index along one dim."""

    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.shape, ctx.dim = x.shape, dim
        ctx.index = ctx.xp.asarray(index)
        return ctx.xp.take(x, ctx.index, axis=dim)

    @staticmethod
    def backward(ctx, g):
        grad = ctx.xp.zeros(ctx.shape, dtype=g.dtype)
        key = (slice(None),) * ctx.dim + (ctx.index,)
        ctx.xp.add.at(grad, key, g)  # d index_select = scatter-add (repeats accumulate)
        return grad, None, None


def take_rows(input, index):  # noqa: A002 - torch's argument name
    """Rows ``index`` (host int64 values, each at most once) of ``input`` along dim 0."""
    return PackPaddedSequence.apply(input, np.asarray(index, dtype=np.int64))


def select_along(input, dim, index):  # noqa: A002 - torch's argument name
    """``input.index_select(dim, index)``: ``index`` an int64 tensor (kept where it is) or
    host ints."""
    index = index._data if isinstance(index, TensorCore) else np.asarray(index, dtype=np.int64)
    return IndexSelect.apply(input, normalize_dim(dim, input.ndim), index)
