"""Normalisation layers' ops: group_norm, instance_norm, local_response_norm."""

from __future__ import annotations

import math

from ..autograd.function import Op
from ..autograd.grad_mode import no_grad
from ..dtypes import is_float_array_dtype
from . import pointwise, shape, views
from .common import type_name
from .nn_ops import _mixed_dtype, _shape_text, batch_norm
from .reduce import acc_dtype

__all__ = ["group_norm"]  # (and torch.instance_norm, whose arguments differ from F's)


class NativeGroupNorm(Op):
    """Normalise each group of channels of each sample, then scale and shift per channel."""

    @staticmethod
    def forward(ctx, x, w, b, groups, eps):
        c = x.shape[1]
        ctx.shape, ctx.groups, ctx.eps = x.shape, groups, eps
        xhat, rstd = NativeGroupNorm.normalized(ctx, x)
        ctx.save_for_backward(xhat, rstd, w, x)
        out = xhat
        if w is not None:
            out = out * w.reshape(1, c, 1)
        if b is not None:
            out = out + b.reshape(1, c, 1)
        return out.astype(x.dtype, copy=False).reshape(x.shape)

    recomputed_when_lifted = (0, 1)  # xhat and rstd, from x

    @staticmethod
    def normalized(ctx, x):
        """(xhat as (n, c, -1), rstd per group), in float32 at least."""
        n, c = x.shape[0], x.shape[1]
        grouped = x.reshape(n, ctx.groups, -1).astype(acc_dtype(x.dtype), copy=False)
        centred = grouped - grouped.mean(axis=2, keepdims=True)
        rstd = 1 / ctx.xp.sqrt((centred * centred).mean(axis=2, keepdims=True) + ctx.eps)
        return (centred * rstd).reshape(n, c, -1), rstd

    @staticmethod
    def backward(ctx, g):
        # per group: dx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)), gh = g * weight;
        # d weight = sum(g * xhat), d bias = sum(g) per channel
        xhat, rstd, w, x = ctx.saved_tensors
        if ctx.backend.lifted:  # a backward that builds a graph: from x
            xhat, rstd = NativeGroupNorm.normalized(ctx, x)
        needs = ctx.needs_input_grad
        n, c = xhat.shape[0], xhat.shape[1]
        g3 = g.reshape(n, c, -1).astype(xhat.dtype, copy=False)
        grad_x = grad_w = grad_b = None
        if needs[0]:
            gh = g3 if w is None else g3 * w.reshape(1, c, 1)
            gh = gh.reshape(n, ctx.groups, -1)
            xg = xhat.reshape(n, ctx.groups, -1)
            grad_x = rstd * (gh - gh.mean(axis=2, keepdims=True)
                             - xg * (gh * xg).mean(axis=2, keepdims=True))
            grad_x = grad_x.reshape(ctx.shape)
        if w is not None and needs[1]:
            grad_w = (g3 * xhat).sum(axis=(0, 2))
        if needs[2]:
            grad_b = g3.sum(axis=(0, 2))
        return grad_x, grad_w, grad_b, None, None


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise groups of channels (dim 1) of each sample; per-channel weight and bias."""
    if input.ndim < 2:
        raise RuntimeError("Expected at least 2 dimensions for input tensor but received "
                           f"{input.ndim}")
    size = list(input.shape)
    stats_size = [size[0] * size[1] // num_groups, num_groups] + size[2:]
    if stats_size[0] * math.prod(size[2:]) == 1:
        raise ValueError("Expected more than 1 value per channel when training, got input size "
                         f"{stats_size}")
    channels = size[1]
    if channels % num_groups:
        raise RuntimeError("Expected number of channels in input to be divisible by num_groups, "
                           f"but got input of shape {_shape_text(size)} and "
                           f"num_groups={num_groups}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and (p.ndim != 1 or p.numel() != channels):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of "
                               f"channels in input, but got {name} of shape "
                               f"{_shape_text(p.shape)} and input of shape {_shape_text(size)}")
    dt = input._data.dtype
    if not is_float_array_dtype(dt):
        raise NotImplementedError(f"\"GroupNormKernelImpl\" not implemented for "
                                  f"'{type_name(dt)}'")
    _mixed_dtype(dt, [p._data for p in (weight, bias) if p is not None])
    return NativeGroupNorm.apply(input, weight, bias, int(num_groups), float(eps))


def _verify_spatial_size(size):
    if math.prod(size[2:]) == 1:
        raise ValueError("Expected more than 1 spatial element when training, got input size "
                         f"{size}")


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalise each channel of each sample (batch_norm over a (1, N*C, ...) view)."""
    if use_input_stats:
        _verify_spatial_size(input.shape)
    n, c = input.shape[0], input.shape[1]
    folded = views.reshape(input.contiguous(), (1, n * c) + tuple(input.shape[2:]))
    weight_rep = None if weight is None else shape.repeat(weight, n)
    bias_rep = None if bias is None else shape.repeat(bias, n)
    stats = []
    for running in (running_mean, running_var):
        stats.append(None if running is None else running._wrap(
            running._backend.xp.tile(running._data, n)))
    out = batch_norm(folded, stats[0], stats[1], weight_rep, bias_rep, use_input_stats,
                     momentum, eps)
    if use_input_stats:
        with no_grad():
            for running, repeated in zip((running_mean, running_var), stats):
                if running is not None:  # the mean over the samples of each channel's update
                    running._data[...] = repeated._data.reshape(n, c).mean(axis=0)
                    running._version.value += 1
    return views.view(out, tuple(input.shape))


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """x / (k + alpha * mean of x^2 over ``size`` neighbouring channels)^beta."""
    dim = input.ndim
    if dim < 3:
        raise ValueError("Expected 3D or higher dimensionality                          input "
                         f"(got {dim} dimensions)")
    if input.numel() == 0:
        return input
    squares = pointwise.mul(input, input)
    channels = input.shape[1]
    before, after = size // 2, (size - 1) // 2
    xp = input._backend.xp
    zeros_shape = list(squares.shape)
    parts = []
    if before:
        zeros_shape[1] = before
        parts.append(input._wrap(xp.zeros(tuple(zeros_shape), squares._data.dtype)))
    parts.append(squares)
    if after:
        zeros_shape[1] = after
        parts.append(input._wrap(xp.zeros(tuple(zeros_shape), squares._data.dtype)))
    padded = shape.cat(parts, 1) if len(parts) > 1 else squares
    total = None
    for offset in range(size):
        window = shape.narrow(padded, 1, offset, channels)
        total = window if total is None else pointwise.add(total, window)
    div = pointwise.div(total, size)
    div = pointwise.pow(pointwise.add(pointwise.mul(div, alpha), k), beta)
    return pointwise.div(input, div)


def torch_instance_norm(input, weight, bias, running_mean, running_var, use_input_stats,
                        momentum, eps, cudnn_enabled):
    """``torch.instance_norm``: F.instance_norm with torch's own argument order."""
    return instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                         momentum, eps)
