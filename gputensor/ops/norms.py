"""Vector and matrix norms: torch.norm and torch.linalg's vector_norm, matrix_norm, norm."""

from __future__ import annotations

import math
import numbers

from .._tensor_core import TensorCore
from ..autograd.function import Op
from ..autograd.grad_mode import is_grad_enabled
from . import extrema, inplace, reduce, views
from .common import as_array, normalize_dims, type_name
from .out import write_out
from .reduce import acc_dtype, expand_grad

__all__ = ["norm"]  # torch's top-level name; the others are gputensor.linalg's




class LinalgVectorNorm(Op):
    """(sum |x|^ord)^(1/ord) over dims; ord 0 counts non-zeros, +-inf is the max/min of |x|."""

    @staticmethod
    def forward(ctx, x, ord, axes, keepdim):
        xp = ctx.xp
        ctx.ord, ctx.axes, ctx.keepdim = ord, axes, keepdim
        work = x.astype(acc_dtype(x.dtype), copy=False)
        a = xp.abs(work)
        if ord == math.inf:
            out = a.max(axis=axes, keepdims=keepdim)
        elif ord == -math.inf:
            out = a.min(axis=axes, keepdims=keepdim)
        elif ord == 0:
            out = (a != 0).sum(axis=axes, keepdims=keepdim).astype(a.dtype)
        elif ord == 1:
            out = a.sum(axis=axes, keepdims=keepdim)
        elif ord == 2:
            out = xp.sqrt((a * a).sum(axis=axes, keepdims=keepdim))
        else:
            out = ((a ** ord).sum(axis=axes, keepdims=keepdim)) ** (1 / ord)
        out = as_array(xp, out).astype(x.dtype, copy=False)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        xp, ord = ctx.xp, ctx.ord
        shape, axes, keepdim = x.shape, ctx.axes, ctx.keepdim
        if ord == 0:
            return xp.zeros_like(x), None, None, None  # piecewise constant
        g = expand_grad(xp, g, shape, axes, keepdim)
        norm = expand_grad(xp, out, shape, axes, keepdim)
        sign = (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype)
        if ord == 1:
            return g * sign, None, None, None  # d sum|x| = sign(x)
        if math.isinf(ord):
            # d max|x| = sign(x) at the extreme elements, shared evenly among ties
            mask = xp.abs(x) == norm
            count = expand_grad(xp, mask.sum(axis=axes, keepdims=True), shape, axes, True)
            return sign * g * mask / count, None, None, None
        if ord == 2:
            # d ||x|| = x / ||x||, 0 where the norm is 0
            grad = xp.where(norm == 0, 0, x * g / xp.where(norm == 0, 1, norm))
            return grad, None, None, None
        # d ||x||_p = sign(x) |x|^(p-1) / ||x||^(p-1), 0 where x or the norm is 0
        scaled = xp.where(x == 0, 0, sign * xp.abs(x) ** (ord - 1))
        denom = xp.where(norm == 0, 1, norm ** (ord - 1))
        return xp.where(norm == 0, 0, scaled * g / denom), None, None, None


class LinalgSvd(Op):
    """The singular values of the matrices in the last two dims, largest first."""

    @staticmethod
    def forward(ctx, a):
        work = a.astype(acc_dtype(a.dtype), copy=False)
        u, s, vh = ctx.xp.linalg.svd(work, full_matrices=False)
        ctx.save_for_backward(u.astype(a.dtype), vh.astype(a.dtype))
        return s.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        u, vh = ctx.saved_tensors
        return ctx.xp.matmul(u * g[..., None, :], vh)  # d sigma_i = u_i v_i^T


def _float_input(name, input, dtype):
    """``input`` cast to ``dtype`` (if given); torch's error for a non-float input."""
    if dtype is not None:
        if not dtype.is_floating_point:
            raise RuntimeError(f"{name}: dtype should be floating point or complex, but got "
                               f"{type_name(dtype)}")
        input = input.to(dtype)
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {type_name(input.dtype)}")
    return input


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """The vector ``ord``-norm of ``x`` over ``dim`` (all elements when None)."""
    if not isinstance(ord, numbers.Real):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' (position 2) must be Number, not "
                        f"{type(ord).__name__}")
    x = _float_input("linalg.vector_norm", x, dtype)
    axes = normalize_dims(dim, x.ndim) if x.ndim else ()
    if ord < 0 or math.isinf(ord):
        _check_nonempty(x, dim, axes, ord)
    result = LinalgVectorNorm.apply(x, float(ord), axes, keepdim)
    return result if out is None else write_out("linalg_vector_norm", result, out)


def _check_nonempty(x, dim, axes, ord):
    """torch's errors for a max/min (or negative power) norm over an empty dim."""
    text = _number_text(ord)
    if dim is None:
        if x.numel() == 0:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {text} norm on an empty "
                               f"tensor because the operation does not have an identity")
        return
    for axis in axes:
        if x.shape[axis] == 0:  # (torch's message lacks the space before "because")
            raise RuntimeError(f"linalg.vector_norm cannot compute the {text} norm on the "
                               f"dimension {axis}because this dimension is empty and the "
                               f"operation does not have an identity")


def svdvals(A):
    """The singular values of the matrices in ``A``'s last two dims, largest first."""
    return LinalgSvd.apply(A)


_MATRIX_ORDS = ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """The matrix ``ord``-norm over the two dims ``dim`` ('fro', 'nuc', +-1, +-2, +-inf)."""
    A = _float_input("linalg.matrix_norm", A, dtype)
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    if ord not in _MATRIX_ORDS:
        if isinstance(ord, str):
            raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
        raise RuntimeError(f"linalg.matrix_norm: Order {_number_text(ord)} not supported.")
    dim = tuple(dim)
    if len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got "
                           f"{' '.join(str(d) for d in dim)}")
    d0, d1 = (d % A.ndim for d in dim)
    if ord == "fro":
        result = vector_norm(A, 2, (d0, d1), keepdim)
    elif ord in ("nuc", 2, -2):
        result = _singular_value_norm(A, ord, d0, d1, keepdim)
    else:
        # 1: the largest column sum of |A|; inf: the largest row sum
        summed, kept = (d0, d1) if abs(ord) == 1 else (d1, d0)
        if not keepdim and kept > summed:
            kept -= 1
        sums = vector_norm(A, 1, summed, keepdim=keepdim)
        result = (extrema.amax if ord > 0 else extrema.amin)(sums, kept, keepdim=keepdim)
    return result if out is None else _composite_out("linalg.matrix_norm", result, out)


def _singular_value_norm(A, ord, d0, d1, keepdim):
    """The sum ('nuc'), max (2) or min (-2) of the singular values over dims d0, d1."""
    order = [d for d in range(A.ndim) if d not in (d0, d1)] + [d0, d1]
    values = svdvals(views.permute(A, *order))
    if ord == "nuc":
        result = reduce.sum(values, -1, keepdim)
    else:
        result = (extrema.amax if ord == 2 else extrema.amin)(values, -1, keepdim)
    if not keepdim:
        return result
    return views.permute(views.unsqueeze(result, -1), *(order.index(d) for d in range(A.ndim)))


def _composite_out(name, result, out):
    """``out=`` as torch's composite norms take it: out's dtype must be the result's, and the
    copy into it is recorded by autograd (CopyBackwards) rather than refused."""
    if isinstance(out, TensorCore) and out.dtype is not result.dtype:
        raise RuntimeError(f"{name} expected out tensor dtype {type_name(result.dtype)} but "
                           f"got: {type_name(out.dtype)}")
    if not (is_grad_enabled() and result.requires_grad):
        return write_out(name, result, out)
    write_out(name, result.detach(), out)  # resized as torch resizes (with its warning)
    return inplace.copy_(out, result)


def _number_text(value) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def linalg_norm(A, ord=None, dim=None, keepdim=False, *, out=None, dtype=None):
    """torch.linalg.norm: a vector norm, or a matrix norm for 2 dims (or a 2-D ``A`` with ord)."""
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None and len(dim) == 2 or dim is None and ord is not None and A.ndim == 2:
        result = matrix_norm(A, "fro" if ord is None else ord, dim or (-2, -1), keepdim,
                             dtype=dtype)
    elif dim is None and ord is not None and A.ndim != 1:
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must "
                           f"be 1D or 2D. Got {A.ndim}D.")
    else:
        result = vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    return result if out is None else _composite_out("linalg.norm", result, out)


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):  # noqa: A002
    """torch.norm: the vector p-norm (or Frobenius) over ``dim``; 'nuc', the nuclear norm."""
    if isinstance(dim, int):
        dim = (dim,)
    if p == "nuc":
        dims = tuple(range(input.ndim)) if dim is None else dim
        result = matrix_norm(input, "nuc", dims, keepdim, dtype=dtype)
    elif p == "fro" or p is None:
        result = vector_norm(input, 2, dim, keepdim, dtype=dtype)
    elif isinstance(p, str):
        raise RuntimeError(f"linalg.matrix_norm: Order {p} not supported.")
    else:
        result = vector_norm(input, p, dim, keepdim, dtype=dtype)
    if out is None:
        return result
    if p == "nuc":
        return _composite_out("linalg.matrix_norm", result, out)
    return write_out("linalg_vector_norm", result, out)



def tensor_norm(self, p="fro", dim=None, keepdim=False, dtype=None):
    """``Tensor.norm``: torch.norm without ``out`` (``dtype`` is its fourth argument)."""
    return norm(self, p, dim, keepdim, dtype=dtype)
