"""Max and average pooling over 1 or 2 spatial dims: one strided slice per kernel offset
(forward: a running max or sum; backward: slice-adds), on any ``xp``."""

from __future__ import annotations

import numpy as np

from ..autograd.function import Op
from . import views
from .conv_geometry import window_slices

# torch's top-level names (nn.functional has them all)
__all__ = ["avg_pool1d", "max_pool1d", "max_pool1d_with_indices", "max_pool2d"]


def pool_out_size(size, kernel, pad, stride, dilation, ceil_mode):
    """torch's pooling_output_shape: windows that start past the padded input are dropped."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = span // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _frame_shape(shape, pads, out_size, kernel, stride, dilation):
    """The shape of the input in a frame wide enough for every window (ceil_mode's last one
    too)."""
    *lead, h, w = shape
    (ph, pw), (oh, ow) = pads, out_size
    hp = max(h + 2 * ph, (oh - 1) * stride[0] + (kernel[0] - 1) * dilation[0] + 1)
    wp = max(w + 2 * pw, (ow - 1) * stride[1] + (kernel[1] - 1) * dilation[1] + 1)
    return tuple(lead) + (hp, wp)


def _padded(xp, x, pads, out_size, kernel, stride, dilation, fill):
    """``x`` in a frame of ``fill`` wide enough for every window (ceil_mode's last one too)."""
    shape = _frame_shape(x.shape, pads, out_size, kernel, stride, dilation)
    (ph, pw), (h, w) = pads, x.shape[-2:]
    if shape == x.shape:
        return x  # every window lies inside: no frame, no copy
    out = xp.full(shape, fill, dtype=x.dtype)
    out[..., ph:ph + h, pw:pw + w] = x
    return out


def _offsets(kernel, dilation):
    kh, kw = kernel
    return [(i * kw + j, i * dilation[0], j * dilation[1]) for i in range(kh) for j in range(kw)]


def _all_inside(start, count, step, pad, size):
    """Whether rows ``start - pad + step * o`` (o < count) all fall inside the input."""
    return start - pad >= 0 and start - pad + step * (count - 1) < size


def _inside_mask(xp, start, count, step, pad, size):
    positions = xp.arange(count) * step + (start - pad)
    return (positions >= 0) & (positions < size)


class MaxPool2DWithIndices(Op):
    """The max over each window (first maximum; NaN wins) and its flat index in the plane."""

    @staticmethod
    def forward(ctx, x, kernel, stride, pads, dilation, out_size):
        ctx.non_differentiable = (1,)
        by_kernel = ctx.backend.max_pool_planes(x, kernel, stride, pads, dilation, out_size)
        if by_kernel is not None:
            best, indices, ctx.arg = by_kernel
            ctx.geometry = (_frame_shape(x.shape, pads, out_size, kernel, stride, dilation),
                            kernel, stride, pads, dilation, x.shape)
            return best, indices
        xp = ctx.xp
        floating = x.dtype.kind == "f"
        low = -np.inf if floating else np.iinfo(x.dtype).min
        padded = _padded(xp, x, pads, out_size, kernel, stride, dilation, low)
        (oh, ow), (h, w) = out_size, x.shape[-2:]
        best = arg = None
        started = False  # every window has seen an element of the input
        for k, di, dj in _offsets(kernel, dilation):
            rows, columns = window_slices(di, dj, oh, ow, stride)
            v = padded[..., rows, columns]
            rows_in = _all_inside(di, oh, stride[0], pads[0], h)
            cols_in = _all_inside(dj, ow, stride[1], pads[1], w)
            if best is None and rows_in and cols_in:
                best, arg = v.copy(), xp.zeros(v.shape, dtype=np.int32)
                started = True
                continue
            if best is None:
                best, arg = xp.full(v.shape, low, dtype=x.dtype), xp.full(v.shape, -1, np.int32)
            take = v > best
            if floating:
                take |= v != v  # NaN propagates (the last NaN's index, as torch)
            if not started:
                take |= arg < 0
            if not (rows_in and cols_in):
                take &= (_inside_mask(xp, di, oh, stride[0], pads[0], h)[:, None]
                         & _inside_mask(xp, dj, ow, stride[1], pads[1], w)[None, :])
            xp.copyto(best, v, where=take)
            xp.copyto(arg, k, where=take)
            started = started or (rows_in and cols_in)
        ctx.arg, ctx.geometry = arg, (padded.shape, kernel, stride, pads, dilation, x.shape)
        base = ((xp.arange(oh) * stride[0] - pads[0])[:, None] * w
                + (xp.arange(ow) * stride[1] - pads[1])[None, :])
        shifts = ctx.backend.asarray([di * w + dj for _, di, dj in _offsets(kernel, dilation)],
                                     dtype=np.int64)
        return best, xp.take(shifts, arg) + base

    @staticmethod
    def backward(ctx, g, _):
        # d max = the gradient routed to the window's chosen element
        xp, arg = ctx.xp, ctx.arg
        padded_shape, kernel, stride, pads, dilation, in_shape = ctx.geometry
        oh, ow = g.shape[-2:]
        full = xp.zeros(padded_shape, dtype=g.dtype)
        zero = xp.zeros((), dtype=g.dtype)
        for k, di, dj in _offsets(kernel, dilation):
            rows, columns = window_slices(di, dj, oh, ow, stride)
            full[..., rows, columns] += xp.where(arg == k, g, zero)
        (ph, pw), (h, w) = pads, in_shape[-2:]
        return xp.ascontiguousarray(full[..., ph:ph + h, pw:pw + w]), None, None, None, None, None


class AvgPool2D(Op):
    """The mean over each window, divided as torch divides (count_include_pad,
    divisor_override)."""

    @staticmethod
    def forward(ctx, x, kernel, stride, pads, out_size, count_include_pad, divisor_override):
        xp = ctx.xp
        padded = _padded(xp, x, pads, out_size, kernel, stride, (1, 1), 0)
        oh, ow = out_size
        total = None
        for _, di, dj in _offsets(kernel, (1, 1)):
            rows, columns = window_slices(di, dj, oh, ow, stride)
            v = padded[..., rows, columns]
            if total is None:
                total = v.copy()
            else:
                total += v
        divisor = ctx.backend.asarray(
            _divisors(x.shape[-2:], kernel, stride, pads, out_size, count_include_pad,
                      divisor_override), dtype=x.dtype)
        ctx.divisor, ctx.geometry = divisor, (padded.shape, kernel, stride, pads, x.shape)
        if x.dtype.kind != "f":
            return (total // divisor).astype(x.dtype)
        return total / divisor

    @staticmethod
    def backward(ctx, g):
        # d mean = g / divisor spread over the window
        xp = ctx.xp
        padded_shape, kernel, stride, pads, in_shape = ctx.geometry
        share = g / ctx.divisor
        oh, ow = g.shape[-2:]
        full = xp.zeros(padded_shape, dtype=g.dtype)
        for _, di, dj in _offsets(kernel, (1, 1)):
            rows, columns = window_slices(di, dj, oh, ow, stride)
            full[..., rows, columns] += share
        (ph, pw), (h, w) = pads, in_shape[-2:]
        return xp.ascontiguousarray(full[..., ph:ph + h, pw:pw + w]), None, None, None, None, \
            None, None


def _divisors(size, kernel, stride, pads, out_size, count_include_pad, divisor_override):
    """The (oh, ow) divisors of the window sums (host numbers)."""
    if divisor_override:
        return np.full(out_size, float(divisor_override))
    counts = []
    for n, k, s, p, o in zip(size, kernel, stride, pads, out_size):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)
        whole = end - start
        inside = np.minimum(end, n) - np.maximum(start, 0)
        counts.append(whole if count_include_pad else inside)
    return np.outer(counts[0], counts[1]).astype(np.float64)


# ---- functions ---------------------------------------------------------------------------
def _pair(name, value, fname):
    if isinstance(value, int):
        return (value, value)
    value = tuple(value)
    if len(value) == 1:
        return value * 2
    if len(value) != 2:
        raise RuntimeError(f"{fname}: {name} must either be a single int, or a tuple of two ints")
    return value


def _shape_list(shape):
    return "[" + ", ".join(str(n) for n in shape) + "]"


def _check_pool2d(x, kernel, pads, dilation, out_size):
    """torch's pool2d_shape_check."""
    if min(kernel) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kernel[0]} "
                           f"kW: {kernel[1]}")
    if min(dilation) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: "
                           f"{dilation[0]} dilationW: {dilation[1]}")
    if x.ndim not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    if any(n == 0 for n in x.shape[-3:]):
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size "
                           f"for input, but got:{_shape_list(x.shape)}")
    for k, p, d in zip(kernel, pads, dilation):
        if p > ((k - 1) * d + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p}, kernel_size={k} and dilation={d}")
    if min(out_size) < 1:
        c, h, w = x.shape[-3:]
        raise RuntimeError(f"Given input size: ({c}x{h}x{w}). Calculated output size: "
                           f"({c}x{out_size[0]}x{out_size[1]}). Output size is too small")


def _pool_settings(fname, x, kernel_size, stride, padding, dilation, ceil_mode):
    kernel = _pair("kernel_size", kernel_size, fname)
    stride = kernel if stride is None or stride == [] or stride == () else \
        _pair("stride", stride, fname)
    pads = _pair("padding", padding, fname)
    dilation = _pair("dilation", dilation, fname)
    if min(stride) == 0:
        raise RuntimeError("stride should not be zero")
    out_size = tuple(pool_out_size(n, k, p, s, d, ceil_mode) for n, k, p, s, d in
                     zip(x.shape[-2:], kernel, pads, stride, dilation))
    return kernel, stride, pads, dilation, out_size


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """The max over each window of (N, C, H, W) or (C, H, W) ``input``, and the indices of the
    maxima (flat in each H*W plane)."""
    kernel, stride, pads, dilation, out_size = _pool_settings(
        "max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode)
    _check_pool2d(input, kernel, pads, dilation, out_size)
    return MaxPool2DWithIndices.apply(input, kernel, stride, pads, dilation, out_size)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The max over each window of (N, C, H, W) or (C, H, W) ``input`` (and its indices when
    ``return_indices``)."""
    out, indices = max_pool2d_with_indices(input, kernel_size, stride, padding, dilation,
                                           ceil_mode)
    return (out, indices) if return_indices else out


def _one(value):
    return value if isinstance(value, int) else tuple(value)[0]


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    """The max over each window of (N, C, L) or (C, L) ``input``, and the maxima's indices."""
    if input.ndim not in (2, 3):
        raise RuntimeError("max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 "
                           f"dim batch size for input, but got:{_shape_list(input.shape)}")
    k, p = _one(kernel_size), _one(padding)
    s = k if stride is None or stride == [] or stride == () else _one(stride)
    d = _one(dilation)
    if k <= 0:
        raise RuntimeError(f"max_pool1d() kernel_size must be greater than zero, but got {k}")
    if s <= 0:
        raise RuntimeError(f"max_pool1d() stride must be greater than zero, but got {s}")
    if p < 0:
        raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {p}")
    if p > k // 2:
        raise RuntimeError(f"max_pool1d() padding should be at most half of kernel size, but got "
                           f"padding={p} and kernel_size={k}")
    if d <= 0:
        raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got {d}")
    out = pool_out_size(input.shape[-1], k, p, s, d, ceil_mode)
    if out < 1:
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {out}")
    values, indices = MaxPool2DWithIndices.apply(views.unsqueeze(input, -2), (1, k), (1, s),
                                                 (0, p), (1, d), (1, out))
    return views.squeeze(values, -2), views.squeeze(indices, -2)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The max over each window of (N, C, L) or (C, L) ``input`` (and its indices when
    ``return_indices``)."""
    out, indices = max_pool1d_with_indices(input, kernel_size, stride, padding, dilation,
                                           ceil_mode)
    return (out, indices) if return_indices else out


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """The mean over each window of (N, C, H, W) or (C, H, W) ``input``."""
    if input.ndim < 3:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-input.ndim}, "
                         f"{input.ndim - 1}], but got -3)")
    kernel, stride, pads, _, out_size = _pool_settings(
        "avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    _check_pool2d(input, kernel, pads, (1, 1), out_size)
    return AvgPool2D.apply(input, kernel, stride, pads, out_size, count_include_pad,
                           divisor_override)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """The mean over each window of (N, C, L) or (C, L) ``input``."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor "
                           "for argument #1 'self' (while checking arguments for avg_pool1d)")
    k, p = _one(kernel_size), _one(padding)
    s = k if stride is None or stride == [] or stride == () else _one(stride)
    out = avg_pool2d(views.unsqueeze(input, -2), (1, k), (1, s), (0, p), ceil_mode,
                     count_include_pad)
    return views.squeeze(out, -2)
