"""Shape ops: the views (re-exported from views.py) plus cat, stack, split, chunk, repeat, ..."""

from __future__ import annotations

import warnings

from .. import dtypes
from .._tensor_core import TensorCore
from ..autograd.function import Op
from . import views
from .common import normalize_dim, shape_arg
from .out import write_out
from .views import *  # noqa: F401,F403
from .views import Permute, Select, Slice, infer_shape, transpose, view

_OWN = ["cat", "concat", "concatenate", "stack", "split", "chunk", "unbind", "select", "narrow",
        "movedim", "moveaxis", "adjoint", "t", "unflatten"]
__all__ = views.__all__ + _OWN


def _promoted(tensors):
    """The common dtype of ``tensors`` (torch.promote_types over all of them)."""
    result = tensors[0].dtype
    for t in tensors[1:]:
        result = dtypes.promote_types(result, t.dtype)
    return result.numpy


def _check_tensor_list(tensors, name, arg="tensors"):
    if isinstance(tensors, TensorCore) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument '{arg}' (position 1) must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    return list(tensors)


class Cat(Op):
    """Concatenate along one dim (1-D empty inputs are skipped, as in torch)."""

    @staticmethod
    def forward(ctx, dim, dtype, skip, *xs):
        ctx.dim, ctx.skip = dim, skip
        ctx.sizes = [x.shape[dim] for x, s in zip(xs, skip) if not s]
        kept = [x.astype(dtype, copy=False) for x, s in zip(xs, skip) if not s]
        if not kept:
            return ctx.xp.zeros((0,), dtype=dtype)
        return ctx.xp.concatenate(kept, axis=dim)

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        bounds, total = [], 0
        for n in ctx.sizes[:-1]:
            total += n
            bounds.append(total)
        parts = iter(xp.split(g, bounds, axis=ctx.dim))
        # d cat = the matching slice of g
        return (None, None, None, *[xp.zeros((0,), g.dtype) if s else next(parts)
                                    for s in ctx.skip])


def cat(tensors, dim=0, *, out=None):
    """Join tensors along an existing dim."""
    if out is not None:
        return write_out("cat", cat(tensors, dim), out)
    tensors = _check_tensor_list(tensors, "cat")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be "
                               "concatenated")
    skip = tuple(t.shape == (0,) for t in tensors)
    ref = next((t for t, s in zip(tensors, skip) if not s), tensors[0])
    dim = normalize_dim(dim, ref.ndim)
    for i, t in enumerate(tensors):
        if skip[i]:
            continue
        if t.ndim != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} "
                               f"and {t.ndim}")
        for d in range(ref.ndim):
            if d != dim and t.shape[d] != ref.shape[d]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {dim}. "
                                   f"Expected size {ref.shape[d]} but got size {t.shape[d]} "
                                   f"for tensor number {i} in the list.")
    return Cat.apply(dim, _promoted(tensors), skip, *tensors)


concat = concatenate = cat


class Stack(Op):
    """Join tensors along a new dim."""

    @staticmethod
    def forward(ctx, dim, dtype, *xs):
        ctx.dim, ctx.count = dim, len(xs)
        return ctx.xp.stack([x.astype(dtype, copy=False) for x in xs], axis=dim)

    @staticmethod
    def backward(ctx, g):
        key = (slice(None),) * ctx.dim
        # d stack = the matching slice of g
        return (None, None, *[g[key + (i, Ellipsis)] for i in range(ctx.count)])


def stack(tensors, dim=0, *, out=None):
    """Join same-shaped tensors along a new dim."""
    if out is not None:
        return write_out("stack", stack(tensors, dim), out)
    tensors = _check_tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    dim = normalize_dim(dim, tensors[0].ndim + 1)
    first = tensors[0].shape
    for i, t in enumerate(tensors[1:], 1):
        if t.shape != first:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(first)} at entry 0 and {list(t.shape)} at entry {i}")
    return Stack.apply(dim, _promoted(tensors), *tensors)


class SplitWithSizes(Op):
    """Views of consecutive pieces of given sizes along a dim."""

    is_view = True

    @staticmethod
    def forward(ctx, x, dim, sizes):
        ctx.dim = dim
        pieces, start = [], 0
        for n in sizes:
            pieces.append(x[(slice(None),) * dim + (slice(start, start + n),)])
            start += n
        return tuple(pieces)

    @staticmethod
    def backward(ctx, *grads):
        return ctx.xp.concatenate(grads, axis=ctx.dim), None, None  # d split = concat


class Split(SplitWithSizes):
    """Views of equal pieces (the last may be shorter) along a dim."""

    opname = "Split"


def split(tensor, split_size_or_sections, dim=0):
    """Split into pieces of one size (the last may be smaller) or of the listed sizes."""
    if tensor.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    sizes = split_size_or_sections
    if isinstance(sizes, (list, tuple)):
        sizes = shape_arg((sizes,))
        dim_size = tensor.shape[normalize_dim(dim, tensor.ndim)]
        if any(n < 0 for n in sizes):
            raise RuntimeError("split_with_sizes expects split_sizes have only non-negative "
                               f"entries, but got split_sizes={list(sizes)}")
        if sum(sizes) != dim_size:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to "
                               f"{dim_size} (input tensor's size at dimension {dim}), but got "
                               f"split_sizes={list(sizes)}")
        return SplitWithSizes.apply(tensor, normalize_dim(dim, tensor.ndim), sizes)
    size = int(sizes)
    if size < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={size}")
    dim = normalize_dim(dim, tensor.ndim)
    dim_size = tensor.shape[dim]
    if size == 0 and dim_size != 0:
        raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension "
                           f"size of {dim_size}")
    count = max(-(-dim_size // size), 1) if size else 1
    sizes = (size,) * (count - 1) + (dim_size - size * (count - 1),)
    return Split.apply(tensor, dim, sizes)


def chunk(input, chunks, dim=0):  # noqa: A002
    """Split into ``chunks`` pieces of equal size (the last may be smaller, or fewer pieces)."""
    if input.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    dim = normalize_dim(dim, input.ndim)
    dim_size = input.shape[dim]
    size = -(-dim_size // chunks)
    if size == 0 and dim_size == 0:
        return SplitWithSizes.apply(input, dim, (0,) * chunks)
    return split(input, size, dim)


class Unbind(Op):
    """Views of every position along a dim (the dim disappears)."""

    is_view = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        key = (slice(None),) * dim
        return tuple(x[key + (i, Ellipsis)] for i in range(x.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return ctx.xp.stack(grads, axis=ctx.dim), None  # d unbind = stack


def unbind(input, dim=0):  # noqa: A002
    """A tuple of views, one per position along ``dim``."""
    if input.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return Unbind.apply(input, normalize_dim(dim, input.ndim))


class Repeat(Op):
    """Tile the tensor ``repeats[i]`` times along each dim."""

    @staticmethod
    def forward(ctx, x, repeats):
        padded = (1,) * (len(repeats) - x.ndim) + x.shape
        ctx.in_shape, ctx.padded, ctx.repeats = x.shape, padded, repeats
        return ctx.xp.tile(x.reshape(padded), repeats)

    @staticmethod
    def backward(ctx, g):
        # d repeat = the sum over the copies
        interleaved = [n for pair in zip(ctx.repeats, ctx.padded) for n in pair]
        g = g.reshape(interleaved).sum(axis=tuple(range(0, len(interleaved), 2)))
        return g.reshape(ctx.in_shape), None


def repeat(input, *repeats):  # noqa: A002
    """The tensor tiled ``repeats[i]`` times along each dim (new dims go in front)."""
    if not repeats:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    repeats = shape_arg(repeats)
    if len(repeats) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    padded = (1,) * (len(repeats) - input.ndim) + input.shape
    target = [n * r for n, r in zip(padded, repeats)]
    if any(n < 0 for n in target):
        bad = next(n for n in target if n < 0)
        raise RuntimeError(f"Trying to create tensor with negative dimension {bad}: {target}")
    return Repeat.apply(input, repeats)


def select(input, dim, index):  # noqa: A002
    """A view of position ``index`` along ``dim`` (the dim disappears)."""
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    dim = normalize_dim(dim, input.ndim)
    index = int(index)
    size = input.shape[dim]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {dim}")
    return Select.apply(input, dim, index % size)


def narrow(input, dim, start, length):  # noqa: A002
    """A view of ``length`` positions along ``dim`` from ``start``."""
    if input.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    length = int(length)
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    dim = normalize_dim(dim, input.ndim)
    size, start = input.shape[dim], int(start)
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], "
                         f"but got {start})")
    if start < 0:
        start += size
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({size}).")
    return Slice.apply(input, dim, start, start + length, 1)


def adjoint(input):  # noqa: A002
    """The conjugate transpose of the last two dims (the transpose for real tensors)."""
    return transpose(input, -2, -1)


T_DEPRECATED = (
    "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated "
    "and it will throw an error in a future release. Consider `x.mT` to transpose batches of "
    "matrices or `x.permute(*gputensor.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a "
    "tensor.")


def reversed_dims(input):  # noqa: A002
    """``Tensor.T``: all dims reversed (torch deprecates it for ndim != 2)."""
    if input.ndim > 2:
        warnings.warn(T_DEPRECATED, UserWarning, stacklevel=3)
    return Permute.apply(input, tuple(range(input.ndim - 1, -1, -1)))


def _matrix_property(name, input):  # noqa: A002
    if input.ndim == 0:
        return input
    if input.ndim < 2:
        raise RuntimeError(f"tensor.{name} is only supported on matrices or batches of matrices. "
                           f"Got {input.ndim}-D tensor.")
    return transpose(input, -2, -1)


def matrix_transpose(input):  # noqa: A002
    """``Tensor.mT``: the last two dims swapped."""
    return _matrix_property("mT", input)


def matrix_adjoint(input):  # noqa: A002
    """``Tensor.mH``: the conjugate of ``mT`` (the same for real tensors)."""
    return _matrix_property("mH", input)


def hermitian(input):  # noqa: A002
    """``Tensor.H``: the conjugate transpose of a matrix."""
    if input.ndim == 0:
        return input
    if input.ndim != 2:
        hint = " For batches of matrices, consider using tensor.mH" if input.ndim > 2 else ""
        raise RuntimeError("tensor.H is only supported on matrices (2-D tensors). Got "
                           f"{input.ndim}-D tensor.{hint}")
    return transpose(input, 0, 1)


def movedim(input, source, destination):  # noqa: A002
    """A view with dims ``source`` moved to positions ``destination``."""
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({list(dst)} dims)")
    norm_src = [normalize_dim(d, input.ndim) for d in src]
    norm_dst = [normalize_dim(d, input.ndim) for d in dst]
    if len(set(norm_src)) != len(norm_src):
        raise RuntimeError(f"movedim: repeated dim in `source` ({list(src)})")
    if len(set(norm_dst)) != len(norm_dst):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({list(dst)})")
    if input.ndim == 0:
        return Permute.apply(input, ())
    order = [None] * input.ndim
    for s, d in zip(norm_src, norm_dst):
        order[d] = s
    rest = iter(d for d in range(input.ndim) if d not in norm_src)
    return Permute.apply(input, tuple(o if o is not None else next(rest) for o in order))


moveaxis = movedim


class T(Op):
    """Transpose of a matrix (vectors and scalars unchanged)."""

    is_view = True

    @staticmethod
    def forward(ctx, x):
        return x.T

    @staticmethod
    def backward(ctx, g):
        return g.T  # transpose back


def t(input):  # noqa: A002
    """The transpose of a tensor of at most 2 dims."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input.ndim}D")
    return T.apply(input)


def unflatten(input, dim, sizes):  # noqa: A002
    """Split dim ``dim`` into ``sizes`` (one may be -1)."""
    dim = normalize_dim(dim, input.ndim)
    sizes = shape_arg((sizes,))
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    try:
        sizes = infer_shape(sizes, input.shape[dim])
    except RuntimeError as e:
        if "is invalid for input of size" not in str(e):
            raise
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({input.shape[dim]}) in the input tensor") from None
    return view(input, input.shape[:dim] + sizes + input.shape[dim + 1:])
