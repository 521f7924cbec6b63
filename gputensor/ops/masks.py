"""Masks and triangles: tril, triu (and their indices), masked_fill, masked_select, nonzero."""

from __future__ import annotations

import numpy as np

from .. import dtypes
from .._tensor_core import TensorCore
from ..autograd.function import Op
from .common import broadcast_shapes, cast_scalar, check_broadcast
from .creation import _np_dtype, _place
from .inplace import apply_inplace
from .out import write_out

__all__ = ["tril", "triu", "tril_indices", "triu_indices", "masked_fill", "masked_select",
           "nonzero"]

# the C++ type names torch's masked_fill names a mask's dtype by
_CPP_NAMES = {dtypes.uint8: "unsigned char", dtypes.int8: "signed char",
              dtypes.int16: "short int", dtypes.int32: "int", dtypes.int64: "long int",
              dtypes.float16: "c10::Half", dtypes.float32: "float", dtypes.float64: "double"}


# ---- triangles --------------------------------------------------------------------------
class Tril(Op):
    """The lower triangle of the last two dims (above ``diagonal`` set to zero)."""

    keep_lower = True

    @classmethod
    def forward(cls, ctx, x, diagonal):
        xp = ctx.xp
        rows, cols = x.shape[-2:]
        lower = xp.tri(rows, cols, diagonal, dtype=bool)  # True on and below the diagonal
        mask = lower if cls.keep_lower else ~xp.tri(rows, cols, diagonal - 1, dtype=bool)
        ctx.mask = mask
        return xp.where(mask, x, xp.zeros((), dtype=x.dtype))

    @staticmethod
    def backward(ctx, g):
        # d tril = 1 inside the kept triangle, 0 outside
        xp = ctx.xp
        return xp.where(ctx.mask, g, xp.zeros((), dtype=g.dtype)), None


class Triu(Tril):
    """The upper triangle of the last two dims (below ``diagonal`` set to zero)."""

    keep_lower = False


def _triangle(op, name, input, diagonal, out):
    if input.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    return write_out(name, op.apply(input, int(diagonal)), out)


def tril(input, diagonal=0, *, out=None):  # noqa: A002
    """The lower triangle of a matrix (or a batch of them): elements above ``diagonal`` zeroed."""
    return _triangle(Tril, "tril", input, diagonal, out)


def triu(input, diagonal=0, *, out=None):  # noqa: A002
    """The upper triangle of a matrix (or a batch of them): elements below ``diagonal`` zeroed."""
    return _triangle(Triu, "triu", input, diagonal, out)


def tril_(self, diagonal=0):
    """In-place ``tril``."""
    return apply_inplace(self, tril, diagonal)


def triu_(self, diagonal=0):
    """In-place ``triu``."""
    return apply_inplace(self, triu, diagonal)


def _triangle_indices(name, row, col, offset, dtype, device):
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    np_dtype = _np_dtype(dtype, dtypes.int64)
    if np_dtype.kind not in "iu":
        raise NotImplementedError(f'"{name}" not implemented for '
                                  f"'{dtypes.SCALAR_TYPE_NAMES[dtypes._BY_NUMPY[np_dtype]]}'")
    if name == "tril_indices":
        rows, cols = np.tril_indices(row, offset, col)
    else:
        rows, cols = np.triu_indices(row, offset, col)
    return _place(np.stack([rows, cols]).astype(np_dtype), device)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) row and column indices of the lower triangle of a row x col matrix."""
    return _triangle_indices("tril_indices", row, col, offset, dtype, device)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) row and column indices of the upper triangle of a row x col matrix."""
    return _triangle_indices("triu_indices", row, col, offset, dtype, device)


# ---- masks ------------------------------------------------------------------------------
class MaskedFill(Op):
    """``value`` where the mask holds, the input elsewhere (value a number: variant 0)."""

    @staticmethod
    def forward(ctx, x, mask, value):
        xp = ctx.xp
        broadcast_shapes(mask.shape, x.shape)
        if isinstance(value, (int, float, bool)):
            fill = xp.asarray(cast_scalar(value, x.dtype), dtype=x.dtype)
        else:
            fill = value.astype(x.dtype)
        ctx.mask = mask
        return xp.where(mask, fill, x)

    @staticmethod
    def backward(ctx, g):
        # d out / d input = 1 where the mask is false; d out / d value = 1 where it is true
        xp = ctx.xp
        zero = xp.zeros((), dtype=g.dtype)
        value_grad = xp.where(ctx.mask, g, zero).sum() if ctx.needs_input_grad[2] else None
        return xp.where(ctx.mask, zero, g), None, value_grad


class MaskedFillTensor(MaskedFill):
    """``masked_fill`` with a 0-d tensor value (torch's MaskedFillBackward1)."""

    opname, variant = "MaskedFill", 1


def _check_bool_mask(mask):
    if mask.dtype is not dtypes.bool:
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{_CPP_NAMES[mask.dtype]}")


def masked_fill(input, mask, value):  # noqa: A002
    """``value`` (a number or a 0-d tensor) where ``mask`` is True, ``input`` elsewhere."""
    _check_bool_mask(mask)
    if isinstance(value, TensorCore):
        if value.ndim:
            raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but "
                               f"got tensor with {value.ndim} dimension(s).")
        return MaskedFillTensor.apply(input, mask, value)
    if isinstance(value, np.generic):
        value = value.item()
    return MaskedFill.apply(input, mask, value)


def masked_fill_(self, mask, value):
    """In-place ``masked_fill`` (the mask broadcasts to the tensor's shape)."""
    _check_bool_mask(mask)
    check_broadcast(self.shape, mask.shape)  # torch names the tensor a, the mask b
    return apply_inplace(self, masked_fill, mask, value)


class MaskedSelect(Op):
    """The elements where the mask holds (both broadcast), as a 1-D tensor."""

    @staticmethod
    def forward(ctx, x, mask):
        xp = ctx.xp
        shape = broadcast_shapes(mask.shape, x.shape)
        mask = xp.broadcast_to(mask, shape)
        ctx.mask, ctx.shape = mask, shape
        return xp.broadcast_to(x, shape)[mask]

    @staticmethod
    def backward(ctx, g):
        # d masked_select = the gradient scattered back to the selected positions
        grad = ctx.xp.zeros(ctx.shape, dtype=g.dtype)
        grad[ctx.mask] = g
        return grad, None


def masked_select(input, mask, *, out=None):  # noqa: A002
    """The elements of ``input`` where the bool ``mask`` holds, as a 1-D tensor."""
    if mask.dtype is not dtypes.bool:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    return write_out("masked_select", MaskedSelect.apply(input, mask), out)


def nonzero(input, *, out=None, as_tuple=False):  # noqa: A002
    """Indices of the nonzero elements: an (N, ndim) tensor, or one 1-D tensor per dim."""
    with input._on_device():
        xp = input._backend.xp
        data = input._data
        flat = data.reshape(1) if data.ndim == 0 else data
        indices = [i.astype(np.int64, copy=False) for i in xp.nonzero(flat)]
        if as_tuple:
            return tuple(input._wrap(i) for i in indices)
        if data.ndim == 0:
            result = xp.zeros((indices[0].shape[0], 0), dtype=np.int64)
        else:
            result = xp.stack(indices, axis=1)
        return write_out("nonzero", input._wrap(result), out)
