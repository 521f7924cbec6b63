"""Cholesky factors and triangular solves: linalg.cholesky, linalg.solve_triangular,
cholesky_inverse (batched over leading dims, with torch's gradients and messages)."""

from __future__ import annotations

import numpy as np

from ..autograd.devices import check_same_device
from ..autograd.function import Op
from .common import not_implemented, type_name
from .out import write_out

__all__ = ["cholesky_inverse"]


class _LinAlgError(RuntimeError):
    """Raised when a linear-algebra routine fails on its input (torch.linalg.LinAlgError)."""


LinAlgError = _LinAlgError

def _mT(x):
    """The transpose of the last two dims (a view)."""
    return x.swapaxes(-1, -2)


def _substitute(xp, a, b, upper, unit):
    """X with A X = B for triangular A (..., n, n) and B (..., n, k), row by row."""
    shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = xp.broadcast_to(a, shape + a.shape[-2:])
    b = xp.broadcast_to(b, shape + b.shape[-2:])
    n = a.shape[-1]
    x = xp.zeros(shape + b.shape[-2:], dtype=np.result_type(a.dtype, b.dtype))
    rows = range(n - 1, -1, -1) if upper else range(n)
    with np.errstate(all="ignore"):
        for i in rows:
            known = slice(i + 1, n) if upper else slice(0, i)
            row = b[..., i, :] - (a[..., i, None, known] @ x[..., known, :])[..., 0, :]
            x[..., i, :] = row if unit else row / a[..., i, i, None]
    return x


def _triangle(xp, a, upper, unit):
    """The triangle of ``a`` that a triangular solve reads (diagonal ones when ``unit``)."""
    part = xp.triu(a, 1 if unit else 0) if upper else xp.tril(a, -1 if unit else 0)
    if unit:
        part = part + xp.eye(a.shape[-1], dtype=a.dtype)
    return part


class SolveTriangular(Op):
    """X with A X = B (``left``) or X A = B, A upper or lower triangular."""

    opname = "LinalgSolveTriangular"

    @staticmethod
    def forward(ctx, a, b, upper, left, unit):
        """The output from the inputs."""
        xp = ctx.xp
        ctx.upper, ctx.left, ctx.unit = upper, left, unit
        if left:
            x = _substitute(xp, a, b, upper, unit)
        else:  # X A = B  <=>  A^T X^T = B^T
            x = _mT(_substitute(xp, _mT(a), _mT(b), not upper, unit))
        ctx.save_for_backward(a, x)
        return x

    @staticmethod
    def backward(ctx, g):
        """The gradient of the inputs from the output's gradient."""
        a, x = ctx.saved_tensors
        xp = ctx.xp
        upper, unit = ctx.upper, ctx.unit
        if ctx.left:  # gB = A^-T gX, gA = -gB X^T
            gb = _substitute(xp, _mT(a), g, not upper, unit)
            ga = -(gb @ _mT(x))
        else:  # gB = gX A^-T, gA = -X^T gB
            gb = _mT(_substitute(xp, a, _mT(g), upper, unit))
            ga = -(_mT(x) @ gb)
        ga = xp.triu(ga, 1 if unit else 0) if upper else xp.tril(ga, -1 if unit else 0)
        return ga, gb, None, None, None


def _not_positive_definite(host, batched) -> LinAlgError:
    """torch's error naming the first leading minor that is not positive-definite."""
    flat = host.reshape((-1,) + host.shape[-2:])
    for index, matrix in enumerate(flat):
        for order in range(1, matrix.shape[-1] + 1):
            try:
                np.linalg.cholesky(matrix[:order, :order])
            except np.linalg.LinAlgError:
                prefix = f"(Batch element {index}): " if batched else ""
                return LinAlgError(
                    f"linalg.cholesky: {prefix}The factorization could not be completed "
                    "because the input is not positive-definite (the leading minor of order "
                    f"{order} is not positive-definite).")
    return LinAlgError("linalg.cholesky: The factorization could not be completed because the "
                       "input is not positive-definite.")


class Cholesky(Op):
    """The lower-triangular L with A = L L^T (L^T when ``upper``)."""

    opname = "LinalgCholeskyEx"

    @staticmethod
    def forward(ctx, a, upper):
        """The output from the inputs."""
        xp = ctx.xp
        ctx.upper = upper
        try:
            with np.errstate(all="ignore"):
                low = xp.linalg.cholesky(xp.tril(a) + _mT(xp.tril(a, -1)))
            failed = bool(xp.isnan(low).any())  # one read back to the host (CuPy gives NaN)
        except np.linalg.LinAlgError:
            failed = True
        if failed:
            raise _not_positive_definite(ctx.backend.to_numpy(a), a.ndim > 2)
        low = low.astype(a.dtype, copy=False)
        ctx.save_for_backward(low)
        return _mT(low).copy() if upper else low

    @staticmethod
    def backward(ctx, g):
        """The gradient of the inputs from the output's gradient."""
        (low,) = ctx.saved_tensors
        xp = ctx.xp
        if ctx.upper:
            g = _mT(g)
        # gA = L^-H Phi(L^H gL) L^-1 with Phi: the lower triangle, the diagonal halved,
        # made symmetric: 0.5 (P + tril(P, -1)^H) for P = tril(L^H gL)
        p = xp.tril(_mT(low) @ g)
        p = 0.5 * (p + _mT(xp.tril(p, -1)))
        ga = _substitute(xp, _mT(low), p, True, False)
        ga = _mT(_substitute(xp, _mT(low), _mT(ga), True, False))  # X L = G: L^T X^T = G^T
        return ga, None


class CholeskyInverse(Op):
    """(L L^T)^-1 from a Cholesky factor L (``upper``: (U^T U)^-1)."""

    @staticmethod
    def forward(ctx, factor, upper):
        """The output from the inputs."""
        xp = ctx.xp
        ctx.upper = upper
        low = _mT(factor) if upper else factor
        n = factor.shape[-1]
        eye = xp.broadcast_to(xp.eye(n, dtype=factor.dtype), factor.shape)
        inverse_low = _substitute(xp, xp.tril(low), eye, False, False)
        result = _mT(inverse_low) @ inverse_low
        ctx.save_for_backward(factor, result)
        return result

    @staticmethod
    def backward(ctx, g):
        """The gradient of the inputs from the output's gradient."""
        factor, inverse = ctx.saved_tensors
        # A = (L L^T)^-1: gL = -A (G + G^T) A L (upper: -U A (G + G^T) A)
        common = inverse @ (g + _mT(g)) @ inverse
        if ctx.upper:
            return -(factor @ common), None
        return -(common @ factor), None


def _check_square(name, a):
    if a.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{a.shape[-2]} by {a.shape[-1]} matrices")


def _check_float(name, t):
    if not t.dtype.is_floating_point:
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {type_name(t.dtype.numpy)}")


def linalg_cholesky(A, *, upper=False, out=None):
    """The Cholesky factor L of a symmetric positive-definite A (batched), A = L L^T."""
    _check_square("linalg.cholesky", A)
    _check_float("linalg.cholesky", A)
    with A._on_device():
        return write_out("linalg_cholesky", Cholesky.apply(A, bool(upper)), out)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """The solution X of A X = B (``left``) or X A = B for triangular A (batched)."""
    name = "linalg.solve_triangular"
    if not A.dtype.is_floating_point:
        raise not_implemented("triangular_solve", A.dtype.numpy, A._device)
    check_same_device(A, B)
    if A.ndim < 2 or B.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor {'A' if A.ndim < 2 else 'B'} must have "
                           "at least 2 dimensions.")
    _check_square(name, A)
    inner = B.shape[-2] if left else B.shape[-1]
    if A.shape[-1] != inner:
        equation = "AX = B" if left else "XA = B"
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation {equation} "
                           f"({A.shape[-2]}x{A.shape[-1]} and {B.shape[-2]}x{B.shape[-1]})")
    if A.dtype != B.dtype:  # as torch: the solution takes A's dtype
        B = B.to(A.dtype)
    with A._on_device():
        result = SolveTriangular.apply(A, B, bool(upper), bool(left), bool(unitriangular))
        return write_out("linalg_solve_triangular", result, out)


def cholesky_inverse(input, upper=False, *, out=None):
    """The inverse of A from its Cholesky factor: (L L^T)^-1, or (U^T U)^-1 when ``upper``."""
    _check_square("cholesky_inverse", input)
    if not input.dtype.is_floating_point:
        raise not_implemented("cholesky_inverse_out", input.dtype.numpy, input._device)
    with input._on_device():
        return write_out("cholesky_inverse", CholeskyInverse.apply(input, bool(upper)), out)
