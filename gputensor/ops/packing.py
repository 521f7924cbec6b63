"""The row gather behind ``nn.utils.rnn``'s packing of padded sequences."""

from __future__ import annotations

import numpy as np

from ..autograd.function import Op

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


def take_rows(input, index):  # noqa: A002 - torch's argument name
    """Rows ``index`` (host int64 values, each at most once) of ``input`` along dim 0."""
    return PackPaddedSequence.apply(input, np.asarray(index, dtype=np.int64))
