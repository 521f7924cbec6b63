"""Special functions (erf, erfc, erfinv, logit), lerp, nan_to_num and one-sided clamps."""

from __future__ import annotations

import math

import numpy as np

from .._tensor_core import TensorCore
from ..autograd.function import Op
from . import inplace
from . import pointwise as pw
from . import unary as un
from .common import as_array, broadcast_shapes, float_dtype, type_name
from .creation import as_tensor_like
from .inplace import apply_inplace
from .out import write_out

# torch's top-level names (expit, erfinv_ and lerp_ are gputensor.special's or methods only)
__all__ = ["erf", "erfc", "erfinv", "erf_", "erfc_", "logit", "logit_", "lerp", "nan_to_num",
           "nan_to_num_", "clamp_min", "clamp_max", "clamp_min_", "clamp_max_"]

_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2


class SpecialFunction(Op):
    """y = ``function``(x) by the backend's special-function kernel (float16 via float32)."""

    function = ""

    @classmethod
    def forward(cls, ctx, x):
        dt = float_dtype(x.dtype)
        x = x.astype(dt, copy=False)
        work = x.astype(np.float32) if dt == np.float16 else x
        y = ctx.backend.special_function(cls.function, work).astype(dt, copy=False)
        ctx.save_for_backward(y if cls.function == "erfinv" else x)
        return y


class Erf(SpecialFunction):
    """The error function."""

    function = "erf"

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (_TWO_OVER_SQRT_PI * ctx.xp.exp(-x * x))  # d erf = 2/sqrt(pi) e^(-x^2)


class Erfc(SpecialFunction):
    """The complementary error function 1 - erf(x)."""

    function = "erfc"

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (-_TWO_OVER_SQRT_PI * ctx.xp.exp(-x * x))  # d erfc = -2/sqrt(pi) e^(-x^2)


class Erfinv(SpecialFunction):
    """The inverse error function."""

    function = "erfinv"

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * (_SQRT_PI_OVER_TWO * ctx.xp.exp(y * y))  # d erfinv = sqrt(pi)/2 e^(y^2)


class Logit(Op):
    """log(x / (1 - x)), x first clamped into [eps, 1 - eps] when eps is given."""

    @staticmethod
    def forward(ctx, x, eps):
        xp = ctx.xp
        x = x.astype(float_dtype(x.dtype), copy=False)
        ctx.save_for_backward(x)
        ctx.eps = eps
        z = x if eps is None else xp.clip(x, x.dtype.type(eps), x.dtype.type(1 - eps))
        return as_array(xp, xp.log(z / (1 - z))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        grad = g / (x * (1 - x))  # d logit = 1 / (x (1 - x)), 0 where eps clamped x
        if ctx.eps is None:
            return grad, None
        return ctx.xp.where((x < ctx.eps) | (x > 1 - ctx.eps), 0, grad), None


class Lerp(Op):
    """start + weight * (end - start), torch's two-sided formula; weight a number."""

    @staticmethod
    def forward(ctx, start, end, weight):
        _check_lerp("scalar", start, end)
        broadcast_shapes(start.shape, end.shape)
        ctx.weight = weight
        diff = end - start
        if abs(weight) < 0.5:
            out = start + start.dtype.type(weight) * diff
        else:
            out = end - diff * start.dtype.type(1 - weight)
        return as_array(ctx.xp, out).astype(start.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        w = ctx.weight
        return g * (1 - w), g * w, None  # d/dstart = 1 - w, d/dend = w


class LerpTensor(Op):
    """start + weight * (end - start) with a tensor weight (broadcast with both)."""

    opname, variant = "Lerp", 1

    @staticmethod
    def forward(ctx, start, end, weight):
        _check_lerp("tensor", start, end, weight)
        xp = ctx.xp
        broadcast_shapes(start.shape, end.shape, weight.shape)
        weight = weight.astype(start.dtype, copy=False)
        ctx.save_for_backward(start, end, weight)
        diff = end - start
        out = xp.where(xp.abs(weight) < 0.5, start + weight * diff, end - diff * (1 - weight))
        return as_array(xp, out).astype(start.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        start, end, weight = ctx.saved_tensors
        # d/dstart = 1 - w, d/dend = w, d/dweight = end - start
        return g * (1 - weight), g * weight, g * (end - start)


def _check_lerp(kind, start, end, weight=None):
    """torch's errors: integer inputs, and an end (or non-0-d weight) of another dtype."""
    others = [("end", end)] + ([("weight", weight)] if weight is not None and weight.ndim else [])
    for name, other in others:
        if other.dtype != start.dtype:
            raise RuntimeError(f"expected dtype {_c_name(start.dtype)} for `{name}` but got "
                               f"dtype {_c_name(other.dtype)}")
    if start.dtype.kind != "f":
        raise NotImplementedError(f'"lerp_kernel_{kind}" not implemented for '
                                  f"'{type_name(start.dtype)}'")


_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
            "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int",
            "int16": "short int", "int8": "signed char", "uint8": "unsigned char"}


def _c_name(dt) -> str:
    return _C_NAMES.get(dt.name, dt.name)


class NanToNum(Op):
    """NaN, +inf and -inf replaced by finite numbers (the dtype's extremes by default)."""

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        xp = ctx.xp
        if x.dtype.kind != "f":
            return x.copy()
        ctx.save_for_backward(x)
        info = np.finfo(x.dtype)
        kind = x.dtype.type
        with np.errstate(over="ignore"):
            nan = kind(0.0 if nan is None else nan)
            posinf = info.max if posinf is None else kind(posinf)
            neginf = info.min if neginf is None else kind(neginf)
        out = xp.where(xp.isnan(x), nan, x)
        out = xp.where(out == np.inf, posinf, out)
        out = xp.where(out == -np.inf, neginf, out)
        return as_array(xp, out).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return ctx.xp.where(ctx.xp.isfinite(x), g, 0), None, None, None  # d = 1 where finite


class ClampMin(un.Clamp):
    """max(x, min) with a number bound."""

    opname, variant = "ClampMin", 0


class ClampMax(un.Clamp):
    """min(x, max) with a number bound."""

    opname, variant = "ClampMax", 0


class ClampMinTensor(un.ClampTensor):
    """max(x, min) with a tensor bound."""

    opname, variant = "ClampMin", 1


class ClampMaxTensor(un.ClampTensor):
    """min(x, max) with a tensor bound."""

    opname, variant = "ClampMax", 1


# ---- public functions -------------------------------------------------------------------
def erf(input, *, out=None):  # noqa: A002
    """The error function, elementwise."""
    result = Erf.apply(input)
    return result if out is None else write_out("erf", result, out)


def erfc(input, *, out=None):  # noqa: A002
    """1 - erf(x), elementwise."""
    result = Erfc.apply(input)
    return result if out is None else write_out("erfc", result, out)


def erfinv(input, *, out=None):  # noqa: A002
    """The inverse error function, elementwise (NaN outside [-1, 1])."""
    result = Erfinv.apply(input)
    return result if out is None else write_out("erfinv", result, out)


def logit(input, eps=None, *, out=None):  # noqa: A002
    """log(x / (1 - x)), with x clamped into [eps, 1 - eps] when ``eps`` is given."""
    result = Logit.apply(input, eps)
    return result if out is None else write_out("logit", result, out)


def expit(input, *, out=None):  # noqa: A002
    """The logistic sigmoid 1 / (1 + e^-x)."""
    result = pw.sigmoid(input)
    return result if out is None else write_out("sigmoid", result, out)


def lerp(input, end, weight, *, out=None):  # noqa: A002
    """input + weight * (end - input); ``weight`` a number or a tensor."""
    if not isinstance(end, TensorCore):
        got = ", ".join("Tensor" if isinstance(a, TensorCore) else type(a).__name__
                        for a in (input, end, weight))
        raise TypeError(f"lerp() received an invalid combination of arguments - got ({got}), "
                        "but expected one of:\n"
                        " * (Tensor input, Tensor end, Tensor weight, *, Tensor out = None)\n"
                        " * (Tensor input, Tensor end, Number weight, *, Tensor out = None)\n")
    if isinstance(weight, TensorCore):
        result = LerpTensor.apply(input, end, weight)
    else:
        result = Lerp.apply(input, end, weight)
    return result if out is None else write_out("lerp", result, out)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):  # noqa: A002
    """NaN as ``nan``, +inf as ``posinf``, -inf as ``neginf`` (default: the dtype's extremes)."""
    result = NanToNum.apply(input, nan, posinf, neginf)
    return result if out is None else write_out("nan_to_num", result, out)


def clamp_min(input, min, *, out=None):  # noqa: A002
    """max(input, min), elementwise (``min`` a number or a tensor)."""
    if isinstance(min, TensorCore):
        result = ClampMinTensor.apply(input, as_tensor_like(min, input), None)
    else:
        result = ClampMin.apply(input, pw.number_operand(min, input), None)
    return result if out is None else write_out("clamp_min", result, out)


def clamp_max(input, max, *, out=None):  # noqa: A002
    """min(input, max), elementwise (``max`` a number or a tensor)."""
    if isinstance(max, TensorCore):
        result = ClampMaxTensor.apply(input, None, as_tensor_like(max, input))
    else:
        result = ClampMax.apply(input, None, pw.number_operand(max, input))
    return result if out is None else write_out("clamp_max", result, out)


# ---- in place ---------------------------------------------------------------------------
def erf_(self):
    """In-place erf."""
    return apply_inplace(self, erf)


def erfc_(self):
    """In-place erfc."""
    return apply_inplace(self, erfc)


def erfinv_(self):
    """In-place erfinv."""
    return apply_inplace(self, erfinv)


def logit_(self, eps=None):
    """In-place logit."""
    return apply_inplace(self, logit, eps)


def lerp_(self, end, weight):
    """In-place lerp."""
    return apply_inplace(self, lerp, end, weight)


def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
    """In-place nan_to_num."""
    return apply_inplace(self, nan_to_num, nan, posinf, neginf)


def _clamp_inplace(self, fn, bound):
    # a number bound: torch's cast error names C++ types ("long int"), as clamp_'s
    names = None if isinstance(bound, TensorCore) else inplace.CPP_NAMES
    return inplace.inplace_op(self, fn, (bound,), names=names)


def clamp_min_(self, min):  # noqa: A002
    """In-place clamp_min."""
    return _clamp_inplace(self, clamp_min, min)


def clamp_max_(self, max):  # noqa: A002
    """In-place clamp_max."""
    return _clamp_inplace(self, clamp_max, max)
