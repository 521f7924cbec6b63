"""The padding modes of convolution layers (reflect, replicate, circular) over the last one or
two dims: a gather by source index forward, its transpose (a 0/1 matrix product) backward."""

from __future__ import annotations

import numpy as np

from ..autograd.function import Op

__all__ = ["pad_for_conv"]

_NUMPY_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _source_index(size, before, after, mode):
    """For each padded position along one dim, the input position it copies (host ints)."""
    return np.pad(np.arange(size), (before, after), mode=_NUMPY_MODES[mode])


class PadModes(Op):
    """``x`` padded by ``pads`` ((before, after) per padded dim, the last dims) in ``mode``."""

    @staticmethod
    def forward(ctx, x, pads, mode):
        backend = ctx.backend
        sources = [_source_index(x.shape[x.ndim - len(pads) + i], *pads[i], mode)
                   for i in range(len(pads))]
        ctx.sources, ctx.in_shape = sources, x.shape
        if len(sources) == 1:
            return x[..., backend.asarray(sources[0])]
        rows, columns = (backend.asarray(s) for s in sources)
        return x[..., rows[:, None], columns[None, :]]

    @staticmethod
    def backward(ctx, g):
        # d gather = scatter-add: g @ S for each padded dim, S[p, source[p]] = 1
        backend = ctx.backend
        sizes = ctx.in_shape[len(ctx.in_shape) - len(ctx.sources):]
        last = backend.asarray(_one_hot(ctx.sources[-1], sizes[-1]), dtype=g.dtype)
        grad = backend.matmul(g, last)
        if len(ctx.sources) == 2:
            first = backend.asarray(_one_hot(ctx.sources[0], sizes[0]).T, dtype=g.dtype)
            grad = backend.matmul(first, grad)
        return grad, None, None


def _one_hot(source, size):
    matrix = np.zeros((len(source), size))
    matrix[np.arange(len(source)), source] = 1
    return matrix


class ReflectionPad1D(PadModes):
    """Reflect padding of the last dim."""


class ReflectionPad2D(PadModes):
    """Reflect padding of the last two dims."""


class ReplicationPad1D(PadModes):
    """Replicate (edge) padding of the last dim."""


class ReplicationPad2D(PadModes):
    """Replicate (edge) padding of the last two dims."""


class CircularPad(PadModes):
    """Circular padding (torch builds it from slice copies: its node is CopySlices)."""

    node_name = "CopySlices"


_OPS = {("reflect", 1): ReflectionPad1D, ("reflect", 2): ReflectionPad2D,
        ("replicate", 1): ReplicationPad1D, ("replicate", 2): ReplicationPad2D,
        ("circular", 1): CircularPad, ("circular", 2): CircularPad}


def _shape_text(shape):
    return "[" + ", ".join(str(n) for n in shape) + "]"


def pad_for_conv(input, pads, mode):
    """``input``'s last ``len(pads)`` dims padded by ``pads`` ((before, after) each) in
    ``mode`` (reflect, replicate or circular), with torch's errors."""
    dims = len(pads)
    shape = tuple(input.shape)
    for i in reversed(range(dims)):  # torch checks the last dim first
        before, after = pads[i]
        dim = input.ndim - dims + i
        size = shape[dim]
        if mode == "reflect" and (before >= size or after >= size):
            argument = 4 + 2 * (dims - 1 - i)
            raise RuntimeError(f"Argument #{argument}: Padding size should be less than the "
                               f"corresponding input dimension, but got: padding ({before}, "
                               f"{after}) at dimension {dim} of input {_shape_text(shape)}")
        if mode == "circular" and (before > size or after > size):
            raise RuntimeError("Padding value causes wrapping around more than once.")
    return _OPS[mode, dims].apply(input, tuple(pads), mode)
