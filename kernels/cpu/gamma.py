"""torch's CPU gamma sampler (ATen's ``sample_gamma``) on a generator's mt19937 stream.

Marsaglia and Tsang's acceptance-rejection method, alpha < 1 boosted by u^(1/alpha), with
torch's draws: 53-bit uniforms and ``normal_distribution<double>`` (Box-Muller pairs, the
second value kept for the next draw). ``single`` repeats the float32 arithmetic torch does
on a float32 concentration (1/alpha, alpha + 1, alpha - 1/3).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .mt19937 import _JIT, _LOW53, _MASK53, _next64

_THIRD32 = np.float32(1.0) / np.float32(3.0)  # ATen's 1.0f / 3.0f
_SQUEEZE = float(np.float32(0.0331))  # ATen's 0.0331f


@numba.njit(inline="always", **_JIT)
def _uniform(mt, meta):
    return np.float64(_next64(mt, meta) & np.uint64(_MASK53)) * _LOW53


@numba.njit(inline="always", **_JIT)
def _normal(mt, meta, kept):
    """One ``normal_distribution<double>(0, 1)`` value; ``kept[0]`` the pair's kept half."""
    if not math.isnan(kept[0]):
        value = kept[0]
        kept[0] = math.nan
        return value
    u1 = _uniform(mt, meta)
    u2 = _uniform(mt, meta)
    radius = math.sqrt(-2.0 * math.log1p(-u2))
    theta = 2.0 * math.pi * u1
    kept[0] = radius * math.sin(theta)
    return radius * math.cos(theta)


@numba.njit(**_JIT)
def fill_gamma(mt, meta, kept, alphas, out, single):
    """out[i] = a Gamma(alphas[i], 1) draw, in order, as ATen's ``sample_gamma``."""
    for i in range(alphas.size):
        alpha = alphas[i]
        scale = 1.0
        if alpha < 1.0:
            if alpha == 0.0:
                out[i] = 0.0
                continue
            if single:
                exponent = np.float64(np.float32(1.0) / np.float32(alpha))
                alpha = np.float64(np.float32(alpha) + np.float32(1.0))
            else:
                exponent = 1.0 / alpha
                alpha = alpha + 1.0
            scale *= math.pow(1.0 - _uniform(mt, meta), exponent)
        if single:
            d = np.float64(np.float32(alpha) - _THIRD32)
        else:
            d = alpha - np.float64(_THIRD32)
        c = 1.0 / math.sqrt(9.0 * d)
        while True:
            x = _normal(mt, meta, kept)
            y = 1.0 + c * x
            while y <= 0.0:
                x = _normal(mt, meta, kept)
                y = 1.0 + c * x
            v = y * y * y
            u = 1.0 - _uniform(mt, meta)
            xx = x * x
            if u < 1.0 - _SQUEEZE * xx * xx:
                break
            if math.log(u) < 0.5 * xx + d * (1.0 - v + math.log(v)):
                break
        out[i] = scale * d * v
