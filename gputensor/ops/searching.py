"""Unique values and binary search: unique, unique_consecutive, searchsorted, bucketize."""

from __future__ import annotations

import numpy as np

from .._tensor_core import TensorCore, normalize_dim
from .creation import as_tensor_like
from .out import write_out
from .sorting import sort_indices

__all__ = ["unique", "unique_consecutive", "searchsorted", "bucketize"]


def _as_rows(xp, x, axis):
    """``x`` as a 2-D array of slices: one row per index along ``axis`` (None: elements)."""
    if axis is None:
        return x.reshape(-1, 1)
    moved = xp.moveaxis(x, axis, 0)
    return moved.reshape(moved.shape[0], -1)


def _row_order(xp, rows):
    """The stable order that sorts rows lexicographically (first column first)."""
    if rows.shape[1] == 1:
        return sort_indices(xp, rows[:, 0], 0, False)
    order = xp.arange(rows.shape[0])
    for column in range(rows.shape[1] - 1, -1, -1):  # least significant key first
        step = xp.argsort(rows[order, column], kind="stable")
        order = order[step]
    return order.astype(np.int64, copy=False)


def _groups(xp, x, axis, order):
    """(values, inverse, counts) of runs of equal slices of ``x`` taken in ``order``."""
    rows = _as_rows(xp, x, axis)
    count = rows.shape[0]
    ordered = rows if order is None else rows[order]
    starts = xp.ones(count, dtype=bool)
    if count > 1:
        starts[1:] = xp.any(ordered[1:] != ordered[:-1], axis=1)
    group = xp.cumsum(starts) - 1
    inverse = xp.empty(count, dtype=np.int64)
    if order is None:
        inverse[...] = group
    else:
        inverse[order] = group
    first = xp.nonzero(starts)[0]
    counts = xp.diff(xp.concatenate([first, xp.asarray([count], dtype=first.dtype)]))
    picked = ordered[starts]
    if axis is None:
        return picked.reshape(-1), inverse.reshape(x.shape), counts.astype(np.int64)
    rest = tuple(s for i, s in enumerate(x.shape) if i != axis)
    values = xp.moveaxis(picked.reshape((picked.shape[0],) + rest), 0, axis)
    return values, inverse, counts.astype(np.int64)


def _unique(input, dim, return_inverse, return_counts, consecutive):
    axis = None if dim is None else normalize_dim(dim, input.ndim)
    with input._on_device():
        xp = input._backend.xp
        x = input._data
        order = None
        if not consecutive:
            order = _row_order(xp, _as_rows(xp, x, axis))
        values, inverse, counts = _groups(xp, x, axis, order)
        result = [input._wrap(xp.ascontiguousarray(values))]
        if return_inverse:
            result.append(input._wrap(inverse))
        if return_counts:
            result.append(input._wrap(counts))
    return result[0] if len(result) == 1 else tuple(result)


def unique(input, sorted=True, return_inverse=False, return_counts=False,  # noqa: A002
           dim=None):
    """The sorted distinct elements (or slices along ``dim``), with inverse indices and
    counts when asked."""
    return _unique(input, dim, return_inverse, return_counts, consecutive=False)


def unique_consecutive(input, return_inverse=False, return_counts=False,  # noqa: A002
                       dim=None):
    """Each run of equal consecutive elements (or slices along ``dim``) collapsed to one."""
    return _unique(input, dim, return_inverse, return_counts, consecutive=True)


def _search_side(right, side):
    if side is None:
        return "right" if right else "left"
    if side not in ("left", "right"):
        raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got "
                           f"{side}")
    if right and side == "left":
        raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got "
                           "side of left while right was True")
    return side


def _search(boundaries, values, side, out_int32, sorter):
    """Insertion indices of ``values`` into the last dim of ``boundaries``."""
    xp = boundaries._backend.xp
    with boundaries._on_device():
        seq, v = boundaries._data, values._data
        if sorter is not None:
            seq = xp.take_along_axis(seq, sorter._data, axis=-1)
        if seq.ndim == 1:
            index = xp.searchsorted(seq, v, side=side)
        else:  # one sorted row per leading index: count the boundaries below each value
            below = (seq[..., None, :] <= v[..., :, None]) if side == "right" else (
                seq[..., None, :] < v[..., :, None])
            index = below.sum(axis=-1)
        index = xp.asarray(index).astype(np.int32 if out_int32 else np.int64, copy=False)
        return boundaries._wrap(index)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False,  # noqa: A002
                 side=None, out=None, sorter=None):
    """Where each value of ``input`` would go in the sorted last dim of ``sorted_sequence``."""
    side = _search_side(right, side)
    if not isinstance(input, TensorCore):
        input = as_tensor_like(input, sorted_sequence)
    seq_shape, value_shape = tuple(sorted_sequence.shape), tuple(input.shape)
    if len(seq_shape) != 1 and (len(seq_shape) != len(value_shape)
                                or seq_shape[:-1] != value_shape[:-1]):
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
            "dimensions of boundaries tensor and input value tensor must match, but we got "
            f"boundaries tensor {list(seq_shape)} and input value tensor {list(value_shape)}")
    if sorter is not None and tuple(sorter.shape) != seq_shape:
        raise RuntimeError(
            "torch.searchsorted(): boundary and sorter must have the same size, but got "
            f"boundary tensor {list(seq_shape)}and got sorter tensor {list(sorter.shape)}")
    return write_out("searchsorted", _search(sorted_sequence, input, side, out_int32, sorter),
                     out)


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):  # noqa: A002
    """The bucket of each element of ``input`` among the sorted 1-D ``boundaries``."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    if not isinstance(input, TensorCore):
        input = as_tensor_like(input, boundaries)
    side = "right" if right else "left"
    return write_out("bucketize", _search(boundaries, input, side, out_int32, None), out)
