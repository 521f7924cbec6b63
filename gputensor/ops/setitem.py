"""``t[index] = value``: in place, with torch's rules, errors and autograd.

The index is planned as for reading (index.py): its basic items select a view of the tensor,
and the value is written into that view by an ordinary in-place op (``copy_``, ``fill_``, or
``IndexPut`` for tensor indices). Writing a view rebases its base's graph (CopySlices, and
AsStridedBackward0 for the view) as torch does, in view_writes.py.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._tensor_core import TensorCore
from ..autograd.function import Op
from ..autograd.grad_mode import is_grad_enabled
from . import inplace, view_writes, views
from .index import _plan, _type_name, _view

_TYPE_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short",
               "int32": "Int", "int64": "Long", "float16": "Half", "float32": "Float",
               "bfloat16": "BFloat16", "float64": "Double"}
_NOTHING = "nothing"  # the key of an advanced index that selects no element


class IndexPut(Op):
    """``x[key] = value`` with tensor indices in ``key``, written into x's memory."""

    @staticmethod
    def forward(ctx, x, value, key):
        ctx.key, ctx.value_shape = key, value.shape
        if key is not _NOTHING:  # setitem checked everything beforehand
            x[key] = value
        return x

    @staticmethod
    def backward(ctx, g):
        # d x = g off the written elements; d value = g on them (summed over broadcasting)
        if ctx.key is _NOTHING:
            return g, ctx.xp.zeros(ctx.value_shape, dtype=g.dtype), None
        grad = ctx.xp.array(g, copy=True)
        g_value = grad[ctx.key]
        grad[ctx.key] = 0
        return grad, g_value, None


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
    a0, b0 = view_writes.address(a), view_writes.address(b)
    a1, b1 = a0 + a.size * a.itemsize, b0 + b.size * b.itemsize
    if (a0, a1) == (b0, b1):
        return full or a.strides != b.strides
    return a0 < b1 and b0 < a1


def _value_tensor(self, value):
    if isinstance(value, TensorCore):
        return value
    if isinstance(value, (bool, int, float, np.integer)):
        array = self._backend.asarray(value, dtype=self._data.dtype, index=self._device.index)
        return TensorCore._make(array, self._device)
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
    if is_grad_enabled():
        inplace.check_no_grad_view(self)
    base = self._base if self._base is not None else self
    if is_grad_enabled() and base._requires_grad and base.grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")


def setitem(self, index, value):
    """``self[index] = value``, in place and tracked by autograd (torch's rules and errors)."""
    with self._on_device():
        _setitem(self, index, value)


def _setitem(self, index, value):
    value = _value_tensor(self, value)
    plan = _plan(self, index, setting=True)
    if plan is None:
        return
    region_shape = tuple(plan.shape)
    through_view = bool(plan.steps)
    key = None
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
        if value.dtype is not self.dtype and value.numel() == 1 and len(plan.entries) == 1 \
                and plan.entries[0][1].dtype.kind == "b":  # torch: masked_fill_ with its item
            value = TensorCore._make(value._data.astype(self._data.dtype), value._device)
        if value.dtype is not self.dtype:
            raise RuntimeError("Index put requires the source and destination dtypes match, got "
                               f"{_TYPE_NAMES[self.dtype.name]} for the destination and "
                               f"{_TYPE_NAMES[value.dtype.name]} for the source.")
        if 0 in result_shape:
            key = _NOTHING
    else:
        if value.shape != region_shape and value.ndim:
            value_shape = _strip_leading_ones(value.shape)
            views.expand_shape(value_shape, region_shape, value.type())
        _check_can_write(self, through_view)
    target = _view(self, plan.steps)
    region = target._data
    overlap = views.has_internal_overlap(region) or not getattr(region.flags, "writeable", True)
    if overlap and key is not None:
        warnings.warn("Use of index_put_ on expanded tensors is deprecated. Please clone() the "
                      "tensor before performing this operation. This also applies to advanced "
                      "indexing e.g. tensor[indices] = tensor", UserWarning, stacklevel=3)
    elif overlap:
        raise RuntimeError(view_writes.OVERLAP_ERROR)
    same_device = value._device == self._device  # no shared memory across devices
    if (key is not None or value.ndim) and same_device and _overlap(region, value._data,
                                                                    full=key is not None):
        raise RuntimeError("unsupported operation: some elements of the input tensor and the "
                           "written-to tensor refer to a single memory location. Please clone() "
                           "the tensor before performing the operation.")
    if key is not None and key is not _NOTHING:
        plan.check_bounds(checks, bshape)
    if value_shape != value.shape:
        value = value.view(value_shape)
    _write(self, target, key, value)


def _write(self, target, key, value) -> None:
    """Write ``value`` into ``target`` (self or its view) in place, as one in-place op.

    When target is a view, its base's graph is rebased; self, when it is another view of
    that base, reads the base when next used, as in torch.
    """
    if key is None:  # copy_ or fill_
        fill = value.ndim == 0 and target.ndim
        (inplace.fill_ if fill else inplace.copy_)(target, value)
    else:  # index_put_ (recorded when autograd needs it)
        node = IndexPut.apply(target, value, key).grad_fn
        target._version.value += 1
        view_writes.rebase(target, node)
