"""More binary elementwise math: atan2, fmod, hypot, copysign, logaddexp, xlogy, heaviside,
and the fused ``input + value * t1 * t2`` (addcmul) and ``input + value * t1 / t2`` (addcdiv).

Each op is a ``BinaryOp`` (elementwise.py): its operands are promoted to torch's result
dtype first and the derivative sits beside the forward.
"""

from __future__ import annotations

import math

from ..autograd.function import Op
from ..dtypes import is_float_array_dtype
from .common import (
    as_array,
    broadcast_shapes,
    cast_operand,
    cast_scalar,
    device_type,
    is_array,
    not_implemented,
    result_dtype,
)
from .elementwise import BinaryOp, NotDifferentiable


def _refuse_non_float(kernel):
    """A ``check`` raising torch's error for a kernel with floating point versions only."""
    def check(ctx, a, b) -> None:
        if not is_float_array_dtype(ctx.dtype):
            raise not_implemented(kernel, ctx.dtype, device_type(ctx))
    return staticmethod(check)


class Atan2(BinaryOp):
    """The angle of the point (b, a): atan2(a, b) (integers give the default float dtype)."""

    saves, true_division = ("a", "b"), True
    compute = staticmethod(lambda ctx, xp, a, b: xp.arctan2(a, b))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        scale = g / (a * a + b * b)
        return scale * b, -scale * a  # d atan2(a, b) = b / (a^2 + b^2), -a / (a^2 + b^2)


def _check_fmod(ctx, a, b) -> None:
    if ctx.dtype.kind == "b":
        raise not_implemented("fmod", ctx.dtype, device_type(ctx))
    if ctx.dtype.kind in "iu" and (bool((b == 0).any()) if is_array(b) else b == 0):
        raise RuntimeError("ZeroDivisionError")


class Fmod(BinaryOp):
    """C's fmod: a - trunc(a / b) * b, with the sign of a; ``b`` a number."""

    saves = ("a", "b")
    check = staticmethod(_check_fmod)
    compute = staticmethod(lambda ctx, xp, a, b: xp.fmod(a, b))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        xp = ctx.xp
        # d fmod(a, b) = 1, -trunc(a / b)
        gb = -g * xp.trunc(a / b) if ctx.needs_input_grad[1] else None
        return g, gb


class FmodTensor(Fmod):
    """C's fmod of two tensors."""

    opname, variant = "Fmod", 1


class Hypot(BinaryOp):
    """sqrt(a^2 + b^2) without overflow in between."""

    saves = ("a", "b", "out")
    check = _refuse_non_float("hypot")
    compute = staticmethod(lambda ctx, xp, a, b: xp.hypot(a, b))

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        return g * a / out, g * b / out  # d hypot = a / hypot, b / hypot


class Copysign(BinaryOp):
    """|a| with the sign of b (a float result for every input)."""

    saves, true_division = ("a", "out"), True
    compute = staticmethod(lambda ctx, xp, a, b: xp.copysign(a, b))

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        xp = ctx.xp
        # d copysign(a, b) / da = copysign(a, b) / a (0 where a == 0); / db = 0
        ga = xp.where(a == 0, 0, g * (out / a))
        gb = xp.zeros_like(g) if ctx.needs_input_grad[1] else None
        return ga, gb


class CopysignScalar(Copysign):
    """|a| with the sign of a number b."""

    opname, variant = "Copysign", 1


class Logaddexp(BinaryOp):
    """log(e^a + e^b), without overflow."""

    saves = ("a", "b")
    check = _refuse_non_float("logaddexp")
    compute = staticmethod(lambda ctx, xp, a, b: xp.logaddexp(a, b))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        exp = ctx.xp.exp
        # d logaddexp = 1 / (1 + e^(b - a)), 1 / (1 + e^(a - b))
        return g / (1 + exp(b - a)), g / (1 + exp(a - b))


class Logaddexp2(BinaryOp):
    """log2(2^a + 2^b), without overflow."""

    saves = ("a", "b")
    check = _refuse_non_float("logaddexp2")
    compute = staticmethod(lambda ctx, xp, a, b: xp.logaddexp2(a, b))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        exp2 = ctx.xp.exp2
        # d logaddexp2 = 1 / (1 + 2^(b - a)), 1 / (1 + 2^(a - b))
        return g / (1 + exp2(b - a)), g / (1 + exp2(a - b))


def _log_of_number(value: float) -> float:
    return math.log(value) if value > 0 else -math.inf if value == 0 else math.nan


def _xlogy(xp, a, b):
    """a * log(b), 0 where a == 0 (even for b == 0 or inf), NaN where b is NaN.

    Either side may be a Python number (the conditions of ``where`` stay arrays, as CuPy
    needs)."""
    if not is_array(b):
        if b != b:
            return xp.full(a.shape, math.nan, dtype=a.dtype)
        return xp.where(a == 0, 0, a * _log_of_number(b))
    product = xp.where(a == 0, 0, a * xp.log(b)) if is_array(a) else \
        (xp.zeros_like(b) if a == 0 else a * xp.log(b))
    return xp.where(b != b, b, product)


class Xlogy(BinaryOp):
    """a * log(b) with 0 * log(0) = 0 (integers give the default float dtype)."""

    saves, true_division = ("a", "b"), True
    compute = staticmethod(lambda ctx, xp, a, b: _xlogy(xp, a, b))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        xp = ctx.xp
        need_a, need_b = ctx.needs_input_grad[:2]
        ga = gb = None
        if need_a:  # d xlogy / da = log(b), taken as 0 where a == 0 and b <= 0
            ga = _xlogy(xp, g, b)
            if is_array(b):
                ga = xp.where((a == 0) & (b <= 0), 0, ga)
            elif not b > 0:  # (a number b: torch's mask holds for NaN too)
                ga = xp.where(a == 0, 0, ga)
        if need_b:  # d xlogy / db = a / b
            gb = g * a / b
        return ga, gb


class XlogyScalarFirst(Xlogy):
    """a * log(b) for a number a."""

    opname, variant = "Xlogy", 1


class XlogyScalarSecond(Xlogy):
    """a * log(b) for a number b."""

    opname, variant = "Xlogy", 2


class Heaviside(NotDifferentiable):
    """The step function: 0 below zero, 1 above, ``values`` at zero (no derivative)."""

    aten = "heaviside"

    @staticmethod
    def check(ctx, a, b):
        if a.dtype != b.dtype:
            raise RuntimeError("heaviside is not yet implemented for tensors with different "
                               "dtypes.")

    compute = staticmethod(lambda ctx, xp, a, b: xp.where(a == 0, b, a > 0))


def _check_addc(name, value, dt, device):
    if dt.kind == "b":
        kernel = f"{name}_cpu_out" if device == "cpu" else f"{name}_cuda"
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')
    return cast_scalar(value, dt)


_ADDCDIV_INTEGERS = (
    "Integer division with addcdiv is no longer supported, and in a future  release addcdiv "
    "will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can "
    "be implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
    "integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future "
    "addcdiv behavior is just the latter implementation: (input + value * tensor1 / tensor2), "
    "for all dtypes.")


class Addcmul(Op):
    """input + value * tensor1 * tensor2, broadcast together."""

    @staticmethod
    def forward(ctx, x, t1, t2, value):
        broadcast_shapes(x.shape, t1.shape, t2.shape)
        dt = result_dtype(x, t1, t2)
        value = _check_addc("addcmul", value, dt, device_type(ctx))
        x, t1, t2 = (cast_operand(v, dt) for v in (x, t1, t2))
        ctx.value = value
        ctx.save_for_backward(t1, t2)
        out = as_array(ctx.xp, x + value * t1 * t2)
        return out if out.dtype == dt else out.astype(dt)

    @staticmethod
    def backward(ctx, g):
        t1, t2 = ctx.saved_tensors
        value = ctx.value
        need = ctx.needs_input_grad
        # d/dinput = 1, d/dt1 = value * t2, d/dt2 = value * t1
        return (g, g * (value * t2) if need[1] else None,
                g * (value * t1) if need[2] else None, None)


class Addcdiv(Op):
    """input + value * tensor1 / tensor2, broadcast together (float tensors only)."""

    @staticmethod
    def forward(ctx, x, t1, t2, value):
        if not is_float_array_dtype(t1.dtype) and not is_float_array_dtype(t2.dtype):
            raise RuntimeError(_ADDCDIV_INTEGERS)
        broadcast_shapes(x.shape, t1.shape, t2.shape)
        dt = result_dtype(x, t1, t2)
        value = cast_scalar(value, dt)
        x, t1, t2 = (cast_operand(v, dt) for v in (x, t1, t2))
        ctx.value = value
        ctx.save_for_backward(t1, t2)
        out = as_array(ctx.xp, x + value * t1 / t2)
        return out if out.dtype == dt else out.astype(dt)

    @staticmethod
    def backward(ctx, g):
        t1, t2 = ctx.saved_tensors
        value = ctx.value
        need = ctx.needs_input_grad
        # d/dinput = 1, d/dt1 = value / t2, d/dt2 = -value * t1 / t2^2
        return (g, g * value / t2 if need[1] else None,
                -g * value * t1 / (t2 * t2) if need[2] else None, None)
