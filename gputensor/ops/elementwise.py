"""Binary elementwise ops on backend arrays: arithmetic, powers, maximum/minimum, where.

Every op promotes its operands to torch's result dtype first (Python numbers stay numbers,
converted as torch converts them), checks broadcasting with torch's message, and computes
with NumPy's floating point warnings silenced.
"""

from __future__ import annotations

import math

import numpy as np

from .. import dtypes
from ..autograd.function import Op
from ..dtypes import is_float_array_dtype
from .common import (
    broadcast_shapes,
    cast_operand,
    cast_scalar,
    device_type,
    float_dtype,
    is_array,
    not_implemented,
    result_dtype,
    shape_of,
)


def _is_bool(x) -> bool:
    return x.dtype.kind == "b" if is_array(x) else isinstance(x, bool)


def _check_integer_divisor(xp, dt, b, a=None) -> None:
    """torch's error for an integer division or remainder by zero (none for an empty result)."""
    if any(is_array(v) and v.size == 0 for v in (a, b)):
        return
    if dt.kind in "iu" and (bool((b == 0).any()) if is_array(b) else b == 0):
        raise RuntimeError("ZeroDivisionError")


_PLAIN_NUMBERS = (float, int)  # exactly: bool is promoted as its own category


def _is_one(alpha) -> bool:
    """Whether add/sub's ``alpha`` is the plain number 1 (no scaling)."""
    return type(alpha) in _PLAIN_NUMBERS and alpha == 1


class BinaryOp(Op):
    """``compute(ctx, xp, a, b)`` on operands promoted to torch's result dtype.

    A Python number may stand on either side. ``saves`` names what backward reads, from
    "a", "b" and "out"; ``check(ctx, a, b)`` sees the operands before promotion, with
    ``ctx.dtype`` already set, and raises torch's errors for unsupported dtypes.
    """

    true_division = False
    saves = ()
    swapped = False  # the result is computed as ``b op a`` (torch names b "tensor a")
    threaded = None  # the backend's threaded loop for large operands ("add", ...), if any
    checks = False  # whether ``check`` is overridden (set for each subclass)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.saved_casts = tuple({"a": 0, "b": 1}.get(k) for k in cls.saves)
        cls.checks = cls.check is not BinaryOp.check  # (most ops accept every operand)

    @classmethod
    def forward(cls, ctx, a, b, *options):
        xp = ctx.xp
        dt, dt_b = getattr(a, "dtype", None), getattr(b, "dtype", None)
        if dt is not None and dt_b is not None and dt == dt_b and a.shape == b.shape and (
                dt.kind == "f" or is_float_array_dtype(dt) or not cls.true_division):
            ctx.dtype, ctx.options = dt, options  # two arrays alike: nothing to promote
            if cls.checks:
                cls.check(ctx, a, b)
        elif dt is not None and is_float_array_dtype(dt) and type(b) in _PLAIN_NUMBERS:
            ctx.dtype, ctx.options = dt, options  # a float array and a number: the array's
            cls.check(ctx, a, b)
            b = float(b)
            if dt == dtypes.bfloat16.numpy:
                a = a.astype(np.float32)  # torch computes bfloat16 with a number in float32
        else:
            a, b = cls._promote(ctx, a, b, options)
            dt = ctx.dtype
        out = None
        if cls.threaded is not None and getattr(a, "size", 0) >= ctx.backend.threaded_from \
                and is_array(b) and (not options or _is_one(options[0])):
            out = ctx.backend.threaded_binary(cls.threaded, a, b)  # None: not suited
            ctx.alpha = 1
        if out is None:
            out = cls.compute(ctx, xp, a, b)
            if not isinstance(out, xp.ndarray):  # NumPy turns 0-d results into scalars
                out = xp.asarray(out)
        if out.dtype != dt:
            out = out.astype(dt)
        if cls.saves:
            values = {"a": a, "b": b, "out": out}
            ctx.save_for_backward(*(values[k] for k in cls.saves))
        return out

    @classmethod
    def _promote(cls, ctx, a, b, options):
        """Operands cast to torch's result dtype (set as ``ctx.dtype``), broadcast-checked."""
        dt = result_dtype(a, b)
        if cls.true_division:
            dt = float_dtype(dt)
        shape_a, shape_b = shape_of(a), shape_of(b)
        if shape_a != shape_b and shape_a and shape_b:
            broadcast_shapes(*((shape_b, shape_a) if cls.swapped else (shape_a, shape_b)))
        ctx.dtype, ctx.options = dt, options
        cls.check(ctx, a, b)
        return cast_operand(a, dt), cast_operand(b, dt)

    @staticmethod
    def check(ctx, a, b) -> None:
        """Raise torch's error when the op does not support these operands."""

    @staticmethod
    def compute(ctx, xp, a, b):
        """The forward value from promoted operands."""
        raise NotImplementedError


def _alpha(ctx):
    """The ``alpha`` option of add/sub, checked and converted like torch does."""
    alpha = ctx.options[0] if ctx.options else 1
    if not is_float_array_dtype(ctx.dtype) and isinstance(alpha, float):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")
    return alpha


def _scaled(ctx, x, alpha):
    return x if alpha == 1 else x * cast_scalar(alpha, ctx.dtype)


class Add(BinaryOp):
    """a + alpha * b."""

    threaded = "add"
    number_edges = True  # torch wraps a number operand: its edge is (None, 0)

    @staticmethod
    def compute(ctx, xp, a, b):
        options = ctx.options
        if not options or (type(options[0]) is int and options[0] == 1):  # a + b, the usual
            ctx.alpha = 1
            return xp.add(a, b)
        ctx.alpha = _alpha(ctx)
        return xp.add(a, _scaled(ctx, b, ctx.alpha))

    @staticmethod
    def backward(ctx, g):
        return g, g * ctx.alpha if ctx.alpha != 1 else g  # d(a + k b) = 1, k


def check_bool_subtraction(a, b) -> None:
    """torch's error for a subtraction with a bool operand (arrays or Python numbers)."""
    if _is_bool(a) and _is_bool(b):
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if _is_bool(a) or _is_bool(b):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not "
                           "supported. If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` operator instead.")


class Sub(BinaryOp):
    """a - alpha * b."""

    threaded = "sub"
    number_edges = True  # torch wraps a number operand: its edge is (None, 0)

    check = staticmethod(lambda ctx, a, b: check_bool_subtraction(a, b))

    @staticmethod
    def compute(ctx, xp, a, b):
        ctx.alpha = _alpha(ctx)
        return xp.subtract(a, _scaled(ctx, b, ctx.alpha))

    @staticmethod
    def backward(ctx, g):
        return g, -g * ctx.alpha  # d(a - k b) = 1, -k


class Rsub(BinaryOp):
    """b - alpha * a (``torch.rsub``; the number form backs ``number - tensor``)."""

    swapped = True
    check = staticmethod(lambda ctx, a, b: check_bool_subtraction(a, b))

    @staticmethod
    def compute(ctx, xp, a, b):
        ctx.alpha = _alpha(ctx)
        return xp.subtract(b, _scaled(ctx, a, ctx.alpha))

    @staticmethod
    def backward(ctx, g):
        return -g * ctx.alpha, g  # d(b - k a) = -k, 1


class RsubScalar(Rsub):
    """b - alpha * a with a Python number ``b``."""

    opname, variant = "Rsub", 1


class Mul(BinaryOp):
    """a * b."""

    threaded = "mul"
    number_edges = True  # torch wraps a number operand: its edge is (None, 0)

    saves = ("a", "b")
    compute = staticmethod(lambda ctx, xp, a, b: xp.multiply(a, b))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad[:2]
        return (g * b if need_a else None), (g * a if need_b else None)  # d(ab) = b, a


class Div(BinaryOp):
    """a / b (true division: integers give the default float dtype)."""

    threaded = "div"
    number_edges = True  # torch wraps a number operand: its edge is (None, 0)

    saves, true_division = ("a", "b"), True
    compute = staticmethod(lambda ctx, xp, a, b: xp.true_divide(a, b))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad[:2]
        # d(a/b) = 1/b, -a/b^2
        return (g / b if need_a else None), (-g * a / (b * b) if need_b else None)


def _floor_divide(xp, a, b, dt=None):
    return xp.floor_divide(a, b)


def _trunc_divide(xp, a, b, dt):
    if is_float_array_dtype(dt):
        return xp.trunc(a / b)
    q = xp.floor_divide(a, b)
    # floor rounds down where the signs differ and the division is inexact; trunc rounds up
    return xp.where((xp.remainder(a, b) != 0) & ((a < 0) != (b < 0)), q + 1, q)


class DivMode(BinaryOp):
    """a / b rounded by ``rounding_mode`` "trunc" or "floor" (gradient zero, as torch)."""

    number_edges = True  # torch wraps a number operand: its edge is (None, 0)

    opname, variant = "Div", 2

    @staticmethod
    def check(ctx, a, b):
        mode = ctx.options[0]
        if ctx.dtype.kind == "b":
            raise not_implemented(f"div_{mode}", ctx.dtype, device_type(ctx))
        _check_integer_divisor(ctx.xp, ctx.dtype, b, a)

    @staticmethod
    def compute(ctx, xp, a, b):
        return (_floor_divide if ctx.options[0] == "floor" else _trunc_divide)(xp, a, b,
                                                                              ctx.dtype)

    @staticmethod
    def backward(ctx, g):
        zero = ctx.xp.zeros_like(g)
        return zero, zero  # piecewise constant


class NotDifferentiable(BinaryOp):
    """Ops torch gives no derivative: the result's grad_fn is ``NotImplemented``.

    Gradients may not flow through it: backward raises torch's error.
    """

    aten = ""

    def name(self) -> str:
        """torch's name for this node (with gputensor for torch)."""
        return "gputensor::autograd::NotImplemented"

    @classmethod
    def _node_type(cls, variant):
        node_type = cls._node_types.get(variant)
        if node_type is None:
            node_type = type("NotImplemented", (cls,), {"__module__": cls.__module__,
                                                        "__qualname__": "NotImplemented"})
            node_type._node_types = cls._node_types
            cls._node_types[variant] = node_type
        return node_type

    @classmethod
    def backward(cls, ctx, g):
        raise RuntimeError(f"derivative for aten::{cls.aten} is not implemented")


class FloorDivide(NotDifferentiable):
    """Floor of a / b."""

    aten = "floor_divide"

    @staticmethod
    def check(ctx, a, b):
        if ctx.dtype.kind == "b":
            raise not_implemented("div_floor", ctx.dtype, device_type(ctx))
        _check_integer_divisor(ctx.xp, ctx.dtype, b, a)

    compute = staticmethod(lambda ctx, xp, a, b: _floor_divide(xp, a, b))


def _check_remainder(ctx, a, b) -> None:
    if ctx.dtype.kind == "b":
        raise not_implemented("remainder", ctx.dtype, device_type(ctx))
    _check_integer_divisor(ctx.xp, ctx.dtype, b, a)


class Remainder(BinaryOp):
    """a % b with the sign of b, for a tensor and a number (Python's and torch's rule)."""

    saves = ("a", "b")
    check = staticmethod(_check_remainder)
    compute = staticmethod(lambda ctx, xp, a, b: xp.remainder(a, b))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        # d(a % b) = 1, -floor(a / b)
        gb = -g * ctx.xp.floor_divide(a, b) if ctx.needs_input_grad[1] else None
        return g, gb


class RemainderTensor(Remainder):
    """a % b for two tensors."""

    opname, variant = "Remainder", 1


class RemainderScalarFirst(NotDifferentiable):
    """number % tensor."""

    aten = "remainder"
    check = staticmethod(_check_remainder)
    compute = staticmethod(lambda ctx, xp, a, b: xp.remainder(a, b))


def _int_power(xp, base, exponent):
    """torch's integer power: a negative exponent gives 0, except for bases 1 and -1."""
    if not is_array(exponent):
        return base ** exponent  # a negative number exponent was refused before
    negative = exponent < 0
    out = base ** xp.where(negative, 0, exponent)
    minus_one = xp.where((exponent & 1) == 1, -1, 1)  # (-1)^n
    if is_array(base):
        special = xp.where(base == 1, 1, xp.where(base == -1, minus_one, 0))
    else:
        special = 1 if base == 1 else minus_one if base == -1 else 0
    return xp.where(negative, special, out)


# torch's CPU and CUDA pow of a float32/float64 tensor by these number exponents: products,
# a reciprocal and a reciprocal square root (bit-equal to torch; the general pow is ~100x
# slower, and is not what torch computes for them)
def _cube(xp, a):
    """(a * a) * a, the second product written over the first (one array allocated)."""
    out = a * a
    out *= a
    return out


def _inverse_square(xp, a):
    """1 / (a * a), the quotient written over the square."""
    out = a * a
    return xp.divide(1, out, out=out) if out.ndim else 1 / out


_POWER_SHORTCUTS = {
    2.0: lambda xp, a: a * a,
    3.0: _cube,
    -1.0: lambda xp, a: 1 / a,
    -2.0: _inverse_square,
    -0.5: lambda xp, a: 1 / xp.sqrt(a),
}


def _float_power(xp, a, exponent, backend=None):
    """``a ** exponent`` for a float array and a number exponent, as torch computes it (by
    the ``backend``'s one-pass kernel where it has one)."""
    shortcut = _POWER_SHORTCUTS.get(exponent) if a.dtype.itemsize >= 4 else None
    if shortcut is None:
        return a ** exponent
    fused = None if backend is None else backend.power(a, exponent)
    return shortcut(xp, a) if fused is None else fused


def _power(xp, a, b, dt, backend=None):
    if dt.kind == "b":
        return a | ~b if is_array(b) else (a if b else xp.ones_like(a))  # x^1 = x, x^0 = 1
    if dt.kind in "iu":
        return _int_power(xp, a, b)
    if dt.kind == "f" and dt.itemsize >= 4 and not is_array(b) and is_array(a):
        return _float_power(xp, a, b, backend)
    return a ** b


class Pow(BinaryOp):
    """a ** b for a tensor base and a number exponent."""

    saves = ("a", "b")

    @staticmethod
    def check(ctx, a, b):
        if ctx.dtype.kind in "iu" and not isinstance(b, bool) and b < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")

    compute = staticmethod(lambda ctx, xp, a, b: _power(xp, a, b, ctx.dtype, ctx.backend))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        if b == 0:
            return ctx.xp.zeros_like(g), None
        # d a^b = b a^(b-1), multiplied in torch's order
        if ctx.dtype.kind == "f" and ctx.dtype.itemsize >= 4 and not getattr(
                ctx.backend, "lifted", False):
            return g * (b * _float_power(ctx.xp, a, b - 1, ctx.backend)), None
        return g * (b * a ** (b - 1)), None


class PowTensor(BinaryOp):
    """a ** b for a tensor base and a tensor exponent."""

    opname, variant, saves = "Pow", 1, ("a", "b", "out")

    @staticmethod
    def check(ctx, a, b):
        if ctx.dtype.kind == "b":
            raise NotImplementedError("\"pow\" not implemented for 'Bool'")

    compute = staticmethod(lambda ctx, xp, a, b: _power(xp, a, b, ctx.dtype))

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        xp = ctx.xp
        need_a, need_b = ctx.needs_input_grad[:2]
        ga = gb = None
        if need_a:  # d a^b / da = b a^(b-1), taken as 0 where b == 0
            ga = xp.where(b == 0, 0, g * b * a ** (b - 1))
        if need_b:  # d a^b / db = a^b log a, taken as 0 where a == 0 and b >= 0
            gb = xp.where((a == 0) & (b >= 0), 0, g * out * xp.log(a))
        return ga, gb


class PowScalarBase(BinaryOp):
    """a ** b for a number base ``a`` and a tensor exponent ``b`` (``2 ** x``)."""

    opname, variant, saves = "Pow", 2, ("b", "out")

    @staticmethod
    def compute(ctx, xp, a, b):
        ctx.base = a
        return _power(xp, a, b, ctx.dtype)

    @staticmethod
    def backward(ctx, g):
        b, out = ctx.saved_tensors
        base = ctx.base
        # d base^b = base^b log(base), taken as 0 where base == 0 and b >= 0
        log_base = -math.inf if base == 0 else math.log(base) if base > 0 else math.nan
        gb = g * out * log_base
        if base == 0:
            gb = ctx.xp.where(b >= 0, 0, gb)
        return None, gb


class Maximum(BinaryOp):
    """Elementwise maximum of two tensors; ties share the gradient equally."""

    saves = ("a", "b")
    compute = staticmethod(lambda ctx, xp, a, b: xp.maximum(a, b))
    loses = staticmethod(lambda a, b: a < b)

    @classmethod
    def backward(cls, ctx, g):
        a, b = ctx.saved_tensors
        xp = ctx.xp
        shared = xp.where(a == b, g / 2, g)
        # d max(a, b) = 1 for the larger, 1/2 each on ties
        return xp.where(cls.loses(a, b), 0, shared), xp.where(cls.loses(b, a), 0, shared)


class Minimum(Maximum):
    """Elementwise minimum of two tensors; ties share the gradient equally."""

    compute = staticmethod(lambda ctx, xp, a, b: xp.minimum(a, b))
    loses = staticmethod(lambda a, b: a > b)
