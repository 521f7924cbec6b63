"""class TensorMoreOps: the later families of ops as Tensor methods, one visible table.

More elementwise math, more shapes, writes at positions, statistics, products and random
fills, each a direct reference to the function that implements it, as in ``Tensor``
(_tensor.py), which adds the rest of the ops on top.
"""

from __future__ import annotations

from ._tensor_base import TensorBase
from .ops import index_writes, math_more, math_ops, quantiles, random_fill, shape_more, stats

__all__ = ["TensorMoreOps"]


class TensorMoreOps(TensorBase):
    """TensorBase with the later op families as methods."""

    __slots__ = ()

    # ---- more elementwise math (ops/math_ops.py) ----------------------------------------
    square = math_ops.square
    tan = math_ops.tan
    sinh = math_ops.sinh
    cosh = math_ops.cosh
    asin = math_ops.asin
    arcsin = math_ops.arcsin
    acos = math_ops.acos
    arccos = math_ops.arccos
    atan = math_ops.atan
    arctan = math_ops.arctan
    asinh = math_ops.asinh
    arcsinh = math_ops.arcsinh
    acosh = math_ops.acosh
    arccosh = math_ops.arccosh
    atanh = math_ops.atanh
    arctanh = math_ops.arctanh
    log2 = math_ops.log2
    log10 = math_ops.log10
    exp2 = math_ops.exp2
    expm1 = math_ops.expm1
    trunc = math_ops.trunc
    fix = math_ops.fix
    frac = math_ops.frac
    sgn = math_ops.sgn
    signbit = math_ops.signbit
    deg2rad = math_ops.deg2rad
    rad2deg = math_ops.rad2deg
    isposinf = math_ops.isposinf
    isneginf = math_ops.isneginf
    isreal = math_ops.isreal
    atan2 = math_ops.atan2
    arctan2 = math_ops.arctan2
    fmod = math_ops.fmod
    hypot = math_ops.hypot
    copysign = math_ops.copysign
    logaddexp = math_ops.logaddexp
    logaddexp2 = math_ops.logaddexp2
    xlogy = math_ops.xlogy
    float_power = math_ops.float_power
    heaviside = math_ops.heaviside
    addcmul = math_ops.addcmul
    addcdiv = math_ops.addcdiv
    square_ = math_ops.square_
    tan_ = math_ops.tan_
    sinh_ = math_ops.sinh_
    cosh_ = math_ops.cosh_
    asin_ = math_ops.asin_
    arcsin_ = math_ops.arcsin_
    acos_ = math_ops.acos_
    arccos_ = math_ops.arccos_
    atan_ = math_ops.atan_
    arctan_ = math_ops.arctan_
    asinh_ = math_ops.asinh_
    arcsinh_ = math_ops.arcsinh_
    acosh_ = math_ops.acosh_
    arccosh_ = math_ops.arccosh_
    atanh_ = math_ops.atanh_
    arctanh_ = math_ops.arctanh_
    log2_ = math_ops.log2_
    log10_ = math_ops.log10_
    exp2_ = math_ops.exp2_
    expm1_ = math_ops.expm1_
    trunc_ = math_ops.trunc_
    fix_ = math_ops.fix_
    frac_ = math_ops.frac_
    sgn_ = math_ops.sgn_
    deg2rad_ = math_ops.deg2rad_
    rad2deg_ = math_ops.rad2deg_
    atan2_ = math_ops.atan2_
    arctan2_ = math_ops.arctan2_
    fmod_ = math_ops.fmod_
    hypot_ = math_ops.hypot_
    copysign_ = math_ops.copysign_
    xlogy_ = math_ops.xlogy_
    float_power_ = math_ops.float_power_
    heaviside_ = math_ops.heaviside_
    addcmul_ = math_ops.addcmul_
    addcdiv_ = math_ops.addcdiv_
    true_divide_ = math_ops.true_divide_
    # ---- more shapes, writes at positions, statistics, products, random fills
    # (ops/shape_more.py, index_writes.py, stats.py, quantiles.py, math_more.py, random_fill.py)
    broadcast_to = shape_more.broadcast_to
    ravel = shape_more.ravel
    tile = shape_more.tile
    rot90 = shape_more.rot90
    unfold = shape_more.unfold
    sum_to_size = shape_more.sum_to_size
    argwhere = shape_more.argwhere
    fill_diagonal_ = index_writes.fill_diagonal_
    masked_scatter = index_writes.masked_scatter
    masked_scatter_ = index_writes.masked_scatter_
    index_put = index_writes.index_put
    index_put_ = index_writes.index_put_
    put = index_writes.put
    put_ = index_writes.put_
    slice_scatter = index_writes.slice_scatter
    select_scatter = index_writes.select_scatter
    median = stats.median
    nanmedian = stats.nanmedian
    mode = stats.mode
    quantile = quantiles.quantile
    nanquantile = quantiles.nanquantile
    nansum = stats.nansum
    nanmean = stats.nanmean
    aminmax = stats.aminmax
    inner = math_more.inner
    cross = math_more.cross
    dist = math_more.dist
    cov = math_more.cov
    corrcoef = math_more.corrcoef
    normal_ = random_fill.normal_
    uniform_ = random_fill.uniform_
    bernoulli_ = random_fill.bernoulli_
    bernoulli = random_fill.bernoulli
    exponential_ = random_fill.exponential_
    random_ = random_fill.random_
    geometric_ = random_fill.geometric_
    log_normal_ = random_fill.log_normal_
    cauchy_ = random_fill.cauchy_
