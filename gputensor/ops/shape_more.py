"""More shape ops: broadcasting, stacking helpers, tile, rot90, unfold, block_diag, products."""

from __future__ import annotations

import itertools

import numpy as np

from .. import dtypes
from .._tensor_core import TensorCore
from ..autograd.function import Op
from ..size import Size
from . import creation, masks, reduce, shape, views
from .blas import meshgrid
from .common import normalize_dim, shape_arg

__all__ = ["atleast_1d", "atleast_2d", "atleast_3d", "block_diag", "broadcast_shapes",
           "broadcast_tensors", "broadcast_to", "cartesian_prod", "column_stack", "combinations",
           "dstack", "hstack", "ravel", "rot90", "row_stack", "tile", "vstack", "argwhere"]


# ---- broadcasting ------------------------------------------------------------------------
def broadcast_shapes(*shapes) -> Size:
    """The shape that tensors of ``shapes`` (tuples or ints) broadcast to."""
    sized = [(s,) if isinstance(s, (int, np.integer)) else tuple(s) for s in shapes]
    ndim = max((len(s) for s in sized), default=0)
    result = [1] * ndim
    for index, s in enumerate(sized):
        for i, n in enumerate(s, ndim - len(s)):
            if result[i] == 1 or n == result[i]:
                result[i] = n if result[i] == 1 else result[i]
            elif n != 1:
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {n} at {i - ndim}! "
                    f"Mismatching argument at index {index} had {tuple(s)}; but expected shape "
                    f"should be broadcastable to {result}")
    return Size(result)


def broadcast_to(input, size):  # noqa: A002
    """A view of ``input`` expanded to ``size``."""
    return views.expand(input, *shape_arg((size,)))


def broadcast_tensors(*tensors):
    """The tensors expanded to their common shape (those already of it returned as they are)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    common = ()
    for t in tensors:
        common = _broadcast_pair(common, t.shape)
    return tuple(t if t.shape == common else views.expand(t, *common) for t in tensors)


def _broadcast_pair(a, b):
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b "
                               f"({y}) at non-singleton dimension {i}")
    return tuple(y if x == 1 else x for x, y in zip(a, b))


def sum_to_size(input, *size):  # noqa: A002
    """The sum of ``input`` down to ``size``, a shape it broadcasts from."""
    size = shape_arg(size)
    lead = input.ndim - len(size)
    if lead < 0 or any(n != 1 and n != m for n, m in zip(size, input.shape[lead:])):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size "
                           f"{{{list(input.shape)}}}.")
    if tuple(size) == tuple(input.shape):
        return input
    dims = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(size)
                                      if n == 1 and input.shape[lead + i] != 1)
    result = reduce.sum(input, dims, keepdim=True)
    return views.reshape(result, size) if lead else result


# ---- at least n dims, stacking -----------------------------------------------------------
def _tensor_args(tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(tensors[0]), True
    return tensors, len(tensors) != 1


def atleast_1d(*tensors):
    """Each tensor with at least 1 dim (0-d ones become shape (1,))."""
    items, many = _tensor_args(tensors)
    out = tuple(views.reshape(t, (1,)) if t.ndim == 0 else t for t in items)
    return out if many else out[0]


def atleast_2d(*tensors):
    """Each tensor with at least 2 dims (a leading dim of 1 added)."""
    items, many = _tensor_args(tensors)
    out = tuple(views.unsqueeze(t, 0) if t.ndim == 1 else views.reshape(t, (1, 1))
                if t.ndim == 0 else t for t in items)
    return out if many else out[0]


def _to_3d(t):
    if t.ndim == 0:
        return views.reshape(t, (1, 1, 1))
    if t.ndim == 1:
        return views.unsqueeze(views.unsqueeze(t, 0), -1)
    return views.unsqueeze(t, -1) if t.ndim == 2 else t


def atleast_3d(*tensors):
    """Each tensor with at least 3 dims ((n,) -> (1, n, 1), (m, n) -> (m, n, 1))."""
    items, many = _tensor_args(tensors)
    out = tuple(_to_3d(t) for t in items)
    return out if many else out[0]


def _stack_list(tensors, name):
    if isinstance(tensors, TensorCore) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        f"not {type(tensors).__name__}")
    if not tensors:
        raise RuntimeError(f"{name} expects a non-empty TensorList")
    return list(tensors)


def hstack(tensors, *, out=None):
    """Join along dim 1 (dim 0 for 1-D tensors)."""
    items = atleast_1d(tuple(_stack_list(tensors, "hstack")))
    return shape.cat(items, 0 if items[0].ndim == 1 else 1, out=out)


def vstack(tensors, *, out=None):
    """Join along dim 0 after making each tensor at least 2-D."""
    return shape.cat(atleast_2d(tuple(_stack_list(tensors, "vstack"))), 0, out=out)


def row_stack(tensors, *, out=None):
    """Another name of ``vstack``."""
    return shape.cat(atleast_2d(tuple(_stack_list(tensors, "row_stack"))), 0, out=out)


def dstack(tensors, *, out=None):
    """Join along dim 2 after making each tensor at least 3-D."""
    return shape.cat(atleast_3d(tuple(_stack_list(tensors, "dstack"))), 2, out=out)


def column_stack(tensors, *, out=None):
    """Join as columns: 0-d and 1-D tensors become columns, then join along dim 1."""
    items = _stack_list(tensors, "column_stack")
    cols = [views.reshape(t, (t.numel(), 1)) if t.ndim <= 1 else t for t in items]
    return shape.cat(cols, 1, out=out)


def ravel(input):  # noqa: A002
    """The elements as a 1-D tensor (a view when the layout allows)."""
    return views.view(views.contiguous(input), (-1,))


def tile(input, dims):  # noqa: A002
    """The tensor repeated ``dims[i]`` times along each dim (missing dims count as 1)."""
    dims = shape_arg((dims,))
    dims = (1,) * (input.ndim - len(dims)) + dims
    return shape.repeat(input, dims)


# ---- rotations, windows --------------------------------------------------------------------
class Rot90(Op):
    """The tensor rotated by 90 degrees ``k`` times in the plane of two dims."""

    @staticmethod
    def forward(ctx, x, k, dims):
        ctx.k, ctx.dims = k, dims
        return ctx.xp.ascontiguousarray(ctx.xp.rot90(x, k, dims))

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.rot90(g, -ctx.k, ctx.dims), None, None  # d rot90(k) = rot90(-k)


def rot90(input, k=1, dims=(0, 1)):  # noqa: A002
    """Rotate by 90 degrees ``k`` times from the first toward the second of ``dims``."""
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    if dims[0] == dims[1] or abs(dims[0] - dims[1]) == input.ndim:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} "
                           f"and dim1 = {dims[1]}")
    dim0, dim1 = normalize_dim(dims[0], input.ndim), normalize_dim(dims[1], input.ndim)
    return Rot90.apply(input, int(k) % 4, (dim0, dim1))


class Unfold(Op):
    """A view of the windows of ``size`` every ``step`` along a dim (a new last dim)."""

    is_view = True

    @staticmethod
    def forward(ctx, x, dim, size, step):
        ctx.in_shape, ctx.dim, ctx.size, ctx.step = x.shape, dim, size, step
        if x.ndim == 0:
            return x.reshape(1)
        count = (x.shape[dim] - size) // step + 1
        shape = x.shape[:dim] + (count,) + x.shape[dim + 1:] + (size,)
        strides = x.strides[:dim] + (x.strides[dim] * step,) + x.strides[dim + 1:] \
            + (x.strides[dim],)
        return ctx.xp.lib.stride_tricks.as_strided(x, shape, strides)

    @staticmethod
    def backward(ctx, g):
        # d unfold = each window's gradient added back at its positions
        xp = ctx.xp
        if not ctx.in_shape:
            return g.reshape(()), None, None, None
        grad = xp.zeros(ctx.in_shape, dtype=g.dtype)
        dim, step = ctx.dim, ctx.step
        moved = xp.moveaxis(grad, dim, -1)
        windows = xp.moveaxis(g, dim, -2)  # (..., count, size)
        for offset in range(ctx.size):
            stop = offset + step * (windows.shape[-2] - 1) + 1
            moved[..., offset:stop:step] += windows[..., offset]
        return grad, None, None, None


def unfold(input, dimension, size, step):  # noqa: A002
    """``Tensor.unfold``: a view of the windows of ``size`` every ``step`` along ``dimension``."""
    dim = normalize_dim(dimension, max(input.ndim, 1))
    length = input.shape[dim] if input.ndim else 1
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {dim} is {length} but size "
                           f"is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    return Unfold.apply(input, dim, int(size), int(step))


# ---- block matrices, products of sets -------------------------------------------------------
class BlockDiag(Op):
    """The tensors as blocks on the diagonal of one matrix."""

    @staticmethod
    def forward(ctx, dtype, *blocks):
        rows = sum(b.shape[0] for b in blocks)
        cols = sum(b.shape[1] for b in blocks)
        out = ctx.xp.zeros((rows, cols), dtype=dtype)
        ctx.spans, r, c = [], 0, 0
        for b in blocks:
            out[r:r + b.shape[0], c:c + b.shape[1]] = b
            ctx.spans.append((r, c, b.shape))
            r, c = r + b.shape[0], c + b.shape[1]
        return out

    @staticmethod
    def backward(ctx, g):
        # d block_diag = each block's region of g
        return (None, *[g[r:r + s[0], c:c + s[1]] for r, c, s in ctx.spans])


def block_diag(*tensors):
    """A block-diagonal matrix of the tensors (0-d as 1x1, 1-D as one row)."""
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {t.ndim} dimensions")
    if not tensors:
        return creation.empty(1, 0)
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = dtypes.promote_types(dtype, t.dtype)
    blocks = [views.reshape(t, (1, 1)) if t.ndim == 0 else views.unsqueeze(t, 0)
              if t.ndim == 1 else t for t in tensors]
    return BlockDiag.apply(dtype.numpy, *blocks)


def _check_vector(t):
    if t.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")


def cartesian_prod(*tensors):
    """Every combination of one element from each 1-D tensor, as rows."""
    for t in tensors:
        _check_vector(t)
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return shape.stack([views.reshape(g, (-1,)) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):  # noqa: A002
    """The length-``r`` combinations of the elements of a 1-D tensor, as rows."""
    _check_vector(input)
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return input.new_empty((0,))
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    rows = list(pick(range(input.shape[0]), r))
    columns = np.asarray(rows, dtype=np.int64).reshape(len(rows), r).T
    with input._on_device():
        index = [input._wrap(input._backend.asarray(c, index=input._device.index))
                 for c in columns]
    return shape.stack([input[i] for i in index], 1)


def argwhere(input):  # noqa: A002
    """The indices of the non-zero elements, one row each (``nonzero``)."""
    return masks.nonzero(input)

