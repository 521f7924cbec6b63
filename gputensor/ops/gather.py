"""Reading elements by index: gather, take, take_along_dim, index_select, repeat_interleave.

Every op here finds, for each element it reads, its flat position in the input
(``flat_positions``); the backward adds the gradient back at those positions with the
backend's ``scatter_accumulate`` hook, so repeated indices accumulate.
"""

from __future__ import annotations

import numpy as np

from .._tensor_core import TensorCore
from ..autograd.function import Op
from . import pointwise, views
from .common import broadcast_shapes, normalize_dim, not_implemented, type_name
from .out import write_out

__all__ = ["gather", "index_select", "repeat_interleave", "take", "take_along_dim"]

INT64 = np.dtype(np.int64)
_INT_INDEX = (np.dtype(np.int32), INT64)


# ---- helpers shared with scatter.py and index_update.py --------------------------------------
def c_strides(shape):
    """The C-order strides of ``shape``, in elements."""
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return strides[::-1]


def flat_positions(xp, shape, index, dim):
    """For each element of ``index`` (values along ``dim``, its own position elsewhere), the
    flat C-order position in an array of ``shape`` (int64, ``index``'s shape)."""
    strides = c_strides(shape)
    pos = index.astype(INT64) * strides[dim]
    for d, n in enumerate(index.shape):
        if d != dim and n > 1:
            grid = (xp.arange(n, dtype=INT64) * strides[d]).reshape(
                [n if k == d else 1 for k in range(index.ndim)])
            pos = pos + grid
    return pos


def accumulate(ctx, shape, positions, values, dtype):
    """A zero array of ``shape`` with ``values`` added at flat ``positions`` (repeats add)."""
    flat = ctx.xp.zeros(int(np.prod(shape)), dtype=dtype)
    ctx.backend.scatter_accumulate(flat, positions.reshape(-1), values.reshape(-1), "sum")
    return flat.reshape(shape)


def leading_block(shape):
    """The index that cuts an array down to its first ``shape`` elements along each dim."""
    return tuple(slice(0, n) for n in shape)


def first_out_of_range(index, size, allow_negative=False):
    """The first element of ``index`` outside ``[0, size)`` (``[-size, size)`` when negatives
    are allowed), or None; reads the device once when all are in range."""
    low = -size if allow_negative else 0
    bad = (index < low) | (index >= size)
    if not bool(bad.any()):
        return None
    return int(index.reshape(-1)[int(bad.reshape(-1).argmax())])


def check_index_dtype(index, message, dtypes=_INT_INDEX, error=RuntimeError):
    """torch's error (``message``, with ``{}`` for the dtype's name) for an index dtype."""
    if index._data.dtype not in dtypes:
        raise error(message.format(type_name(index._data.dtype)))


def check_same_ndim(index, other, what):
    """torch's error when ``index`` and ``other`` (``what``: self, src) differ in ndim."""
    if max(index.ndim, 1) != max(other.ndim, 1):
        raise RuntimeError(f"Index tensor must have the same number of dimensions as {what} "
                           "tensor")


def check_bounds(index, size, dim, prefix="", error=RuntimeError):
    """torch's error for the first index outside ``[0, size)`` along ``dim``."""
    value = first_out_of_range(index._data, size)
    if value is not None:
        raise error(f"{prefix}index {value} is out of bounds for dimension {dim} with size "
                    f"{size}")


def as_1d(t):
    """A 0-d tensor's array as 1-d (torch treats a 0-d tensor as one of size 1 here)."""
    return t._data.reshape(1) if t.ndim == 0 else t._data


# ---- gather --------------------------------------------------------------------------------
class Gather(Op):
    """``out[i][j] = x[index[i][j]][j]`` along ``dim`` (index no larger than x elsewhere)."""

    @staticmethod
    def forward(ctx, x, index, dim):
        ctx.in_shape = x.shape
        x1, idx = x.reshape(x.shape or (1,)), index.reshape(index.shape or (1,))
        ctx.positions = flat_positions(ctx.xp, x1.shape, idx, dim)
        return x1.reshape(-1)[ctx.positions].reshape(index.shape)

    @staticmethod
    def backward(ctx, g):
        # d gather = scatter-add of the gradient to the positions read
        return accumulate(ctx, ctx.in_shape, ctx.positions, g, g.dtype), None, None


def _check_gather_shapes(input, index, dim):
    check_same_ndim(index, input, "input")
    in_shape, idx_shape = input.shape or (1,), index.shape or (1,)
    for d, (n, m) in enumerate(zip(idx_shape, in_shape)):
        if d != dim and n > m:
            raise RuntimeError(f"Size does not match at dimension {d} expected index "
                               f"{list(index.shape)} to be no larger than self "
                               f"{list(input.shape)} apart from dimension {dim}")


def gather(input, dim, index, *, sparse_grad=False, out=None):  # noqa: A002
    """Values of ``input`` along ``dim`` at ``index`` (``sparse_grad`` is accepted, unused)."""
    check_index_dtype(index, "gather(): Expected dtype int32/int64 for index")
    dim = normalize_dim(dim, input.ndim)
    _check_gather_shapes(input, index, dim)
    size = (input.shape or (1,))[dim]
    if index.numel():
        check_bounds(index, size, dim)
    return write_out("gather", Gather.apply(input, index, dim), out)


def take_along_dim(input, indices, dim=None, *, out=None):  # noqa: A002
    """Values of ``input`` at ``indices`` along ``dim`` (shapes broadcast, dim excepted);
    with no dim, ``input`` is read flat."""
    check_index_dtype(indices, "torch.take_along_dim(): dtype of indices should be Long but "
                               "got {}", (INT64,))
    if dim is None:
        return write_out("take_along_dim", gather(views.reshape(input, -1), 0,
                                                  views.reshape(indices, -1)), out)
    if input.ndim != indices.ndim:
        raise RuntimeError("torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {input.ndim} dimensions for input, "
                           f"and {indices.ndim} dimensions for indices")
    dim = normalize_dim(dim, input.ndim)
    in_shape, idx_shape = list(input.shape), list(indices.shape)
    in_shape[dim] = idx_shape[dim] = 1
    common = list(broadcast_shapes(tuple(in_shape), tuple(idx_shape)))
    in_sizes, idx_sizes = list(common), list(common)
    in_sizes[dim], idx_sizes[dim] = input.shape[dim], indices.shape[dim]
    if tuple(in_sizes) != input.shape:
        input = views.expand(input, *in_sizes)
    if tuple(idx_sizes) != indices.shape:
        indices = views.expand(indices, *idx_sizes)
    return write_out("take_along_dim", gather(input, dim, indices), out)


# ---- take ----------------------------------------------------------------------------------
class Take(Op):
    """``input`` read flat at ``index`` (negative indices count from the end)."""

    @staticmethod
    def forward(ctx, x, index):
        ctx.in_shape = x.shape
        ctx.positions = index % max(x.size, 1)
        return x.reshape(-1)[ctx.positions]

    @staticmethod
    def backward(ctx, g):
        return accumulate(ctx, ctx.in_shape, ctx.positions, g, g.dtype), None  # d take


def take(input, index, *, out=None):  # noqa: A002
    """Elements of ``input``, read as 1-D, at ``index`` (the result has index's shape)."""
    check_index_dtype(index, "take(): Expected a long tensor for index, but got {}", (INT64,))
    count = input.numel()
    if index.numel():
        value = first_out_of_range(index._data, count, allow_negative=True)
        if value is not None:
            raise IndexError(f"out of range: tried to access index {value} on a tensor of "
                             f"{count} elements.")
    return write_out("take", Take.apply(input, index), out)


# ---- index_select --------------------------------------------------------------------------
class IndexSelect(Op):
    """The slices of ``x`` along ``dim`` at the positions of a 1-D ``index``."""

    @staticmethod
    def forward(ctx, x, index, dim):
        ctx.in_shape, ctx.dim, ctx.index = x.shape, dim, index
        x1 = x.reshape(x.shape or (1,))
        return ctx.xp.take(x1, index, axis=dim).reshape(
            x.shape if not x.ndim else x1.shape[:dim] + index.shape + x1.shape[dim + 1:])

    @staticmethod
    def backward(ctx, g):
        # d index_select = index_add of the gradient at the positions read
        shape = ctx.in_shape or (1,)
        g1 = g.reshape(shape[:ctx.dim] + (-1,) + shape[ctx.dim + 1:])
        expanded = ctx.xp.broadcast_to(
            ctx.index.reshape([-1 if d == ctx.dim else 1 for d in range(len(shape))]), g1.shape)
        positions = flat_positions(ctx.xp, shape, expanded, ctx.dim)
        return accumulate(ctx, shape, positions, g1, g.dtype).reshape(ctx.in_shape), None, None


def index_select(input, dim, index, *, out=None):  # noqa: A002
    """The slices of ``input`` along ``dim`` at the positions in 1-D ``index``."""
    dim = normalize_dim(dim, input.ndim)
    check_index_dtype(index, "index_select(): Expected dtype int32 or int64 for index")
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    size = (input.shape or (1,))[dim]
    if input.ndim == 0 and index.numel() != 1:
        raise RuntimeError("index_select(): Index to scalar can have only 1 value, got "
                         f"{index.numel()} value(s)")
    value = first_out_of_range(as_1d(index), size) if index.numel() else None
    if value is not None:
        if input.ndim == 0:
            raise IndexError("index out of range in self")
        raise RuntimeError(f"INDICES element is out of DATA bounds, id={value} axis_dim={size}")
    if index.ndim == 0:
        index = views.reshape(index, 1)
    return write_out("index_select", IndexSelect.apply(input, index, dim), out)


# ---- repeat_interleave ---------------------------------------------------------------------
def _repeated_positions(repeats, output_size):
    """``[0]*r0 + [1]*r1 + ...`` (the repeats' dtype) for a 1-D int tensor of repeats."""
    xp = repeats._backend.xp
    counts = repeats._data
    total = int(counts.sum()) if output_size is None else int(output_size)
    if output_size is not None and int(counts.sum()) != total:
        raise RuntimeError("allocated size does not match required size")
    ends = xp.cumsum(counts)
    positions = xp.searchsorted(ends, xp.arange(total, dtype=INT64), side="right")
    return TensorCore._make(positions.astype(counts.dtype), repeats._device)


def _check_repeats(repeats):
    if repeats._data.dtype.kind not in "iu":
        raise not_implemented("repeat_interleave", repeats._data.dtype, repeats._device)
    if repeats.ndim > 1:
        raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
    if repeats.numel() and bool((repeats._data < 0).any()):
        raise RuntimeError("repeats can not be negative")


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):  # noqa: A002
    """Each element (each slice along ``dim``) repeated ``repeats`` times, in place order;
    ``repeat_interleave(r)`` on a 1-D int tensor gives ``[0]*r[0] + [1]*r[1] + ...``."""
    if repeats is None:
        if input._data.dtype.kind not in "iu":
            raise not_implemented("repeat_interleave", input._data.dtype, input._device)
        if input.ndim != 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        _check_repeats(input)
        return _repeated_positions(input, output_size)  # (the counts' own dtype)
    if dim is None:
        input, dim = views.reshape(input, -1), 0
    dim = normalize_dim(dim, input.ndim)
    size = (input.shape or (1,))[dim]
    if isinstance(repeats, TensorCore):
        _check_repeats(repeats)
        if repeats.numel() == 1 and size != 1:
            repeats = views.expand(views.reshape(repeats, 1), size)
        elif repeats.ndim == 0:
            repeats = views.reshape(repeats, 1)
        if repeats.shape[0] != size:
            raise RuntimeError("repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {repeats.shape[0]} and input.size({dim}) = "
                               f"{size}")
        return index_select(input, dim, _repeated_positions(repeats, output_size))
    if repeats < 0:
        raise RuntimeError("Repeats must be non-negative")
    if output_size is not None and output_size != size * repeats:
        raise RuntimeError("allocated size does not match required size")
    shape = list(input.shape)
    expanded = views.expand(views.unsqueeze(input, dim + 1),
                            *(shape[:dim + 1] + [repeats] + shape[dim + 1:]))
    return views.reshape(pointwise.clone(expanded), *(shape[:dim] + [size * repeats] +
                                                      shape[dim + 1:]))
