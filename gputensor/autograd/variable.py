"""``Variable``: the pre-0.4 wrapper, kept for old tutorials; it makes plain tensors now."""

from __future__ import annotations

from .._tensor_core import TensorCore


class _VariableMeta(type):
    """Makes ``isinstance(x, Variable)`` true of every tensor, as in torch."""

    def __instancecheck__(cls, other):
        return isinstance(other, TensorCore)


class Variable(metaclass=_VariableMeta):
    """``Variable(t, requires_grad=False)``: a new leaf tensor sharing ``t``'s data."""

    def __new__(cls, data, requires_grad=False, volatile=False):
        if not isinstance(data, TensorCore):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        return data.detach().requires_grad_(requires_grad)
