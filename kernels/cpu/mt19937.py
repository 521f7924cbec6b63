"""torch's CPU random stream: the mt19937 engine and the transforms of its draws.

The engine state is torch's: ``mt`` (624 uint32 words) and ``meta`` = [left, next] (int64),
stepped exactly as ATen's ``at::mt19937`` (``left`` counts down to the next twist). Every
kernel takes ``(mt, meta, ...)`` and advances them in place, one 32-bit draw per
``random()``, two (high word first) per ``random64()``.

The float32 normal transform is ATen's ``normal_fill_16_AVX2``: Box-Muller over blocks of 16
(pairs j, j + 8) with avx_mathfun's Cephes ``log256_ps``/``sincos256_ps``, written with the
fused multiply-adds the compiled library uses, so the values agree bit for bit.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba.extending import intrinsic

__all__ = ["fill_raw32", "fill_uniform32", "fill_uniform64", "normal_fill32", "normal_fill64",
           "fill_normal_pairs", "fill_int_mod", "fill_randperm", "transform_exponential",
           "transform_geometric", "transform_cauchy", "transform_exp", "fill_poisson"]

_N = 624
_M = 397
_MATRIX_A = 0x9908B0DF
_UPPER = 0x80000000
_LOWER = 0x7FFFFFFF
_LOW24 = np.float32(2.0 ** -24)
_LOW53 = 2.0 ** -53
_MASK53 = (1 << 53) - 1


@intrinsic
def fma(typingctx, a, b, c):
    """a * b + c rounded once (the processor's fused multiply-add)."""
    def codegen(context, builder, signature, args):
        return builder.fma(*args)
    return a(a, b, c), codegen


@intrinsic
def _float32_bits(typingctx, x):
    """The bits of a float32 as an int32."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(numba.int32))
    return numba.int32(x), codegen


@intrinsic
def _bits_float32(typingctx, bits):
    """The float32 whose bits are the int32 ``bits``."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(numba.float32))
    return numba.float32(bits), codegen


_JIT = {"cache": True, "nogil": True}


@numba.njit(inline="always", **_JIT)
def _twist(mt):
    for i in range(_N):
        y = (np.int64(mt[i]) & _UPPER) | (np.int64(mt[(i + 1) % _N]) & _LOWER)
        value = np.int64(mt[(i + _M) % _N]) ^ (y >> 1)
        if y & 1:
            value ^= _MATRIX_A
        mt[i] = value


@numba.njit(inline="always", **_JIT)
def _next32(mt, meta):
    left = meta[0] - 1
    if left == 0:
        _twist(mt)
        meta[1] = 0
        left = _N
    meta[0] = left
    i = meta[1]
    meta[1] = i + 1
    y = np.int64(mt[i])
    y ^= y >> 11
    y ^= (y << 7) & 0x9D2C5680
    y ^= (y << 15) & 0xEFC60000
    y ^= y >> 18
    return y


@numba.njit(inline="always", **_JIT)
def _next64(mt, meta):
    high = np.uint64(_next32(mt, meta))
    low = np.uint64(_next32(mt, meta))
    return (high << np.uint64(32)) | low


@numba.njit(**_JIT)
def fill_raw32(mt, meta, out):
    """``out`` (int64) = the next 32-bit draws."""
    for i in range(out.size):
        out[i] = _next32(mt, meta)


@numba.njit(**_JIT)
def fill_uniform32(mt, meta, out, bits, low, high):
    """torch's ``uniform_real_distribution<float>``: (random() & (2^bits - 1)) * 2^-bits,
    scaled to [low, high) by one fused multiply-add."""
    mask = (1 << bits) - 1
    scale = np.float32(1.0 / (1 << bits))
    span = np.float32(np.float32(high) - np.float32(low))
    low32 = np.float32(low)
    for i in range(out.size):
        x = np.float32(_next32(mt, meta) & mask) * scale
        out[i] = fma(x, span, low32)


@numba.njit(**_JIT)
def fill_uniform64(mt, meta, out, low, high):
    """torch's ``uniform_real_distribution<double>``: 53 bits of ``random64()``."""
    span = high - low
    for i in range(out.size):
        x = np.float64(_next64(mt, meta) & np.uint64(_MASK53)) * _LOW53
        out[i] = fma(x, span, low)


_F = np.float32
_SQRTHF = _F(0.707106781186547524)
_LOG_P = (_F(7.0376836292e-2), _F(-1.1514610310e-1), _F(1.1676998740e-1),
          _F(-1.2420140846e-1), _F(1.4249322787e-1), _F(-1.6668057665e-1),
          _F(2.0000714765e-1), _F(-2.4999993993e-1), _F(3.3333331174e-1))
_LOG_Q1 = _F(-2.12194440e-4)
_LOG_Q2 = _F(0.693359375)
_FOPI = _F(1.27323954473516)
_DP1, _DP2, _DP3 = _F(-0.78515625), _F(-2.4187564849853515625e-4), _F(-3.77489497744594108e-8)
_COS_P = (_F(2.443315711809948e-5), _F(-1.388731625493765e-3), _F(4.166664568298827e-2))
_SIN_P = (_F(-1.9515295891e-4), _F(8.3321608736e-3), _F(-1.6666654611e-1))
_TWO_PI32 = _F(2.0 * math.pi)
_ONE32 = _F(1.0)
_HALF32 = _F(0.5)
_ZERO32 = _F(0.0)


@numba.njit(inline="always", **_JIT)
def _cephes_log(u):
    """avx_mathfun's ``log256_ps`` for one normal float32 in (0, 1], fused as compiled.

    Written without branches (selects), as the vector code is, so the loop vectorises."""
    bits = _float32_bits(u)
    e = np.float32((bits >> 23) - 0x7F) + _ONE32
    x = _bits_float32(np.int32((bits & ~0x7F800000) | 0x3F000000))  # the mantissa in [0.5, 1)
    below = x < _SQRTHF
    e = e - (_ONE32 if below else _ZERO32)
    x = (x - _ONE32) + (x if below else _ZERO32)
    z = x * x
    y = fma(_LOG_P[0], x, _LOG_P[1])
    y = fma(y, x, _LOG_P[2])
    y = fma(y, x, _LOG_P[3])
    y = fma(y, x, _LOG_P[4])
    y = fma(y, x, _LOG_P[5])
    y = fma(y, x, _LOG_P[6])
    y = fma(y, x, _LOG_P[7])
    y = fma(y, x, _LOG_P[8])
    y = y * x
    y = fma(y, z, e * _LOG_Q1)
    y = fma(z, -_HALF32, y)
    x = x + y
    return fma(e, _LOG_Q2, x)


@numba.njit(inline="always", **_JIT)
def _cephes_sincos(x):
    """avx_mathfun's ``sincos256_ps`` for one float32 x >= 0, fused as compiled."""
    j = (np.int32(x * _FOPI) + 1) & ~1
    y = np.float32(j)
    x = fma(y, _DP1, x)
    x = fma(y, _DP2, x)
    x = fma(y, _DP3, x)
    z = x * x
    yc = fma(_COS_P[0], z, _COS_P[1])
    yc = fma(yc, z, _COS_P[2])
    yc = yc * z
    yc = fma(yc, z, -(z * _HALF32))
    yc = yc + _ONE32
    ys = fma(_SIN_P[0], z, _SIN_P[1])
    ys = fma(ys, z, _SIN_P[2])
    ys = ys * z
    ys = fma(ys, x, x)
    sine_poly = (j & 2) == 0
    sin = ys if sine_poly else yc
    cos = yc if sine_poly else ys
    sin = -sin if (j & 4) != 0 else sin
    cos = -cos if (~(j - 2) & 4) != 0 else cos
    return sin, cos


@numba.njit(**_JIT)
def _normal_block32(data, start, mean, std):
    for j in range(start, start + 8):
        u1 = _ONE32 - data[j]
        log_u1 = _cephes_log(u1)
        radius = np.float32(math.sqrt(np.float64(_MINUS_TWO32 * log_u1)))
        sin, cos = _cephes_sincos(_TWO_PI32 * data[j + 8])
        data[j] = fma(radius * cos, std, mean)
        data[j + 8] = fma(radius * sin, std, mean)


@numba.njit(**_JIT)
def normal_fill32(mt, meta, data, mean, std):
    """torch's ``normal_fill`` for float32 (n >= 16): uniforms first, then Box-Muller over
    blocks of 16; a tail redraws and transforms the last 16."""
    n = data.size
    mean, std = np.float32(mean), np.float32(std)
    fill_uniform32(mt, meta, data, 24, 0.0, 1.0)
    for start in range(0, n - 15, 16):
        _normal_block32(data, start, mean, std)
    if n % 16:
        tail = data[n - 16:]
        fill_uniform32(mt, meta, tail, 24, 0.0, 1.0)
        _normal_block32(tail, 0, mean, std)


@numba.njit(**_JIT)
def _normal_block64(data, start, mean, std):
    for j in range(start, start + 8):
        u1 = 1.0 - data[j]
        radius = math.sqrt(-2.0 * math.log(u1))
        theta = _TWO_PI64 * data[j + 8]
        data[j] = fma(radius * math.cos(theta), std, mean)
        data[j + 8] = fma(radius * math.sin(theta), std, mean)


@numba.njit(**_JIT)
def normal_fill64(mt, meta, data, mean, std):
    """torch's ``normal_fill`` for float64 (n >= 16), libm's log/sin/cos."""
    n = data.size
    fill_uniform64(mt, meta, data, 0.0, 1.0)
    for start in range(0, n - 15, 16):
        _normal_block64(data, start, mean, std)
    if n % 16:
        tail = data[n - 16:]
        fill_uniform64(mt, meta, tail, 0.0, 1.0)
        _normal_block64(tail, 0, mean, std)
_MINUS_TWO32 = _F(-2.0)
_TWO_PI64 = 2.0 * math.pi


@numba.njit(**_JIT)
def fill_normal_pairs(mt, meta, out, cached, mean, std):
    """torch's ``normal_distribution<double>`` element by element: each pair of 53-bit
    uniforms (u1, u2) gives r cos(theta), and r sin(theta) is kept for the next element
    (r = sqrt(-2 log1p(-u2)), theta = 2 pi u1). ``cached``: the kept value from an earlier
    call, NaN for none. Returns the value kept for later (NaN for none)."""
    for i in range(out.size):
        if not math.isnan(cached):
            out[i] = fma(cached, std, mean)
            cached = math.nan
            continue
        u1 = np.float64(_next64(mt, meta) & np.uint64(_MASK53)) * _LOW53
        u2 = np.float64(_next64(mt, meta) & np.uint64(_MASK53)) * _LOW53
        radius = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        cached = radius * math.sin(theta)
        out[i] = fma(radius * math.cos(theta), std, mean)
    return cached


@numba.njit(**_JIT)
def fill_int_mod(mt, meta, out, span, base, wide):
    """torch's ``uniform_int_from_to``: (draw % span) + base, the draw ``random64()`` when
    ``wide`` else ``random()``; ``span`` 0 means 2^64 (the draw itself)."""
    span_u = np.uint64(span)
    for i in range(out.size):
        draw = _next64(mt, meta) if wide else np.uint64(_next32(mt, meta))
        if span_u != 0:
            draw = draw % span_u
        out[i] = np.int64(draw + np.uint64(base))


@numba.njit(**_JIT)
def fill_randperm(mt, meta, out):
    """torch's CPU ``randperm`` (n < 2^32 / 20): out = 0..n-1, then for i < n - 1 swap
    out[i] with out[i + random() % (n - i)]."""
    n = out.size
    for i in range(n):
        out[i] = i
    for i in range(n - 1):
        z = np.int64(_next32(mt, meta)) % (n - i)
        saved = out[i]
        out[i] = out[z + i]
        out[z + i] = saved


@numba.njit(**_JIT)
def transform_exponential(u, lambd):
    """-1 / lambd * log1p(-u) (ATen's CPU exponential transform), in place; returns u."""
    for i in range(u.size):
        u[i] = -1.0 / lambd * math.log1p(-u[i])
    return u


@numba.njit(**_JIT)
def transform_geometric(u, p):
    """ceil(log(u) / log1p(-p)), in place; returns u."""
    for i in range(u.size):
        u[i] = math.ceil(math.log(u[i]) / math.log1p(-p))
    return u


@numba.njit(**_JIT)
def transform_cauchy(u, median, sigma):
    """median + sigma * tan(pi * (u - 1/2)), in place; returns u."""
    for i in range(u.size):
        u[i] = median + sigma * math.tan(math.pi * (u[i] - 0.5))
    return u


@numba.njit(**_JIT)
def transform_exp(x):
    """exp(x), in place; returns x."""
    for i in range(x.size):
        x[i] = math.exp(x[i])
    return x


@numba.njit(inline="always", **_JIT)
def _uniform_double(mt, meta):
    return np.float64(_next64(mt, meta) & np.uint64(_MASK53)) * _LOW53


@numba.njit(**_JIT)
def fill_poisson(mt, meta, rates, out):
    """ATen's CPU ``sample_poisson`` for each rate (53-bit uniforms): Hormann's transformed
    rejection from rate 10 on, else the product of uniforms against exp(-rate)."""
    for i in range(rates.size):
        lam = rates[i]
        if lam >= 10:
            slam = math.sqrt(lam)
            loglam = math.log(lam)
            b = fma(2.53, slam, 0.931)
            a = fma(0.02483, b, -0.059)
            invalpha = 1.1239 + 1.1328 / (b - 3.4)
            vr = 0.9277 - 3.6224 / (b - 2)
            while True:
                u = _uniform_double(mt, meta) - 0.5
                v = _uniform_double(mt, meta)
                us = 0.5 - abs(u)
                k = math.floor(fma(2 * a / us + b, u, lam) + 0.43)
                if us >= 0.07 and v <= vr:
                    break
                if k < 0 or (us < 0.013 and v > us):
                    continue
                if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)
                        <= fma(np.float64(k), loglam, -lam) - math.lgamma(k + 1.0)):
                    break
            out[i] = k
        elif lam == 0:
            out[i] = 0
        else:
            enlam = math.exp(-lam)
            count = 0
            prod = 1.0
            while True:
                prod *= _uniform_double(mt, meta)
                if prod > enlam:
                    count += 1
                else:
                    break
            out[i] = count
