"""Elementwise ops: arithmetic, math functions, comparisons, where, clamp."""

from __future__ import annotations

import math

from ..autograd.function import Op
from ..tensor import Tensor
from .common import check_broadcast, float_dtype, result_dtype


def _cast(x, dt):
    """``x`` as dtype ``dt`` when it is an array; Python numbers pass through."""
    if hasattr(x, "dtype") and x.dtype != dt:
        return x.astype(dt)
    return x


def _broadcasting(fn, xp, a, b):
    """``fn(xp, a, b)``, raising torch's error when the shapes do not broadcast."""
    try:
        return fn(xp, a, b)
    except ValueError:
        check_broadcast(getattr(a, "shape", ()), getattr(b, "shape", ()))
        raise


class BinaryOp(Op):
    """Promote both operands to torch's result dtype, then apply ``compute(xp, a, b)``.

    ``saves`` names what backward needs: "inputs" saves (a, b), "output" saves the result.
    """

    true_division = False
    saves = None

    @classmethod
    def forward(cls, ctx, a, b):
        dt = result_dtype(a, b)
        if cls.true_division:
            dt = float_dtype(dt)
        a, b = _cast(a, dt), _cast(b, dt)
        out = _broadcasting(cls.compute, ctx.xp, a, b)
        if cls.saves == "inputs":
            ctx.save_for_backward(a, b)
        elif cls.saves == "output":
            ctx.save_for_backward(out)
            ctx.b = b
        return out

    @staticmethod
    def compute(xp, a, b):
        """The forward value from promoted operands."""
        raise NotImplementedError


class Add(BinaryOp):
    """a + b."""

    compute = staticmethod(lambda xp, a, b: a + b)

    @staticmethod
    def backward(ctx, g):
        return g, g  # d(a+b) = 1, 1


class Sub(BinaryOp):
    """a - b."""

    compute = staticmethod(lambda xp, a, b: a - b)

    @staticmethod
    def backward(ctx, g):
        return g, -g  # d(a-b) = 1, -1


class Rsub(BinaryOp):
    """b - a, for ``number - tensor``."""

    variant = 1
    compute = staticmethod(lambda xp, a, b: b - a)

    @staticmethod
    def backward(ctx, g):
        return -g, None  # d(b-a)/da = -1


class Mul(BinaryOp):
    """a * b."""

    saves = "inputs"
    compute = staticmethod(lambda xp, a, b: a * b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad[:2]
        return (g * b if need_a else None), (g * a if need_b else None)  # d(ab) = b, a


class Div(BinaryOp):
    """a / b (true division: integers give the default float dtype)."""

    saves, true_division = "inputs", True
    compute = staticmethod(lambda xp, a, b: a / b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad[:2]
        # d(a/b) = 1/b, -a/b^2
        return (g / b if need_a else None), (-g * a / (b * b) if need_b else None)


class Remainder(BinaryOp):
    """a % b with the sign of b (Python's and torch's remainder)."""

    saves = "inputs"
    compute = staticmethod(lambda xp, a, b: xp.remainder(a, b))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        need_b = ctx.needs_input_grad[1]
        # d(a % b) = 1, -floor(a/b)
        return g, (-g * ctx.xp.floor_divide(a, b) if need_b else None)


class Pow(BinaryOp):
    """a ** b for a tensor base and a number exponent."""

    saves = "inputs"
    compute = staticmethod(lambda xp, a, b: a ** b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        if b == 0:
            return g * 0, None
        return g * b * a ** (b - 1), None  # d a^b = b a^(b-1)


class PowTensor(BinaryOp):
    """a ** b for a tensor base and a tensor exponent."""

    opname, variant, saves = "Pow", 1, "inputs"
    compute = staticmethod(lambda xp, a, b: a ** b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        xp = ctx.xp
        need_a, need_b = ctx.needs_input_grad[:2]
        ga = g * b * a ** (b - 1) if need_a else None  # d a^b / da = b a^(b-1)
        gb = None
        if need_b:  # d a^b / db = a^b log a, taken as 0 where a == 0 and b >= 0
            log_a = xp.log(xp.where(a == 0, 1, a))
            gb = g * xp.where((a == 0) & (b >= 0), 0, a ** b * log_a)
        return ga, gb


class PowScalarBase(BinaryOp):
    """b ** a for a number base ``b`` and a tensor exponent ``a`` (``2 ** x``)."""

    opname, variant, saves = "Pow", 2, "output"
    compute = staticmethod(lambda xp, a, b: b ** a)

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out * math.log(ctx.b), None  # d b^a = b^a log b


class Maximum(BinaryOp):
    """Elementwise maximum of two tensors; ties share the gradient equally."""

    saves = "inputs"
    compute = staticmethod(lambda xp, a, b: xp.maximum(a, b))
    wins = staticmethod(lambda a, b: a > b)

    @classmethod
    def backward(cls, ctx, g):
        a, b = ctx.saved_tensors
        a_wins, tie = cls.wins(a, b), (a == b)
        half = g * 0.5
        xp = ctx.xp
        ga = xp.where(a_wins, g, xp.where(tie, half, 0))
        gb = xp.where(a_wins | tie, xp.where(tie, half, 0), g)
        return ga, gb


class Minimum(Maximum):
    """Elementwise minimum of two tensors; ties share the gradient equally."""

    compute = staticmethod(lambda xp, a, b: xp.minimum(a, b))
    wins = staticmethod(lambda a, b: a < b)


class Where(Op):
    """``cond ? a : b`` elementwise."""

    @staticmethod
    def forward(ctx, cond, a, b):
        xp = ctx.xp
        dt = result_dtype(a, b)
        ctx.cond = cond
        return xp.where(cond, _cast(a, dt), _cast(b, dt))

    @staticmethod
    def backward(ctx, g):
        zero = g.dtype.type(0)
        xp = ctx.xp
        return None, xp.where(ctx.cond, g, zero), xp.where(ctx.cond, zero, g)
