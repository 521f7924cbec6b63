"""Indexing: ``t[...]`` (views for basic indices) and ``t[...] = v``."""

from __future__ import annotations

from ..autograd.function import Op
from ..tensor import Tensor
from . import inplace

TENSOR_METHODS = ()


def _convert_index(index):
    """Tensors and lists in an index become backend arrays."""
    if isinstance(index, tuple):
        return tuple(_convert_index(i) for i in index)
    if isinstance(index, Tensor):
        return index._data
    return index


def _is_basic(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, slice)) for i in items)


class Index(Op):
    """``x[index]``: a view for basic indices, a copy for advanced ones."""

    @staticmethod
    def forward(ctx, x, index):
        try:
            out = x[index]
        except IndexError as e:
            raise IndexError(str(e).replace("axis", "dimension")) from None
        ctx.in_shape, ctx.in_dtype, ctx.index = x.shape, x.dtype, index
        return ctx.xp.asarray(out)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        grad = xp.zeros(ctx.in_shape, dtype=g.dtype)
        if _is_basic(ctx.index):
            grad[ctx.index] = g
        else:
            xp.add.at(grad, ctx.index, g)
        return grad, None


class BasicIndex(Index):
    """A basic-index view."""

    opname, is_view = "Slice", True


def getitem(self, index):
    """``self[index]``."""
    index = _convert_index(index)
    op = BasicIndex if _is_basic(index) else Index
    return op.apply(self, index)


class IndexPut(Op):
    """A copy of ``x`` with ``x[index] = value``."""

    opname = "CopySlices"

    @staticmethod
    def forward(ctx, x, index, value):
        out = x.copy()
        out[index] = value
        ctx.index = index
        ctx.value_shape = getattr(value, "shape", None)
        return out

    @staticmethod
    def backward(ctx, g):
        g_x = g.copy()
        g_x[ctx.index] = 0
        g_value = None
        if ctx.value_shape is not None:
            g_value = ctx.xp.ascontiguousarray(g[ctx.index])
        return g_x, None, g_value


def setitem(self, index, value):
    """``self[index] = value``, in place (tracked by autograd)."""
    index = _convert_index(index)
    if isinstance(value, Tensor) and value.dtype is not self.dtype:
        value = value.to(self.dtype)
    if inplace._tracks(self, (value,)):
        inplace.apply_inplace(self, IndexPut.apply, index, value)
        return
    inplace._check_can_modify(self)
    try:
        self._data[index] = value._data if isinstance(value, Tensor) else value
    except IndexError as e:
        raise IndexError(str(e).replace("axis", "dimension")) from None
    self._version.value += 1
