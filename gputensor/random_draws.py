"""torch's CPU draws from a ``Generator``, as host NumPy arrays in the order torch fills them.

Each function takes the generator, the number of values and their dtype, and returns a flat
array of values in torch's fill order (the caller places them: see ``fill_order``). The
transforms are ATen's (``DistributionsHelper.h``, ``TransformationHelper.h``,
``cpu/DistributionTemplates.h``):

- uniform float32 (and float16/bfloat16, rounded; ``to`` becomes ``from``):
  (random() & (2^24 - 1)) * 2^-24;
  float64: 53 bits of random64() (two draws, the first the high word).
- normal of 16 or more values into a contiguous tensor: uniforms first, then Box-Muller over
  blocks of 16 (a tail redraws the last 16); otherwise ``normal_distribution<double>`` value
  by value, its second sample kept in the generator for the next call. The float32 blocks
  are avx_mathfun's Cephes log/sincos with the compiled library's fused multiply-adds
  (kernels/cpu/mt19937.py): libm in float64 then rounded would differ in about 2 values of
  3, float32 NumPy in about 1 of 7; this way none differed in 93M values checked.
- integers in [base, base + span): draw % span, the draw random64() when span >= 2^28
  (found by experiment against torch 2.13, for every dtype), else random().

float16 and bfloat16 normals of 16 or more contiguous values are float32 blocks rounded,
each block's 16 uniforms drawn just before it is transformed (the tail block included).
"""

from __future__ import annotations

import numpy as np

from . import dtypes
from .random import Generator, stream_kernels

__all__ = ["uniform", "normal", "integers", "integers_from", "random_bits", "randperm", "raw32",
           "exponential", "geometric", "cauchy", "log_normal", "poisson", "fill_order", "place"]

# random_() without bounds: the integers [0, 2^bits] of a float dtype, [0, max] of an int one
_RANDOM_FLOAT_BITS = {dtypes.float16: 11, dtypes.bfloat16: 8, dtypes.float32: 24,
                      dtypes.float64: 53}
_WIDE_SPAN = 2 ** 28  # spans from here on take a 64-bit draw


def _engine(gen: Generator):
    return stream_kernels(), gen.mt, gen.meta


def raw32(gen: Generator, n: int) -> np.ndarray:
    """The next ``n`` 32-bit draws (int64)."""
    kernels, mt, meta = _engine(gen)
    out = np.empty(n, dtype=np.int64)
    kernels.fill_raw32(mt, meta, out)
    return out


def uniform(gen: Generator, n: int, dtype, low=0.0, high=1.0) -> np.ndarray:
    """``uniform_real_distribution`` values in [low, high) of ``dtype`` (float64 for float64,
    else float32 values rounded to ``dtype``; a value that rounds to ``high`` is ``low``, as
    torch keeps the interval open)."""
    kernels, mt, meta = _engine(gen)
    if dtype == dtypes.float64:
        out = np.empty(n, dtype=np.float64)
        kernels.fill_uniform64(mt, meta, out, float(low), float(high))
        return out
    out = np.empty(n, dtype=np.float32)
    kernels.fill_uniform32(mt, meta, out, 24, float(low), float(high))
    if dtype in (dtypes.float16, dtypes.bfloat16):
        out = out.astype(dtype.numpy)
        out[out == dtype.numpy.type(high)] = dtype.numpy.type(low)
    return out


def uniform_double(gen: Generator, n: int) -> np.ndarray:
    """``n`` 53-bit uniforms in [0, 1) (``uniform_real_distribution<double>``)."""
    return uniform(gen, n, dtypes.float64)


def normal(gen: Generator, n: int, dtype, mean=0.0, std=1.0, contiguous=True) -> np.ndarray:
    """``normal_`` values: the blocks of 16 for a contiguous fill of >= 16 values, else the
    value-by-value Box-Muller with the generator's kept sample."""
    kernels, mt, meta = _engine(gen)
    if n >= 16 and contiguous:
        if dtype == dtypes.float64:
            out = np.empty(n, dtype=np.float64)
            kernels.normal_fill64(mt, meta, out, float(mean), float(std))
        elif dtype in (dtypes.float16, dtypes.bfloat16):
            full = n // 16 * 16
            blocks = np.empty(-(-n // 16) * 16, dtype=np.float32)
            kernels.normal_fill32(mt, meta, blocks, float(mean), float(std))
            out = np.empty(n, dtype=np.float32)
            out[:full] = blocks[:full]
            if full < n:  # the tail block: the last 16 values
                out[n - 16:] = blocks[full:]
        else:
            out = np.empty(n, dtype=np.float32)
            kernels.normal_fill32(mt, meta, out, float(mean), float(std))
        return out
    out = np.empty(n, dtype=np.float64)
    gen.next_double_normal = kernels.fill_normal_pairs(mt, meta, out, gen.next_double_normal,
                                                       float(mean), float(std))
    return out


def integers(gen: Generator, n: int, low: int, high: int, dtype) -> np.ndarray:
    """``random_(low, high)``: (draw % (high - low)) + low, as int64."""
    kernels, mt, meta = _engine(gen)
    span = high - low
    wide = span >= _WIDE_SPAN
    out = np.empty(n, dtype=np.int64)
    kernels.fill_int_mod(mt, meta, out, np.uint64(span % 2 ** 64), np.uint64(low % 2 ** 64),
                         wide)
    return out


def integers_from(gen: Generator, n: int, low: int, dtype) -> np.ndarray:
    """``random_(low, None)``: [low, the largest integer ``dtype`` holds exactly]; from the
    int64 minimum, every int64 (the 64-bit draw itself)."""
    if dtype == dtypes.bool:
        top = 1
    elif dtype in _RANDOM_FLOAT_BITS:
        top = 2 ** _RANDOM_FLOAT_BITS[dtype]
    else:
        top = int(np.iinfo(dtype.numpy).max)
    if top - low + 1 == 2 ** 64:
        kernels, mt, meta = _engine(gen)
        out = np.empty(n, dtype=np.int64)
        kernels.fill_int_mod(mt, meta, out, np.uint64(0), np.uint64(0), True)
        return out
    return integers(gen, n, low, top + 1, dtype)


def random_bits(gen: Generator, n: int, dtype) -> np.ndarray:
    """``random_()`` without bounds: torch's ``uniform_int`` for the dtype, as int64."""
    kernels, mt, meta = _engine(gen)
    out = np.empty(n, dtype=np.int64)
    if dtype == dtypes.bool:
        span, wide = 2, False
    elif dtype in _RANDOM_FLOAT_BITS:
        span, wide = 2 ** _RANDOM_FLOAT_BITS[dtype] + 1, dtype == dtypes.float64
    else:
        span, wide = int(np.iinfo(dtype.numpy).max) + 1, dtype == dtypes.int64
    kernels.fill_int_mod(mt, meta, out, np.uint64(span), np.uint64(0), wide)
    return out


def randperm(gen: Generator, n: int) -> np.ndarray:
    """torch's CPU ``randperm(n)`` (int64): a Fisher-Yates shuffle by random() % (n - i)."""
    if n >= (2 ** 32 - 1) // 20:
        raise NotImplementedError("randperm of 2^32 / 20 or more elements is not supported")
    kernels, mt, meta = _engine(gen)
    out = np.empty(n, dtype=np.int64)
    kernels.fill_randperm(mt, meta, out)
    return out


def exponential(gen: Generator, n: int, lambd: float) -> np.ndarray:
    """-1 / lambd * log1p(-u), u a 53-bit uniform (float64)."""
    return stream_kernels().transform_exponential(uniform_double(gen, n), float(lambd))


def geometric(gen: Generator, n: int, p: float) -> np.ndarray:
    """ceil(log(u) / log1p(-p)) (float64)."""
    return stream_kernels().transform_geometric(uniform_double(gen, n), float(p))


def cauchy(gen: Generator, n: int, median: float, sigma: float) -> np.ndarray:
    """median + sigma * tan(pi * (u - 1/2)) (float64)."""
    return stream_kernels().transform_cauchy(uniform_double(gen, n), float(median),
                                             float(sigma))


def poisson(gen: Generator, rates: np.ndarray) -> np.ndarray:
    """ATen's CPU ``sample_poisson`` for each of the float64 ``rates``, in order."""
    kernels, mt, meta = _engine(gen)
    out = np.empty(rates.size, dtype=np.float64)
    kernels.fill_poisson(mt, meta, rates, out)
    return out


def log_normal(gen: Generator, n: int, mean: float, std: float) -> np.ndarray:
    """exp of ``normal_distribution<double>(mean, std)`` values (float64)."""
    values = normal(gen, n, dtypes.float64, mean, std, contiguous=False)
    return stream_kernels().transform_exp(values)


def fill_order(strides) -> list:
    """The axes of a tensor in the order torch's serial fill walks them, outermost first:
    by decreasing stride (memory order; C order for a contiguous tensor)."""
    return sorted(range(len(strides)), key=lambda axis: -strides[axis])


def place(values: np.ndarray, shape, strides) -> np.ndarray:
    """The flat ``values`` (in fill order) as an array of ``shape`` laid out like a tensor
    with ``strides``."""
    axes = fill_order(strides)
    walked = values.reshape([shape[a] for a in axes])
    return walked.transpose(np.argsort(axes))
