"""Matrix products: matmul, mm, bmm, mv, dot (batch broadcasting through the backend)."""

from __future__ import annotations

from ..autograd.function import Op

TENSOR_METHODS = ("matmul",)


class Mm(Op):
    """2-D matrix product."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.backend.matmul(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        mm = ctx.backend.matmul
        # d(AB) = g B^T, A^T g
        return (mm(g, b.T) if need_a else None), (mm(a.T, g) if need_b else None)


def matmul(input, other):  # noqa: A002
    """Matrix product with torch's rules for 1-D and batched operands."""
    if input.ndim == 2 and other.ndim == 2:
        if input.shape[1] != other.shape[0]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({input.shape[0]}x"
                               f"{input.shape[1]} and {other.shape[0]}x{other.shape[1]})")
        return Mm.apply(input, other)
    raise NotImplementedError("matmul for these shapes is not implemented yet")
