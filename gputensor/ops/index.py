"""Indexing with torch's rules: ``t[index]`` here, ``t[index] = value`` in setitem.py.

Basic items (ints, slices, None, ``...``) become a chain of view ops (Select, Slice,
Unsqueeze), exactly as torch applies them; tensor, list and bool items are then
applied together as one advanced index (IndexBackward0), with NumPy's placement rule.
"""

from __future__ import annotations

import operator
import sys
import warnings
from collections.abc import Sequence

import numpy as np

from .._tensor_core import TensorCore
from ..autograd.function import Op
from . import views
from .common import normalize_dim

_INDEX_DTYPES = {np.dtype(np.int64), np.dtype(np.int32), np.dtype(np.uint8), np.dtype(np.bool_)}
_MASK_DTYPES = {np.dtype(np.uint8), np.dtype(np.bool_)}
_SEQUENCE_WARNING = (
    "Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed "
    "in pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be "
    "interpreted as tensor index, x[gputensor.tensor(seq)], which will result either in an "
    "error or a different result")


def _is_int(obj) -> bool:
    return isinstance(obj, (int, np.integer)) and not isinstance(obj, bool)


def _type_name(obj) -> str:
    cls = type(obj)
    return cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__name__}"


def _sequence_as_tuple(index) -> bool:
    """NumPy's (and torch's) heuristic: a short list holding slices, sequences, ... is a tuple."""
    if isinstance(index, tuple):
        return True
    if isinstance(index, (TensorCore, np.ndarray, str)) or not isinstance(index, Sequence):
        return False
    if len(index) >= 32:
        return False
    for obj in index:
        if isinstance(obj, (TensorCore, Sequence, slice)) or obj is None or obj is Ellipsis:
            warnings.warn(_SEQUENCE_WARNING, UserWarning, stacklevel=5)
            return True
    return False


def _sequence_array(obj, xp):
    """A list or NumPy array used as an index: bool stays a mask, anything else is int64."""
    if isinstance(obj, str) or (isinstance(obj, Sequence) and any(isinstance(o, str)
                                                                  for o in obj)):
        raise TypeError("new(): invalid data type 'str'")
    arr = np.asarray(obj)
    if arr.dtype not in _MASK_DTYPES:
        arr = arr.astype(np.int64)
    return xp.asarray(arr)


def _unpack_slice(item):
    """(start, stop, step) of a slice as torch reads it (defaults 0 and 'to the end')."""
    try:
        step = 1 if item.step is None else operator.index(item.step)
        if step == 0:
            raise ValueError("slice step cannot be zero")
        start = 0 if item.start is None else operator.index(item.start)
        stop = sys.maxsize if item.stop is None else operator.index(item.stop)
    except TypeError:
        raise TypeError("slice indices must be integers or None or have an __index__ "
                        "method") from None
    if step <= 0:
        raise ValueError("step must be greater than zero")
    return start, stop, step


class _Plan:
    """The basic steps torch applies, then the tensor indices left for advanced indexing."""

    def __init__(self, t):
        self.shape = list(t.shape)
        self.xp = t._backend.xp
        self.device, self.backend = t._device, t._backend
        # ("select", dim, i), ("slice", dim, start, stop, step) or ("unsqueeze", dim)
        self.steps = []
        self.entries = []  # (dim, array): tensor indices by their dim in the sliced result

    def _check_dim(self, dim, extra=0):
        """torch's error when an item lands past the last dim (several ``...``)."""
        normalize_dim(dim, len(self.shape) + extra)

    def select(self, dim, index, real_dim):
        if not self.shape and index == 0 and dim == 0:
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                             "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
        size = self.shape[dim] if dim < len(self.shape) else 0  # (past the end: as torch)
        if not -size <= index < size:
            raise IndexError(f"index {index} is out of bounds for dimension {real_dim} with "
                             f"size {size}")
        self.steps.append(("select", dim, index % size))
        del self.shape[dim]

    def slice(self, dim, item, optimize):
        start, stop, step = _unpack_slice(item)
        if not self.shape:
            raise IndexError("slice() cannot be applied to a 0-dim tensor.")
        size = self.shape[dim] if dim < len(self.shape) else 0
        if optimize and start == 0 and stop >= size and step == 1:
            return
        self._check_dim(dim)
        self.steps.append(("slice", dim, start, stop, step))
        self.shape[dim] = len(range(*slice(start, stop, step).indices(size)))

    def unsqueeze(self, dim):
        self._check_dim(dim, extra=1)
        self.steps.append(("unsqueeze", dim))
        self.shape.insert(dim, 1)

    def boolean(self, dim, value):
        """A bool item: a new dim of size 1, kept (True) or emptied (False)."""
        self.unsqueeze(dim)
        self.entries.append((dim, self.xp.zeros(1 if value else 0, dtype=np.int64)))

    def walk(self, items, ndim):
        """Apply the items of a tuple index, as torch's applySlicing does."""
        specified = sum(o.ndim if isinstance(o, TensorCore) and o._data.dtype in _MASK_DTYPES else 1
                        for o in items if not (o is None or o is Ellipsis
                                               or isinstance(o, (bool, np.bool_))))
        if specified > ndim:
            raise IndexError(f"too many indices for tensor of dimension {ndim}")
        dim = 0
        for real_dim, obj in enumerate(items):
            if isinstance(obj, (bool, np.bool_)):
                self.boolean(dim, bool(obj))
                dim += 1
            elif _is_int(obj):
                self.select(dim, int(obj), real_dim)
            elif isinstance(obj, slice):
                self.slice(dim, obj, optimize=True)
                dim += 1
            elif obj is Ellipsis:
                dim += ndim - specified
            elif obj is None:
                self.unsqueeze(dim)
                dim += 1
            elif isinstance(obj, TensorCore) and obj.ndim == 0 and obj._data.dtype.kind in "biu":
                if obj._data.dtype in _MASK_DTYPES:
                    self.boolean(dim, bool(obj.item()))
                    dim += 1
                else:
                    self.select(dim, int(obj.item()), real_dim)
            elif isinstance(obj, (TensorCore, np.ndarray, Sequence)):
                arr = self._index_array(obj) if isinstance(obj, TensorCore) else \
                    _sequence_array(obj, self.xp)
                self.entries.append((dim, arr))
                dim += arr.ndim if arr.dtype in _MASK_DTYPES else 1
            else:
                try:
                    index = operator.index(obj)
                except TypeError:
                    raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and "
                                     "long or byte Variables are valid indices (got "
                                     f"{_type_name(obj)})") from None
                self.select(dim, index, real_dim)
        return self

    def _index_array(self, index):
        """An index tensor's array on the indexed tensor's device (CPU indices are copied)."""
        if index._device == self.device:
            return index._data
        if index._device.type != "cpu":
            raise RuntimeError("indices should be either on cpu or on the same device as the "
                               f"indexed tensor ({self.device})")
        return self.backend.asarray(index._data, index=self.device.index)

    def advanced(self):
        """(key, result shape) for the tensor indices on the sliced result; torch's errors."""
        xp, shape = self.xp, self.shape
        for _, arr in self.entries:
            if arr.dtype not in _INDEX_DTYPES:
                raise IndexError("tensors used as indices must be long, int, byte or bool "
                                 "tensors")
        expanded = []
        for dim, arr in self.entries:
            expanded += [None] * (dim - len(expanded))
            if arr.dtype not in _MASK_DTYPES:
                expanded.append(arr)
                continue
            if arr.dtype == np.uint8:
                warnings.warn("indexing with dtype gputensor.uint8 is now deprecated, please use "
                              "a dtype gputensor.bool instead.", UserWarning, stacklevel=4)
            for j in range(arr.ndim):
                src = len(expanded) + j
                if src >= len(shape) or arr.shape[j] != shape[src]:
                    raise IndexError(f"The shape of the mask {list(arr.shape)} at index {j} does "
                                     "not match the shape of the indexed tensor "
                                     f"{list(shape)} at index {src}")
            expanded.extend(xp.nonzero(arr))
        arrays = [a for a in expanded if a is not None]
        try:
            bshape = tuple(np.broadcast_shapes(*(a.shape for a in arrays)))
        except ValueError:
            shapes = ", ".join(str(list(a.shape)) for a in arrays)
            raise IndexError("shape mismatch: indexing tensors could not be broadcast together "
                             f"with shapes {shapes}") from None
        if len(expanded) > len(shape):
            raise IndexError(f"too many indices for tensor of dimension {len(shape)} (got "
                             f"{len(expanded)})")
        where = [i for i, a in enumerate(expanded) if a is not None]
        if where == list(range(where[0], where[-1] + 1)):
            out = shape[:where[0]] + list(bshape) + shape[where[-1] + 1:]
        else:
            out = list(bshape) + [n for i, n in enumerate(shape) if i not in where]
        key = tuple(slice(None) if a is None else a for a in expanded)
        return key, tuple(out), [(a, shape[i]) for i, a in zip(where, arrays)], bshape

    @staticmethod
    def check_empty_dims(checks, bshape):
        """torch's IndexError for (some) indices into a dim of size 0, even for empty results."""
        if all(bshape) and any(size == 0 for _, size in checks):
            raise IndexError("index is out of bounds for dimension with size 0")

    def check_bounds(self, checks, bshape):
        """torch's IndexError for the first out-of-range index (element by element)."""
        bad = [((a >= n) | (a < -n)) for a, n in checks]
        if not any(bool(b.any()) for b in bad):
            return
        xp = self.xp
        flat = [a.ravel() for a in (xp.broadcast_to(b, bshape) for b in bad)]
        pos = int(sum(f.astype(np.int8) for f in flat).astype(bool).argmax())
        for k, ((arr, size), f) in enumerate(zip(checks, flat)):
            if f[pos]:
                value = xp.broadcast_to(arr, bshape).ravel()[pos]
                raise IndexError(f"index {int(value)} is out of bounds for dimension {k} with "
                                 f"size {size}")


def _plan(t, index, setting=False):
    """The plan for ``t[index]`` (None: setting with ``False`` does nothing)."""
    plan = _Plan(t)
    if _is_int(index):
        plan.select(0, int(index), 0)
    elif isinstance(index, slice):
        plan.slice(0, index, optimize=setting)
    elif setting and isinstance(index, (bool, np.bool_)):
        if not index:
            return None
        plan.unsqueeze(0)
    else:
        items = tuple(index) if _sequence_as_tuple(index) else (index,)
        plan.walk(items, t.ndim)
    return plan


class Index(Op):
    """Advanced indexing: a copy of the selected elements."""

    @staticmethod
    def forward(ctx, x, key, shape):
        ctx.in_shape, ctx.key = x.shape, key
        if 0 in shape:  # nothing selected: torch checks no index then
            return ctx.xp.zeros(shape, dtype=x.dtype)
        return ctx.xp.ascontiguousarray(x[key])

    @staticmethod
    def backward(ctx, g):
        grad = ctx.xp.zeros(ctx.in_shape, dtype=g.dtype)
        if g.size:
            ctx.xp.add.at(grad, ctx.key, g)  # d index = scatter-add (repeats accumulate)
        return grad, None, None


_VIEW_OPS = {"select": views.Select, "slice": views.Slice, "unsqueeze": views.Unsqueeze}


def _view(t, steps):
    """The view of ``t`` the basic steps of a plan select (t itself when there are none)."""
    for kind, *args in steps:
        t = _VIEW_OPS[kind].apply(t, *args)
    return t


def getitem(self, index):
    """``self[index]``: views for basic indices, a copy for advanced ones (torch's rules)."""
    with self._on_device():
        return _getitem(self, index)


def _getitem(self, index):
    plan = _plan(self, index)
    out = _view(self, plan.steps)
    if plan.entries:
        key, shape, checks, bshape = plan.advanced()
        plan.check_empty_dims(checks, bshape)
        if 0 not in shape:
            plan.check_bounds(checks, bshape)
        return Index.apply(out, key, shape)
    return views.Alias.apply(self) if out is self else out


