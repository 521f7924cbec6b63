"""Shape ops: view, reshape, permute, transpose, expand, squeeze, cat, stack, split, ..."""

from __future__ import annotations

import math

from ..autograd.function import Op
from ..tensor import Tensor
from .common import normalize_dim, shape_arg

TENSOR_METHODS = ("view", "reshape", "view_as", "reshape_as")


def _infer_shape(shape, numel):
    """Resolve one -1 in ``shape``; torch's errors for impossible shapes."""
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod(d for d in shape if d != -1)
    for d in shape:
        if d < -1:
            raise RuntimeError(f"invalid shape dimension {d}")
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if d == -1 else d for d in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


class View(Op):
    """A view with a new shape over the same storage."""

    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        out = x.view()
        try:
            out.shape = shape  # raises instead of copying when the strides do not allow it
        except AttributeError:
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one "
                "dimension spans across two contiguous subspaces). Use .reshape(...) "
                "instead.") from None
        return out

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None


class UnsafeView(Op):
    """A reshape that had to copy."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None


def view(input, *shape):  # noqa: A002
    """The same data seen with another shape (no copy; -1 infers one size)."""
    if len(shape) == 1 and hasattr(shape[0], "is_floating_point"):
        raise NotImplementedError("view(dtype) is not supported")
    shape = _infer_shape(shape_arg(shape), input.numel())
    return View.apply(input, shape)


def reshape(input, *shape):  # noqa: A002
    """The data with another shape: a view when possible, else a copy."""
    shape = _infer_shape(shape_arg(shape), input.numel())
    try:
        return View.apply(input, shape)
    except RuntimeError:
        return UnsafeView.apply(input, shape)


def view_as(input, other: Tensor):  # noqa: A002
    """``input.view(other.shape)``."""
    return view(input, other.shape)


def reshape_as(input, other: Tensor):  # noqa: A002
    """``input.reshape(other.shape)``."""
    return reshape(input, other.shape)


class Cat(Op):
    """Concatenate along one dim."""

    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        ctx.sizes = [x.shape[dim] for x in xs]
        return ctx.xp.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        bounds = xp.cumsum(xp.asarray(ctx.sizes))[:-1].tolist()
        return (None, *xp.split(g, bounds, axis=ctx.dim))


def cat(tensors, dim=0):
    """Join tensors along an existing dim."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    ref = next((t for t in tensors if t.ndim > 0), tensors[0])
    if ref.ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    dim = normalize_dim(dim, ref.ndim)
    for i, t in enumerate(tensors):
        if t.ndim != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} "
                               f"and {t.ndim}")
        for d in range(ref.ndim):
            if d != dim and t.shape[d] != ref.shape[d]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {dim}. "
                                   f"Expected size {ref.shape[d]} but got size {t.shape[d]} "
                                   f"for tensor number {i} in the list.")
    return Cat.apply(dim, *tensors)


concat = concatenate = cat
