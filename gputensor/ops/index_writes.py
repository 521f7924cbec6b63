"""Writes at positions: masked_scatter, index_put, put, slice/select_scatter, fill_diagonal_."""

from __future__ import annotations

from .. import dtypes
from ..autograd.function import Op
from . import inplace, setitem, view_writes, views
from .common import broadcast_shapes, normalize_dim, type_name

__all__ = ["index_put", "index_put_", "masked_scatter", "put", "select_scatter", "slice_scatter"]


# ---- masked_scatter ------------------------------------------------------------------------
class MaskedScatter(Op):
    """Where the mask is set, the next element of the source (in order); elsewhere x."""

    @staticmethod
    def forward(ctx, x, mask, source, shape):
        xp = ctx.xp
        mask = xp.broadcast_to(mask, shape)
        flat_mask = mask.reshape(-1)
        position = xp.cumsum(flat_mask) - 1  # the source element each set position takes
        ctx.mask, ctx.position, ctx.source_shape = mask, position, source.shape
        taken = source.reshape(-1)[xp.clip(position, 0, None)].reshape(shape)
        return xp.where(mask, taken, xp.broadcast_to(x, shape))

    @staticmethod
    def backward(ctx, g):
        # d x = g off the mask; d source = g at the set positions, in order (0 for the rest)
        xp = ctx.xp
        size = 1
        for n in ctx.source_shape:
            size *= n
        slot = xp.where(ctx.mask.reshape(-1), ctx.position, size)  # unset: a spare slot
        g_source = xp.zeros(size + 1, dtype=g.dtype)
        g_source[slot] = g.reshape(-1)
        return (xp.where(ctx.mask, 0, g), None, g_source[:size].reshape(ctx.source_shape),
                None)


def _check_masked_scatter(self, mask, source, shape):
    if mask.dtype != dtypes.bool:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with "
                           f"dtype {type_name(mask.dtype)}")
    if self.dtype != source.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but "
                           f"got{type_name(self.dtype)} and {type_name(source.dtype)}")
    count = mask._backend.xp.broadcast_to(mask._data, shape).sum()
    if int(count) > source.numel():  # one read back to the host
        raise RuntimeError("Number of elements of source < number of ones in mask")


def masked_scatter(input, mask, source):  # noqa: A002
    """``input`` with the elements where ``mask`` is set taken from ``source`` in order."""
    shape = broadcast_shapes(input.shape, mask.shape)
    _check_masked_scatter(input, mask, source, shape)
    return MaskedScatter.apply(input, mask, source, shape)


def masked_scatter_(self, mask, source):
    """In-place ``masked_scatter`` (the mask broadcast to this tensor's shape)."""
    kind = f"{self._device.type.upper()}{type_name(mask.dtype)}Type"
    views.expand_shape(mask.shape, self.shape, kind)
    _check_masked_scatter(self, mask, source, self.shape)
    return inplace.apply_inplace(self, MaskedScatter.apply, mask, source, self.shape)


# ---- index_put, put ------------------------------------------------------------------------
class IndexPutAccumulate(Op):
    """``x[indices] += values`` with repeated positions adding up."""

    opname = "IndexPut"

    @staticmethod
    def forward(ctx, x, values, *indices):
        ctx.key = indices
        out = x.copy()
        target_shape = out[indices].shape
        ctx.backend.scatter_accumulate(out, indices, ctx.xp.broadcast_to(values, target_shape),
                                       "sum")
        return out

    @staticmethod
    def backward(ctx, g):
        # d x = g; d values = g at the positions
        return (g, g[ctx.key]) + (None,) * len(ctx.key)


def index_put_(self, indices, values, accumulate=False):
    """``self[indices] = values`` (``+=`` with repeats adding up when ``accumulate``)."""
    indices = tuple(indices)
    if not accumulate:
        setitem.setitem(self, indices, values)
        return self
    if values.dtype != self.dtype:
        raise RuntimeError("Index put requires the source and destination dtypes match, got "
                           f"{type_name(self.dtype)} for the destination and "
                           f"{type_name(values.dtype)} for the source.")
    return inplace.apply_inplace(self, IndexPutAccumulate.apply, values, *indices)


def index_put(input, indices, values, accumulate=False):  # noqa: A002
    """A copy of ``input`` with ``index_put_`` applied."""
    return index_put_(input.clone(), indices, values, accumulate)


class Put(Op):
    """Elements at flat positions (of the row-major order) replaced by, or added, the source."""

    @staticmethod
    def forward(ctx, x, index, source, accumulate):
        ctx.index, ctx.accumulate, ctx.source_shape = index.reshape(-1), accumulate, source.shape
        out = x.copy().reshape(-1)
        if accumulate:
            ctx.backend.scatter_accumulate(out, ctx.index, source.reshape(-1), "sum")
        else:
            out[ctx.index] = source.reshape(-1)
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        # d x = g (0 at replaced positions); d source = g at the positions
        g_source = g.reshape(-1)[ctx.index].reshape(ctx.source_shape)
        if not ctx.accumulate:
            g = g.copy()
            g.reshape(-1)[ctx.index] = 0
        return g, None, g_source, None


def _check_put(self, index, source):
    if index.dtype != dtypes.int64:
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got "
                           f"{type_name(index.dtype)}")
    if self.dtype != source.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got "
                           f"self.dtype = {type_name(self.dtype)} and source.dtype = "
                           f"{type_name(source.dtype)}")
    if index.numel() != source.numel():
        raise IndexError(f"put_(): Expected source and index to have the same number of "
                         f"elements, but got source.numel() = {source.numel()}, "
                         f"index.numel() = {index.numel()}")
    xp, size = index._backend.xp, self.numel()
    outside = (index._data >= size) | (index._data < -size)
    if bool(xp.any(outside)):  # one read back to the host
        bad = int(index._data.reshape(-1)[xp.argmax(outside.reshape(-1))])
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {size} "
                         f"elements.")


def put_(self, index, source, accumulate=False):
    """Write ``source`` at the flat positions ``index`` (``+=`` when ``accumulate``)."""
    _check_put(self, index, source)
    return inplace.apply_inplace(self, Put.apply, index, source, bool(accumulate))


def put(input, index, source, accumulate=False):  # noqa: A002
    """A copy of ``input`` with ``put_`` applied."""
    _check_put(input, index, source)
    return Put.apply(input, index, source, bool(accumulate))


# ---- slice_scatter, select_scatter -----------------------------------------------------------
class _EmbedScatter(Op):
    """``x`` with the region at ``key`` replaced by ``src``."""

    @staticmethod
    def forward(ctx, x, src, key):
        ctx.key = key
        out = x.copy()
        out[key] = src
        return out

    @staticmethod
    def backward(ctx, g):
        # d x = g off the region; d src = g on it
        g_x = g.copy()
        g_x[ctx.key] = 0
        return g_x, g[ctx.key], None


SliceScatter = type("SliceScatter", (_EmbedScatter,), {"__doc__": "``slice_scatter``."})
SelectScatter = type("SelectScatter", (_EmbedScatter,), {"__doc__": "``select_scatter``."})


def _check_region(src, region_shape):
    if tuple(src.shape) != tuple(region_shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src.shape)}, slice size = {list(region_shape)}")


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):  # noqa: A002
    """A copy of ``input`` with ``src`` written into ``input[start:end:step]`` along ``dim``."""
    dim = normalize_dim(dim, input.ndim)
    key = (slice(None),) * dim + (slice(start, end, step),)
    region = input[key]
    _check_region(src, region.shape)
    return SliceScatter.apply(input, src.to(input.dtype), key)


def select_scatter(input, src, dim, index):  # noqa: A002
    """A copy of ``input`` with ``src`` written at position ``index`` along ``dim``."""
    region = input.select(dim, index)
    dim = normalize_dim(dim, input.ndim)
    _check_region(src, region.shape)
    key = (slice(None),) * dim + (index % input.shape[dim],)
    return SelectScatter.apply(input, src.to(input.dtype), key)


# ---- fill_diagonal_ ----------------------------------------------------------------------------
def fill_diagonal_(self, fill_value, wrap=False):
    """Fill the main diagonal (of a matrix or an n-cube) with ``fill_value`` in place."""
    if self.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    rows, cols = self.shape[0], self.shape[-1]
    if self.ndim > 2 and len(set(self.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    item = self._data.itemsize
    step = sum(s // item for s in self._data.strides)
    count = min(self.shape)
    if wrap and self.ndim == 2 and rows > cols + 1:  # the diagonal restarts every cols+1 rows
        count = (self.numel() + cols) // (cols + 1)
    base = self._base
    base_node = None if base is None else base.grad_fn
    inplace.fill_(views.View.apply(self, (count,), (step,)), fill_value)
    if base is not None and base.grad_fn is not base_node:  # the base took the write
        view_writes.reread(self)
    return self

