"""Everyday elementwise math: trigonometric and hyperbolic functions, logarithms, rounding
toward zero, sign tests, atan2, fmod, hypot, copysign, logaddexp, xlogy, float_power,
heaviside, addcmul and addcdiv, with their in-place forms (Tensor methods)."""

from __future__ import annotations

import numpy as np

from .. import dtypes
from .._tensor_core import TensorCore
from ..dtypes import is_float_array_dtype
from . import binary_math as bm
from . import pointwise as pw
from . import unary as un
from .common import type_name
from .inplace import apply_inplace
from .out import write_out

__all__ = [
    "square", "tan", "sinh", "cosh", "asin", "arcsin", "acos", "arccos", "atan", "arctan",
    "asinh", "arcsinh", "acosh", "arccosh", "atanh", "arctanh", "log2", "log10", "exp2",
    "expm1", "trunc", "fix", "frac", "sgn", "signbit", "deg2rad", "rad2deg", "isposinf",
    "isneginf", "isreal", "atan2", "arctan2", "fmod", "hypot", "copysign", "logaddexp",
    "logaddexp2", "xlogy", "float_power", "heaviside", "addcmul", "addcdiv"]


# ---- unary -------------------------------------------------------------------------
def _write_same_dtype(name, result, out):
    """``write_out`` for ops whose ``out`` must have the result's dtype (torch's check)."""
    if isinstance(out, TensorCore) and out.dtype is not result.dtype:
        raise RuntimeError(f"Found dtype {type_name(out.dtype)} but expected "
                           f"{type_name(result.dtype)}")
    return write_out(name, result, out)


def _unary(op, name, write=write_out):
    def fn(input, *, out=None):  # noqa: A002
        return write(name, op.apply(input), out)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {op.__doc__}."
    return fn


tan = _unary(un.Tan, "tan")
sinh = _unary(un.Sinh, "sinh")
cosh = _unary(un.Cosh, "cosh")
asin = arcsin = _unary(un.Asin, "asin")
acos = arccos = _unary(un.Acos, "acos")
atan = arctan = _unary(un.Atan, "atan")
asinh = arcsinh = _unary(un.Asinh, "asinh")
acosh = arccosh = _unary(un.Acosh, "acosh")
atanh = arctanh = _unary(un.Atanh, "atanh")
log2 = _unary(un.Log2, "log2")
log10 = _unary(un.Log10, "log10")
exp2 = _unary(un.Exp2, "exp2")
expm1 = _unary(un.Expm1, "expm1")
trunc = fix = _unary(un.Trunc, "trunc", _write_same_dtype)
frac = _unary(un.Frac, "frac", _write_same_dtype)
sgn = _unary(un.Sgn, "sgn", _write_same_dtype)
deg2rad = _unary(un.Deg2Rad, "deg2rad")
rad2deg = _unary(un.Rad2Deg, "rad2deg")


def square(input, *, out=None):  # noqa: A002
    """Elementwise input ** 2 (bool gives int64, as torch)."""
    base = pw.to_dtype(input, dtypes.int64) if input.dtype is dtypes.bool else input
    return write_out("square", pw.pow(base, 2), out)


def _without_graph(fn, input):  # noqa: A002
    """A bool tensor ``fn(xp, array)`` of ``input``, without graph history."""
    with input._on_device():
        return input._wrap(fn(input._backend.xp, input._data))


def _write_bool(name, result, out):
    """``write_out`` for the sign and infinity tests: torch takes bool outputs only."""
    if isinstance(out, TensorCore) and out.dtype is not dtypes.bool:
        raise RuntimeError(f"{name} does not support non-boolean outputs.")
    return write_out(name, result, out)


def _float_test(name, test, doc):
    def fn(input, *, out=None):  # noqa: A002
        def run(xp, x):
            if not is_float_array_dtype(x.dtype):
                return xp.zeros(x.shape, dtype=bool)
            return test(xp, x)
        return _write_bool(name, _without_graph(run, input), out)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def _signbit(xp, x):
    if is_float_array_dtype(x.dtype):
        return xp.signbit(x)
    return x < 0 if x.dtype.kind == "i" else xp.zeros(x.shape, dtype=bool)


def signbit(input, *, out=None):  # noqa: A002
    """Where the sign bit is set: negative numbers, -0.0 and NaNs with a sign (bool)."""
    return _write_bool("signbit", _without_graph(_signbit, input), out)


isposinf = _float_test("isposinf", lambda xp, x: x == np.inf,
                       "Where the elements are +inf (a bool tensor).")
isneginf = _float_test("isneginf", lambda xp, x: x == -np.inf,
                       "Where the elements are -inf (a bool tensor).")


def isreal(input):  # noqa: A002
    """Where the elements are real: everywhere for a real tensor (a bool tensor)."""
    return _without_graph(lambda xp, x: xp.ones(x.shape, dtype=bool), input)


# ---- binary ------------------------------------------------------------------------
def _require_tensors(name, *named):
    """torch's TypeError for an argument that must be a Tensor."""
    for position, (arg, value) in enumerate(named, 1):
        if not isinstance(value, TensorCore):
            raise TypeError(f"{name}(): argument '{arg}' (position {position}) must be Tensor, "
                            f"not {type(value).__name__}")


def _require_tensor_first(name, input, other):  # noqa: A002
    """torch's TypeError when an op with a Tensor and a Number overload gets a number first."""
    if not isinstance(input, TensorCore):
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got "
            f"({type(input).__name__}, {type(other).__name__}), but expected one of:\n"
            f" * (Tensor input, Tensor other, *, Tensor out = None)\n"
            f" * (Tensor input, Number other, *, Tensor out = None)\n")


def atan2(input, other, *, out=None):  # noqa: A002
    """Elementwise atan2(input, other): the angle of the point (other, input)."""
    _require_tensors("atan2", ("input", input), ("other", other))
    return write_out("atan2", bm.Atan2.apply(input, other), out)


def arctan2(input, other, *, out=None):  # noqa: A002
    """Elementwise atan2(input, other) (NumPy's name)."""
    _require_tensors("arctan2", ("input", input), ("other", other))
    return write_out("arctan2", bm.Atan2.apply(input, other), out)


def fmod(input, other, *, out=None):  # noqa: A002
    """Elementwise C fmod: the remainder of input / other with the sign of input."""
    _require_tensor_first("fmod", input, other)
    other = pw.number_operand(other, input)
    op = bm.FmodTensor if isinstance(other, TensorCore) else bm.Fmod
    return write_out("fmod", op.apply(input, other), out)


def hypot(input, other, *, out=None):  # noqa: A002
    """Elementwise sqrt(input^2 + other^2)."""
    _require_tensors("hypot", ("input", input), ("other", other))
    return write_out("hypot", bm.Hypot.apply(input, other), out)


def copysign(input, other, *, out=None):  # noqa: A002
    """Elementwise |input| with the sign of other (a float result)."""
    _require_tensor_first("copysign", input, other)
    other = pw.number_operand(other, input)
    op = bm.Copysign if isinstance(other, TensorCore) else bm.CopysignScalar
    return write_out("copysign", op.apply(input, other), out)


def logaddexp(input, other, *, out=None):  # noqa: A002
    """Elementwise log(e^input + e^other)."""
    _require_tensors("logaddexp", ("input", input), ("other", other))
    return write_out("logaddexp", bm.Logaddexp.apply(input, other), out)


def logaddexp2(input, other, *, out=None):  # noqa: A002
    """Elementwise log2(2^input + 2^other)."""
    _require_tensors("logaddexp2", ("input", input), ("other", other))
    return write_out("logaddexp2", bm.Logaddexp2.apply(input, other), out)


def _pair(name, input, other, arg="other"):  # noqa: A002
    """Both operands as Tensors or Python numbers (a number may stand on either side)."""
    if isinstance(input, TensorCore):
        return input, pw.number_operand(other, input)
    if not isinstance(other, TensorCore):
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got "
            f"({type(input).__name__}, {type(other).__name__}), but expected one of:\n"
            f" * (Tensor input, Tensor {arg}, *, Tensor out = None)\n"
            f" * (Number self, Tensor {arg}, *, Tensor out = None)\n"
            f" * (Tensor input, Number {arg}, *, Tensor out = None)\n")
    return pw.number_operand(input, other), other


def xlogy(input, other, *, out=None):  # noqa: A002
    """Elementwise input * log(other), 0 where input is 0 (NaN where other is NaN)."""
    a, b = _pair("xlogy", input, other)
    if not isinstance(a, TensorCore):
        op = bm.XlogyScalarFirst
    else:
        op = bm.Xlogy if isinstance(b, TensorCore) else bm.XlogyScalarSecond
    return write_out("xlogy", op.apply(a, b), out)


def float_power(input, exponent, *, out=None):  # noqa: A002
    """Elementwise input ** exponent computed in float64 (a float64 result)."""
    a, b = _pair("float_power", input, exponent, "exponent")
    a, b = (pw.to_dtype(v, dtypes.float64) if isinstance(v, TensorCore) else v for v in (a, b))
    if isinstance(out, TensorCore) and out.dtype is not dtypes.float64:
        raise RuntimeError(f"the output given to float_power has dtype {type_name(out.dtype)} "
                           f"but the operation's result requires dtype Double")
    return write_out("float_power", pw.pow(a, b), out)


def heaviside(input, values, *, out=None):  # noqa: A002
    """The step function of input: 0 below zero, 1 above, ``values`` at zero."""
    _require_tensors("heaviside", ("input", input), ("values", values))
    if isinstance(out, TensorCore) and out.dtype is not input.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different "
                           "dtypes.")
    return write_out("heaviside", bm.Heaviside.apply(input, values), out)


def addcmul(input, tensor1, tensor2, *, value=1, out=None):  # noqa: A002
    """input + value * tensor1 * tensor2, broadcast together."""
    _require_tensors("addcmul", ("input", input), ("tensor1", tensor1), ("tensor2", tensor2))
    return write_out("addcmul", bm.Addcmul.apply(input, tensor1, tensor2, value), out)


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):  # noqa: A002
    """input + value * tensor1 / tensor2, broadcast together."""
    _require_tensors("addcdiv", ("input", input), ("tensor1", tensor1), ("tensor2", tensor2))
    return write_out("addcdiv", bm.Addcdiv.apply(input, tensor1, tensor2, value), out)


# ---- in place (Tensor methods) -------------------------------------------------------
def _inplace(fn, name):
    def op_(self, *args, **kwargs):
        return apply_inplace(self, fn, *args, **kwargs)
    op_.__name__ = op_.__qualname__ = name
    op_.__doc__ = f"In-place ``{name[:-1]}``."
    return op_


square_ = _inplace(square, "square_")
tan_ = _inplace(tan, "tan_")
sinh_ = _inplace(sinh, "sinh_")
cosh_ = _inplace(cosh, "cosh_")
asin_ = arcsin_ = _inplace(asin, "asin_")
acos_ = arccos_ = _inplace(acos, "acos_")
atan_ = arctan_ = _inplace(atan, "atan_")
asinh_ = arcsinh_ = _inplace(un.AsinhInPlace.apply, "asinh_")
acosh_ = arccosh_ = _inplace(un.AcoshInPlace.apply, "acosh_")
atanh_ = arctanh_ = _inplace(un.AtanhInPlace.apply, "atanh_")
log2_ = _inplace(log2, "log2_")
log10_ = _inplace(log10, "log10_")
exp2_ = _inplace(exp2, "exp2_")
expm1_ = _inplace(expm1, "expm1_")
trunc_ = fix_ = _inplace(trunc, "trunc_")
frac_ = _inplace(frac, "frac_")
sgn_ = _inplace(sgn, "sgn_")
deg2rad_ = _inplace(deg2rad, "deg2rad_")
rad2deg_ = _inplace(rad2deg, "rad2deg_")
atan2_ = _inplace(atan2, "atan2_")
arctan2_ = _inplace(arctan2, "arctan2_")
fmod_ = _inplace(fmod, "fmod_")
hypot_ = _inplace(hypot, "hypot_")
copysign_ = _inplace(copysign, "copysign_")
xlogy_ = _inplace(xlogy, "xlogy_")
heaviside_ = _inplace(heaviside, "heaviside_")
addcmul_ = _inplace(addcmul, "addcmul_")
addcdiv_ = _inplace(addcdiv, "addcdiv_")
true_divide_ = _inplace(pw.true_divide, "true_divide_")


def float_power_(self, exponent):
    """In-place ``float_power``: the tensor must already be float64."""
    if self.dtype is not dtypes.float64:
        raise RuntimeError(f"the base given to float_power_ has dtype {type_name(self.dtype)} "
                           f"but the operation's result requires dtype Double")
    return apply_inplace(self, float_power, exponent)
