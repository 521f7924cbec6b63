"""gputensor.linalg: torch.linalg's namespace (norms, matmul, vecdot, svdvals, cross)."""

from __future__ import annotations

from .ops import pointwise, reduce
from .ops.linalg import matmul
from .ops.math_more import linalg_cross as cross
from .ops.norms import linalg_norm as norm
from .ops.norms import matrix_norm, svdvals, vector_norm
from .ops.out import write_out
from .ops.triangular import LinAlgError, solve_triangular
from .ops.triangular import linalg_cholesky as cholesky

__all__ = ["norm", "vector_norm", "matrix_norm", "matmul", "vecdot", "svdvals", "cross",
           "cholesky", "solve_triangular", "LinAlgError"]


def vecdot(x, y, *, dim=-1, out=None):
    """The dot product of ``x`` and ``y`` along ``dim`` (broadcasting the others)."""
    result = reduce.sum(pointwise.mul(x, y), dim)
    return result if out is None else write_out("sum", result, out)
