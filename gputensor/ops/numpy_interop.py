"""NumPy on the other side of an operator: what torch does, never a silently dropped graph.

``Tensor.__array_priority__`` makes NumPy scalars and arrays on the left of an operator
defer to the Tensor's reflected operator. A NumPy scalar then counts as a Python number
(the result a tensor, its graph kept); an array gets torch's answer: ``TypeError`` for
``+ - * // % ** @ & | ^`` and ordering comparisons, NumPy's division by way of
``__array__`` (so a tensor that requires grad raises) for ``/``, identity for ``!=``.
With the array on the right NumPy computes, as for torch: from ``__array__`` (which raises
for a tensor that requires grad or lives on a GPU), NumPy's dtypes, and the result comes
back as a tensor through ``array_wrap``, as for ``np.exp(t)``.
"""

from __future__ import annotations

import numpy as np

from .._tensor_core import TensorCore
from . import elementwise, inplace, linalg, pointwise
from .creation import from_numpy

__all__: list[str] = []

ARRAY_PRIORITY = 1000  # torch's: NumPy defers binary operators to the tensor


def _defers_arrays(op, name: str, doc: str):
    """``op`` as an operator that returns NotImplemented for a NumPy array ``other``: Python
    then raises the TypeError (a reflected operator), or NumPy computes the result from
    ``input.__array__()`` (torch's errors) and ``array_wrap`` makes it a tensor."""
    def operator(input, other):  # noqa: A002
        if isinstance(other, np.ndarray):
            return NotImplemented
        return op(input, other)
    operator.__name__, operator.__doc__ = name, doc
    return operator


def _reflected(op):
    return _defers_arrays(op, f"reflected_{op.__name__}",
                          f"``other {op.__name__} input`` for a non-array ``other``.")


def _array_to_numpy(op):
    return _defers_arrays(op, f"{op.__name__}_operator",
                          f"``input {op.__name__} other``, NumPy's for an array ``other``.")


def add(input, other):  # noqa: A002
    """``input add other``, NumPy's for an array ``other``."""
    if isinstance(other, TensorCore):  # two tensors: straight to the op (the usual case)
        return elementwise.Add.apply(input, other)
    if isinstance(other, np.ndarray):
        return NotImplemented
    return pointwise.add(input, other)


def mul(input, other):  # noqa: A002
    """``input mul other``, NumPy's for an array ``other``."""
    if isinstance(other, TensorCore):  # two tensors: straight to the op (the usual case)
        return elementwise.Mul.apply(input, other)
    if isinstance(other, np.ndarray):
        return NotImplemented
    return pointwise.mul(input, other)


add.__name__, mul.__name__ = "add_operator", "mul_operator"
sub = _array_to_numpy(pointwise.sub)
div = _array_to_numpy(pointwise.div)
floor_divide = _array_to_numpy(pointwise.floor_divide)
remainder = _array_to_numpy(pointwise.remainder)
pow = _array_to_numpy(pointwise.pow)  # noqa: A001
matmul = _array_to_numpy(linalg.matmul)
bitwise_and = _array_to_numpy(pointwise.bitwise_and)
bitwise_or = _array_to_numpy(pointwise.bitwise_or)
bitwise_xor = _array_to_numpy(pointwise.bitwise_xor)
# in place: an array operand makes Python fall back to the binary operator (torch's result:
# a new tensor computed by NumPy, or torch's error for a tensor that requires grad)
iadd = _array_to_numpy(inplace.add_)
isub = _array_to_numpy(inplace.sub_)
imul = _array_to_numpy(inplace.mul_)
itruediv = _array_to_numpy(inplace.div_)
ipow = _array_to_numpy(inplace.pow_)
ifloordiv = _array_to_numpy(inplace.floor_divide_)
imod = _array_to_numpy(inplace.remainder_)
radd = _reflected(pointwise.add)
rsub = _reflected(pointwise.rsub)
rmul = _reflected(pointwise.mul)
rfloor_divide = _reflected(pointwise.rfloor_divide)
rremainder = _reflected(pointwise.rremainder)
rpow = _reflected(pointwise.rpow)
rmatmul = _reflected(linalg.rmatmul)
rbitwise_and = _reflected(pointwise.bitwise_and)
rbitwise_or = _reflected(pointwise.bitwise_or)
rbitwise_xor = _reflected(pointwise.bitwise_xor)
lt_operator = _reflected(pointwise.lt)
le_operator = _reflected(pointwise.le)
gt_operator = _reflected(pointwise.gt)
ge_operator = _reflected(pointwise.ge)
ne_operator = _reflected(pointwise.ne_operator)


def rdiv(input, other):  # noqa: A002
    """``other / input``; an array divides as torch's does, through ``input.__array__``."""
    if isinstance(other, np.ndarray):
        input.__array__()  # torch's errors: requires grad, or not in CPU memory
    return pointwise.rdiv(input, other)


def array_wrap(input, array, context=None, return_scalar=False):  # noqa: A002
    """A NumPy result as a CPU tensor (``__array_wrap__``); bools as uint8, as torch."""
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    return from_numpy(np.asarray(array))
