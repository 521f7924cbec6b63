"""Matrix products: matmul, mm, bmm, mv, dot (batch broadcasting through the backend hook)."""

from __future__ import annotations

import math

from ..autograd.function import Op
from .common import check_broadcast
from .creation import as_tensor
from .out import write_out
from .reduce import type_name

__all__ = ["matmul", "mm", "bmm", "mv", "dot"]

# C++ type names torch prints in "expected m1 and m2 to have the same dtype"
_CPP_NAMES = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char",
              "int16": "short int", "int32": "int", "int64": "long int", "float16": "c10::Half",
              "bfloat16": "c10::BFloat16", "float32": "float", "float64": "double"}


class Matmul(Op):
    """The product of two operands of at least one dim with ``backend.matmul``.

    A 1-D left operand is a row and a 1-D right operand a column; the added dim is removed
    from the result. Batch dims broadcast; the base sums gradients back over them.
    Subclasses only carry torch's grad_fn name for each case.
    """

    opname = "UnsafeView"

    @staticmethod
    def _as_matrices(a, b):
        return (a[None, :] if a.ndim == 1 else a), (b[:, None] if b.ndim == 1 else b)

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.a_vector, ctx.b_vector = a.ndim == 1, b.ndim == 1
        a2, b2 = Matmul._as_matrices(a, b)
        out = ctx.backend.matmul(a2, b2)
        if ctx.b_vector:
            out = out[..., 0]
        if ctx.a_vector:
            out = out[..., 0] if ctx.b_vector else out[..., 0, :]
        return out

    @staticmethod
    def backward(ctx, g):
        # d(AB) = g B^T (for A), A^T g (for B)
        a, b = ctx.saved_tensors
        xp, mm = ctx.xp, ctx.backend.matmul
        a2, b2 = Matmul._as_matrices(a, b)
        if ctx.b_vector:
            g = g[..., None]
        if ctx.a_vector:
            g = g[..., None, :]
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = mm(g, xp.swapaxes(b2, -1, -2))
            if ctx.a_vector:
                grad_a = grad_a[..., 0, :]
        if ctx.needs_input_grad[1]:
            grad_b = mm(xp.swapaxes(a2, -1, -2), g)
            if ctx.b_vector:
                grad_b = grad_b[..., 0]
        return grad_a, grad_b


class Dot(Matmul):
    """1-D · 1-D."""

    opname = None


class Mv(Matmul):
    """2-D · 1-D."""

    opname = None


class Mm(Matmul):
    """2-D · 2-D."""

    opname = None


class Bmm(Matmul):
    """3-D · 3-D with equal batch sizes."""

    opname = None


class MatmulRow(Matmul):
    """1-D · 2-D: torch multiplies a 1-row matrix and squeezes the row away."""

    opname, variant = "Squeeze", 4


class MatmulClone(Matmul):
    """2-D · batched, which torch computes transposed and copies back to row-major."""

    opname = "Clone"


class MatmulTranspose(Matmul):
    """2-D · batched where the transposed result is already row-major."""

    opname = "Transpose"


def _fail_bool(a, kernel):
    if a.dtype.name == "bool":
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def _check_mm(a_shape, b_shape, a_dtype, b_dtype):
    """torch's mm checks for (rows x k) and (k2 x cols) operands."""
    if a_shape[1] != b_shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a_shape[0]}x"
                           f"{a_shape[1]} and {b_shape[0]}x{b_shape[1]})")
    if a_dtype != b_dtype:
        raise RuntimeError("expected m1 and m2 to have the same dtype, but got: "
                           f"{_CPP_NAMES[a_dtype.name]} != {_CPP_NAMES[b_dtype.name]}")
    if a_dtype.name == "bool" and 0 not in a_shape and 0 not in b_shape:  # empty: no kernel
        raise NotImplementedError("\"addmm_impl_cpu_\" not implemented for 'Bool'")


def _check_mv(mat_shape, vec_len, mat_dtype, vec_dtype):
    """torch's mv checks for a (rows x k) matrix and a vector."""
    if mat_shape[1] != vec_len:
        raise RuntimeError(f"size mismatch, got input ({mat_shape[0]}), mat ({mat_shape[0]}x"
                           f"{mat_shape[1]}), vec ({vec_len})")
    if mat_dtype != vec_dtype:
        vec, mat = type_name(vec_dtype), type_name(mat_dtype)
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got {vec}, "
                           f"{mat}, and {vec}")
    if mat_dtype.name == "bool" and 0 not in mat_shape:  # empty: no kernel
        raise NotImplementedError("\"addmv_impl_cpu\" not implemented for 'Bool'")


def _check_bmm(batch, a_shape, b_shape, a_dtype, b_dtype):
    """torch's bmm checks for (batch, n, k) and (batch, k2, m) operands."""
    if b_shape[-2] != a_shape[-1]:
        raise RuntimeError("Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{batch}, {a_shape[-1]}] but got: [{batch}, {b_shape[-2]}].")
    if a_dtype != b_dtype:
        raise RuntimeError(f"expected scalar type {type_name(a_dtype)} but found "
                           f"{type_name(b_dtype)}")
    if a_dtype.name == "bool" and batch and 0 not in a_shape and 0 not in b_shape:
        raise NotImplementedError("\"bmm\" not implemented for 'Bool'")  # empty: no kernel


def dot(input, tensor, *, out=None):
    """Inner product of two 1-D tensors."""
    if out is not None:
        return write_out("dot", dot(input, tensor), out)
    if input.ndim != 1 or tensor.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {tensor.ndim}D "
                           "tensors")
    if input.dtype != tensor.dtype:
        raise RuntimeError("dot : expected both vectors to have same dtype, but found "
                           f"{type_name(input.dtype)} and {type_name(tensor.dtype)}")
    n, m = input.shape[0], tensor.shape[0]
    if n != m:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to "
                           f"have the same number of elements, but got {n} and {m} elements "
                           "respectively")
    _fail_bool(input, "dot")
    return Dot.apply(input, tensor)


def mv(input, vec, *, out=None):
    """Matrix-vector product."""
    if out is not None:
        return write_out("mv", mv(input, vec), out)
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, {vec.ndim}")
    _check_mv(tuple(input.shape), vec.shape[0], input.dtype, vec.dtype)
    return Mv.apply(input, vec)


def mm(input, mat2, *, out=None):
    """Matrix-matrix product of two 2-D tensors."""
    if out is not None:
        return write_out("mm", mm(input, mat2), out)
    if input.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    _check_mm(tuple(input.shape), tuple(mat2.shape), input.dtype, mat2.dtype)
    return Mm.apply(input, mat2)


def bmm(input, mat2, *, out=None):
    """Batched matrix product of two 3-D tensors with the same batch size."""
    if out is not None:
        return write_out("bmm", bmm(input, mat2), out)
    if input.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    batch = input.shape[0]
    if mat2.shape[0] != batch:
        raise RuntimeError("Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{batch}, {input.shape[2]}] but got: [{mat2.shape[0]}, "
                           f"{mat2.shape[1]}].")
    _check_bmm(batch, tuple(input.shape), tuple(mat2.shape), input.dtype, mat2.dtype)
    return Bmm.apply(input, mat2)


def _should_fold(a_shape, b_shape, a_strides, b_strides, a_grad, b_grad):
    """torch's choice between folding the batch into one mm/mv and a batched product."""
    a_larger = len(a_shape) >= len(b_shape)
    if a_larger:
        big, strides, small_ndim, small_grad = a_shape, a_strides, len(b_shape), b_grad
    else:  # torch folds the transposed right operand
        big = b_shape[:-2] + (b_shape[-1], b_shape[-2])
        strides = b_strides[:-2] + (b_strides[-1], b_strides[-2])
        small_ndim, small_grad = len(a_shape), a_grad
    if not (len(big) >= 3 and small_ndim in (1, 2)):
        return False
    if small_grad:
        return True
    if len(a_shape) == 2:
        return False
    if math.prod(big) == 0:
        return True
    return all(strides[i] == strides[i + 1] * big[i + 1] for i in range(len(big) - 2))


def matmul(input, other, *, out=None):
    """Matrix product with torch's rules for 1-D, 2-D and batched (broadcast) operands."""
    if out is not None:
        return write_out("matmul", matmul(input, other), out)
    a, b = input, other
    a_shape, b_shape = a._data.shape, b._data.shape
    a_ndim, b_ndim = len(a_shape), len(b_shape)
    if a_ndim == 0 or b_ndim == 0:
        raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                           f"{a_ndim}D and {b_ndim}D")
    if a_ndim == 2 and b_ndim == 2:
        return mm(a, b)
    if a_ndim == 1 and b_ndim == 1:
        return dot(a, b)
    if a_ndim == 2 and b_ndim == 1:
        return mv(a, b)
    if a_ndim == 1 and b_ndim == 2:
        _check_mm((1,) + a_shape, b_shape, a.dtype, b.dtype)
        return MatmulRow.apply(a, b)
    a_strides, b_strides = a.stride(), b.stride()
    if a_ndim == 3 and b_ndim == 3 and a_shape[0] != b_shape[0]:
        # torch folds a broadcast batch of one that requires grad
        if b_shape[0] == 1 and b.requires_grad:
            b_shape, b_strides = b_shape[1:], b_strides[1:]
        elif a_shape[0] == 1 and a.requires_grad:
            a_shape, a_strides = a_shape[1:], a_strides[1:]
    if _should_fold(a_shape, b_shape, a_strides, b_strides, a.requires_grad, b.requires_grad):
        return _folded(a, b, a_shape, b_shape)
    a_batch, b_batch = a_shape[:-2], b_shape[:-2]
    check_broadcast(a_batch, b_batch)
    width = max(len(a_batch), len(b_batch))
    a_batch, b_batch = (1,) * (width - len(a_batch)) + a_batch, (1,) * (width - len(b_batch)) \
        + b_batch
    batch = math.prod(x if x != 1 else y for x, y in zip(a_batch, b_batch))
    a_mat = a_shape if len(a_shape) > 1 else (1,) + a_shape
    b_mat = b_shape if len(b_shape) > 1 else b_shape + (1,)
    _check_bmm(batch, a_mat, b_mat, a.dtype, b.dtype)
    return Matmul.apply(a, b)


def _folded(a, b, a_shape, b_shape):
    """matmul where torch folds the batch of the larger operand into one mm or mv."""
    if len(a_shape) >= len(b_shape):  # (..., n, k) @ (k, m) or (k,)
        rows = math.prod(a_shape[:-1])
        if len(b_shape) == 1:
            _check_mv((rows, a_shape[-1]), b_shape[0], a.dtype, b.dtype)
        else:
            _check_mm((rows, a_shape[-1]), b_shape, a.dtype, b.dtype)
        return Matmul.apply(a, b)
    # torch computes (b^T folded) @ a^T, then transposes back
    rows, cols = math.prod(b_shape[:-2]) * b_shape[-1], b_shape[-2]
    if len(a_shape) == 1:
        _check_mv((rows, cols), a_shape[0], b.dtype, a.dtype)
        return Matmul.apply(a, b)
    _check_mm((rows, cols), a_shape[::-1], b.dtype, a.dtype)
    if a_shape[0] == 1 or b_shape[-1] == 1 or rows == 0 or a_shape[0] == 0:
        return MatmulTranspose.apply(a, b)
    return MatmulClone.apply(a, b)


def rmatmul(input, other):  # noqa: A002
    """``other @ input`` (``Tensor.__rmatmul__``; ``other`` may be an array or a list)."""
    return matmul(as_tensor(other), input)
