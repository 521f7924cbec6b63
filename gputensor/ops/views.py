"""View ops: results share the input's storage and version counter (view, permute, ...)."""

from __future__ import annotations

import math

from ..autograd.function import Op
from .common import normalize_dim, normalize_dims, shape_arg

__all__ = ["reshape", "flatten", "permute", "transpose", "swapaxes", "swapdims", "squeeze",
           "unsqueeze"]  # the torch.* functions; the rest are Tensor methods only



def infer_shape(shape, numel):
    """Resolve one -1 in ``shape`` for ``numel`` elements; torch's errors otherwise."""
    infer_at, known = None, 1
    for i, d in enumerate(shape):
        if d == -1:
            if infer_at is not None:
                raise RuntimeError("only one dimension can be inferred")
            infer_at = i
        elif d >= 0:
            known *= d
        else:
            raise RuntimeError(f"invalid shape dimension {d} at index {i} of shape {list(shape)}")
    if numel == known or (infer_at is not None and known > 0 and numel % known == 0):
        if infer_at is None:
            return tuple(shape)
        if known == 0:
            raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {list(shape)} "
                               "because the unspecified dimension size -1 can be any value and "
                               "is ambiguous")
        return tuple(numel // known if d == -1 else d for d in shape)
    raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")


def view_strides(old_shape, old_strides, new_shape):
    """Strides (in elements) of ``new_shape`` over the same memory, or None (torch's rule)."""
    if not old_shape:
        return (1,) * len(new_shape)
    if math.prod(old_shape) == 0:
        if tuple(old_shape) == tuple(new_shape):
            return tuple(old_strides)
        strides, step = [], 1
        for n in reversed(new_shape):
            strides.append(step)
            step *= max(n, 1)
        return tuple(reversed(strides))
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    base_stride, tensor_numel, view_numel = old_strides[-1], 1, 1
    for d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[d]
        if d == 0 or (old_shape[d - 1] != 1 and old_strides[d - 1] != tensor_numel * base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_strides[view_d] = view_numel * base_stride
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if d > 0:
                base_stride, tensor_numel, view_numel = old_strides[d - 1], 1, 1
    return tuple(new_strides) if view_d == -1 else None


_VIEW_ERROR = ("view size is not compatible with input tensor's size and stride (at least one "
               "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")


class View(Op):
    """A view with a new shape over the same storage."""

    is_view = True

    @staticmethod
    def forward(ctx, x, shape, strides):
        ctx.in_shape = x.shape
        item = x.itemsize
        return ctx.xp.lib.stride_tricks.as_strided(x, shape, tuple(s * item for s in strides))

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None, None  # a view moves no values


class ReshapeAlias(View):
    """A reshape of a non-contiguous tensor that a view can express."""

    opname = "ReshapeAlias"


class UnsafeView(Op):
    """The reshape of a fresh contiguous copy (reshape where a view is impossible)."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None  # a reshape moves no values


class Contiguous(Op):
    """A row-major copy (torch records it as a clone)."""

    opname = "Clone"

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.ascontiguousarray(x)

    @staticmethod
    def backward(ctx, g):
        return g  # d copy = 1


def _strides(t):
    return tuple(s // t._data.itemsize for s in t._data.strides)


def view(input, *shape):  # noqa: A002
    """The same data seen with another shape (no copy; -1 infers one size)."""
    if len(shape) == 1 and hasattr(shape[0], "is_floating_point"):
        raise NotImplementedError("view(dtype) is not supported")
    shape = infer_shape(shape_arg(shape), input.numel())
    strides = view_strides(input.shape, _strides(input), shape)
    if strides is None:
        raise RuntimeError(_VIEW_ERROR)
    return View.apply(input, shape, strides)


def reshape(input, *shape):  # noqa: A002
    """The data with another shape: a view when the strides allow, else a copy."""
    shape = infer_shape(shape_arg(shape), input.numel())
    strides = view_strides(input.shape, _strides(input), shape)
    if strides is not None:
        op = View if input.is_contiguous() else ReshapeAlias
        return op.apply(input, shape, strides)
    return UnsafeView.apply(Contiguous.apply(input), shape)


def view_as(input, other):  # noqa: A002
    """``input.view(other.shape)``."""
    return view(input, other.shape)


def reshape_as(input, other):  # noqa: A002
    """``input.reshape(other.shape)``."""
    return reshape(input, other.shape)


def contiguous(input, memory_format=None):  # noqa: A002
    """``input`` itself when row-major contiguous, else a contiguous copy."""
    return input if input.is_contiguous() else Contiguous.apply(input)


def flatten(input, start_dim=0, end_dim=-1):  # noqa: A002
    """Merge dims ``start_dim..end_dim`` into one (a view when possible)."""
    start, end = normalize_dim(start_dim, input.ndim), normalize_dim(end_dim, input.ndim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if input.ndim == 0:
        return reshape(input, 1)
    if start == end:
        return input
    shape = input.shape
    return reshape(input, shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:])


class Expand(Op):
    """A broadcast view (stride 0 along expanded dims), writable like torch's."""

    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        lead = len(shape) - x.ndim
        strides = (0,) * lead + tuple(0 if n == 1 and m != 1 else s for n, m, s in
                                      zip(x.shape, shape[lead:], x.strides))
        return ctx.xp.lib.stride_tricks.as_strided(x, shape, strides)

    @staticmethod
    def backward(ctx, g):
        return g, None  # the base sums g back over the expanded dims


def has_internal_overlap(array) -> bool:
    """torch's test before writing: some dim of size > 1 has stride 0 (an expanded dim)."""
    return array.size > 1 and any(n > 1 and s == 0 for n, s in zip(array.shape, array.strides))


def expand_shape(in_shape, sizes, type_text):
    """The shape ``expand(*sizes)`` gives for ``in_shape``; torch's errors otherwise."""
    if len(sizes) < len(in_shape):
        raise RuntimeError(f"expand({type_text}{{{list(in_shape)}}}, size={list(sizes)}): the "
                           f"number of sizes provided ({len(sizes)}) must be greater or equal to "
                           f"the number of dimensions in the tensor ({len(in_shape)})")
    out = list(sizes)
    for i in range(len(sizes) - 1, -1, -1):
        dim = i - len(sizes) + len(in_shape)
        size = in_shape[dim] if dim >= 0 else 1
        target = sizes[i]
        if target == -1:
            if dim < 0:
                raise RuntimeError("The expanded size of the tensor (-1) isn't allowed in a "
                                   f"leading, non-existing dimension {i}")
            target = size
        if size != target and size != 1:
            raise RuntimeError(f"The expanded size of the tensor ({target}) must match the "
                               f"existing size ({size}) at non-singleton dimension {i}.  Target "
                               f"sizes: {list(sizes)}.  Tensor sizes: {list(in_shape)}")
        out[i] = target
    if any(n < 0 for n in out):
        raise RuntimeError("numel: integer multiplication overflow")
    return tuple(out)


def expand(input, *sizes):  # noqa: A002
    """A broadcast view with new sizes (-1 keeps a size; new dims go in front)."""
    shape = expand_shape(input.shape, shape_arg(sizes), input.type())
    return Expand.apply(input, shape)


def expand_as(input, other):  # noqa: A002
    """``input.expand(other.shape)``."""
    return expand(input, other.shape)


class Permute(Op):
    """Reorder the dims."""

    is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return ctx.xp.transpose(x, dims)

    @staticmethod
    def backward(ctx, g):
        inverse = sorted(range(len(ctx.dims)), key=ctx.dims.__getitem__)
        return ctx.xp.transpose(g, inverse), None  # undo the permutation


def permute(input, *dims):  # noqa: A002
    """A view with the dims reordered."""
    if not dims:
        raise TypeError('permute() missing 1 required positional arguments: "dims"')
    dims = shape_arg(dims)
    if len(dims) != input.ndim:
        raise RuntimeError("permute(sparse_coo): number of dimensions in the tensor input does "
                           "not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {input.ndim} is not equal to len(dims) = {len(dims)}")
    seen = set()
    for d in dims:
        d = normalize_dim(d, input.ndim)
        if d in seen:
            raise RuntimeError("permute(): duplicate dims are not allowed.")
        seen.add(d)
    return Permute.apply(input, tuple(normalize_dim(d, input.ndim) for d in dims))


class Transpose(Op):
    """Swap two dims."""

    is_view = True

    @staticmethod
    def forward(ctx, x, dim0, dim1):
        ctx.dims = dim0, dim1
        return ctx.xp.swapaxes(x, dim0, dim1) if x.ndim else x.view()

    @staticmethod
    def backward(ctx, g):
        return (ctx.xp.swapaxes(g, *ctx.dims) if g.ndim else g), None, None  # swap back


def transpose(input, dim0, dim1):  # noqa: A002
    """A view with dims ``dim0`` and ``dim1`` swapped."""
    return Transpose.apply(input, normalize_dim(dim0, input.ndim),
                           normalize_dim(dim1, input.ndim))


swapaxes = swapdims = transpose


class Squeeze(Op):
    """Drop dims of size 1: all (variant 0), one dim (1), or a tuple of dims (2)."""

    is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.in_shape = x.shape
        return ctx.xp.squeeze(x, axis=tuple(d for d in dims if d < x.ndim and x.shape[d] == 1))

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None  # put the size-1 dims back


class SqueezeDim(Squeeze):
    """Squeeze one dim."""

    opname, variant = "Squeeze", 1


class SqueezeDims(Squeeze):
    """Squeeze a tuple of dims."""

    opname, variant = "Squeeze", 2


def squeeze(input, dim=None):  # noqa: A002
    """A view without the size-1 dims (all, or only those in ``dim``)."""
    if dim is None:
        return Squeeze.apply(input, tuple(range(input.ndim)))
    if isinstance(dim, (tuple, list)):
        dims = normalize_dims(dim, input.ndim) if dim else ()
        return SqueezeDims.apply(input, dims)
    return SqueezeDim.apply(input, (normalize_dim(dim, input.ndim),))


class Unsqueeze(Op):
    """Insert a dim of size 1."""

    is_view = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.in_shape = x.shape
        return ctx.xp.expand_dims(x, dim)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None  # drop the inserted dim


def unsqueeze(input, dim):  # noqa: A002
    """A view with a new size-1 dim at ``dim``."""
    return Unsqueeze.apply(input, normalize_dim(dim, input.ndim + 1))


def _at(dim, item):
    """An index tuple applying ``item`` to dim ``dim`` (keeps 0-d results as arrays)."""
    return (slice(None),) * dim + (item, Ellipsis)


class Select(Op):
    """Take one position along a dim (the dim disappears)."""

    is_view = True

    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.in_shape, ctx.key = x.shape, _at(dim, index)
        return x[ctx.key]

    @staticmethod
    def backward(ctx, g):
        grad = ctx.xp.zeros(ctx.in_shape, dtype=g.dtype)
        grad[ctx.key] = g  # d select = scatter into zeros
        return grad, None, None


class Slice(Op):
    """Take ``start:stop:step`` along a dim."""

    is_view = True

    @staticmethod
    def forward(ctx, x, dim, start, stop, step):
        ctx.in_shape, ctx.key = x.shape, _at(dim, slice(start, stop, step))
        return x[ctx.key]

    @staticmethod
    def backward(ctx, g):
        grad = ctx.xp.zeros(ctx.in_shape, dtype=g.dtype)
        grad[ctx.key] = g  # d slice = scatter into zeros
        return grad, None, None, None, None


class Alias(Op):
    """The same tensor as a new view (``x[...]``)."""

    is_view = True

    @staticmethod
    def forward(ctx, x):
        return x.view()

    @staticmethod
    def backward(ctx, g):
        return g  # d alias = 1
