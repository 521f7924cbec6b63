"""Constraints on matrices (triangular, Cholesky, symmetric, definite) and on parts (cat, stack)."""

from . import _ops as ops
from .constraint_base import Constraint


class _LowerTriangular(Constraint):
    """Constrain to lower-triangular square matrices."""

    event_dim = 2

    def check(self, value):
        """A bool tensor: which events of ``value`` satisfy the constraint."""
        value_tril = value.tril()
        return (value_tril == value).view(value.shape[:-2] + (-1,)).min(-1)[0]


class _LowerCholesky(Constraint):
    """Constrain to lower-triangular square matrices with positive diagonals."""

    event_dim = 2

    def check(self, value):
        """A bool tensor: which events of ``value`` satisfy the constraint."""
        value_tril = value.tril()
        lower_triangular = (value_tril == value).view(value.shape[:-2] + (-1,)).min(-1)[0]
        positive_diagonal = (value.diagonal(dim1=-2, dim2=-1) > 0).min(-1)[0]
        return lower_triangular & positive_diagonal


class _CorrCholesky(Constraint):
    """Constrain to lower-triangular square matrices with positive diagonals and each row vector
    being of unit length."""

    event_dim = 2

    def check(self, value):
        """A bool tensor: which events of ``value`` satisfy the constraint."""
        tol = ops.finfo(value.dtype).eps * value.size(-1) * 10
        row_norm = ops.linalg_norm(value.detach(), dim=-1)
        unit_row_norm = (row_norm - 1.0).abs().le(tol).all(dim=-1)
        return _LowerCholesky().check(value) & unit_row_norm


class _Square(Constraint):
    """Constrain to square matrices."""

    event_dim = 2

    def check(self, value):
        """A bool tensor: which events of ``value`` satisfy the constraint."""
        return ops.full(
            size=value.shape[:-2],
            fill_value=value.shape[-2] == value.shape[-1],
            dtype=ops.bool,
            device=value.device,
        )


class _Symmetric(_Square):
    """Constrain to Symmetric square matrices."""

    def check(self, value):
        """A bool tensor: which events of ``value`` satisfy the constraint."""
        square_check = super().check(value)
        if not square_check.all():
            return square_check
        return ops.isclose(value, value.mT, atol=1e-06).all(-2).all(-1)


class _PositiveSemidefinite(_Symmetric):
    """Constrain to positive-semidefinite matrices."""

    def check(self, value):
        """A bool tensor: which events of ``value`` satisfy the constraint."""
        sym_check = super().check(value)
        if not sym_check.all():
            return sym_check
        return ops.eigenvalues_at_least(value, 0.0, strict=False)


class _PositiveDefinite(_Symmetric):
    """Constrain to positive-definite matrices."""

    def check(self, value):
        """A bool tensor: which events of ``value`` satisfy the constraint."""
        sym_check = super().check(value)
        if not sym_check.all():
            return sym_check
        return ops.eigenvalues_at_least(value, 0.0, strict=True)


class _Cat(Constraint):
    """Constraint functor that applies a sequence of constraints `cseq` at the submatrices at
    dimension `dim`, each of size `lengths[dim]`, in a way compatible with ``cat``."""

    def __init__(self, cseq, dim=0, lengths=None):
        if not all((isinstance(c, Constraint) for c in cseq)):
            raise AssertionError("All elements of cseq must be Constraint instances")
        self.cseq = list(cseq)
        if lengths is None:
            lengths = [1] * len(self.cseq)
        self.lengths = list(lengths)
        if len(self.lengths) != len(self.cseq):
            raise AssertionError(
                f"lengths ({len(self.lengths)}) must match cseq ({len(self.cseq)})"
            )
        self.dim = dim
        super().__init__()

    @property
    def is_discrete(self):
        """Whether the constrained set is discrete."""
        return any((c.is_discrete for c in self.cseq))

    @property
    def event_dim(self):
        """The number of rightmost dims that make one event."""
        return max((c.event_dim for c in self.cseq))

    def check(self, value):
        """A bool tensor: which events of ``value`` satisfy the constraint."""
        if not -value.dim() <= self.dim < value.dim():
            raise AssertionError(
                f"dim {self.dim} out of range for value with {value.dim()} dimensions"
            )
        checks = []
        start = 0
        for constr, length in zip(self.cseq, self.lengths):
            v = value.narrow(self.dim, start, length)
            checks.append(constr.check(v))
            start = start + length
        return ops.cat(checks, self.dim)


class _Stack(Constraint):
    """Constraint functor that applies a sequence of constraints `cseq` at the submatrices at
    dimension `dim`, in a way compatible with ``stack``."""

    def __init__(self, cseq, dim=0):
        if not all((isinstance(c, Constraint) for c in cseq)):
            raise AssertionError("All elements of cseq must be Constraint instances")
        self.cseq = list(cseq)
        self.dim = dim
        super().__init__()

    @property
    def is_discrete(self):
        """Whether the constrained set is discrete."""
        return any((c.is_discrete for c in self.cseq))

    @property
    def event_dim(self):
        """The number of rightmost dims that make one event."""
        dim = max((c.event_dim for c in self.cseq))
        if self.dim + dim < 0:
            dim += 1
        return dim

    def check(self, value):
        """A bool tensor: which events of ``value`` satisfy the constraint."""
        if not -value.dim() <= self.dim < value.dim():
            raise AssertionError(
                f"dim {self.dim} out of range for value with {value.dim()} dimensions"
            )
        vs = [value.select(self.dim, i) for i in range(value.size(self.dim))]
        return ops.stack([constr.check(v) for v, constr in zip(vs, self.cseq)], self.dim)
