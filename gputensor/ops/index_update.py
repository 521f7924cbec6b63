"""Writing whole slices by index: index_add, index_fill, index_copy and their in-place forms.

A 1-D index names slices along ``dim``; broadcast over the other dims it becomes a scatter
index, and the ops reuse scatter.py's positions and accumulation (repeats add in index_add).
"""

from __future__ import annotations

import numpy as np

from .._tensor_core import TensorCore, normalize_dim
from ..autograd.devices import check_same_device
from ..autograd.function import Op
from .common import cast_scalar, is_array, type_name
from .gather import check_bounds, check_index_dtype, first_out_of_range, flat_positions
from .inplace import apply_inplace
from .out import write_out
from .scatter import Scatter, combine_into, flat_copy, positions_along

__all__ = ["index_add", "index_copy", "index_fill"]


def _expanded_index(index, shape, dim):
    """A 1-D index's array broadcast along ``dim`` over ``shape`` (its size at ``dim``)."""
    xp = index._backend.xp
    shape = list(shape or (1,))
    flat = index._data.reshape(-1)
    shape[dim] = flat.size
    return xp.broadcast_to(flat.reshape([-1 if d == dim else 1 for d in range(len(shape))]),
                           tuple(shape))


class IndexAdd(Op):
    """``self`` with ``alpha * source`` added at the slices ``index`` names along ``dim``."""

    @staticmethod
    def forward(ctx, x, index, source, dim, alpha):
        ctx.source_shape, ctx.alpha = source.shape, alpha
        ctx.positions = positions = positions_along(ctx, x, index, dim)
        values = source.reshape(-1)
        if alpha != 1:
            values = values * cast_scalar(alpha, x.dtype)
        return combine_into(ctx, x, positions, values.astype(x.dtype), "sum", True).reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        # d self = 1; d source = alpha at the slices it was added to
        gsource = g.reshape(-1)[ctx.positions].reshape(ctx.source_shape)
        if ctx.alpha != 1:
            gsource = gsource * ctx.alpha
        return g, None, gsource, None, None


class IndexFill(Op):
    """``self`` with one number written in the slices ``index`` names along ``dim``."""

    @staticmethod
    def forward(ctx, x, positions, value):
        ctx.in_shape, ctx.positions = x.shape, positions
        out = flat_copy(x)
        out[positions] = value if is_array(value) else cast_scalar(value, x.dtype)
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        gx = flat_copy(g)
        gx[ctx.positions] = 0  # d self = 0 where filled, else 1
        return gx.reshape(ctx.in_shape), None, None


class IndexFillTensor(IndexFill):
    """``index_fill`` with a 0-d tensor value (its gradient: the sum over the filled places)."""

    opname, variant = "IndexFill", 1

    @staticmethod
    def backward(ctx, g):
        gx = flat_copy(g)
        gx[ctx.positions] = 0  # d self = 0 where filled; d value = 1 at each filled place
        filled = flat_copy(g) - gx  # g where filled (once per place), exactly 0 elsewhere
        return gx.reshape(ctx.in_shape), None, filled.sum()


class IndexCopy(Scatter):
    """``self`` with ``source``'s slices copied to the slices ``index`` names along ``dim``."""

    opname, variant = "IndexCopy", 0


def _check_index_vector(index, message):
    if index.ndim > 1:
        raise IndexError(message)


def index_add(input, dim, index, source, *, alpha=1, out=None):  # noqa: A002
    """``input`` with ``alpha * source`` added at the slices of ``index`` along ``dim``
    (repeated indices add)."""
    dim = normalize_dim(dim, input.ndim)
    check_same_device(input, index, source)
    _check_index_vector(index, "index_add_(): Index is supposed to be a vector, but got dim: "
                               f"{index.ndim} with type: {type_name(index._data.dtype)} and "
                               f"size: {list(index.shape)}")
    check_index_dtype(index, "index_add_(): Expected dtype int32/int64 for index but got: {}")
    if source.dtype != input.dtype:
        raise RuntimeError(f"index_add_(): self ({type_name(input._data.dtype)}) and source "
                           f"({type_name(source._data.dtype)}) must have the same scalar type")
    in_shape, src_shape = input.shape or (1,), source.shape or (1,)
    count = index.numel()
    if count != (src_shape[dim] if dim < len(src_shape) else 1):
        raise RuntimeError(f"index_add_(): Number of indices ({count}) should be equal to "
                           f"source.size(dim): ({src_shape[dim]}), for dim: {dim}")
    if len(in_shape) != len(src_shape) or any(
            n != m for d, (n, m) in enumerate(zip(in_shape, src_shape)) if d != dim):
        raise RuntimeError("source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = {list(input.shape)} "
                           f"source.shape = {list(source.shape)}")
    if count:
        check_bounds(index, in_shape[dim], dim)
    expanded = _expanded_index(index, src_shape, dim)
    return write_out("index_add", IndexAdd.apply(input, expanded, source, dim, alpha), out)


def index_fill(input, dim, index, value):  # noqa: A002
    """``input`` with ``value`` (a number or 0-d tensor) in the slices of ``index`` along
    ``dim`` (negative indices count from the end)."""
    dim = normalize_dim(dim, input.ndim)
    check_same_device(input, index)
    check_index_dtype(index, "index_fill_(): Expected dtype int64 for index.",
                      (np.dtype(np.int64),), IndexError)
    if index.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    if isinstance(value, TensorCore) and value.ndim:
        raise RuntimeError("index_fill_ only supports a 0-dimensional value tensor, but got "
                           f"tensor with {value.ndim} dimension(s).")
    size = (input.shape or (1,))[dim]
    flat = index._data.reshape(-1)
    if index.numel():
        bad = first_out_of_range(flat, size, allow_negative=True)
        if bad is not None:
            raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size "
                             f"{size}")
    wrapped = TensorCore._make(flat % max(size, 1), index._device)
    positions = flat_positions(input._backend.xp, input.shape or (1,),
                               _expanded_index(wrapped, input.shape, dim), dim).reshape(-1)
    if isinstance(value, TensorCore):
        return IndexFillTensor.apply(input, positions, value)
    return IndexFill.apply(input, positions, value)


def index_copy(input, dim, index, source, *, out=None):  # noqa: A002
    """``input`` with ``source``'s slices copied to the slices of ``index`` along ``dim``."""
    dim = normalize_dim(dim, input.ndim)
    check_same_device(input, index, source)
    if index.ndim > 1:
        raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {index.ndim})")
    check_index_dtype(index, "index_copy_(): Expected a long tensor for index, but got {}",
                      (np.dtype(np.int64),))
    count = index.numel()
    src_shape, in_shape = source.shape or (1,), input.shape or (1,)
    if source.ndim and input.ndim and source.ndim != input.ndim:
        raise IndexError("index_copy_(): When source and destination are not scalars, their "
                         f"dimensionality must match. Source dimensionality ({source.ndim}), "
                         f"destination dimensionality ({input.ndim})")
    if count != src_shape[dim]:
        raise IndexError(f"index_copy_(): Number of indices ({count}) should be equal to "
                         f"source.size(dim) ({src_shape[dim]})")
    in_slice = [n for d, n in enumerate(in_shape) if d != dim]
    src_slice = [n for d, n in enumerate(src_shape) if d != dim]
    if in_slice != src_slice:
        raise RuntimeError("index_copy_(): Source/destination tensor must have same slice "
                           f"shapes. Destination slice shape: {' '.join(map(str, in_slice))} "
                           f"at dimension {dim} and source slice shape: "
                           f"{' '.join(map(str, src_slice))} at dimension 0.")
    if source.dtype != input.dtype:
        raise RuntimeError("index_copy_(): self and source expected to have the same dtype, "
                           f"but got (self) {type_name(input._data.dtype)} and (source) "
                           f"{type_name(source._data.dtype)}")
    if count:
        check_bounds(index, in_shape[dim], dim, "index_copy_(): ", IndexError)
    expanded = _expanded_index(index, src_shape, dim)
    return write_out("index_copy", IndexCopy.apply(input, expanded, source, dim), out)


def index_add_(self, dim, index, source, *, alpha=1):
    """In-place ``index_add``."""
    return apply_inplace(self, index_add, dim, index, source, alpha=alpha)


def index_fill_(self, dim, index, value):
    """In-place ``index_fill``."""
    return apply_inplace(self, index_fill, dim, index, value)


def index_copy_(self, dim, index, source):
    """In-place ``index_copy``."""
    return apply_inplace(self, index_copy, dim, index, source)
