"""Special functions (erf, erfc, erfinv) as NumPy ufuncs compiled by ``numba.vectorize``.

float32 and float64 loops; each computes in its own dtype as torch's CPU kernels do.
``erfinv`` is torch's ``calc_erfinv``: a rational first guess refined by two Newton steps.
"""

from __future__ import annotations

import math

import numba

__all__ = ["erf", "erfc", "erfinv", "FUNCTIONS"]

_SIGNATURES = ["float32(float32)", "float64(float64)"]
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
_CENTRAL_RANGE = 0.7
_A0, _A1, _A2, _A3 = 0.886226899, -1.645349621, 0.914624893, -0.140543331
_B0, _B1, _B2, _B3 = -2.118377725, 1.442710462, -0.329097515, 0.012229801
_C0, _C1, _C2, _C3 = -1.970840454, -1.624906493, 3.429567803, 1.641345311
_D0, _D1 = 3.543889200, 1.637067800


@numba.vectorize(_SIGNATURES, cache=True)
def erf(x):
    """The error function."""
    return math.erf(x)


@numba.vectorize(_SIGNATURES, cache=True)
def erfc(x):
    """1 - erf(x), accurate where erf(x) is near 1."""
    return math.erfc(x)


@numba.vectorize(_SIGNATURES, cache=True)
def erfinv(y):
    """The inverse of erf on [-1, 1] (NaN outside, +-inf at +-1)."""
    y_abs = abs(y)
    if y_abs > 1:
        return math.nan
    if y_abs == 1:
        return math.copysign(math.inf, y)
    if y_abs <= _CENTRAL_RANGE:
        z = y * y
        num = ((_A3 * z + _A2) * z + _A1) * z + _A0
        dem = (((_B3 * z + _B2) * z + _B1) * z + _B0) * z + 1
        x = y * num / dem
    else:
        z = math.sqrt(-math.log((1 - y_abs) / 2))
        num = ((_C3 * z + _C2) * z + _C1) * z + _C0
        dem = (_D1 * z + _D0) * z + 1
        x = math.copysign(num, y) / dem
    # two Newton steps on erf(x) - y = 0
    x = x - (math.erf(x) - y) / (_TWO_OVER_SQRT_PI * math.exp(-x * x))
    x = x - (math.erf(x) - y) / (_TWO_OVER_SQRT_PI * math.exp(-x * x))
    return x


FUNCTIONS = {"erf": erf, "erfc": erfc, "erfinv": erfinv}
