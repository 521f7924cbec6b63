"""Unary math ops, each with its derivative beside it; clamp and where."""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Op
from ..dtypes import is_float_array_dtype
from .common import (
    as_array,
    broadcast_shapes,
    cast_operand,
    device_type,
    float_dtype,
    is_array,
    not_implemented,
    promote,
    result_dtype,
    shape_of,
)


class UnaryOp(Op):
    """y = compute(xp, x); backward is ``derivative(xp, g, x, y)``.

    ``saves`` is "x", "y" or None: what ``derivative`` reads (the other is passed as None).
    ``to_float`` ops give the default float dtype for bool and integer inputs, as torch
    does; ``int_copy`` ops return integer inputs unchanged (floor, ceil, round).
    ``bool_kernel`` (a torch kernel name) or ``bool_error`` (a message) refuse bool inputs;
    ``float_kernel`` (a torch kernel name) refuses every input that is not floating point.
    """

    saves = "x"
    to_float = False
    int_copy = False
    bool_kernel = None
    bool_error = None
    float_kernel = None  # a torch kernel name: refuses every non-float input (frac)
    activation = None  # relu/sigmoid/tanh: backward is the backend's fused activation_backward

    @classmethod
    def forward(cls, ctx, x):
        xp = ctx.xp
        if cls.float_kernel and not is_float_array_dtype(x.dtype):
            raise not_implemented(cls.float_kernel, x.dtype, device_type(ctx))
        if x.dtype.kind == "b":
            if cls.bool_error:
                raise RuntimeError(cls.bool_error)
            if cls.bool_kernel:
                raise not_implemented(cls.bool_kernel, x.dtype, device_type(ctx))
        if cls.to_float:
            x = x.astype(float_dtype(x.dtype), copy=False)
        if cls.int_copy and not is_float_array_dtype(x.dtype):
            y = x.copy()
        else:
            y = as_array(xp, cls.compute(xp, x))
            if y.dtype != x.dtype:
                y = y.astype(x.dtype)
        if cls.saves == "x":
            ctx.save_for_backward(x)
        elif cls.saves == "y":
            ctx.save_for_backward(y)
        return y

    @classmethod
    def backward(cls, ctx, g):
        (saved,) = ctx.saved_tensors or (None,)
        if cls.activation is not None:
            return ctx.backend.activation_backward(cls.activation, g, saved)
        if cls.saves == "y":
            return cls.derivative(ctx.xp, g, None, saved)
        return cls.derivative(ctx.xp, g, saved, None)


def _unary(name, compute, derivative, saves="x", to_float=True, doc="", **options):
    return type(name, (UnaryOp,), {
        "__doc__": doc, "saves": saves, "to_float": to_float, "__module__": __name__,
        "compute": staticmethod(compute), "derivative": staticmethod(derivative), **options})


def _zero_grad(xp, g, x, y):
    return xp.zeros_like(g)  # piecewise constant


def _sign(xp, x):
    # (x > 0) - (x < 0): 0 for NaN and for both zeros, as torch
    return (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype)


_NEG_BOOL = ("Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
             "to invert a mask, use the `~` or `logical_not()` operator instead.")

Neg = _unary("Neg", lambda xp, x: -x, lambda xp, g, x, y: -g, None, False, "-x",
             bool_error=_NEG_BOOL)  # d(-x) = -1
Abs = _unary("Abs", lambda xp, x: xp.abs(x), lambda xp, g, x, y: g * _sign(xp, x), "x", False,
             "|x|", bool_kernel="abs")  # d|x| = sign(x)
Exp = _unary("Exp", lambda xp, x: xp.exp(x), lambda xp, g, x, y: g * y, "y",
             doc="e^x")  # d e^x = e^x
Log = _unary("Log", lambda xp, x: xp.log(x), lambda xp, g, x, y: g / x,
             doc="natural log")  # d log x = 1/x
Log1p = _unary("Log1P", lambda xp, x: xp.log1p(x), lambda xp, g, x, y: g / (1 + x),
               doc="log(1 + x)")  # d log1p x = 1/(1+x)
Sqrt = _unary("Sqrt", lambda xp, x: xp.sqrt(x), lambda xp, g, x, y: g / (2 * y), "y",
              doc="square root")  # d sqrt x = 1/(2 sqrt x)
Rsqrt = _unary("Rsqrt", lambda xp, x: 1 / xp.sqrt(x), lambda xp, g, x, y: -0.5 * g * y ** 3,
               "y", doc="1/sqrt(x)")  # d x^-1/2 = -1/2 x^-3/2
Sin = _unary("Sin", lambda xp, x: xp.sin(x), lambda xp, g, x, y: g * xp.cos(x),
             doc="sine")  # d sin = cos
Cos = _unary("Cos", lambda xp, x: xp.cos(x), lambda xp, g, x, y: -g * xp.sin(x),
             doc="cosine")  # d cos = -sin
Tanh = _unary("Tanh", lambda xp, x: xp.tanh(x), None, "y", doc="hyperbolic tangent",
              activation="tanh")  # d tanh = 1 - y^2 (the backend's activation_backward)
Reciprocal = _unary("Reciprocal", lambda xp, x: 1 / x, lambda xp, g, x, y: -g * y * y, "y",
                    doc="1/x")  # d 1/x = -1/x^2
Sign = _unary("Sign", lambda xp, x: x.copy() if x.dtype.kind == "b" else _sign(xp, x),
              _zero_grad, None, False, doc="sign (-1, 0 or 1)")
Floor = _unary("Floor", lambda xp, x: xp.floor(x), _zero_grad, None, False, doc="floor",
               int_copy=True, bool_kernel="floor_vml")
Ceil = _unary("Ceil", lambda xp, x: xp.ceil(x), _zero_grad, None, False, doc="ceil",
              int_copy=True, bool_kernel="ceil_vml")
Round = _unary("Round", lambda xp, x: xp.round(x), _zero_grad, None, False,
               doc="round half to even", int_copy=True, bool_kernel="round_vml")

# ---- trigonometric, hyperbolic, logarithms and powers of 2 and 10 ------------------------
_LN2, _LN10, _DEGREE = math.log(2.0), math.log(10.0), math.pi / 180.0


def _times_constant(x, factor: float):
    """x * factor; half precision multiplies in float32, as torch's scalar multiply does."""
    work = x.astype(np.float32) if x.dtype.itemsize < 4 else x
    return work * work.dtype.type(factor)


Tan = _unary("Tan", lambda xp, x: xp.tan(x), lambda xp, g, x, y: g * (1 + y * y), "y",
             doc="tangent")  # d tan = 1 + tan^2
Sinh = _unary("Sinh", lambda xp, x: xp.sinh(x), lambda xp, g, x, y: g * xp.cosh(x),
              doc="hyperbolic sine")  # d sinh = cosh
Cosh = _unary("Cosh", lambda xp, x: xp.cosh(x), lambda xp, g, x, y: g * xp.sinh(x),
              doc="hyperbolic cosine")  # d cosh = sinh
Asin = _unary("Asin", lambda xp, x: xp.arcsin(x), lambda xp, g, x, y: g / xp.sqrt(1 - x * x),
              doc="arcsine")  # d asin = 1 / sqrt(1 - x^2)
Acos = _unary("Acos", lambda xp, x: xp.arccos(x), lambda xp, g, x, y: -g / xp.sqrt(1 - x * x),
              doc="arccosine")  # d acos = -1 / sqrt(1 - x^2)
Atan = _unary("Atan", lambda xp, x: xp.arctan(x), lambda xp, g, x, y: g / (x * x + 1),
              doc="arctangent")  # d atan = 1 / (1 + x^2)
Asinh = _unary("Asinh", lambda xp, x: xp.arcsinh(x),
               lambda xp, g, x, y: g / xp.sqrt(x * x + 1),
               doc="inverse hyperbolic sine")  # d asinh = 1 / sqrt(x^2 + 1)
Acosh = _unary("Acosh", lambda xp, x: xp.arccosh(x),
               lambda xp, g, x, y: g / xp.sqrt(x * x - 1),
               doc="inverse hyperbolic cosine")  # d acosh = 1 / sqrt(x^2 - 1)
Atanh = _unary("Atanh", lambda xp, x: xp.arctanh(x), lambda xp, g, x, y: g / (1 - x * x),
               doc="inverse hyperbolic tangent")  # d atanh = 1 / (1 - x^2)
def _in_place_without_derivative(op):
    """torch's in-place form of ``op`` (node ``<op>Backward1``): it has no derivative."""
    name = op.__name__

    def backward(ctx, g):
        raise NotImplementedError(f"the derivative for 'inplace version of {name.lower()}' is "
                                  f"not implemented.")
    return type(f"{name}InPlace", (op,), {
        "__doc__": f"In-place {op.__doc__} (no derivative, as in torch).", "opname": name,
        "variant": 1, "__module__": __name__, "backward": staticmethod(backward)})


# torch's asinh_, acosh_ and atanh_ record an overload numbered 1 that backward refuses
AsinhInPlace = _in_place_without_derivative(Asinh)
AcoshInPlace = _in_place_without_derivative(Acosh)
AtanhInPlace = _in_place_without_derivative(Atanh)
Log2 = _unary("Log2", lambda xp, x: xp.log2(x), lambda xp, g, x, y: g / (x * _LN2),
              doc="base 2 logarithm")  # d log2 x = 1 / (x ln 2)
Log10 = _unary("Log10", lambda xp, x: xp.log10(x), lambda xp, g, x, y: g / (x * _LN10),
               doc="base 10 logarithm")  # d log10 x = 1 / (x ln 10)
Exp2 = _unary("Exp2", lambda xp, x: xp.exp2(x), lambda xp, g, x, y: g * y * _LN2, "y",
              doc="2^x")  # d 2^x = 2^x ln 2
Expm1 = _unary("Expm1", lambda xp, x: xp.expm1(x), lambda xp, g, x, y: g * (y + 1), "y",
               doc="e^x - 1")  # d (e^x - 1) = e^x
Deg2Rad = _unary("Deg2Rad", lambda xp, x: _times_constant(x, _DEGREE),
                 lambda xp, g, x, y: g * _DEGREE, None,
                 doc="degrees to radians")  # d (x pi / 180) = pi / 180
Rad2Deg = _unary("Rad2Deg", lambda xp, x: _times_constant(x, 1 / _DEGREE),
                 lambda xp, g, x, y: g * (1 / _DEGREE), None,
                 doc="radians to degrees")  # d (x 180 / pi) = 180 / pi
Trunc = _unary("Trunc", lambda xp, x: xp.trunc(x), _zero_grad, None, False,
               doc="round toward zero", int_copy=True, bool_kernel="trunc_vml")
Frac = _unary("Frac", lambda xp, x: x - xp.trunc(x), lambda xp, g, x, y: g, None, False,
              doc="fractional part x - trunc(x)", float_kernel="frac")  # d frac = 1
Sgn = _unary("Sgn", Sign.compute, _zero_grad, None, False,
             doc="sign (-1, 0 or 1; the unit complex number for complex)")


class Sigmoid(UnaryOp):
    """Logistic sigmoid 1/(1 + e^-x)."""

    saves, to_float, activation = "y", True, "sigmoid"  # d sigmoid = y * (1 - y)

    @staticmethod
    def compute(xp, x):
        # e^-x overflows to inf for very negative x, and 1 / (1 + inf) is the exact 0;
        # half precision computes in float32, as torch does
        if x.dtype == np.float16:
            return (1 / (1 + xp.exp(-x.astype(np.float32)))).astype(np.float16)
        if not x.ndim:
            return 1 / (1 + xp.exp(-x))
        y = xp.negative(x)  # the same steps in one buffer
        xp.exp(y, out=y)
        y += 1
        return xp.divide(1, y, out=y)


class Relu(UnaryOp):
    """max(x, 0)."""

    saves, activation = "y", "relu"  # d relu = 1 where y > 0
    bool_error = "Boolean inputs not supported for relu"

    @staticmethod
    def compute(xp, x):
        return xp.maximum(x, 0)


class RoundDecimals(Op):
    """Round half to even to ``decimals`` places (negative: to tens, hundreds...)."""

    opname, variant = "Round", 1

    @staticmethod
    def forward(ctx, x, decimals):
        xp = ctx.xp
        if not is_float_array_dtype(x.dtype):
            raise not_implemented("round", x.dtype, device_type(ctx))
        # torch scales in float32 for float16 (its opmath type), as here
        work = x.astype("float32") if x.dtype.itemsize < 4 else x
        scale = work.dtype.type(10.0 ** abs(decimals))
        if decimals > 0:
            out = xp.round(work * scale) / scale
        else:
            out = xp.round(work / scale) * scale
        return as_array(xp, out).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.zeros_like(g), None  # piecewise constant


_C_TYPES = {"int8": "int8_t", "int16": "int16_t", "int32": "int", "uint8": "uint8_t"}


def _check_bound(value, dt) -> None:
    """torch's error for an integer bound that does not fit the integer dtype ``dt``."""
    if dt.kind not in "iu" or isinstance(value, bool) or not isinstance(value, int):
        return
    bits = dt.itemsize * 8
    # unsigned types take negative values down to -max (they wrap), as in torch
    low, high = (-(1 << bits) + 1, (1 << bits) - 1) if dt.kind == "u" else \
        (-(1 << bits - 1), (1 << bits - 1) - 1)
    if low <= value <= high:
        return
    if dt.name == "int64":
        raise OverflowError("int too big to convert")
    raise RuntimeError(f"value cannot be converted to type {_C_TYPES[dt.name]} without overflow")


def _clamp_values(xp, x, low, high):
    out = x
    if low is not None:
        out = xp.maximum(out, low)
    if high is not None:
        out = xp.minimum(out, high)
    return as_array(xp, out)


class Clamp(Op):
    """Clamp into [min, max] with number bounds; the gradient passes where not clipped."""

    variant = 1

    @staticmethod
    def forward(ctx, x, low, high):
        dt = result_dtype(x, low, high)
        if dt.kind == "b":
            raise not_implemented("clamp_scalar", dt, device_type(ctx))
        for bound in (low, high):
            _check_bound(bound, dt)
        x = x.astype(dt, copy=False)
        low, high = (None if v is None else cast_operand(v, dt) for v in (low, high))
        ctx.save_for_backward(x)
        ctx.low, ctx.high = low, high
        return _clamp_values(ctx.xp, x, low, high).astype(dt, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        keep = True
        if ctx.low is not None:
            keep = keep & (x >= ctx.low)
        if ctx.high is not None:
            keep = keep & (x <= ctx.high)
        return ctx.xp.where(keep, g, 0), None, None  # d clamp = 1 inside the bounds


class ClampTensor(Op):
    """Clamp with tensor bounds (either may be None); the result broadcasts all three."""

    opname, variant = "Clamp", 0

    @staticmethod
    def forward(ctx, x, low, high):
        broadcast_shapes(*(v.shape for v in (x, low, high) if is_array(v)))
        dt = result_dtype(x, low, high)
        x, low, high = (None if v is None else cast_operand(v, dt) for v in (x, low, high))
        ctx.save_for_backward(x, low, high)
        out = _clamp_values(ctx.xp, x, low, high)
        return out if out.dtype == dt else out.astype(dt)

    @staticmethod
    def backward(ctx, g):
        x, low, high = ctx.saved_tensors
        where = ctx.xp.where
        # d clamp / dx = 1 inside the bounds; the gradient of a bound flows where it is
        # the result (max wins when min > max)
        if low is not None and high is not None:
            return (where((x >= low) & (x <= high), g, 0),
                    where((x < low) & (low < high), g, 0),
                    where((x > high) | (high < low), g, 0))
        if low is not None:
            return where(x >= low, g, 0), where(x < low, g, 0), None
        return where(x <= high, g, 0), None, where(x > high, g, 0)


class Where(Op):
    """``cond ? a : b`` elementwise (``a`` and ``b`` may be Python numbers)."""

    @staticmethod
    def forward(ctx, cond, a, b):
        xp = ctx.xp
        broadcast_shapes(cond.shape, shape_of(a), shape_of(b))
        dt, (a, b) = promote(a, b)
        ctx.cond = cond
        out = as_array(xp, xp.where(cond, a, b))
        return out if out.dtype == dt else out.astype(dt)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        # d where(c, a, b) = c, !c
        return None, xp.where(ctx.cond, g, 0), xp.where(ctx.cond, 0, g)


class ToCopy(Op):
    """A copy cast to another dtype; the gradient is cast back."""

    @staticmethod
    def forward(ctx, x, dtype):
        return x.astype(dtype.numpy)

    @staticmethod
    def backward(ctx, g):
        return g, None  # the base casts g back to the input dtype


class Clone(Op):
    """A copy with its own storage."""

    @staticmethod
    def forward(ctx, x, memory_format=None):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return g, None  # d clone = 1
