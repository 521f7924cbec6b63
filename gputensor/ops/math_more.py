"""More math: logspace, isin, inner, tensordot, cross products and distances (dist, cdist)."""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import dtypes
from .._tensor_core import TensorCore
from ..autograd.devices import check_same_device
from ..autograd.function import Op
from . import linalg, views
from .common import broadcast_shapes, normalize_dim, type_name
from .creation import _linspace_values, _np_dtype, _place, as_tensor_like
from .out import write_out

__all__ = ["cdist", "corrcoef", "cov", "cross", "dist", "inner", "isin", "logspace", "tensordot"]


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False, *,
             out=None):
    """``steps`` values from ``base ** start`` to ``base ** end``, evenly spaced in exponent."""
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    exponents = _linspace_values(start, end, steps, np.float64)
    values = np.power(float(base), exponents).astype(_np_dtype(dtype))
    return write_out("logspace", _place(values, device, requires_grad), out)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element of ``elements`` is among ``test_elements`` (bool, its shape)."""
    if not isinstance(elements, TensorCore):
        elements = as_tensor_like(elements, test_elements)
    if not isinstance(test_elements, TensorCore):
        test_elements = as_tensor_like(test_elements, elements)
    check_same_device(elements, test_elements)
    with elements._on_device():
        xp = elements._backend.xp
        found = (elements._data[..., None] == test_elements._data.reshape(-1)).any(axis=-1)
        return elements._wrap(xp.asarray(found != invert))


# ---- inner, tensordot ---------------------------------------------------------------------
def tensordot(a, b, dims=2, out=None):
    """Sum of products over ``dims`` (a count of a's last and b's first dims, or two lists)."""
    if isinstance(dims, TensorCore):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    if a.dtype != b.dtype:
        raise RuntimeError("both inputs should have same dtype")
    dims_a = [normalize_dim(d, a.ndim) for d in dims_a]
    dims_b = [normalize_dim(d, b.ndim) for d in dims_b]
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[da]} in dim {da} and second has size {b.shape[db]} in "
                               f"dim {db}")
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    size = math.prod(a.shape[d] for d in dims_a)
    left = views.reshape(views.permute(a, free_a + dims_a),
                         (math.prod(a.shape[d] for d in free_a), size))
    right = views.reshape(views.permute(b, dims_b + free_b),
                          (size, math.prod(b.shape[d] for d in free_b)))
    result_shape = [a.shape[d] for d in free_a] + [b.shape[d] for d in free_b]
    return write_out("tensordot", views.view(linalg.mm(left, right), result_shape), out)


def inner(input, other, *, out=None):  # noqa: A002
    """Sum of products over the last dims of both tensors (a product when one is 0-d)."""
    if input.ndim == 0 or other.ndim == 0:
        return write_out("inner", input * other, out)
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                           f"got shapes {list(input.shape)} and {list(other.shape)}")
    return write_out("inner", tensordot(input, other, ([-1], [-1])), out)


# ---- cross products -----------------------------------------------------------------------
def _cross_arrays(xp, a, b, axis):
    # c_i = a_(i+1) b_(i+2) - a_(i+2) b_(i+1), indices mod 3
    return (xp.roll(a, -1, axis) * xp.roll(b, -2, axis)
            - xp.roll(a, -2, axis) * xp.roll(b, -1, axis))


class LinalgCross(Op):
    """The cross product of 3-vectors along a dim."""

    @staticmethod
    def forward(ctx, a, b, axis, shape):
        xp = ctx.xp
        a, b = xp.broadcast_to(a, shape), xp.broadcast_to(b, shape)
        ctx.a, ctx.b, ctx.axis = a, b, axis
        return _cross_arrays(xp, a, b, axis)

    @staticmethod
    def backward(ctx, g):
        # d (a x b) / da . g = b x g; d / db . g = g x a
        xp, axis = ctx.xp, ctx.axis
        return (_cross_arrays(xp, ctx.b, g, axis), _cross_arrays(xp, g, ctx.a, axis),
                None, None)


def linalg_cross(input, other, *, dim=-1, out=None):  # noqa: A002
    """``linalg.cross``: the cross product of 3-vectors along ``dim`` (broadcast)."""
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    axis = normalize_dim(dim, input.ndim)
    if input.shape[axis] != 3 or other.shape[axis] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[axis]} and {other.shape[axis]}")
    shape = broadcast_shapes(input.shape, other.shape)
    dtype = dtypes.promote_types(input.dtype, other.dtype)
    a, b = input.to(dtype), other.to(dtype)
    return write_out("linalg_cross", LinalgCross.apply(a, b, axis, shape), out)


def cross(input, other, dim=None, *, out=None):  # noqa: A002
    """The cross product along ``dim`` (None: the first dim of size 3, with torch's warning)."""
    if dim is None:
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease "
                      "either pass the dim explicitly or simply use torch.linalg.cross.\nThe "
                      "default value of dim will change to agree with that of linalg.cross in "
                      "a future release.", UserWarning, stacklevel=2)
        shape = broadcast_shapes(input.shape, other.shape)
        dim = next((i for i, n in enumerate(shape) if n == 3), -1)
    return linalg_cross(input, other, dim=dim, out=out)


# ---- distances ----------------------------------------------------------------------------
def _p_norm(xp, d, p, axis):
    """The p-norm of ``d`` over ``axis`` (p = 0: the count of non-zeros; inf: the max)."""
    magnitude = xp.abs(d)
    if p == 0:
        return (magnitude != 0).sum(axis=axis).astype(d.dtype)
    if p == math.inf:
        return magnitude.max(axis=axis) if d.shape[axis] else xp.zeros(
            d.shape[:axis] + d.shape[axis + 1:], d.dtype)
    if p == 1:
        return magnitude.sum(axis=axis)
    if p == 2:
        return xp.sqrt((magnitude * magnitude).sum(axis=axis))
    return (magnitude ** p).sum(axis=axis) ** (1.0 / p)


def _p_norm_grad(xp, d, norm, p, axis):
    """d norm / d d: sign(d) |d|^(p-1) / norm^(p-1) (0 where norm is 0; p = inf: the max)."""
    norm = xp.expand_dims(norm, axis)
    if p == 0:
        return xp.zeros_like(d)
    if p == 1:
        return xp.sign(d)
    if p == math.inf:
        hit = xp.abs(d) == norm
        return xp.sign(d) * hit / xp.maximum(hit.sum(axis=axis, keepdims=True), 1)
    safe = xp.where(norm == 0, 1, norm)
    if p == 2:
        return xp.where(norm == 0, 0, d / safe)
    return xp.where(norm == 0, 0, xp.sign(d) * xp.abs(d) ** (p - 1) / safe ** (p - 1))


class Dist(Op):
    """The p-norm of ``a - b``."""

    @staticmethod
    def forward(ctx, a, b, p):
        xp = ctx.xp
        d = (a - b).reshape(-1)
        ctx.d, ctx.p, ctx.shapes = d, p, (a.shape, b.shape)
        ctx.out = xp.asarray(_p_norm(xp, d, p, 0)).astype(d.dtype)
        return ctx.out

    @staticmethod
    def backward(ctx, g):
        # d dist / da = d norm(a - b); d / db = its negation
        grad = (g * _p_norm_grad(ctx.xp, ctx.d, ctx.out, ctx.p, 0))
        shape = broadcast_shapes(*ctx.shapes)
        grad = grad.reshape(shape)
        return grad, -grad, None


def dist(input, other, p=2):  # noqa: A002
    """The p-norm of ``input - other`` (broadcast)."""
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"norm(): input dtype should be either floating point or complex. "
                           f"Got {type_name(input.dtype)} instead.")
    broadcast_shapes(input.shape, other.shape)
    return Dist.apply(input, other, float(p))


class Cdist(Op):
    """The p-norm distance between each row of x1 and each row of x2 (batched)."""

    @staticmethod
    def forward(ctx, x1, x2, p):
        xp = ctx.xp
        d = x1[..., :, None, :] - x2[..., None, :, :]  # (..., P, R, M)
        out = _p_norm(xp, d, p, -1)
        ctx.d, ctx.out, ctx.p, ctx.shapes = d, out, p, (x1.shape, x2.shape)
        return xp.asarray(out).astype(x1.dtype)

    @staticmethod
    def backward(ctx, g):
        # d cdist / dx1 = sum over x2's rows of d norm(x1 - x2); for x2 the negated sum
        xp = ctx.xp
        grad = g[..., None] * _p_norm_grad(xp, ctx.d, ctx.out, ctx.p, -1)
        return grad.sum(axis=-2), -grad.sum(axis=-3), None


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """Distances between the rows of ``x1`` and of ``x2`` (..., P, M) x (..., R, M) -> (P, R)."""
    for name, t in (("X1", x1), ("X2", x2)):
        if not t.dtype.is_floating_point:
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{type_name(t.dtype)}")
    for name, t in (("X1", x1), ("X2", x2)):
        if t.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: "
                               f"{t.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    return Cdist.apply(x1, x2, float(p))


# ---- covariance, correlation -------------------------------------------------------------------
def cov(input, *, correction=1, fweights=None, aweights=None):  # noqa: A002
    """The covariance matrix of the variables in the rows of ``input`` (observations in columns)."""
    if fweights is not None or aweights is not None:
        raise NotImplementedError("cov(): fweights and aweights are not supported by gputensor")
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {input.ndim} dimensions")
    x = views.view(input, (1, -1)) if input.ndim < 2 else input
    if not x.dtype.is_floating_point:
        x = x.to(dtypes.get_default_dtype())
    observations = x.shape[1]
    norm_factor = observations - correction
    if norm_factor <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the number of observations.", UserWarning, stacklevel=2)
        norm_factor = 0
    centered = x - views.unsqueeze(x.mean(1), 1)
    product = linalg.mm(centered, centered.t())
    return views.squeeze(product / norm_factor)


def corrcoef(input):  # noqa: A002
    """The Pearson correlation coefficients of the variables in the rows of ``input``."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    stddev = c.diagonal().sqrt()
    c = c / views.view(stddev, (-1, 1))
    c = c / views.view(stddev, (1, -1))
    return c.clip(-1, 1)
