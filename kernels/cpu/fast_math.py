"""exp, erf and tanh for float32 loops that the compiler can vectorise (no libm calls).

Numba calls libm's scalar ``expf``/``erff``/``tanhf`` element by element; these forms are
branch-free arithmetic on the element (and a bit cast), so LLVM turns a loop of them into
SIMD code:

- ``exp32``: Cephes' ``expf`` (range reduction by ln 2 in two parts, a degree-6 polynomial,
  2^n built in the exponent bits), about 1 ulp; inputs are clamped to [-104, 88.72] (below,
  0; above, inf; NaN passes);
- ``erf32``: torch's vectorised CPU erf (Abramowitz and Stegun 7.1.26 with ``exp32``),
  absolute error about 1.5e-7, as torch's;
- ``tanh32``: ``sign(y) (1 - 2 / (exp(2|y|) + 1))``, absolute error about 1e-7 (meant where
  tanh enters as ``1 + t`` or ``1 - t^2``, as in gelu's tanh form);
- ``maxnum``: LLVM's ``maxnum`` (the larger of two floats, a NaN skipped), which a loop's max
  reduction vectorises with (Numba's ``max`` and comparisons stay scalar);
- ``wide_vectors()``: lets LLVM vectorise the function that calls it with the widest vectors
  (512-bit with AVX-512; on Intel CPUs LLVM otherwise prefers 256-bit ones);
- ``opaque``: a value the optimiser cannot look through (with reassociation allowed, LLVM
  folds ``x * (1 / t)`` back into ``x / t``, a division per element instead of a product).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

_F = np.float32
_EXP_HI, _EXP_LO = _F(88.72283), _F(-104.0)  # e^-104 < the least subnormal / 2
_LOG2E, _LN2_HI, _LN2_LO = _F(1.44269504088896341), _F(0.693359375), _F(-2.12194440e-4)
_P0, _P1, _P2 = _F(1.9875691500e-4), _F(1.3981999507e-3), _F(8.3334519073e-3)
_P3, _P4, _P5 = _F(4.1665795894e-2), _F(1.6666665459e-1), _F(5.0000001201e-1)
_ERF_P = _F(0.3275911)
_ERF_A1, _ERF_A2, _ERF_A3 = _F(0.254829592), _F(-0.284496736), _F(1.421413741)
_ERF_A4, _ERF_A5 = _F(-1.453152027), _F(1.061405429)
_HALF, _ONE, _TWO, _INF = _F(0.5), _F(1), _F(2), _F(np.inf)


@intrinsic
def _float32_from_bits(typingctx, bits):
    """The float32 whose bit pattern is the int32 ``bits``."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


@numba.njit(inline="always")
def exp32(x):
    """e^x in float32, vectorisable (subnormal results kept, NaN passed through)."""
    clamped = min(max(x, _EXP_LO), _EXP_HI)
    n = np.floor(clamped * _LOG2E + _HALF)
    r = clamped - n * _LN2_HI
    r = r - n * _LN2_LO
    p = ((((_P0 * r + _P1) * r + _P2) * r + _P3) * r + _P4) * r + _P5
    y = p * (r * r) + r + _ONE
    # 2^n as two factors, each a normal float32, so results down to the subnormals survive
    n_int = np.int32(n)
    half_n = n_int >> np.int32(1)
    y = y * _float32_from_bits((half_n + np.int32(127)) << np.int32(23))
    y = y * _float32_from_bits((n_int - half_n + np.int32(127)) << np.int32(23))
    y = y if x <= _EXP_HI else _INF  # overflow
    return y if x == x else x


@numba.njit(inline="always")
def erf32(x):
    """erf(x) in float32 by torch's vectorised formula."""
    return erf32_given_gauss(x, exp32(-(x * x)))


@numba.njit(inline="always")
def erf32_given_gauss(x, gauss):
    """erf(x) in float32 by torch's vectorised formula, ``gauss`` being e^(-x^2)."""
    a = abs(x)
    t = _ONE / (_ERF_P * a + _ONE)
    r = (((_ERF_A5 * t + _ERF_A4) * t + _ERF_A3) * t + _ERF_A2) * t + _ERF_A1
    value = _ONE - r * t * gauss
    return math.copysign(value, x)


@numba.njit(inline="always")
def erf_ignoring_gauss(x, gauss):
    """erf(x) by ``math.erf`` (``gauss``, e^(-x^2), not needed)."""
    return math.erf(x)


@numba.njit(inline="always")
def tanh32(y):
    """tanh(y) in float32, to an absolute error of about 1e-7."""
    value = _ONE - _TWO / (exp32(_TWO * abs(y)) + _ONE)
    return math.copysign(value, y)


@intrinsic
def maxnum(typingctx, a, b):
    """The larger of floats ``a`` and ``b`` (of one type), the other one where one is NaN."""
    if a != b or not isinstance(a, types.Float):
        return None

    def codegen(context, builder, signature, args):
        kind = args[0].type
        function = builder.module.declare_intrinsic("llvm.maxnum", [kind],
                                                    ir.FunctionType(kind, [kind, kind]))
        return builder.call(function, args)
    return a(a, b), codegen


@intrinsic
def opaque(typingctx, value):
    """``value`` itself, through an empty inline-assembly statement the optimiser cannot see
    through (a general register holds it for no instruction)."""
    if not isinstance(value, types.Float):
        return None

    def codegen(context, builder, signature, args):
        kind = args[0].type
        return builder.asm(ir.FunctionType(kind, [kind]), "", "=r,0", args, side_effect=False)
    return value(value), codegen


@intrinsic
def wide_vectors(typingctx):
    """Mark the function being compiled ``"prefer-vector-width"="512"`` (no code)."""
    def codegen(context, builder, signature, args):
        # a string attribute, which llvmlite's checked ``add`` does not know
        set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        return context.get_dummy_value()
    return types.none(), codegen
