"""Resampling: interpolate (nearest, nearest-exact, linear, bilinear, trilinear), unfold and
fold (im2col, col2im), pixel_shuffle and pixel_unshuffle."""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..autograd.function import Op
from ..dtypes import is_float_array_dtype
from .common import type_name
from .padding import _named

__all__ = ["pixel_shuffle", "pixel_unshuffle"]

_SPATIAL = {1: ("W",), 2: ("H", "W"), 3: ("D", "H", "W")}
_LINEAR_MODES = {"linear": 1, "bilinear": 2, "trilinear": 3}
_MODE_LIST = ("nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
              "nearest-exact")
_UPSAMPLE_OPS = {}
for _rank in (1, 2, 3):
    _UPSAMPLE_OPS[("nearest", _rank)] = _named(f"UpsampleNearest{_rank}D")
    _UPSAMPLE_OPS[("nearest-exact", _rank)] = _named(f"UpsampleNearestExact{_rank}D")
_UPSAMPLE_OPS[("linear", 1)] = _named("UpsampleLinear1D")
_UPSAMPLE_OPS[("bilinear", 2)] = _named("UpsampleBilinear2D")
_UPSAMPLE_OPS[("trilinear", 3)] = _named("UpsampleTrilinear3D")


def _scale(in_size, out_size, scale, kind):
    """torch's compute_scales_value: 1/scale_factor when given, else in/out (in ``kind``)."""
    if scale is not None and scale > 0:
        return kind(1.0 / scale)
    return kind(in_size) / kind(out_size)


def _nearest_terms(in_size, out_size, scale, exact):
    dst = np.arange(out_size)
    if not exact and out_size == in_size:
        return ((dst, None),)
    if not exact and out_size == 2 * in_size:
        return ((dst >> 1, None),)
    step = _scale(in_size, out_size, scale, np.float32)
    offset = np.float32(0.5) if exact else np.float32(0)
    src = np.floor((dst.astype(np.float32) + offset) * step).astype(np.int64)
    return ((np.minimum(src, in_size - 1), None),)


def _linear_terms(in_size, out_size, scale, align_corners, kind):
    """Each output's two neighbours and their weights, as torch computes them."""
    dst = np.arange(out_size).astype(kind)
    if align_corners:
        step = kind(in_size - 1) / kind(out_size - 1) if out_size > 1 else kind(0)
        real = step * dst
    else:
        step = _scale(in_size, out_size, scale, kind)
        real = np.maximum(step * (dst + kind(0.5)) - kind(0.5), kind(0))
    low = np.minimum(np.floor(real).astype(np.int64), in_size - 1)
    upper_weight = np.clip(real - low.astype(kind), 0, 1).astype(kind)
    high = low + (low < in_size - 1)
    return ((low, (kind(1) - upper_weight).astype(kind)), (high, upper_weight))


def _output_sizes(input, size, scale_factor, recompute_scale_factor):
    """(output sizes, scale factors passed on or None per dim), checked as torch checks them."""
    dim = input.ndim - 2
    spatial = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError("Input and output must have the same number of spatial "
                                 f"dimensions, but got input with spatial dimensions of {spatial}"
                                 f" and output size of {size}. Please provide input tensor in "
                                 "(N, C, d1, d2, ...,dK) format and output size in (o1, o2, "
                                 "...,oK) format.")
            sizes = [int(s) for s in size]
        else:
            sizes = [int(size)] * dim
        scales = [None] * dim
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError("Input and scale_factor must have the same number of spatial "
                                 f"dimensions, but got input with spatial dimensions of {spatial}"
                                 f" and scale_factor of shape {scale_factor}. Please provide input"
                                 " tensor in (N, C, d1, d2, ...,dK) format and scale_factor in "
                                 "(s1, s2, ...,sK) format.")
            scales = [float(s) for s in scale_factor]
        else:
            scales = [float(scale_factor)] * dim
        sizes = [int(n * s) for n, s in zip(spatial, scales)]
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if recompute_scale_factor:
        sizes = [math.floor(float(n) * s) for n, s in zip(spatial, scales)]
        scales = [None] * dim
    return sizes, scales


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims (after N and C) by nearest or (bi/tri)linear interpolation."""
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    rank = input.ndim - 2
    sizes, scales = _output_sizes(input, size, scale_factor, recompute_scale_factor)
    if antialias:
        raise NotImplementedError("interpolate(antialias=True) is not supported")
    wanted = _LINEAR_MODES.get(mode)
    if mode in ("nearest", "nearest-exact") and rank in (1, 2, 3):
        wanted = rank
    if wanted is None or rank not in (1, 2, 3):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got "
                                  f"{input.ndim}D) for the modes: {_MODE_LIST} (got {mode})")
    if wanted != rank:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs "
                                  f"{wanted + 2}D input")
    spatial = input.shape[2:]
    if any(n <= 0 for n in spatial) or any(n <= 0 for n in sizes):
        names = _SPATIAL[rank]
        given = ", ".join(f"{k}: {n}" for k, n in zip(names, spatial))
        made = ", ".join(f"{k}: {n}" for k, n in zip(names, sizes))
        raise RuntimeError("Input and output sizes should be greater than 0, but got input "
                           f"({given}){' and' if rank == 1 else ''} output ({made})")
    dt = input._data.dtype
    if not is_float_array_dtype(dt):
        kernel = "nearest" if mode.startswith("nearest") else "linear"
        raise NotImplementedError(f"\"compute_indices_weights_{kernel}\" not implemented for "
                                  f"'{type_name(dt)}'")
    kind = np.float64 if dt == np.float64 else np.float32
    maps = []
    for k in reversed(range(rank)):  # the last dim first, as torch's kernels combine them
        n_in, n_out, scale = spatial[k], sizes[k], scales[k]
        if mode.startswith("nearest"):
            terms = _nearest_terms(n_in, n_out, scale, mode == "nearest-exact")
        else:
            terms = _linear_terms(n_in, n_out, scale, align_corners, kind)
        maps.append((k + 2, n_in, terms))
    return _UPSAMPLE_OPS[(mode, rank)].apply(input, tuple(maps))


# ---- unfold and fold -----------------------------------------------------------------------
def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _blocks(size, kernel, dilation, padding, stride):
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _window(geometry, ki, kj, blocks):
    """The slices of a padded image that kernel offset (ki, kj) reads for every block."""
    (dh, dw), (sh, sw) = geometry[1], geometry[3]
    return (slice(ki * dh, ki * dh + sh * (blocks[0] - 1) + 1, sh),
            slice(kj * dw, kj * dw + sw * (blocks[1] - 1) + 1, sw))


def _im2col(xp, x, geometry, blocks):
    """(N, C, H, W) -> (N, C * kh * kw, blocks): each block's patch as a column."""
    (kh, kw), _, (ph, pw), _ = geometry
    n, c = x.shape[:2]
    padded = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x
    patches = [padded[(slice(None), slice(None)) + _window(geometry, ki, kj, blocks)]
               for ki in range(kh) for kj in range(kw)]
    return xp.stack(patches, axis=2).reshape(n, c * kh * kw, blocks[0] * blocks[1])


def _col2im(xp, cols, geometry, out_size, blocks):
    """(N, C * kh * kw, blocks) -> (N, C, H, W): each column added back at its patch."""
    (kh, kw), _, (ph, pw), _ = geometry
    n = cols.shape[0]
    c = cols.shape[1] // (kh * kw)
    parts = cols.reshape(n, c, kh * kw, blocks[0], blocks[1])
    out = xp.zeros((n, c, out_size[0] + 2 * ph, out_size[1] + 2 * pw), dtype=cols.dtype)
    for ki in range(kh):
        for kj in range(kw):
            out[(slice(None), slice(None)) + _window(geometry, ki, kj, blocks)] += \
                parts[:, :, ki * kw + kj]
    return out[:, :, ph:ph + out_size[0], pw:pw + out_size[1]]


class Im2Col(Op):
    """Sliding local blocks of an image (batched or not), flattened into columns."""

    @staticmethod
    def forward(ctx, x, geometry, blocks):
        ctx.geometry, ctx.blocks, ctx.size = geometry, blocks, x.shape[-2:]
        ctx.unbatched = x.ndim == 3
        cols = _im2col(ctx.xp, x[None] if ctx.unbatched else x, geometry, blocks)
        return cols[0] if ctx.unbatched else cols

    @staticmethod
    def backward(ctx, g):
        # d im2col = col2im: each patch's gradient added back where it was read
        image = _col2im(ctx.xp, g[None] if ctx.unbatched else g, ctx.geometry, ctx.size,
                        ctx.blocks)
        return (image[0] if ctx.unbatched else image), None, None


class Col2Im(Op):
    """Columns of sliding blocks (batched or not) summed back into an image."""

    @staticmethod
    def forward(ctx, cols, geometry, out_size, blocks):
        ctx.geometry, ctx.blocks = geometry, blocks
        ctx.unbatched = cols.ndim == 2
        image = _col2im(ctx.xp, cols[None] if ctx.unbatched else cols, geometry, out_size,
                        blocks)
        return image[0] if ctx.unbatched else image

    @staticmethod
    def backward(ctx, g):
        # d col2im = im2col
        cols = _im2col(ctx.xp, g[None] if ctx.unbatched else g, ctx.geometry, ctx.blocks)
        return (cols[0] if ctx.unbatched else cols), None, None, None


def _geometry(kernel_size, dilation, padding, stride):
    geometry = tuple(_pair(v) for v in (kernel_size, dilation, padding, stride))
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = geometry
    if kh <= 0 or kw <= 0:
        raise RuntimeError("kernel size should be greater than zero, but got kernel_height: "
                           f"{kh} kernel_width: {kw}")
    if sh <= 0 or sw <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: {sh} "
                           f"stride_width: {sw}")
    if dh <= 0 or dw <= 0:
        raise RuntimeError("dilation should be greater than zero, but got dilation_height: "
                           f"{dh} dilation_width: {dw}")
    if ph < 0 or pw < 0:
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {ph} "
                           f"pad_width: {pw}")
    return geometry


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """(N, C, H, W) -> (N, C * prod(kernel_size), L): sliding local blocks as columns."""
    if input.ndim not in (3, 4):
        raise NotImplementedError(f"Input Error: Only 3D or 4D input Tensors are supported (got "
                                  f"{input.ndim}D)")
    geometry = _geometry(kernel_size, dilation, padding, stride)
    size = input.shape[-2:]
    blocks = tuple(_blocks(size[i], *(g[i] for g in geometry)) for i in range(2))
    if blocks[0] < 1 or blocks[1] < 1:
        k, d, p, _ = geometry
        raise RuntimeError(f"Given input with spatial size {tuple(size)}, kernel_size={k}, "
                           f"dilation={d}, padding={p}, calculated shape of the array of sliding "
                           f"blocks as {blocks}, but its components must be at least one.")
    dt = input._data.dtype
    if not is_float_array_dtype(dt):
        raise NotImplementedError(f"\"im2col_out_cpu\" not implemented for '{type_name(dt)}'")
    return Im2Col.apply(input, geometry, blocks)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """(N, C * prod(kernel_size), L) -> (N, C, *output_size): columns summed into an image."""
    if input.ndim not in (2, 3):
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor for input with possibly 0 "
                           "batch size and non-zero dimensions for input, but got: "
                           f"[{', '.join(str(n) for n in input.shape)}]")
    geometry = _geometry(kernel_size, dilation, padding, stride)
    out_size = _pair(output_size)
    (kh, kw) = geometry[0]
    channels, count = input.shape[-2:]
    if channels % (kh * kw):
        raise RuntimeError("Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={channels} and "
                           f"kernel_size={geometry[0]}.")
    blocks = tuple(_blocks(out_size[i], *(g[i] for g in geometry)) for i in range(2))
    if count != blocks[0] * blocks[1]:
        k, d, p, s = geometry
        raise RuntimeError(f"Given output_size={out_size}, kernel_size={k}, dilation={d}, "
                           f"padding={p}, stride={s}, expected size of input's dimension 2 to "
                           f"match the calculated number of sliding blocks {blocks[0]} * "
                           f"{blocks[1]} = {blocks[0] * blocks[1]}, but got input.size(2)="
                           f"{count}.")
    return Col2Im.apply(input, geometry, out_size, blocks)


# ---- pixel shuffle -------------------------------------------------------------------------
def _shuffle(xp, x, factor):
    """(*, C r^2, H, W) -> (*, C, H r, W r)."""
    lead, (c, h, w) = x.shape[:-3], x.shape[-3:]
    oc = c // (factor * factor)
    k = len(lead)
    y = x.reshape(lead + (oc, factor, factor, h, w))
    y = y.transpose(tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
    return y.reshape(lead + (oc, h * factor, w * factor))


def _unshuffle(xp, x, factor):
    """(*, C, H r, W r) -> (*, C r^2, H, W)."""
    lead, (c, h, w) = x.shape[:-3], x.shape[-3:]
    oh, ow = h // factor, w // factor
    k = len(lead)
    y = x.reshape(lead + (c, oh, factor, ow, factor))
    y = y.transpose(tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))
    return y.reshape(lead + (c * factor * factor, oh, ow))


class PixelShuffle(Op):
    """Channels moved into space: (*, C r^2, H, W) -> (*, C, H r, W r)."""

    @staticmethod
    def forward(ctx, x, factor):
        ctx.factor = factor
        return _shuffle(ctx.xp, x, factor)

    @staticmethod
    def backward(ctx, g):
        return _unshuffle(ctx.xp, g, ctx.factor), None  # d shuffle = unshuffle


class PixelUnshuffle(Op):
    """Space moved into channels: (*, C, H r, W r) -> (*, C r^2, H, W)."""

    @staticmethod
    def forward(ctx, x, factor):
        ctx.factor = factor
        return _unshuffle(ctx.xp, x, factor)

    @staticmethod
    def backward(ctx, g):
        return _shuffle(ctx.xp, g, ctx.factor), None  # d unshuffle = shuffle


def _check_factor(name, what, factor, ndim):
    if not isinstance(factor, numbers.Integral) or isinstance(factor, bool):
        raise TypeError(f"{name}(): argument '{what}' (position 2) must be int, not "
                        f"{type(factor).__name__}")
    if factor <= 0:
        raise RuntimeError(f"{name} expects a positive {what}, but got {factor}")
    if ndim < 3:
        raise RuntimeError(f"{name} expects input to have at least 3 dimensions, but got input "
                           f"with {ndim} dimension(s)")


def pixel_shuffle(input, upscale_factor):
    """Rearrange (*, C r^2, H, W) into (*, C, H r, W r)."""
    _check_factor("pixel_shuffle", "upscale_factor", upscale_factor, input.ndim)
    c = input.shape[-3]
    if c % (upscale_factor * upscale_factor):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be divisible "
                           f"by the square of upscale_factor, but input.size(-3)={c} is not "
                           f"divisible by {upscale_factor * upscale_factor}")
    return PixelShuffle.apply(input, int(upscale_factor))


def pixel_unshuffle(input, downscale_factor):
    """Rearrange (*, C, H r, W r) into (*, C r^2, H, W)."""
    _check_factor("pixel_unshuffle", "downscale_factor", downscale_factor, input.ndim)
    for name, k in (("height", -2), ("width", -1)):
        if input.shape[k] % downscale_factor:
            raise RuntimeError(f"pixel_unshuffle expects {name} to be divisible by "
                               f"downscale_factor, but input.size({k})={input.shape[k]} is not "
                               f"divisible by {downscale_factor}")
    return PixelUnshuffle.apply(input, int(downscale_factor))
