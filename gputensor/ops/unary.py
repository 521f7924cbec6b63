"""Unary math ops, each with its derivative beside it, and clamp."""

from __future__ import annotations

from ..autograd.function import Op
from .common import float_dtype, result_dtype


class UnaryOp(Op):
    """y = compute(xp, x); backward is ``derivative(xp, g, x, y)``.

    ``saves`` is "x", "y" or None: what ``derivative`` reads (the other is passed as None).
    ``to_float`` ops give the default float dtype for integer inputs, as torch does.
    """

    saves = "x"
    to_float = False

    @classmethod
    def forward(cls, ctx, x):
        if cls.to_float:
            dt = float_dtype(x.dtype)
            if dt != x.dtype:
                x = x.astype(dt)
        y = cls.compute(ctx.xp, x)
        if cls.saves == "x":
            ctx.save_for_backward(x)
        elif cls.saves == "y":
            ctx.save_for_backward(y)
        return y

    @classmethod
    def backward(cls, ctx, g):
        (saved,) = ctx.saved_tensors or (None,)
        if cls.saves == "y":
            return cls.derivative(ctx.xp, g, None, saved)
        return cls.derivative(ctx.xp, g, saved, None)


def _unary(name, compute, derivative, saves="x", to_float=False, doc=""):
    return type(name, (UnaryOp,), {
        "__doc__": doc, "saves": saves, "to_float": to_float,
        "compute": staticmethod(compute), "derivative": staticmethod(derivative)})


def _zero_grad(xp, g, x, y):
    return g * 0


Neg = _unary("Neg", lambda xp, x: -x, lambda xp, g, x, y: -g, None, doc="-x")  # d = -1
Abs = _unary("Abs", lambda xp, x: xp.abs(x), lambda xp, g, x, y: g * xp.sign(x),
             doc="|x|")  # d|x| = sign(x)
Exp = _unary("Exp", lambda xp, x: xp.exp(x), lambda xp, g, x, y: g * y, "y", True,
             doc="e^x")  # d e^x = e^x
Log = _unary("Log", lambda xp, x: xp.log(x), lambda xp, g, x, y: g / x, "x", True,
             doc="natural log")  # d log x = 1/x
Log1p = _unary("Log1P", lambda xp, x: xp.log1p(x), lambda xp, g, x, y: g / (1 + x), "x", True,
               doc="log(1 + x)")  # d log1p x = 1/(1+x)
Sqrt = _unary("Sqrt", lambda xp, x: xp.sqrt(x), lambda xp, g, x, y: g / (2 * y), "y", True,
              doc="square root")  # d sqrt x = 1/(2 sqrt x)
Rsqrt = _unary("Rsqrt", lambda xp, x: 1 / xp.sqrt(x), lambda xp, g, x, y: -0.5 * g * y ** 3,
               "y", True, doc="1/sqrt(x)")  # d x^-1/2 = -1/2 x^-3/2
Sin = _unary("Sin", lambda xp, x: xp.sin(x), lambda xp, g, x, y: g * xp.cos(x), "x", True,
             doc="sine")  # d sin = cos
Cos = _unary("Cos", lambda xp, x: xp.cos(x), lambda xp, g, x, y: -g * xp.sin(x), "x", True,
             doc="cosine")  # d cos = -sin
Reciprocal = _unary("Reciprocal", lambda xp, x: 1 / x, lambda xp, g, x, y: -g * y * y, "y",
                    True, doc="1/x")  # d 1/x = -1/x^2
Sign = _unary("Sign", lambda xp, x: xp.sign(x), _zero_grad, None, doc="sign")
Floor = _unary("Floor", lambda xp, x: xp.floor(x), _zero_grad, None, doc="floor")
Ceil = _unary("Ceil", lambda xp, x: xp.ceil(x), _zero_grad, None, doc="ceil")
Round = _unary("Round", lambda xp, x: xp.round(x), _zero_grad, None,
               doc="round half to even")


class Tanh(UnaryOp):
    """Hyperbolic tangent."""

    saves, to_float = "y", True
    compute = staticmethod(lambda xp, x: xp.tanh(x))

    @staticmethod
    def derivative(xp, g, x, y):
        return g * (1 - y * y)  # d tanh = 1 - y^2


class Sigmoid(UnaryOp):
    """Logistic sigmoid 1/(1 + e^-x)."""

    saves, to_float = "y", True

    @staticmethod
    def compute(xp, x):
        # split by sign so exp never overflows
        e = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)

    @staticmethod
    def derivative(xp, g, x, y):
        return g * y * (1 - y)  # d sigmoid = y * (1 - y)


class Relu(UnaryOp):
    """max(x, 0)."""

    saves = "y"

    @staticmethod
    def compute(xp, x):
        return xp.maximum(x, x.dtype.type(0))

    @staticmethod
    def derivative(xp, g, x, y):
        return g * (y > 0)  # d relu = 1 where y > 0


class Clamp(Op):
    """Clamp into [min, max] with number bounds; the gradient passes where not clipped."""

    variant = 1

    @staticmethod
    def forward(ctx, x, low, high):
        xp = ctx.xp
        for bound in (low, high):
            if bound is not None:
                dt = result_dtype(x, bound)
                x = x if dt == x.dtype else x.astype(dt)
        out = x
        if low is not None:
            out = xp.maximum(out, low)
        if high is not None:
            out = xp.minimum(out, high)
        ctx.save_for_backward(x)
        ctx.low, ctx.high = low, high
        return out

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        keep = True
        if ctx.low is not None:
            keep = keep & (x >= ctx.low)
        if ctx.high is not None:
            keep = keep & (x <= ctx.high)
        return g * keep, None, None  # d clamp = 1 inside the bounds


class ClampTensor(Op):
    """Clamp with tensor bounds (either may be None)."""

    opname, variant = "Clamp", 0

    @staticmethod
    def forward(ctx, x, low, high):
        xp = ctx.xp
        out = x
        if low is not None:
            out = xp.maximum(out, low)
        if high is not None:
            out = xp.minimum(out, high)
        ctx.save_for_backward(x, low, high)
        return out

    @staticmethod
    def backward(ctx, g):
        x, low, high = ctx.saved_tensors
        keep = True
        g_low = g_high = None
        if low is not None:
            keep = keep & (x >= low)
            g_low = g * (x < low)
        if high is not None:
            keep = keep & (x <= high)
            g_high = g * (x > high) * (x >= low if low is not None else True)
        return g * keep, g_low, g_high
