"""Arrays that build a graph: what a built-in op's backward sees under ``create_graph=True``.

Every built-in op writes its backward once, against the array namespace ``ctx.xp`` and the
hooks of ``ctx.backend``. For a differentiable backward (higher-order gradients) the engine
runs that same formula with ``LiftedArray`` values, a ``LiftedNamespace`` and a
``LiftedBackend``: each array operation then becomes the gputensor op that computes it, so
the backward's result carries its own graph and no derivative is written twice.

A ``LiftedArray`` wraps a tensor and answers NumPy's array API (operators, ``astype``,
``sum(axis=..., keepdims=...)``, ``reshape``, ``T``, ``dtype`` as a NumPy dtype, ``size`` as
an int); plain arrays and numbers mixed in are constants.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._tensor_core import TensorCore
from ..dtypes import from_numpy_dtype
from . import common

# NumPy's names for the unary functions whose gputensor method has another name
_UNARY_NAMES = {"negative": "neg", "arcsin": "asin", "arccos": "acos", "arctan": "atan",
                "arcsinh": "asinh", "arccosh": "acosh", "arctanh": "atanh",
                "logical_not": "logical_not", "absolute": "abs"}
_UNARY = ("exp", "log", "sqrt", "abs", "sin", "cos", "tan", "tanh", "sinh", "cosh",
          "log1p", "expm1", "isnan", "isfinite", "isinf",
          "signbit", "square", "reciprocal", "log2", "log10", "exp2", "erf", "erfc",
          "sigmoid", "lgamma", "digamma", *_UNARY_NAMES)
# NumPy's binary functions and gputensor's names for them
_BINARY = {"add": "add", "subtract": "sub", "multiply": "mul", "true_divide": "div",
           "divide": "div", "maximum": "maximum", "minimum": "minimum", "power": "pow",
           "floor_divide": "floor_divide", "remainder": "remainder", "fmod": "fmod",
           "copysign": "copysign", "hypot": "hypot", "logaddexp": "logaddexp",
           "arctan2": "atan2", "logical_and": "logical_and", "logical_or": "logical_or",
           "equal": "eq", "not_equal": "ne", "less": "lt", "greater": "gt"}


def _unwrap(value):
    """A LiftedArray's tensor; a NumPy scalar as a Python number; anything else as it is."""
    if isinstance(value, LiftedArray):
        return value.tensor
    if isinstance(value, np.generic):
        return value.item()
    return value


class LiftedArray:
    """A tensor that answers NumPy's array API with differentiable gputensor ops."""

    __slots__ = ("tensor",)
    __array_ufunc__ = None
    is_lifted_array = True  # an ndarray or NumPy scalar on the left defers to us

    def __init__(self, tensor):
        self.tensor = tensor

    # ---- what an array knows about itself --------------------------------------
    shape = property(lambda self: tuple(self.tensor._data.shape))
    dtype = property(lambda self: self.tensor._data.dtype)
    ndim = property(lambda self: self.tensor._data.ndim)
    size = property(lambda self: self.tensor._data.size)
    itemsize = property(lambda self: self.tensor._data.itemsize)
    T = property(lambda self: LiftedArray(self.tensor.permute(*range(self.ndim - 1, -1, -1))))
    mT = property(lambda self: LiftedArray(self.tensor.mT))  # noqa: N815 - NumPy's name

    def __len__(self):
        return len(self.tensor)

    def __repr__(self):
        return f"LiftedArray({self.tensor!r})"

    # ---- operators ----------------------------------------------------------------
    def _binary(self, name, other, swap=False):
        other = _unwrap(other)
        if not isinstance(other, (TensorCore, numbers.Number)):
            other = constant(other, self.tensor._device)
        a, b = (other, self.tensor) if swap else (self.tensor, other)
        if not isinstance(a, TensorCore):
            a = _full_like(b, a)
        return LiftedArray(getattr(a, name)(b))

    __add__ = lambda self, o: self._binary("__add__", o)  # noqa: E731
    __radd__ = lambda self, o: self._binary("__add__", o, True)  # noqa: E731
    __sub__ = lambda self, o: self._binary("__sub__", o)  # noqa: E731
    __rsub__ = lambda self, o: self._binary("__sub__", o, True)  # noqa: E731
    __mul__ = lambda self, o: self._binary("__mul__", o)  # noqa: E731
    __rmul__ = lambda self, o: self._binary("__mul__", o, True)  # noqa: E731
    __truediv__ = lambda self, o: self._binary("__truediv__", o)  # noqa: E731
    __rtruediv__ = lambda self, o: self._binary("__truediv__", o, True)  # noqa: E731
    __pow__ = lambda self, o: self._binary("__pow__", o)  # noqa: E731
    __rpow__ = lambda self, o: self._binary("__pow__", o, True)  # noqa: E731
    __matmul__ = lambda self, o: self._binary("__matmul__", o)  # noqa: E731
    __rmatmul__ = lambda self, o: self._binary("__matmul__", o, True)  # noqa: E731
    __lt__ = lambda self, o: self._binary("__lt__", o)  # noqa: E731
    __le__ = lambda self, o: self._binary("__le__", o)  # noqa: E731
    __gt__ = lambda self, o: self._binary("__gt__", o)  # noqa: E731
    __ge__ = lambda self, o: self._binary("__ge__", o)  # noqa: E731
    __eq__ = lambda self, o: self._binary("__eq__", o)  # noqa: E731
    __ne__ = lambda self, o: self._binary("__ne__", o)  # noqa: E731
    __and__ = lambda self, o: self._binary("__and__", o)  # noqa: E731
    __rand__ = lambda self, o: self._binary("__and__", o, True)  # noqa: E731
    __or__ = lambda self, o: self._binary("__or__", o)  # noqa: E731
    __ror__ = lambda self, o: self._binary("__or__", o, True)  # noqa: E731
    __xor__ = lambda self, o: self._binary("__xor__", o)  # noqa: E731
    __hash__ = None

    def __neg__(self):
        return LiftedArray(-self.tensor)

    def __abs__(self):
        return LiftedArray(self.tensor.abs())

    def __invert__(self):
        return LiftedArray(~self.tensor)

    def __getitem__(self, index):
        parts = index if isinstance(index, tuple) else (index,)
        if any(isinstance(p, slice) and p.step is not None and p.step < 0 for p in parts):
            return LiftedArray(self.tensor.reshape(-1)[self._positions(index)])
        return LiftedArray(self.tensor[_index(index, self.tensor._device)])

    def __setitem__(self, index, value):
        value = _unwrap(value)
        if isinstance(value, TensorCore) or isinstance(value, numbers.Number):
            self.tensor[_index(index, self.tensor._device)] = value
        else:
            self.tensor[_index(index, self.tensor._device)] = constant(value,
                                                                       self.tensor._device)

    def _positions(self, index):
        """The flat positions NumPy's ``index`` selects (for slices with negative steps)."""
        t = self.tensor
        xp = t._backend.xp
        grid = xp.arange(t.numel()).reshape(t._data.shape)
        return constant(grid[index if not isinstance(index, LiftedArray) else index.tensor._data],
                        t._device)

    def __bool__(self):
        return bool(self.tensor)

    # ---- NumPy's array methods ------------------------------------------------------
    def astype(self, dtype, copy=True):
        """The values as ``dtype`` (a NumPy dtype)."""
        dtype = np.dtype(dtype)
        if dtype == self.dtype:
            return LiftedArray(self.tensor.clone()) if copy else self
        return LiftedArray(self.tensor.to(from_numpy_dtype(dtype)))

    def reshape(self, *shape, order="C"):
        """NumPy's reshape (row-major)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return LiftedArray(self.tensor.reshape(*shape))

    def _reduce(self, name, axis, keepdims, dtype=None):
        t = self.tensor
        if dtype is not None:
            t = t.to(from_numpy_dtype(np.dtype(dtype)))
        if axis is None:
            out = getattr(t, name)()
            return LiftedArray(out.reshape((1,) * t.ndim) if keepdims else out)
        axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
        if name in ("amax", "amin"):
            return LiftedArray(getattr(t, name)(dim=axes, keepdim=bool(keepdims)))
        return LiftedArray(getattr(t, name)(dim=axes, keepdim=bool(keepdims)))

    def sum(self, axis=None, dtype=None, keepdims=False, out=None):
        """NumPy's sum over ``axis``."""
        return self._reduce("sum", axis, keepdims, dtype)

    def mean(self, axis=None, dtype=None, keepdims=False, out=None):
        """NumPy's mean over ``axis``."""
        return self._reduce("mean", axis, keepdims, dtype)

    def max(self, axis=None, keepdims=False):
        """NumPy's max over ``axis``."""
        return self._reduce("amax", axis, keepdims)

    def min(self, axis=None, keepdims=False):
        """NumPy's min over ``axis``."""
        return self._reduce("amin", axis, keepdims)

    def transpose(self, *axes):
        """NumPy's transpose: reversed axes, or the order given."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return LiftedArray(self.tensor.permute(*(axes or range(self.ndim - 1, -1, -1))))

    def swapaxes(self, a, b):
        """NumPy's swapaxes."""
        return LiftedArray(self.tensor.transpose(a, b))

    def squeeze(self, axis=None):
        """NumPy's squeeze."""
        return LiftedArray(self.tensor.squeeze() if axis is None else self.tensor.squeeze(axis))

    def diagonal(self, offset=0, axis1=0, axis2=1):
        """The diagonal view (gputensor's, writable: writes reach this array)."""
        return LiftedArray(self.tensor.diagonal(offset, axis1, axis2))

    def copy(self, order="C"):
        """A copy (a differentiable clone)."""
        return LiftedArray(self.tensor.clone())

    def ravel(self):
        """The values as 1-D."""
        return LiftedArray(self.tensor.reshape(-1))

    def conj(self):
        """The values themselves (real dtypes)."""
        return self

    def cumsum(self, axis=None):
        """NumPy's cumsum."""
        return LiftedArray(self.tensor.reshape(-1).cumsum(0) if axis is None
                           else self.tensor.cumsum(axis))

    def clip(self, lo=None, hi=None):
        """NumPy's clip."""
        return LiftedArray(self.tensor.clamp(lo, hi))

    def any(self, axis=None, keepdims=False):
        """NumPy's any."""
        t = self.tensor
        return LiftedArray(t.any() if axis is None else t.any(dim=axis, keepdim=keepdims))

    def all(self, axis=None, keepdims=False):
        """NumPy's all."""
        t = self.tensor
        return LiftedArray(t.all() if axis is None else t.all(dim=axis, keepdim=keepdims))

    def item(self):
        """The one value as a Python number."""
        return self.tensor.item()


def _index(index, device):
    if isinstance(index, tuple):
        return tuple(_index_part(i, device) for i in index)
    return _index_part(index, device)


def _index_part(part, device):
    """One part of an index: a LiftedArray's tensor; a device array as a constant tensor."""
    if isinstance(part, LiftedArray):
        return part.tensor
    if hasattr(part, "dtype") and hasattr(part, "shape") and not isinstance(part, np.generic):
        return constant(part, device)
    return part


def constant(array, device) -> TensorCore:
    """An array as a tensor that needs no gradient (a backward's constant)."""
    if isinstance(array, TensorCore):
        return array
    return TensorCore._make(array, device)


def _full_like(t, value):
    return t.new_full((), value)


def lift(value, device):
    """A LiftedArray of a tensor or array; numbers and None stay as they are."""
    if value is None or isinstance(value, (LiftedArray, numbers.Number)):
        return value
    return LiftedArray(constant(value, device))


class NotLiftableError(TypeError):
    """An array operation with no differentiable form: the backward runs on plain arrays."""


common.LIFTED_TYPES[0] = LiftedArray
