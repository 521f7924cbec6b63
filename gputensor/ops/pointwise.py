"""Public elementwise functions: arithmetic with numbers on either side, math, comparisons."""

from __future__ import annotations

import numbers

import numpy as np

from ..autograd.function import Op
from ..tensor import Tensor
from . import elementwise as ew
from . import unary as un
from .common import as_tensor_like, result_dtype


def _operand(value, like: Tensor):
    """A Tensor, or a plain Python number (NumPy scalars are unwrapped)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, numbers.Number):
        return value
    return as_tensor_like(value, like)


def _pair(a, b):
    if isinstance(a, Tensor):
        return a, _operand(b, a)
    return _operand(a, b), b


def add(input, other, alpha=1):  # noqa: A002
    """input + alpha * other."""
    a, b = _pair(input, other)
    if alpha != 1:
        b = mul(b, alpha)
    return ew.Add.apply(a, b) if isinstance(a, Tensor) else ew.Add.apply(b, a)


def sub(input, other, alpha=1):  # noqa: A002
    """input - alpha * other."""
    a, b = _pair(input, other)
    if alpha != 1:
        b = mul(b, alpha)
    return ew.Sub.apply(a, b) if isinstance(a, Tensor) else ew.Rsub.apply(b, a)


def rsub(input, other, alpha=1):  # noqa: A002
    """other - alpha * input."""
    return sub(other, input if alpha == 1 else mul(input, alpha))


def mul(input, other):  # noqa: A002
    """input * other."""
    a, b = _pair(input, other)
    return ew.Mul.apply(a, b) if isinstance(a, Tensor) else ew.Mul.apply(b, a)


def div(input, other, rounding_mode=None):  # noqa: A002
    """input / other; ``rounding_mode`` "trunc" or "floor" rounds the quotient."""
    a, b = _pair(input, other)
    if rounding_mode == "floor":
        return floor_divide(a, b)
    if rounding_mode == "trunc":
        return _binary_nondiff(lambda xp, x, y: xp.trunc(x / y).astype(x.dtype, copy=False),
                               a, b, promote=True)
    if rounding_mode is not None:
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' "
                           f"but found '{rounding_mode}'")
    if isinstance(a, Tensor):
        return ew.Div.apply(a, b)
    return mul(un.Reciprocal.apply(b), a)


true_divide = divide = div
multiply, subtract = mul, sub


def _binary_nondiff(fn, input, other, promote=False):  # noqa: A002
    """``fn(xp, a, b)`` on two operands, with no graph history (comparisons, floor division)."""
    a, b = _pair(input, other)
    t = a if isinstance(a, Tensor) else b
    xa = a._data if isinstance(a, Tensor) else a
    xb = b._data if isinstance(b, Tensor) else b
    if promote:
        dt = result_dtype(xa, xb)
        xa, xb = ew._cast(xa, dt), ew._cast(xb, dt)
    return t._wrap(ew._broadcasting(fn, t._backend.xp, xa, xb))


def floor_divide(input, other):  # noqa: A002
    """Floor of input / other (not differentiable)."""
    return _binary_nondiff(lambda xp, x, y: xp.floor_divide(x, y), input, other, promote=True)


def remainder(input, other):  # noqa: A002
    """input % other, with the sign of other."""
    a, b = _pair(input, other)
    if not isinstance(a, Tensor):
        a = as_tensor_like(a, b)
    return ew.Remainder.apply(a, b)


def pow(input, exponent):  # noqa: A001,A002
    """input ** exponent."""
    a, b = _pair(input, exponent)
    if not isinstance(a, Tensor):
        return ew.PowScalarBase.apply(b, a)
    if isinstance(b, Tensor):
        return ew.PowTensor.apply(a, b)
    return ew.Pow.apply(a, b)


def maximum(input, other):  # noqa: A002
    """Elementwise maximum."""
    return ew.Maximum.apply(input, other)


def minimum(input, other):  # noqa: A002
    """Elementwise minimum."""
    return ew.Minimum.apply(input, other)


def where(condition, input=None, other=None):  # noqa: A002
    """``input`` where ``condition`` holds, else ``other``."""
    if input is None and other is None:
        return tuple(condition._wrap(i) for i in condition._backend.xp.nonzero(condition._data))
    like = input if isinstance(input, Tensor) else other if isinstance(other, Tensor) \
        else condition
    a, b = _operand(input, like), _operand(other, like)
    cond = condition._data
    if cond.dtype != np.bool_:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor "
                           f"with dtype {condition.dtype.name.capitalize()}")
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = as_tensor_like(a, condition)
    return ew.Where.apply(cond, a, b)


def clamp(input, min=None, max=None):  # noqa: A001,A002
    """Clamp every element into [min, max]."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        low = as_tensor_like(min, input) if min is not None else None
        high = as_tensor_like(max, input) if max is not None else None
        return un.ClampTensor.apply(input, low, high)
    return un.Clamp.apply(input, min, max)


clip = clamp


def _unary_function(op, name):
    def fn(input):  # noqa: A002
        return op.apply(input)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {op.__doc__ or name}"
    return fn


neg = negative = _unary_function(un.Neg, "neg")
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


def round(input, decimals=0):  # noqa: A001,A002
    """Round half to even (to ``decimals`` places)."""
    if decimals:
        scale = 10.0 ** decimals
        return div(un.Round.apply(mul(input, scale)), scale)
    return un.Round.apply(input)


def _nondiff(fn, *tensors):
    """A result without graph history, computed on the first tensor's backend."""
    first = tensors[0]
    return first._wrap(fn(first._backend.xp, *[t._data for t in tensors]))


def _compare(ufunc_name):
    def compare(input, other):  # noqa: A002
        return _binary_nondiff(lambda xp, x, y: getattr(xp, ufunc_name)(x, y), input, other)
    compare.__name__ = compare.__qualname__ = ufunc_name
    compare.__doc__ = f"Elementwise {ufunc_name} comparison, as a bool tensor."
    return compare


eq = _compare("equal")
ne = _compare("not_equal")
lt = less = _compare("less")
le = less_equal = _compare("less_equal")
gt = greater = _compare("greater")
ge = greater_equal = _compare("greater_equal")
eq.__name__, ne.__name__, lt.__name__, le.__name__, gt.__name__, ge.__name__ = \
    "eq", "ne", "lt", "le", "gt", "ge"


def _bitwise(ufunc_name, torch_name):
    def bitwise(input, other):  # noqa: A002
        a, b = _pair(input, other)
        for v in (a, b):
            dt = v.dtype if isinstance(v, Tensor) else None
            if (dt is not None and dt.is_floating_point) or isinstance(v, float):
                raise RuntimeError(f"\"{torch_name}_cpu\" not implemented for 'Float'")
        return _compare(ufunc_name)(a, b)
    bitwise.__name__ = torch_name
    bitwise.__doc__ = f"Elementwise {torch_name} of bool or integer tensors."
    return bitwise


bitwise_and = _bitwise("bitwise_and", "bitwise_and")
bitwise_or = _bitwise("bitwise_or", "bitwise_or")
bitwise_xor = _bitwise("bitwise_xor", "bitwise_xor")


def bitwise_not(input):  # noqa: A002
    """Elementwise NOT of a bool or integer tensor."""
    if input.dtype.is_floating_point:
        raise RuntimeError("\"bitwise_not_cpu\" not implemented for 'Float'")
    return _nondiff(lambda xp, x: xp.invert(x), input)


def logical_not(input):  # noqa: A002
    """Elementwise logical NOT, as a bool tensor."""
    return _nondiff(lambda xp, x: xp.logical_not(x), input)


def logical_and(input, other):  # noqa: A002
    """Elementwise logical AND, as a bool tensor."""
    return _compare("logical_and")(input, other)


def logical_or(input, other):  # noqa: A002
    """Elementwise logical OR, as a bool tensor."""
    return _compare("logical_or")(input, other)


def isnan(input):  # noqa: A002
    """Where the elements are NaN."""
    return _nondiff(lambda xp, x: xp.isnan(x), input)


def isinf(input):  # noqa: A002
    """Where the elements are infinite."""
    return _nondiff(lambda xp, x: xp.isinf(x), input)


def isfinite(input):  # noqa: A002
    """Where the elements are finite."""
    return _nondiff(lambda xp, x: xp.isfinite(x), input)


class ToCopy(Op):
    """A copy cast to another dtype; the gradient is cast back."""

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype.numpy)

    @staticmethod
    def backward(ctx, g):
        return g, None  # the base casts g back to the input dtype


def to_dtype(input, dtype):  # noqa: A002
    """``input`` as ``dtype`` (the same tensor when it already is)."""
    if input.dtype is dtype:
        return input
    return ToCopy.apply(input, dtype)


class Clone(Op):
    """A copy with its own storage."""

    @staticmethod
    def forward(ctx, x, memory_format=None):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return g, None


def clone(input, memory_format=None):  # noqa: A002
    """A copy of ``input`` with its own storage, tracked by autograd."""
    return Clone.apply(input)
