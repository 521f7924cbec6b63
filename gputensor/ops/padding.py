"""Padding: F.pad's constant, reflect, replicate and circular modes (pad tuple last dim first),
and AxisMap, the op that reads each output position along some axes from weighted input
positions (padding's index maps, interpolation's neighbours)."""

from __future__ import annotations

import numbers

import numpy as np

from ..autograd.function import Op
from .nn_ops import _shape_text

__all__ = []


class AxisMap(Op):
    """out = sum_k weight_k * take(x, index_k) along each mapped axis in turn.

    ``maps`` holds, per axis, ``(axis, input length, ((index, weight or None), ...))`` with
    host (NumPy) index and weight arrays, moved to the device here.
    """

    @staticmethod
    def forward(ctx, x, maps):
        xp, backend = ctx.xp, ctx.backend
        placed = []
        out = x
        for axis, length, terms in maps:
            terms = tuple((backend.asarray(i), None if w is None
                           else backend.asarray(w.astype(x.dtype))) for i, w in terms)
            placed.append((axis, length, terms))
            result = None
            for idx, weight in terms:
                part = xp.take(out, idx, axis=axis)
                if weight is not None:
                    shape = [1] * out.ndim
                    shape[axis] = weight.shape[0]
                    part = part * weight.reshape(shape)
                result = part if result is None else result + part
            out = result
        ctx.maps = placed
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        # d take(x, i) * w = the matrix M[j, i[j]] += w[j] applied to g along the axis
        xp = ctx.xp
        for axis, length, terms in reversed(ctx.maps):
            matrix = None
            for idx, weight in terms:
                hits = (idx[:, None] == xp.arange(length)[None, :]).astype(g.dtype)
                if weight is not None:
                    hits = hits * weight[:, None]
                matrix = hits if matrix is None else matrix + hits
            g = xp.moveaxis(xp.moveaxis(g, axis, -1) @ matrix, -1, axis)
        return g, None


def _named(opname, base=AxisMap, **attributes):
    """A subclass of ``base`` that only carries torch's grad_fn name."""
    return type(opname, (base,), {"__doc__": f"{opname}: {base.__doc__}", "opname": opname,
                                  "__module__": __name__, **attributes})


class ConstantPadNd(Op):
    """The input written into a tensor of ``value`` (negative pads crop)."""

    @staticmethod
    def forward(ctx, x, pads, value):
        xp = ctx.xp
        src, dst, shape = [], [], []
        for size, (before, after) in zip(x.shape, pads):
            new = size + before + after
            shape.append(new)
            src.append(slice(max(-before, 0), size - max(-after, 0)))
            dst.append(slice(max(before, 0), new - max(after, 0)))
        out = xp.full(tuple(shape), value, dtype=x.dtype)
        out[tuple(dst)] = x[tuple(src)]
        ctx.slices, ctx.in_shape = (tuple(src), tuple(dst)), x.shape
        return out

    @staticmethod
    def backward(ctx, g):
        # d pad = the gradient at the input's positions (nothing for the padding)
        src, dst = ctx.slices
        grad = ctx.xp.zeros(ctx.in_shape, dtype=g.dtype)
        grad[src] = g[dst]
        return grad, None, None


class CircularPad(AxisMap):
    """Circular padding (torch builds it from slice copies: its node is CopySlices)."""

    node_name = "CopySlices"

    def name(self) -> str:
        """torch's name for this node (with gputensor for torch)."""
        return "gputensor::autograd::CopySlices"


_PAD_OPS = {("reflect", n): _named(f"ReflectionPad{n}D") for n in (1, 2, 3)}
_PAD_OPS.update({("replicate", n): _named(f"ReplicationPad{n}D") for n in (1, 2, 3)})
_UNSUPPORTED = ("Padding size {size} is not supported for {dim}D input tensor.\nSupported "
                "combinations for non-constant padding:\n"
                "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
                "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
                "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def pad_tuple(pad, name="pad"):
    """The pad sequence as a tuple of ints, with torch's TypeError otherwise."""
    if not isinstance(pad, (tuple, list)):
        raise TypeError(f"{name}(): argument 'pad' (position 2) must be tuple of ints, not "
                        f"{type(pad).__name__}")
    for i, p in enumerate(pad):
        if not isinstance(p, numbers.Integral) or isinstance(p, bool):
            raise TypeError(f"{name}(): argument 'pad' (position 2) must be tuple of ints, but "
                            f"found element of type {type(p).__name__} at pos {i}")
    return tuple(int(p) for p in pad)


def _source_positions(mode, size, before, after):
    """For each output position along one axis, the input position it copies.

    Negative pads crop first; reflect and circular then read within what is left.
    """
    low, high = max(-before, 0), size - max(-after, 0)
    src = np.arange(-before, size + after, dtype=np.int64)
    if mode == "reflect":
        src = np.abs(src)
        return np.where(src >= size, 2 * (size - 1) - src, src)
    if mode == "replicate":
        return np.clip(src, 0, size - 1)
    return low + (src - low) % (high - low)  # circular, around the cropped interior


def _check_mode_sizes(mode, shape, pads):
    """torch's errors for reflect (a pad as large as the dim) and circular (wrapping twice)."""
    for k, (axis, before, after) in enumerate(pads):
        size = shape[axis]
        if mode == "reflect" and (before >= size or after >= size):
            raise RuntimeError(f"Argument #{4 + 2 * k}: Padding size should be less than the "
                               "corresponding input dimension, but got: padding "
                               f"({before}, {after}) at dimension {axis} of input "
                               f"{_shape_text(shape)}")
        if mode == "circular":
            if before > size or after > size:
                raise RuntimeError("Padding value causes wrapping around more than once.")
            if -before > size or -after > size:
                raise RuntimeError("Negative padding value is resulting in an empty dimension.")


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad) // 2 dims: ``pad`` = (last_before, last_after, previous...)."""
    pads = pad_tuple(pad)
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    ndim = input.ndim
    if len(pads) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pads) > 2 * ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pads)} and input of dimension "
                           f"{ndim}")
    count = len(pads) // 2
    per_axis = [(ndim - 1 - k, pads[2 * k], pads[2 * k + 1]) for k in range(count)]
    if mode == "constant":
        widths = [(0, 0)] * ndim
        for axis, before, after in per_axis:
            if input.shape[axis] + before + after < 0:
                raise RuntimeError("narrow(): length must be non-negative.")
            widths[axis] = (before, after)
        fill = 0 if value is None else value
        return ConstantPadNd.apply(input, tuple(widths), fill)
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if count not in (1, 2, 3) or ndim not in (count + 1, count + 2):
        raise NotImplementedError(_UNSUPPORTED.format(size=len(pads), dim=ndim))
    shape = tuple(input.shape)
    _check_mode_sizes(mode, shape, per_axis)
    maps = tuple((axis, shape[axis], ((_source_positions(mode, shape[axis], b, a), None),))
                 for axis, b, a in per_axis)
    op = CircularPad if mode == "circular" else _PAD_OPS[(mode, count)]
    return op.apply(input, maps)
