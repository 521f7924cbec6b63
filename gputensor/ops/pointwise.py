"""Public elementwise functions: arithmetic with numbers on either side, math, comparisons."""

from __future__ import annotations

import functools
import numbers

import numpy as np

from .. import dtypes
from .._tensor_core import TensorCore
from ..autograd.devices import on_common_device
from ..dtypes import is_float_array_dtype
from . import elementwise as ew
from . import unary as un
from .common import (
    as_array,
    broadcast_shapes,
    not_implemented,
    promote,
    result_dtype,
    shape_of,
)
from .creation import as_tensor_like, tensor
from .out import write_out

__all__ = [
    "add", "sub", "subtract", "rsub", "mul", "multiply", "div", "divide", "true_divide",
    "floor_divide", "remainder", "pow", "maximum", "minimum", "where", "clamp", "clip", "neg",
    "negative", "positive", "abs", "absolute", "exp", "log", "log1p", "sqrt", "rsqrt", "sin",
    "cos", "tanh", "sigmoid", "relu", "reciprocal", "sign", "floor", "ceil", "round", "eq", "ne",
    "lt", "le", "gt", "ge", "less", "less_equal", "greater", "greater_equal", "bitwise_and",
    "bitwise_or", "bitwise_xor", "bitwise_not", "logical_and", "logical_or", "logical_xor",
    "logical_not", "isnan", "isinf", "isfinite", "to_dtype", "clone", "result_type"]


# the functions that are also Tensor methods (``where`` binds as torch's ``x.where(c, y)``)


_PLAIN_NUMBERS = (int, float, bool)


def _operand(value, like):
    """A Tensor, or a plain Python number (NumPy scalars are unwrapped)."""
    if type(value) in _PLAIN_NUMBERS:  # (the usual case, before the slower checks)
        return value
    if isinstance(value, TensorCore):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, numbers.Number):
        return value
    if isinstance(like, TensorCore):
        return as_tensor_like(value, like)
    return tensor(value)


number_operand = _operand  # (special.py's one-sided clamps)


def _pair(a, b):
    """Both operands as Tensors or Python numbers, at least one of them a Tensor."""
    if isinstance(a, TensorCore):
        return (a, b) if isinstance(b, TensorCore) else (a, _operand(b, a))
    b = _operand(b, a)
    if isinstance(b, TensorCore):
        return _operand(a, b), b
    return tensor(_operand(a, None)), b


def add(input, other, alpha: float = 1, *, out=None):  # noqa: A002
    """input + alpha * other."""
    result = ew.Add.apply(*_pair(input, other), alpha)
    return result if out is None else write_out("add", result, out)


def sub(input, other, alpha: float = 1, *, out=None):  # noqa: A002
    """input - alpha * other."""
    a, b = _pair(input, other)
    ew.check_bool_subtraction(*(v._data if isinstance(v, TensorCore) else v for v in (a, b)))
    if isinstance(a, TensorCore):  # (torch refuses bool before it broadcasts)
        result = ew.Sub.apply(a, b, alpha)
    else:
        result = ew.RsubScalar.apply(b, a, alpha)
    return result if out is None else write_out("sub", result, out)


def rsub(input, other, alpha: float = 1):  # noqa: A002
    """other - alpha * input."""
    a, b = _pair(input, other)
    if not isinstance(a, TensorCore):
        return sub(b, mul(a, alpha))
    op = ew.Rsub if isinstance(b, TensorCore) else ew.RsubScalar
    return op.apply(a, b, alpha)


def mul(input, other, *, out=None):  # noqa: A002
    """input * other."""
    result = ew.Mul.apply(*_pair(input, other))
    return result if out is None else write_out("mul", result, out)


def div(input, other, rounding_mode=None, *, out=None):  # noqa: A002
    """input / other; ``rounding_mode`` "trunc" or "floor" rounds the quotient."""
    if out is not None:
        return write_out("div", div(input, other, rounding_mode), out)
    if rounding_mode not in (None, "trunc", "floor"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                           f"but found '{rounding_mode}'")
    a, b = _pair(input, other)
    if rounding_mode is not None:
        return ew.DivMode.apply(a, b, rounding_mode)
    if isinstance(a, TensorCore):
        return ew.Div.apply(a, b)
    return mul(un.Reciprocal.apply(b), a)  # number / tensor, as torch: MulBackward0


def true_divide(input, other, *, out=None):  # noqa: A002
    """input / other, as a floating point result."""
    return div(input, other, out=out)


divide = div
multiply, subtract = mul, sub


def floor_divide(input, other):  # noqa: A002
    """Floor of input / other (no derivative, as in torch)."""
    return ew.FloorDivide.apply(*_pair(input, other))


def remainder(input, other):  # noqa: A002
    """input % other, with the sign of other."""
    a, b = _pair(input, other)
    if not isinstance(a, TensorCore):
        return ew.RemainderScalarFirst.apply(a, b)
    return (ew.RemainderTensor if isinstance(b, TensorCore) else ew.Remainder).apply(a, b)


def pow(input, exponent, *, out=None):  # noqa: A001,A002
    """input ** exponent."""
    if out is not None:
        return write_out("pow", pow(input, exponent), out)
    a, b = _pair(input, exponent)
    if not isinstance(a, TensorCore):
        return ew.PowScalarBase.apply(a, b)
    if isinstance(b, TensorCore):
        return ew.PowTensor.apply(a, b)
    return ew.Pow.apply(a, b)


def _require_tensors(name, input, other):  # noqa: A002
    for position, (arg, value) in enumerate((("input", input), ("other", other)), 1):
        if not isinstance(value, TensorCore):
            raise TypeError(f"{name}(): argument '{arg}' (position {position}) must be Tensor, "
                            f"not {type(value).__name__}")


def maximum(input, other, *, out=None):  # noqa: A002
    """Elementwise maximum of two tensors."""
    _require_tensors("maximum", input, other)
    result = ew.Maximum.apply(input, other)
    return result if out is None else write_out("maximum", result, out)


def minimum(input, other, *, out=None):  # noqa: A002
    """Elementwise minimum of two tensors."""
    _require_tensors("minimum", input, other)
    result = ew.Minimum.apply(input, other)
    return result if out is None else write_out("minimum", result, out)


def _where(condition, input=None, other=None, out=None):  # noqa: A002
    if input is None and other is None:
        with condition._on_device():
            data = condition._data
            indices = condition._backend.xp.nonzero(data.reshape(1) if data.ndim == 0 else data)
        return tuple(condition._wrap(i.astype(np.int64, copy=False)) for i in indices)
    if out is not None:  # torch's where.out takes tensors only
        for position, (arg, value) in enumerate((("input", input), ("other", other)), 2):
            if not isinstance(value, TensorCore):
                raise TypeError(f"where(): argument '{arg}' (position {position}) must be "
                                f"Tensor, not {type(value).__name__}")
    if condition.dtype is not dtypes.bool:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {dtypes.SCALAR_TYPE_NAMES[condition.dtype]}")
    result = un.Where.apply(condition, _operand(input, condition), _operand(other, condition))
    return write_out("where", result, out)


class _WhereFunction:
    """``where(condition, input, other)``: input where condition holds, else other.

    As a Tensor method it is torch's ``x.where(condition, y)``: x where condition holds.
    ``where(condition)`` alone gives the indices of the true elements.
    """

    __name__ = __qualname__ = "where"

    def __call__(self, condition, input=None, other=None, *, out=None):  # noqa: A002
        return _where(condition, input, other, out)

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return functools.partial(_where_method, obj)


def _where_method(self, condition, other):
    return _where(condition, self, other)


where = _WhereFunction()


def clamp(input, min=None, max=None, *, out=None):  # noqa: A001,A002
    """Clamp every element into [min, max] (numbers or tensors; either may be None)."""
    if out is not None:
        return write_out("clamp", clamp(input, min, max), out)
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, TensorCore) or isinstance(max, TensorCore):
        low = None if min is None else as_tensor_like(min, input)
        high = None if max is None else as_tensor_like(max, input)
        return un.ClampTensor.apply(input, low, high)
    low, high = (None if v is None else _operand(v, input) for v in (min, max))
    return un.Clamp.apply(input, low, high)


clip = clamp


def _unary_function(op, name):
    def fn(input, *, out=None):  # noqa: A002
        result = op.apply(input)
        return result if out is None else write_out(name, result, out)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {op.__doc__ or name}."
    return fn


neg = negative = _unary_function(un.Neg, "neg")


def positive(input):  # noqa: A002
    """``+input``: the tensor itself (torch refuses bool tensors)."""
    if input.dtype is dtypes.bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input

abs = absolute = _unary_function(un.Abs, "abs")  # noqa: A001
exp = _unary_function(un.Exp, "exp")
log = _unary_function(un.Log, "log")
log1p = _unary_function(un.Log1p, "log1p")
sqrt = _unary_function(un.Sqrt, "sqrt")
rsqrt = _unary_function(un.Rsqrt, "rsqrt")
sin = _unary_function(un.Sin, "sin")
cos = _unary_function(un.Cos, "cos")
tanh = _unary_function(un.Tanh, "tanh")
sigmoid = _unary_function(un.Sigmoid, "sigmoid")
relu = _unary_function(un.Relu, "relu")
reciprocal = _unary_function(un.Reciprocal, "reciprocal")
sign = _unary_function(un.Sign, "sign")
floor = _unary_function(un.Floor, "floor")
ceil = _unary_function(un.Ceil, "ceil")


def round(input, *, decimals=0, out=None):  # noqa: A001,A002
    """Round half to even (to ``decimals`` places)."""
    if decimals:
        result = un.RoundDecimals.apply(input, int(decimals))
    else:
        result = un.Round.apply(input)
    return result if out is None else write_out("round", result, out)


def _nondiff(fn, *tensors):
    """A result without graph history, computed on the first tensor's backend."""
    first = tensors[0]
    with first._on_device():
        xp = first._backend.xp
        return first._wrap(as_array(xp, fn(xp, *[t._data for t in tensors])))  # 0-d: an array


def _compare_arrays(xp, ufunc: str, a, b):
    """A bool array: ``xp.<ufunc>`` on operands promoted as torch does."""
    _, (a, b) = promote(a, b)
    return as_array(xp, getattr(xp, ufunc)(a, b))


def _bitwise_arrays(xp, ufunc: str, a, b, device="cpu"):
    """``xp.<ufunc>`` on bool or integer operands; torch's error for floats."""
    dt, (a, b) = promote(a, b)
    if is_float_array_dtype(dt):
        raise not_implemented(ufunc, dt, device)
    out = as_array(xp, getattr(xp, ufunc)(a, b))
    return out if out.dtype == dt else out.astype(dt)


def _logical_arrays(xp, ufunc: str, a, b):
    """``xp.logical_<op>`` as a bool array (any dtypes; nonzero is true)."""
    broadcast_shapes(shape_of(a), shape_of(b))
    return as_array(xp, getattr(xp, ufunc)(a, b))


def _binary_nondiff(fn, input, other):  # noqa: A002
    """``fn(xp, a, b, device)`` on two operands' arrays (or numbers), without graph history."""
    a, b = _pair(input, other)
    if isinstance(a, TensorCore) and isinstance(b, TensorCore) and a._device != b._device:
        (a, b), _ = on_common_device((a, b), (a, b))
    t = a if isinstance(a, TensorCore) else b
    xa = a._data if isinstance(a, TensorCore) else a
    xb = b._data if isinstance(b, TensorCore) else b
    with t._on_device():
        return t._wrap(fn(t._backend.xp, xa, xb, t._device))


def _compare(name, ufunc):
    def compare(input, other, *, out=None):  # noqa: A002
        result = _binary_nondiff(lambda xp, a, b, dev: _compare_arrays(xp, ufunc, a, b), input,
                                 other)
        return result if out is None else write_out(name, result, out)
    compare.__name__ = compare.__qualname__ = name
    compare.__doc__ = f"Elementwise ``{ufunc}`` comparison, as a bool tensor."
    return compare


eq = _compare("eq", "equal")
ne = _compare("ne", "not_equal")
lt = less = _compare("lt", "less")
le = less_equal = _compare("le", "less_equal")
gt = greater = _compare("gt", "greater")
ge = greater_equal = _compare("ge", "greater_equal")


def _bitwise(name):
    def bitwise(input, other):  # noqa: A002
        return _binary_nondiff(lambda xp, a, b, dev: _bitwise_arrays(xp, name, a, b, dev),
                               input, other)
    bitwise.__name__ = bitwise.__qualname__ = name
    bitwise.__doc__ = f"Elementwise {name.replace('_', ' ')} of bool or integer tensors."
    return bitwise


bitwise_and = _bitwise("bitwise_and")
bitwise_or = _bitwise("bitwise_or")
bitwise_xor = _bitwise("bitwise_xor")


def bitwise_not(input):  # noqa: A002
    """Elementwise NOT of a bool or integer tensor (logical NOT for bool)."""
    if input.dtype.is_floating_point:
        raise not_implemented("bitwise_not", input.dtype, input.device)
    return _nondiff(lambda xp, x: xp.invert(x), input)


# ---- operators with the tensor on the right (``number op tensor``) and ==/!= ----------
def rdiv(input, other):  # noqa: A002
    """``other / input`` (``Tensor.__rtruediv__``)."""
    return div(other, input)


def rfloor_divide(input, other):  # noqa: A002
    """``other // input`` (``Tensor.__rfloordiv__``)."""
    return floor_divide(other, input)


def rremainder(input, other):  # noqa: A002
    """``other % input`` (``Tensor.__rmod__``)."""
    return remainder(other, input)


def rpow(input, other):  # noqa: A002
    """``other ** input`` (``Tensor.__rpow__``)."""
    return pow(other, input)


def _comparable(value) -> bool:
    return value is not None and (hasattr(value, "__array__")
                                  or isinstance(value, (int, float, bool)))


def eq_operator(input, other):  # noqa: A002
    """``input == other``: elementwise for tensors, arrays and numbers; False for others."""
    return eq(input, other) if _comparable(other) else False


def ne_operator(input, other):  # noqa: A002
    """``input != other``: elementwise for tensors, arrays and numbers; True for others."""
    return ne(input, other) if _comparable(other) else True


def type_as(input, other):  # noqa: A002
    """``input`` as ``other``'s dtype (``Tensor.type_as``)."""
    return to_dtype(input, other.dtype)


def invert_operator(input):  # noqa: A002
    """``~input``: bitwise NOT; a TypeError for floating point tensors, as torch's operator."""
    if input.dtype.is_floating_point:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type "
                        "tensors")
    return bitwise_not(input)


def _logical(name):
    def logical(input, other):  # noqa: A002
        return _binary_nondiff(lambda xp, a, b, dev: _logical_arrays(xp, name, a, b), input, other)
    logical.__name__ = logical.__qualname__ = name
    logical.__doc__ = f"Elementwise {name.replace('_', ' ').upper()[8:]} of truth values."
    return logical


logical_and = _logical("logical_and")
logical_or = _logical("logical_or")
logical_xor = _logical("logical_xor")


def logical_not(input):  # noqa: A002
    """Elementwise logical NOT, as a bool tensor."""
    return _nondiff(lambda xp, x: xp.logical_not(x), input)


def _float_test(name, ufunc, integer_value):
    def test(input):  # noqa: A002
        def run(xp, x):
            if not is_float_array_dtype(x.dtype):
                return xp.full(x.shape, integer_value, dtype=bool)
            return getattr(xp, ufunc)(x)
        return _nondiff(run, input)
    test.__name__ = test.__qualname__ = name
    test.__doc__ = f"Where the elements are {name[2:]} (a bool tensor)."
    return test


isnan = _float_test("isnan", "isnan", False)
isinf = _float_test("isinf", "isinf", False)
isfinite = _float_test("isfinite", "isfinite", True)


def result_type(tensor1, tensor2):
    """The dtype torch's type promotion gives an op on two tensors or numbers."""
    def operand(x):
        return x._data if isinstance(x, TensorCore) else _operand(x, None)
    return dtypes.from_numpy_dtype(result_dtype(operand(tensor1), operand(tensor2)))


def to_dtype(input, dtype):  # noqa: A002
    """``input`` as ``dtype`` (the same tensor when it already is)."""
    if input.dtype is dtype:
        return input
    return un.ToCopy.apply(input, dtype)


def clone(input, memory_format=None):  # noqa: A002
    """A copy of ``input`` with its own storage, tracked by autograd."""
    return un.Clone.apply(input)
