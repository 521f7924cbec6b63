"""BLAS-style products and diagonals: addmm, addmv, addbmm, baddbmm, outer, kron, diag,
diagonal, diag_embed, trace, meshgrid.

The matrix products go through ``backend.matmul`` (the CUDA matmul kernels on a GPU).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .._tensor_core import TensorCore
from ..autograd.function import Op
from . import pointwise, views
from .common import normalize_dim
from .linalg import _CPP_NAMES, _check_bmm, _check_mm, _check_mv
from .out import write_out
from .reduce import type_name

__all__ = ["addmm", "addmv", "addbmm", "baddbmm", "outer", "ger", "kron", "diag", "diagonal",
           "diag_embed", "trace", "meshgrid"]

_INT64 = np.dtype("int64")


# ---- beta * input + alpha * product ------------------------------------------------------
def _scaled(x, factor):
    """``factor * x`` keeping x's dtype (no multiply when the factor is 1)."""
    return x if factor == 1 else (x * factor).astype(x.dtype, copy=False)


def _combine(xp, input, product, beta, alpha):
    """beta * input + alpha * product; beta == 0 ignores input (its NaNs too), as in torch."""
    product = _scaled(product, alpha)
    if beta == 0:
        return xp.ascontiguousarray(product)
    return (product + _scaled(input.astype(product.dtype, copy=False), beta)).astype(
        product.dtype, copy=False)


class Addmm(Op):
    """beta * input + alpha * (mat1 @ mat2)."""

    @staticmethod
    def forward(ctx, input, mat1, mat2, beta, alpha):
        ctx.save_for_backward(mat1, mat2)
        ctx.beta, ctx.alpha = beta, alpha
        return _combine(ctx.xp, input, ctx.backend.matmul(mat1, mat2), beta, alpha)

    @staticmethod
    def backward(ctx, g):
        # d input = beta g; d mat1 = alpha g mat2^T; d mat2 = alpha mat1^T g
        mat1, mat2 = ctx.saved_tensors
        mm, need = ctx.backend.matmul, ctx.needs_input_grad
        grad_in = g * ctx.beta if need[0] else None
        grad1 = _scaled(mm(g, mat2.swapaxes(-1, -2)), ctx.alpha) if need[1] else None
        grad2 = _scaled(mm(mat1.swapaxes(-1, -2), g), ctx.alpha) if need[2] else None
        return grad_in, grad1, grad2, None, None


class Baddbmm(Addmm):
    """beta * input + alpha * (batch1 @ batch2), batch by batch."""


class Addbmm(Op):
    """beta * input + alpha * sum_b (batch1[b] @ batch2[b])."""

    @staticmethod
    def forward(ctx, input, batch1, batch2, beta, alpha):
        ctx.save_for_backward(batch1, batch2)
        ctx.beta, ctx.alpha = beta, alpha
        product = ctx.backend.matmul(batch1, batch2).sum(axis=0, dtype=batch1.dtype)
        return _combine(ctx.xp, input, product, beta, alpha)

    @staticmethod
    def backward(ctx, g):
        # d input = beta g; d batch1[b] = alpha g batch2[b]^T; d batch2[b] = alpha batch1[b]^T g
        batch1, batch2 = ctx.saved_tensors
        mm, need = ctx.backend.matmul, ctx.needs_input_grad
        xp = ctx.xp
        grad_in = g * ctx.beta if need[0] else None
        rows = xp.broadcast_to(g, (batch1.shape[0],) + g.shape)
        grad1 = _scaled(mm(rows, batch2.swapaxes(-1, -2)), ctx.alpha) if need[1] else None
        grad2 = _scaled(mm(batch1.swapaxes(-1, -2), rows), ctx.alpha) if need[2] else None
        return grad_in, grad1, grad2, None, None


class Addmv(Op):
    """beta * input + alpha * (mat @ vec)."""

    @staticmethod
    def forward(ctx, input, mat, vec, beta, alpha):
        ctx.save_for_backward(mat, vec)
        ctx.beta, ctx.alpha = beta, alpha
        product = ctx.backend.matmul(mat, vec[:, None])[:, 0]
        return _combine(ctx.xp, input, product, beta, alpha)

    @staticmethod
    def backward(ctx, g):
        # d input = beta g; d mat = alpha g vec^T; d vec = alpha mat^T g
        mat, vec = ctx.saved_tensors
        mm, need = ctx.backend.matmul, ctx.needs_input_grad
        grad_in = g * ctx.beta if need[0] else None
        grad_mat = _scaled(g[:, None] * vec[None, :], ctx.alpha) if need[1] else None
        grad_vec = _scaled(mm(mat.T, g[:, None])[:, 0], ctx.alpha) if need[2] else None
        return grad_in, grad_mat, grad_vec, None, None


def _check_same_dtype(first, second, first_name, second_name):
    if first.dtype != second.dtype:
        raise RuntimeError(f"{first_name} and {second_name} must have the same dtype, but got "
                           f"{type_name(first.dtype)} and {type_name(second.dtype)}")


def _expand_check(input, shape):
    """torch's expand check of ``input`` against the product's shape."""
    views.expand_shape(tuple(input.shape), shape, input.type())


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):  # noqa: A002
    """beta * input + alpha * (mat1 @ mat2); input broadcasts to the product's shape."""
    for name, m in (("mat1", mat1), ("mat2", mat2)):
        if m.ndim != 2:
            raise RuntimeError(f"{name} must be a matrix, got {m.ndim}-D tensor")
    _check_same_dtype(input, mat2, "self", "mat2")
    _check_same_dtype(mat1, mat2, "mat1", "mat2")
    _check_mm(tuple(mat1.shape), tuple(mat2.shape), mat1.dtype, mat2.dtype)
    _expand_check(input, (mat1.shape[0], mat2.shape[1]))
    return write_out("addmm", Addmm.apply(input, mat1, mat2, beta, alpha), out)


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):  # noqa: A002
    """beta * input + alpha * (mat @ vec); input broadcasts to the product's length."""
    if mat.ndim != 2 or vec.ndim != 1 or input.ndim > 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.ndim}, {mat.ndim}, "
                           f"{vec.ndim}")
    if len({input.dtype, mat.dtype, vec.dtype}) > 1:
        names = ", ".join(type_name(t.dtype) for t in (input, mat))
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got {names}, "
                           f"and {type_name(vec.dtype)}")
    if input.ndim == 1 and input.shape[0] != mat.shape[0] and input.shape[0] != 1 \
            or mat.shape[1] != vec.shape[0]:
        size = input.shape[0] if input.ndim else 1
        raise RuntimeError(f"size mismatch, got input ({size}), mat ({mat.shape[0]}x"
                           f"{mat.shape[1]}), vec ({vec.shape[0]})")
    _check_mv(tuple(mat.shape), vec.shape[0], mat.dtype, vec.dtype)
    return write_out("addmv", Addmv.apply(input, mat, vec, beta, alpha), out)


def _check_batches(batch1, batch2):
    for name, b in (("batch1", batch1), ("batch2", batch2)):
        if b.ndim != 3:
            raise RuntimeError(f"{name} must be a 3D tensor")
    count = batch1.shape[0]
    if batch2.shape[0] != count:
        raise RuntimeError("Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{count}, {batch1.shape[2]}] but got: [{batch2.shape[0]}, "
                           f"{batch2.shape[1]}].")
    _check_bmm(count, tuple(batch1.shape), tuple(batch2.shape), batch1.dtype, batch2.dtype)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):  # noqa: A002
    """beta * input + alpha * (batch1 @ batch2) for 3-D batches."""
    if len({input.dtype, batch1.dtype, batch2.dtype}) > 1:
        names = [_CPP_NAMES[t.dtype.name] for t in (input, batch1, batch2)]
        raise RuntimeError(f"Input dtypes must be the same, got: input {names[0]}, "
                           f"batch1: {names[1]}, batch2: {names[2]}")
    if batch1.ndim >= 2 and batch2.ndim >= 3:
        _expand_check(input, (batch1.shape[0], batch1.shape[1], batch2.shape[2]))
    _check_batches(batch1, batch2)
    return write_out("baddbmm", Baddbmm.apply(input, batch1, batch2, beta, alpha), out)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):  # noqa: A002
    """beta * input + alpha * the sum over the batch of batch1[b] @ batch2[b]."""
    _check_same_dtype(input, batch2, "self", "mat2")
    _check_same_dtype(batch1, batch2, "mat1", "mat2")
    if batch1.ndim >= 2 and batch2.ndim >= 3:
        _expand_check(input, (batch1.shape[1], batch2.shape[2]))
    _check_batches(batch1, batch2)
    return write_out("addbmm", Addbmm.apply(input, batch1, batch2, beta, alpha), out)


def outer(input, vec2, *, out=None):  # noqa: A002
    """The outer product of two 1-D tensors."""
    for name, v in (("self", input), ("vec2", vec2)):
        if v.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {v.ndim}-D")
    result = pointwise.mul(views.reshape(input, input.shape[0], 1), vec2)
    return write_out("mul", result, out)  # torch names the op it runs


def ger(input, vec2, *, out=None):  # noqa: A002
    """The outer product of two 1-D tensors (the old name of ``outer``)."""
    warnings.warn("torch.ger is deprecated and will be removed in a future PyTorch release. Use "
                  "torch.outer instead.", UserWarning, stacklevel=2)
    return outer(input, vec2, out=out)


def kron(input, other, *, out=None):  # noqa: A002
    """The Kronecker product: every element of input times a copy of other."""
    ndim = max(input.ndim, other.ndim)
    a_shape = (1,) * (ndim - input.ndim) + tuple(input.shape)
    b_shape = (1,) * (ndim - other.ndim) + tuple(other.shape)
    a = views.reshape(input, tuple(n for size in a_shape for n in (size, 1)))
    b = views.reshape(other, tuple(n for size in b_shape for n in (1, size)))
    product = pointwise.mul(a, b)
    shape = tuple(x * y for x, y in zip(a_shape, b_shape))
    return write_out("mul", views.UnsafeView.apply(product, shape), out)  # as torch names it


# ---- diagonals -------------------------------------------------------------------------
def diagonal_view(xp, x, offset, dim1, dim2):
    """The diagonal of dims ``dim1``, ``dim2`` of array ``x`` as a strided view, last."""
    if hasattr(x, "is_lifted_array"):  # a backward that builds a graph: the view op itself
        return x.diagonal(offset, dim1, dim2)
    n1, n2 = x.shape[dim1], x.shape[dim2]
    if offset >= 0:
        length, start1, start2 = max(0, min(n1, n2 - offset)), 0, offset
    else:
        length, start1, start2 = max(0, min(n1 + offset, n2)), -offset, 0
    if length == 0:
        start1 = start2 = 0
    key = [slice(None)] * x.ndim
    key[dim1], key[dim2] = slice(start1, None), slice(start2, None)
    first = x[tuple(key)]
    others = [d for d in range(x.ndim) if d not in (dim1, dim2)]
    shape = tuple(x.shape[d] for d in others) + (length,)
    strides = tuple(x.strides[d] for d in others) + (x.strides[dim1] + x.strides[dim2],)
    return xp.lib.stride_tricks.as_strided(first, shape, strides)


class Diagonal(Op):
    """A view of a diagonal (the two dims replaced by one last dim)."""

    is_view = True

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        ctx.shape, ctx.dtype, ctx.where = x.shape, x.dtype, (offset, dim1, dim2)
        return diagonal_view(ctx.xp, x, offset, dim1, dim2)

    @staticmethod
    def backward(ctx, g):
        # d diagonal = g written on the diagonal of zeros
        grad = ctx.xp.zeros(ctx.shape, dtype=g.dtype)
        diagonal_view(ctx.xp, grad, *ctx.where)[...] = g
        return grad, None, None, None


class DiagonalCopy(Diagonal):
    """``diag`` of a matrix: a copy of its diagonal."""

    is_view = False
    node_name = "DiagonalBackward0_copy"

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        return Diagonal.forward(ctx, x, offset, dim1, dim2).copy()


class DiagEmbed(Op):
    """Zeros with the input's last dim written on a diagonal of two new dims."""

    @staticmethod
    def forward(ctx, x, offset, dim1, dim2):
        ctx.where = offset, dim1, dim2
        n = x.shape[-1] + abs(offset) if x.ndim else 1
        shape = list(x.shape[:-1])
        for d in sorted((dim1, dim2)):
            shape.insert(d, n)
        out = ctx.xp.zeros(tuple(shape), dtype=x.dtype)
        diagonal_view(ctx.xp, out, offset, dim1, dim2)[...] = x
        return out

    @staticmethod
    def backward(ctx, g):
        # d diag_embed = the diagonal of g
        return diagonal_view(ctx.xp, g, *ctx.where).copy(), None, None, None


def _diagonal_dims(ndim, dim1, dim2):
    d1, d2 = normalize_dim(dim1, ndim), normalize_dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def diagonal(input, offset=0, dim1=0, dim2=1):  # noqa: A002
    """A view of the diagonal of dims ``dim1``, ``dim2`` (appended as the last dim)."""
    d1, d2 = _diagonal_dims(input.ndim, dim1, dim2)
    return Diagonal.apply(input, int(offset), d1, d2)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):  # noqa: A002
    """A tensor whose (dim1, dim2) diagonals hold the input's last dim, zeros elsewhere."""
    d1, d2 = _diagonal_dims(input.ndim + 1, dim1, dim2)
    return DiagEmbed.apply(input, int(offset), d1, d2)


def diag(input, diagonal=0, *, out=None):  # noqa: A002
    """1-D in: a square matrix with it on a diagonal; 2-D in: a copy of a diagonal."""
    if input.ndim == 1:
        result = DiagEmbed.apply(input, int(diagonal), 0, 1)
    elif input.ndim == 2:
        result = DiagonalCopy.apply(input, int(diagonal), 0, 1)
    else:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")
    return write_out("diag", result, out)


class Trace(Op):
    """The sum of the main diagonal of a matrix."""

    @staticmethod
    def forward(ctx, x):
        ctx.shape = x.shape
        out_dtype = _INT64 if x.dtype.kind in "biu" else x.dtype
        return ctx.xp.asarray(diagonal_view(ctx.xp, x, 0, 0, 1).sum(dtype=out_dtype))

    @staticmethod
    def backward(ctx, g):
        # d trace = 1 on the diagonal, 0 elsewhere
        grad = ctx.xp.zeros(ctx.shape, dtype=g.dtype)
        diagonal_view(ctx.xp, grad, 0, 0, 1)[...] = g
        return grad


def trace(input):  # noqa: A002
    """The sum of the main diagonal of a 2-D tensor (integers give int64)."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    if input.dtype.name == "bool":
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    return Trace.apply(input)


# ---- grids ---------------------------------------------------------------------------
_MESHGRID_WARNING = ("torch.meshgrid: in an upcoming release, it will be required to pass the "
                     "indexing argument.")


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D tensors: "ij" (matrix, the default) or "xy" (Cartesian)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn(_MESHGRID_WARNING, UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError('torch.meshgrid: indexing must be one of "xy" or "ij", but received: '
                           f"{indexing}")
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in tensors:
        if not isinstance(t, TensorCore):
            raise TypeError("meshgrid(): argument 'tensors' must be tuple of Tensors, not "
                            f"{type(t).__name__}")
        if t.ndim > 1:
            raise RuntimeError("torch.meshgrid: Expected 0D or 1D tensor in the tensor list "
                               f"but got: {t}")
    for t in tensors[1:]:
        if t.dtype != tensors[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    swap = indexing == "xy" and len(tensors) >= 2
    order = list(tensors)
    if swap:
        order[0], order[1] = order[1], order[0]
    shape = tuple(math.prod(t.shape) for t in order)
    grids = []
    for i, t in enumerate(order):
        view_shape = [1] * len(order)
        view_shape[i] = -1
        grids.append(views.expand(views.view(t, view_shape), shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)
