"""Writing elements by index: scatter, scatter_add, scatter_reduce and their in-place forms
(index_add, index_fill and index_copy, built on these, are in index_update.py).

Each op copies ``self`` and writes into the copy at the flat positions its index names
(``gather.flat_positions``); sums, products, maxima and minima with repeated positions go
through the backend's ``scatter_accumulate`` hook, so repeats combine. The in-place forms
compute the same out of place, then write it into ``self`` (nothing changes on an error).
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from .._tensor_core import TensorCore, normalize_dim
from ..autograd.function import Op
from .common import cast_scalar
from .gather import (
    accumulate,
    check_bounds,
    check_index_dtype,
    check_same_ndim,
    flat_positions,
    leading_block,
)
from .inplace import apply_inplace
from .out import write_out

__all__ = ["scatter", "scatter_add", "scatter_reduce"]

_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")
_LEGACY_REDUCE = {"add": "sum", "multiply": "prod"}
_ALIASES = {"max": "amax", "min": "amin"}  # computed as amax/amin, but with no derivative
_LEGACY_WARNING = ("The reduce argument of gputensor.scatter with Tensor src is deprecated and "
                   "will be removed in a future PyTorch release. Use gputensor.scatter_reduce "
                   "instead for more reduction options.")


def flat_copy(x):
    """A C-contiguous copy of ``x`` as 1-D (a 0-d array gives one element)."""
    return x.copy().reshape(-1)


def _identity(how, dtype):
    """The value a reduction starts from when ``self`` is left out."""
    if how in ("sum", "mean"):
        return 0
    if how == "prod":
        return 1
    big = np.inf if dtype.kind == "f" else np.iinfo(dtype).max
    return -big if how == "amax" else big


class Scatter(Op):
    """``self`` with ``src``'s leading block written at ``index`` along ``dim``."""

    @staticmethod
    def forward(ctx, x, index, src, dim):
        ctx.shapes = x.shape, src.shape, index.shape
        ctx.positions = positions_along(ctx, x, index, dim)
        out = flat_copy(x)
        out[ctx.positions] = src.reshape(src.shape or (1,))[leading_block(
            index.shape or (1,))].reshape(-1)
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        # d self = 1 where nothing was written; d src = 1 at the positions written
        x_shape, src_shape, index_shape = ctx.shapes
        gx = flat_copy(g)
        picked = gx[ctx.positions]
        gx[ctx.positions] = 0
        gsrc = ctx.xp.zeros(src_shape or (1,), dtype=g.dtype)
        gsrc[leading_block(index_shape or (1,))] = picked.reshape(index_shape or (1,))
        return gx.reshape(x_shape), None, gsrc.reshape(src_shape), None


class ScatterValue(Op):
    """``self`` with one number written at ``index`` along ``dim``."""

    opname, variant = "Scatter", 1

    @staticmethod
    def forward(ctx, x, index, value, dim):
        ctx.in_shape = x.shape
        ctx.positions = positions_along(ctx, x, index, dim)
        out = flat_copy(x)
        out[ctx.positions] = cast_scalar(value, x.dtype)
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        gx = flat_copy(g)
        gx[ctx.positions] = 0  # d self = 0 where the value was written, else 1
        return gx.reshape(ctx.in_shape), None, None, None


def positions_along(ctx, x, index, dim):
    """The flat positions in ``x`` that ``index`` names along ``dim`` (0-d arrays as 1-d)."""
    return flat_positions(ctx.xp, x.shape or (1,), index.reshape(index.shape or (1,)),
                          dim).reshape(-1)


def _leading_values(src, index_shape):
    """``src``'s leading block of ``index_shape``, flattened: the values a scatter writes."""
    return src.reshape(src.shape or (1,))[leading_block(index_shape or (1,))].reshape(-1)


def _place_in_src(ctx, gvalues, src_shape, index_shape):
    """The gradient of ``src`` from that of its leading block's values (zero elsewhere)."""
    out = ctx.xp.zeros(src_shape or (1,), dtype=gvalues.dtype)
    out[leading_block(index_shape or (1,))] = gvalues.reshape(index_shape or (1,))
    return out.reshape(src_shape)


def combine_into(ctx, x, positions, values, how, include_self):
    """``x`` (copied, flat) with ``values`` combined in at ``positions`` by ``how``."""
    xp = ctx.xp
    out = flat_copy(x)
    if not include_self:
        out[positions] = _identity(how, x.dtype)
    ctx.backend.scatter_accumulate(out, positions, values, "sum" if how == "mean" else how)
    ctx.counts = None
    if how == "mean":
        counts = accumulate(ctx, (out.size,), positions, xp.ones(positions.shape, x.dtype),
                            x.dtype)
        ctx.counts = counts = xp.maximum(counts + (1 if include_self else 0), 1)
        out = out / counts if x.dtype.kind == "f" else xp.floor_divide(out, counts)
    return out


class ScatterReduce(Op):
    """``self`` with ``src``'s values combined in at ``index`` along ``dim`` (sum, prod,
    mean, amax, amin), ``self`` itself taking part or not (``include_self``)."""

    @staticmethod
    def forward(ctx, x, index, src, dim, how, include_self):
        ctx.shapes = src.shape, index.shape
        ctx.positions = positions = positions_along(ctx, x, index, dim)
        values = _leading_values(src, index.shape)
        out = combine_into(ctx, x, positions, values, how, include_self)
        ctx.saved = x.reshape(-1), values, out, how, include_self
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        x, values, result, how, include_self = ctx.saved
        xp, pos, g1 = ctx.xp, ctx.positions, g.reshape(-1)
        hit = accumulate(ctx, result.shape, pos, xp.ones(pos.shape, g.dtype), g.dtype) > 0
        if how == "sum":  # d sum = 1 for each term
            gx, gvalues = g1, g1[pos]
        elif how == "mean":  # d mean = 1 / count for each term
            gx, gvalues = g1 / ctx.counts, (g1 / ctx.counts)[pos]
        elif how in ("amax", "amin"):  # d max = 1 / (number of ties) for each maximum
            # (as torch, self counts among the ties even when left out of the reduction)
            self_max = x == result
            value_max = values == result[pos]
            ties = self_max.astype(g.dtype)
            ctx.backend.scatter_accumulate(ties, pos, value_max.astype(g.dtype), "sum")
            share = g1 / xp.maximum(ties, 1)
            gx, gvalues = share * self_max, share[pos] * value_max
        else:  # d prod = product of the other terms
            gx, gvalues = _prod_grads(ctx, x, values, hit, include_self, g1)
        if not include_self:
            gx = xp.where(hit, 0, gx)
        gsrc = _place_in_src(ctx, gvalues.astype(g.dtype), *ctx.shapes)
        return gx.astype(g.dtype).reshape(g.shape), None, gsrc, None, None, None


def _prod_grads(ctx, x, values, hit, include_self, g1):
    """The gradients of a scatter product: for each term, the product of the others (exact
    where terms are zero)."""
    xp, pos = ctx.xp, ctx.positions
    dtype = g1.dtype
    self_terms = xp.where(hit & (not include_self), 1, x).astype(dtype)
    zeros = (self_terms == 0).astype(dtype)
    ctx.backend.scatter_accumulate(zeros, pos, (values == 0).astype(dtype), "sum")
    nonzero_prod = xp.where(self_terms == 0, 1, self_terms).astype(dtype)
    ctx.backend.scatter_accumulate(nonzero_prod, pos, xp.where(values == 0, 1, values), "prod")

    def others(term, zeros_here, prod_here):
        safe = xp.where(term == 0, 1, term)
        no_zero = xp.where(zeros_here == 0, prod_here / safe, 0)
        return xp.where(term == 0, xp.where(zeros_here == 1, prod_here, 0), no_zero)

    gx = xp.where(hit, g1 * others(self_terms, zeros, nonzero_prod), g1)
    gvalues = g1[pos] * others(values, zeros[pos], nonzero_prod[pos])
    return gx, gvalues


class ScatterLegacyReduce(ScatterReduce):
    """``scatter(..., reduce="add"|"multiply")``: computed, but with no derivative (torch's)."""

    node_name = "NotImplemented"

    def name(self) -> str:
        """torch's name for a node whose derivative is not implemented."""
        return "gputensor::autograd::NotImplemented"

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("derivative for aten::scatter is not implemented")


class ScatterReduceAlias(ScatterReduce):
    """``scatter_reduce`` with ``"max"``/``"min"``: torch computes them, then refuses their
    derivative."""

    opname = "ScatterReduce"

    @staticmethod
    def backward(ctx, g):
        name = {v: k for k, v in _ALIASES.items()}[ctx.saved[3]]
        raise RuntimeError("Expected 'reduce' to be one of 'sum', 'prod', 'mean', 'amax', "
                           f"'amin' but got {name}.")


# ---- checks -----------------------------------------------------------------------------
def _check_scatter(input, dim, index, src, name="scatter"):
    """torch's checks of a scatter's arguments (``src`` None for a value); the wrapped dim."""
    dim = normalize_dim(dim, input.ndim)
    check_index_dtype(index, "scatter(): Expected dtype int32/int64 for index")
    if src is not None and src.dtype != input.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    check_same_ndim(index, input, "self")
    if src is not None and name == "scatter":
        check_same_ndim(index, src, "src")
    idx_shape, in_shape = index.shape or (1,), input.shape or (1,)
    too_big = any(d != dim and n > m for d, (n, m) in enumerate(zip(idx_shape, in_shape)))
    if src is not None:
        src_shape = src.shape or (1,)
        for d in range(len(idx_shape)):
            normalize_dim(d, src.ndim)
        too_big = too_big or any(n > m for n, m in zip(idx_shape, src_shape))
        if too_big:
            raise RuntimeError(f"Expected index {list(index.shape)} to be no larger than self "
                               f"{list(input.shape)} apart from dimension {dim} and to be no "
                               f"larger size than src {list(src.shape)}")
    elif too_big:
        raise RuntimeError(f"Expected index {list(index.shape)} to be no larger than self "
                           f"{list(input.shape)} apart from dimension {dim}")
    if index.numel():
        check_bounds(index, in_shape[dim], dim)
    return dim


def _check_reduce(reduce, choices, message):
    if reduce not in choices:
        raise RuntimeError(message)


def scatter(input, dim, index, src=None, value=None, *, reduce=None, out=None):  # noqa: A002
    """``input`` with ``src``'s elements (or one ``value``) written at ``index`` along
    ``dim``; ``reduce="add"|"multiply"`` combines them with what is there instead."""
    src = value if src is None else src
    tensor_src = isinstance(src, TensorCore)
    if not tensor_src and not isinstance(src, numbers.Number):
        raise TypeError(f"scatter(): argument 'src' (position 3) must be Tensor, not "
                        f"{type(src).__name__}")
    dim = _check_scatter(input, dim, index, src if tensor_src else None)
    if reduce is not None:
        _check_reduce(reduce, _LEGACY_REDUCE, "reduce argument must be either add or multiply.")
        if tensor_src:
            warnings.warn(_LEGACY_WARNING, UserWarning, stacklevel=2)
        else:
            src = input._backend.xp.full(index.shape, cast_scalar(src, input._data.dtype),
                                         dtype=input._data.dtype)
        result = ScatterLegacyReduce.apply(input, index, src, dim, _LEGACY_REDUCE[reduce], True)
    elif tensor_src:
        result = Scatter.apply(input, index, src, dim)
    else:
        result = ScatterValue.apply(input, index, src, dim)
    return write_out("scatter", result, out)


def _src_tensor(name, src):
    if not isinstance(src, TensorCore):
        raise TypeError(f"{name}(): argument 'src' (position 3) must be Tensor, not "
                        f"{type(src).__name__}")


def scatter_add(input, dim, index, src, *, out=None):  # noqa: A002
    """``input`` with ``src``'s elements added at ``index`` along ``dim`` (repeats add)."""
    _src_tensor("scatter_add", src)
    dim = _check_scatter(input, dim, index, src, "scatter_add")
    return write_out("scatter_add", ScatterAdd.apply(input, index, src, dim, "sum", True), out)


class ScatterAdd(ScatterReduce):
    """``scatter_add``: a scatter sum, with its own node name."""


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True,  # noqa: A002
                   out=None):
    """``input`` with ``src``'s elements combined in at ``index`` along ``dim`` by ``reduce``
    (sum, prod, mean, amax, amin); ``include_self=False`` leaves ``input``'s values out."""
    _src_tensor("scatter_reduce", src)
    dim = _check_scatter(input, dim, index, src, "scatter_reduce")
    how = _ALIASES.get(reduce, reduce)
    _check_reduce(how, _REDUCTIONS, "reduce argument must be either sum, prod, mean, amax or "
                                    f"amin, got {reduce}")
    op = ScatterReduce if how == reduce else ScatterReduceAlias
    result = op.apply(input, index, src, dim, how, bool(include_self))
    return write_out("scatter_reduce", result, out)


def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
    """In-place ``scatter``."""
    return apply_inplace(self, scatter, dim, index, src, value, reduce=reduce)


def scatter_add_(self, dim, index, src):
    """In-place ``scatter_add``."""
    return apply_inplace(self, scatter_add, dim, index, src)


def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    """In-place ``scatter_reduce``."""
    return apply_inplace(self, scatter_reduce, dim, index, src, reduce,
                         include_self=include_self)
