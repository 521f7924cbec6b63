"""``t[index] = value``: in place, with torch's rules, errors and autograd (CopySlices, ...).

The index is planned as for reading (index.py); the write goes through a NumPy/CuPy view of
the tensor's memory. Writing a view of another tensor records the write on that base and
gives the view an AsStridedBackward0 node that reads it back, as torch does.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..autograd.function import Op
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor
from . import inplace, views
from .index import _plan, _region, _type_name

_TYPE_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short",
               "int32": "Int", "int64": "Long", "float16": "Half", "float32": "Float",
               "float64": "Double"}


class CopySlices(Op):
    """``x[index] = value`` written through a view (of ``x``, or of the base ``x`` views)."""

    @staticmethod
    def forward(ctx, owner, value, region, key, written, value_shape):
        # region (a view of owner's memory) is written; setitem checked everything beforehand
        ctx.written, ctx.value_shape, ctx.orig_shape = written, value_shape, value.shape
        _assign(region, key, value.reshape(value_shape).astype(region.dtype))
        return owner

    @staticmethod
    def backward(ctx, g):
        # d owner = g off the written elements; d value = g on them, summed over broadcasting
        xp = ctx.xp
        flat = xp.array(g).reshape(-1)
        g_value = None
        if ctx.needs_input_grad[1]:
            g_value = ctx.backend.sum_to_shape(flat[ctx.written], ctx.value_shape)
            g_value = g_value.reshape(ctx.orig_shape)
        flat[ctx.written] = 0
        return flat.reshape(g.shape), g_value, None, None, None, None


class AsStrided(Op):
    """A view ``x`` of ``base`` after ``x`` was written: x's elements are base[positions]."""

    @staticmethod
    def forward(ctx, base, view, positions):
        ctx.base_shape, ctx.positions = base.shape, positions
        return view

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        grad = xp.zeros(int(np.prod(ctx.base_shape)), dtype=g.dtype)
        xp.add.at(grad, ctx.positions.reshape(-1), xp.asarray(g).reshape(-1))  # d gather
        return grad.reshape(ctx.base_shape), None, None


def _address(array) -> int:
    iface = getattr(array, "__cuda_array_interface__", None) or array.__array_interface__
    return iface["data"][0]


def _dense(array) -> bool:
    """Whether ``array`` fills one block of memory without gaps (in some order of its dims)."""
    expected = array.itemsize
    for stride, n in sorted((s, n) for s, n in zip(array.strides, array.shape) if n != 1):
        if stride != expected:
            return False
        expected *= n
    return True


def _overlap(a, b, full) -> bool:
    """torch's write check: do ``a`` and ``b`` share memory (partly, or also fully if ``full``)?

    As in torch, only dense arrays are compared; anything else is too hard to tell.
    """
    if a.size == 0 or b.size == 0 or not (_dense(a) and _dense(b)):
        return False
    a0, b0 = _address(a), _address(b)
    a1, b1 = a0 + a.size * a.itemsize, b0 + b.size * b.itemsize
    if (a0, a1) == (b0, b1):
        return full or a.strides != b.strides
    return a0 < b1 and b0 < a1


def _positions(owner, array, xp):
    """The row-major index into ``owner`` of each element of ``array`` (a view of its memory)."""
    if array is owner:
        return xp.arange(owner.size, dtype=np.int64).reshape(owner.shape)
    if owner.size == 0 or array.size == 0:
        return xp.zeros(array.shape, dtype=np.int64)
    # pos[k] = the index of the owner element stored k elements after the owner's start
    item, strided, word = owner.itemsize, xp.lib.stride_tricks.as_strided, 8  # int64 bytes
    owner_strides = [s // item for s in owner.strides]
    pos = xp.zeros(1 + sum((n - 1) * s for n, s in zip(owner.shape, owner_strides)), np.int64)
    strided(pos, owner.shape, [s * word for s in owner_strides])[...] = \
        xp.arange(owner.size, dtype=np.int64).reshape(owner.shape)
    start = (_address(array) - _address(owner)) // item
    return strided(pos[start:], array.shape, [s // item * word for s in array.strides])


class IndexPut(CopySlices):
    """``x[tensor index] = value`` straight on ``x``."""


class CopyBackwards(CopySlices):
    """``x[...] = value`` over the whole of ``x``."""


class Fill(CopySlices):
    """``x[...] = value`` over the whole of ``x`` with a 0-d value."""

    variant = 3


def _exact_node_name(cls, name):
    """Give ``cls``'s graph nodes the name ``name`` (torch's names without 'BackwardN')."""
    node = type(name, (cls,), {"__module__": cls.__module__, "__qualname__": name})
    node._node_types = cls._node_types
    cls._node_types[cls.variant] = node


_exact_node_name(CopySlices, "CopySlices")
_exact_node_name(CopyBackwards, "CopyBackwards")


_NOTHING = "nothing"  # the key of an advanced index that selects no element


def _assign(region, key, value):
    """``region[key] = value`` (key None: all of region)."""
    if key is _NOTHING:
        return
    if key is None:
        region[...] = value
    else:
        region[key] = value


def _value_tensor(self, value):
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (bool, int, float, np.integer)):
        return Tensor._make(self._backend.asarray(value, dtype=self._data.dtype), self._device)
    raise TypeError(f"can't assign a {_type_name(value)} to a {self.type()}")


def _strip_leading_ones(shape):
    shape = tuple(shape)
    while shape and shape[0] == 1:
        shape = shape[1:]
    return shape


def _check_can_write(self, through_view) -> None:
    if not through_view:
        inplace._check_can_modify(self)
        return
    base = self._base if self._base is not None else self
    if is_grad_enabled() and base._requires_grad and base.grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")


def setitem(self, index, value):
    """``self[index] = value``, in place and tracked by autograd (torch's rules and errors)."""
    value = _value_tensor(self, value)
    plan = _plan(self, index, setting=True)
    if plan is None:
        return
    region_shape = tuple(plan.shape)
    through_view = bool(plan.steps)
    key = nothing_shape = None
    value_shape = value.shape
    if plan.entries:  # index_put_: autograd's check comes first, then the index and value
        _check_can_write(self, through_view)
        key, result_shape, checks, bshape = plan.advanced()
        plan.check_empty_dims(checks, bshape)
        value_shape = _strip_leading_ones(value.shape)
        try:
            ok = np.broadcast_shapes(value_shape, result_shape) == result_shape
        except ValueError:
            ok = False
        if not ok:
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(value_shape)} "
                               "cannot be broadcast to indexing result of shape "
                               f"{list(result_shape)}")
        if value.dtype is not self.dtype:
            raise RuntimeError("Index put requires the source and destination dtypes match, got "
                               f"{_TYPE_NAMES[self.dtype.name]} for the destination and "
                               f"{_TYPE_NAMES[value.dtype.name]} for the source.")
        if 0 in result_shape:
            key, nothing_shape = _NOTHING, result_shape
        op = CopySlices if through_view else IndexPut
    else:
        if value.shape != region_shape and value.ndim:
            value_shape = _strip_leading_ones(value.shape)
            views.expand_shape(value_shape, region_shape, value.type())
        if through_view:
            op = CopySlices
        else:
            op = Fill if value.ndim == 0 and region_shape else CopyBackwards
        _check_can_write(self, through_view)
    region = _region(self._data, plan.steps, self._backend.xp)
    overlap = views.has_internal_overlap(region) or not getattr(region.flags, "writeable", True)
    if overlap and key is not None:
        warnings.warn("Use of index_put_ on expanded tensors is deprecated. Please clone() the "
                      "tensor before performing this operation. This also applies to advanced "
                      "indexing e.g. tensor[indices] = tensor", UserWarning, stacklevel=3)
    elif overlap:
        raise RuntimeError("unsupported operation: more than one element of the written-to "
                           "tensor refers to a single memory location. Please clone() the tensor "
                           "before performing the operation.")
    if (key is not None or value.ndim) and _overlap(region, value._data, full=key is not None):
        raise RuntimeError("unsupported operation: some elements of the input tensor and the "
                           "written-to tensor refer to a single memory location. Please clone() "
                           "the tensor before performing the operation.")
    if key is not None and key is not _NOTHING:
        plan.check_bounds(checks, bshape)
    if inplace._tracks(self, (value,)):
        _record_write(self, op, value, plan.steps, region, key, value_shape, nothing_shape)
    else:
        _assign(region, key, value._data.reshape(value_shape).astype(self._data.dtype))
    self._version.value += 1


def _record_write(self, op, value, steps, region, key, value_shape, nothing_shape):
    """Write through autograd: the node goes to self, or to its base (self then reads it)."""
    base = self._base
    owner = self if base is None or base._data is self._data else base
    xp = self._backend.xp
    positions = _positions(owner._data, self._data, xp)
    written = _region(positions, steps, xp)
    if key is _NOTHING:
        written = xp.zeros(nothing_shape, dtype=np.int64)
    elif key is not None:
        written = written[key]
    op = op if owner is self else CopySlices
    node = op.apply(owner, value, region, key, written, value_shape).grad_fn
    owner.grad_fn, owner._output_nr, owner._requires_grad = node, 0, True
    if owner is not self:  # torch's rebase: the view now reads the written base
        self.grad_fn = AsStrided.apply(owner, self._data, positions).grad_fn
        self._output_nr, self._requires_grad = 0, True
