"""The log-gamma function and its derivatives (lgamma, digamma, polygamma) and softplus.

Written with array formulas alone (NumPy and CuPy alike): a Lanczos sum for log-gamma,
the recurrence psi(x) = psi(x + 6) - sum 1/(x + k) then the asymptotic series for the
polygamma functions, and the reflection formulas below 1/2. The work is done in float64
and rounded to the input's float dtype.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Op
from . import unary as un
from .common import as_array, float_dtype
from .inplace import _inplace_function
from .out import write_out
from .pointwise import _unary_function

__all__ = ["lgamma", "digamma", "polygamma", "igamma", "igammac"]

_LANCZOS_G = 7.0
_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012,
            9.9843695780195716e-6, 1.5056327351493116e-7)
_HALF_LOG_TWO_PI = 0.5 * math.log(2 * math.pi)
_SHIFT = 6  # the recurrence's steps before the asymptotic series


def _pole(xp, x):
    """True at the non-positive integers, where the gamma function has its poles."""
    return (x <= 0) & (x == xp.floor(x))


def _lgamma64(xp, x):
    """log|Gamma(x)| of a float64 array."""
    small = x < 0.5
    z = xp.where(small, 1.0 - x, x) - 1.0
    series = xp.full_like(z, _LANCZOS[0])
    for k, coefficient in enumerate(_LANCZOS[1:], start=1):
        series = series + coefficient / (z + k)
    t = z + _LANCZOS_G + 0.5
    with np.errstate(all="ignore"):
        direct = _HALF_LOG_TWO_PI + (z + 0.5) * xp.log(t) - t + xp.log(series)
        reflected = math.log(math.pi) - xp.log(xp.abs(xp.sin(math.pi * x))) - direct
    result = xp.where(small, reflected, direct)
    result = xp.where(_pole(xp, x) | xp.isinf(x), math.inf, result)
    return xp.where(x == x, result, x)


def _digamma_positive(xp, x):
    """psi(x) for x >= 1/2 (float64)."""
    shifted = x + _SHIFT
    total = xp.zeros_like(x)
    for k in range(_SHIFT):
        total = total + 1.0 / (x + k)
    inv2 = 1.0 / (shifted * shifted)
    tail = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 / 132))))
    return xp.log(shifted) - 0.5 / shifted - tail - total


def _digamma64(xp, x):
    """psi(x) = d log Gamma(x) / dx of a float64 array (torch's values at the poles)."""
    small = x < 0.5
    with np.errstate(all="ignore"):
        direct = _digamma_positive(xp, xp.where(small, 1.0 - x, x))
        reflected = direct - math.pi / xp.tan(math.pi * x)  # psi(1 - x) - pi cot(pi x)
        result = xp.where(small, reflected, direct)
        result = xp.where(_pole(xp, x), math.nan, result)
        result = xp.where(x == 0, -xp.copysign(math.inf, x), result)  # -1/x near zero
    return xp.where(x == math.inf, math.inf, xp.where(x == -math.inf, math.nan, result))


def _trigamma_positive(xp, x):
    """psi'(x) for x >= 1/2 (float64)."""
    shifted = x + _SHIFT
    total = xp.zeros_like(x)
    for k in range(_SHIFT):
        total = total + 1.0 / ((x + k) * (x + k))
    inv = 1.0 / shifted
    inv2 = inv * inv
    tail = inv + inv2 / 2 + inv * inv2 * (1 / 6 - inv2 * (1 / 30 - inv2 * (1 / 42 - inv2 / 30)))
    return total + tail


def _trigamma64(xp, x):
    """psi'(x) of a float64 array (inf at the poles)."""
    small = x < 0.5
    with np.errstate(all="ignore"):
        direct = _trigamma_positive(xp, xp.where(small, 1.0 - x, x))
        sine = xp.sin(math.pi * x)
        reflected = math.pi * math.pi / (sine * sine) - direct  # psi'(1-x) + psi'(x) = pi^2/sin^2
        result = xp.where(small, reflected, direct)
    result = xp.where(_pole(xp, x), math.inf, result)
    return xp.where(x == math.inf, 0.0, xp.where(x == -math.inf, math.nan, result))


def _in_float64(function):
    """``function`` (float64 in, float64 out) applied to ``x`` and rounded to x's dtype."""
    def compute(xp, x):
        """The function on a float64 array."""
        return as_array(xp, function(xp, x.astype(np.float64))).astype(x.dtype, copy=False)
    return compute


Lgamma = un._unary("Lgamma", _in_float64(_lgamma64),
                   lambda xp, g, x, y: g * _in_float64(_digamma64)(xp, x),
                   doc="log|Gamma(x)|")  # d lgamma = digamma
Digamma = un._unary("Digamma", _in_float64(_digamma64),
                    lambda xp, g, x, y: g * _in_float64(_trigamma64)(xp, x),
                    doc="the digamma function")  # d digamma = polygamma(1, x)


class PolygammaZero(Digamma):
    """polygamma(0, x): the digamma function under torch's node name for polygamma."""

    opname, variant = "Polygamma", 0


class Trigamma(Op):
    """psi'(x), the first polygamma function; its derivative is not provided."""

    opname, variant = "Polygamma", 0

    @staticmethod
    def forward(ctx, x):
        """The output from the inputs."""
        x = x.astype(float_dtype(x.dtype), copy=False)
        return _in_float64(_trigamma64)(ctx.xp, x)

    @staticmethod
    def backward(ctx, g):
        """The gradient of the inputs from the output's gradient."""
        raise RuntimeError("the derivative of polygamma(1, x) is not implemented")


lgamma = _unary_function(Lgamma, "lgamma")
digamma = _unary_function(Digamma, "digamma")


def polygamma(n, input, *, out=None):
    """The n-th derivative of the digamma function (n = 0 or 1 here)."""
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    if n == 0:
        result = PolygammaZero.apply(input)
    elif n == 1:
        result = Trigamma.apply(input)
    else:
        raise NotImplementedError("polygamma(n, x) is implemented for n = 0 and 1 only")
    return result if out is None else write_out("polygamma", result, out)


def polygamma_method(self, n):
    """``Tensor.polygamma(n)``: polygamma(n, self)."""
    return polygamma(n, self)


lgamma_ = _inplace_function(lgamma, "lgamma_")
digamma_ = _inplace_function(digamma, "digamma_")


# ---- the regularized incomplete gamma functions -----------------------------------------
_SERIES_TERMS = 400
_FRACTION_TERMS = 200
_TINY = 1e-300


def _log_prefactor(xp, a, x):
    """log(x^a e^-x / Gamma(a))."""
    return a * xp.log(x) - x - _lgamma64(xp, a)


def _lower_series(xp, a, x):
    """P(a, x) by its power series (good for x < a + 1; to ~1e-7 for a up to a few 1000)."""
    term = 1.0 / a
    total = term
    for n in range(1, _SERIES_TERMS):
        term = term * x / (a + n)
        total = total + term
    return total * xp.exp(_log_prefactor(xp, a, x))


def _upper_fraction(xp, a, x):
    """Q(a, x) by its continued fraction, Lentz's method (good for x >= a + 1)."""
    b = x + 1.0 - a
    c = xp.full_like(x, 1.0 / _TINY)
    d = 1.0 / xp.where(xp.abs(b) < _TINY, _TINY, b)
    h = d
    for i in range(1, _FRACTION_TERMS):
        an = -i * (i - a)
        b = b + 2.0
        d = an * d + b
        d = 1.0 / xp.where(xp.abs(d) < _TINY, _TINY, d)
        c = b + an / c
        c = xp.where(xp.abs(c) < _TINY, _TINY, c)
        h = h * d * c
    return xp.exp(_log_prefactor(xp, a, x)) * h


def _igamma64(xp, a, x, upper):
    """P(a, x) (``upper``: Q = 1 - P) of float64 arrays, torch's values at the edges."""
    with np.errstate(all="ignore"):
        safe_x = xp.where(x > 0, x, 1.0)
        safe_a = xp.where(a > 0, a, 1.0)
        use_series = safe_x < safe_a + 1
        lower = xp.where(use_series, _lower_series(xp, safe_a, safe_x),
                         1.0 - _upper_fraction(xp, safe_a, safe_x))
        result = 1.0 - lower if upper else lower
        at_zero, at_one = (1.0, 0.0) if upper else (0.0, 1.0)
        result = xp.where(x == 0, at_zero, result)
        result = xp.where((a == 0) | (x == math.inf), at_one, result)
        result = xp.where(a == math.inf, at_zero, result)
        return xp.where((a < 0) | (x < 0) | (a != a) | (x != x), math.nan, result)


class Igamma(Op):
    """The regularized lower incomplete gamma function P(a, x) (``upper``: Q(a, x))."""

    @staticmethod
    def forward(ctx, a, x, upper):
        xp = ctx.xp
        dt = np.result_type(float_dtype(a.dtype), float_dtype(x.dtype))
        ctx.upper = upper
        ctx.save_for_backward(a, x)
        result = _igamma64(xp, a.astype(np.float64), x.astype(np.float64), upper)
        return as_array(xp, result).astype(dt, copy=False)

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        xp = ctx.xp
        name = "igammac" if ctx.upper else "igamma"
        if ctx.needs_input_grad[0]:
            raise NotImplementedError(f"the derivative for '{name}: input' is not implemented.")
        with np.errstate(all="ignore"):  # d P / dx = x^(a-1) e^-x / Gamma(a) = -d Q / dx
            density = xp.exp((a - 1) * xp.log(x) - x - _lgamma64(xp, a.astype(np.float64)))
        density = density.astype(g.dtype)
        return None, (-g if ctx.upper else g) * density, None


class Igammac(Igamma):
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x)."""


def gammainc(input, other, *, out=None):
    """The regularized lower incomplete gamma function P(input, other)."""
    result = Igamma.apply(input, other, False)
    return result if out is None else write_out("gammainc", result, out)


def gammaincc(input, other, *, out=None):
    """The regularized upper incomplete gamma function Q(input, other) = 1 - P."""
    result = Igammac.apply(input, other, True)
    return result if out is None else write_out("gammaincc", result, out)


igamma, igammac = gammainc, gammaincc  # torch's top-level names
