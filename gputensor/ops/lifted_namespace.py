"""The array namespace and backend hooks a built-in op's backward sees when it builds a
graph (``create_graph=True``): NumPy's functions and the backend's fused hooks, each by the
differentiable gputensor op or the hook's array formula, over ``LiftedArray``s; and
``op_backward``, which runs an op's backward formula that way for the engine."""

from __future__ import annotations

import numbers

import numpy as np

from .._tensor_core import TensorCore
from ..autograd import graph_backward
from ..backends import array_ops
from ..dtypes import from_numpy_dtype
from . import shape
from .lifted import (
    _BINARY,
    _UNARY,
    _UNARY_NAMES,
    LiftedArray,
    NotLiftableError,
    _unwrap,
    constant,
    lift,
)


def _tensor_of(value, device, like=None):
    """A tensor for an argument: a LiftedArray's, an array as a constant, a number as a 0-d
    tensor of ``like``'s dtype."""
    value = _unwrap(value)
    if isinstance(value, TensorCore):
        return value
    if isinstance(value, numbers.Number):
        if like is None:
            raise NotLiftableError("a number where a tensor is needed")
        return like.new_full((), value)
    return constant(value, device)


_FLAT = {"floor_divide": "floor_divide", "sign": "sign", "floor": "floor", "ceil": "ceil",
         "trunc": "trunc", "round": "round"}


class _AddUfunc:
    """``xp.add`` on lifted arrays: a call adds, ``at`` accumulates in place."""

    def __init__(self, namespace):
        self.namespace = namespace

    def __call__(self, a, b, **kwargs):
        return self.namespace._binary("add", a, b)

    def at(self, target, positions, values):
        """Add ``values`` into ``target`` at ``positions`` (repeats add up), in place."""
        ns = self.namespace
        tensor = target.tensor
        parts = positions if isinstance(positions, tuple) else (positions,)
        if any(not hasattr(_unwrap(p), "shape") for p in parts):
            raise NotLiftableError("add.at with slices")
        index = tuple(constant(_unwrap(p), ns.device) for p in parts)
        tensor.index_put_(index, ns._tensor(values, tensor), accumulate=True)


class LiftedNamespace:
    """NumPy's functions over LiftedArrays, as differentiable gputensor ops."""

    def __init__(self, xp, device):
        self.array_xp = xp
        self.device = device
        self.ndarray = LiftedArray

    def __getattr__(self, name):
        method = _UNARY_NAMES.get(name, name) if name in _UNARY else None
        if method is not None:
            return lambda x, *args, **kwargs: LiftedArray(
                getattr(self._tensor(x), method)())
        if name in _BINARY:
            return lambda a, b, **kwargs: self._binary(_BINARY[name], a, b)
        raise NotLiftableError(f"xp.{name} has no differentiable form")

    def _tensor(self, value, like=None):
        return _tensor_of(value, self.device, like)

    def _binary(self, method, a, b):
        a_val, b_val = _unwrap(a), _unwrap(b)
        if isinstance(a_val, numbers.Number) and isinstance(b_val, numbers.Number):
            return getattr(self.array_xp, method)(a_val, b_val)
        if isinstance(a_val, numbers.Number):
            b_t = self._tensor(b_val)
            return LiftedArray(getattr(b_t.new_full((), a_val), method)(b_t))
        a_t = self._tensor(a_val)
        b_t = b_val if isinstance(b_val, numbers.Number) else self._tensor(b_val)
        if method in ("maximum", "minimum", "atan2", "hypot", "copysign", "logaddexp") and \
                isinstance(b_t, numbers.Number):
            b_t = a_t.new_full((), b_t)
        return LiftedArray(getattr(a_t, method)(b_t))

    # ---- selection and constants ---------------------------------------------------------
    def where(self, cond, a, b):
        """NumPy's where: ``a`` where ``cond``, else ``b`` (numbers allowed)."""
        cond = self._tensor(cond)
        a_val, b_val = _unwrap(a), _unwrap(b)
        if isinstance(a_val, numbers.Number) and isinstance(b_val, numbers.Number):
            raise NotLiftableError("where of two numbers")
        if isinstance(a_val, numbers.Number):
            b_t = self._tensor(b_val)
            return LiftedArray(b_t.new_full((), a_val).where(cond, b_t))
        a_t = self._tensor(a_val)
        other = b_val if isinstance(b_val, numbers.Number) else self._tensor(b_val)
        return LiftedArray(a_t.where(cond, other))

    def _constant(self, array):
        return LiftedArray(constant(array, self.device))

    def zeros_like(self, x, dtype=None):
        """Zeros of ``x``'s shape (a constant)."""
        return self._constant(self.array_xp.zeros(x.shape, dtype or x.dtype))

    def ones_like(self, x, dtype=None):
        """Ones of ``x``'s shape (a constant)."""
        return self._constant(self.array_xp.ones(x.shape, dtype or x.dtype))

    def full_like(self, x, value, dtype=None):
        """``value`` in ``x``'s shape (a constant)."""
        return self._constant(self.array_xp.full(x.shape, value, dtype or x.dtype))

    def zeros(self, shape, dtype=float):
        """Zeros (a constant)."""
        return self._constant(self.array_xp.zeros(shape, dtype))

    def ones(self, shape, dtype=float):
        """Ones (a constant)."""
        return self._constant(self.array_xp.ones(shape, dtype))

    def full(self, shape, value, dtype=None):
        """``value`` everywhere (a constant)."""
        return self._constant(self.array_xp.full(shape, value, dtype))

    def arange(self, *args, **kwargs):
        """NumPy's arange: a plain array (positions, never differentiated)."""
        return self.array_xp.arange(*args, **kwargs)

    def asarray(self, x, dtype=None):
        """``x`` as an array of ``dtype``: a LiftedArray stays in the graph."""
        if isinstance(x, LiftedArray):
            return x if dtype is None else x.astype(dtype, copy=False)
        if isinstance(x, numbers.Number):
            return self._constant(self.array_xp.asarray(x, dtype=dtype))
        return self._constant(self.array_xp.asarray(x, dtype=dtype))

    # ---- shapes ---------------------------------------------------------------------------
    def broadcast_to(self, x, shape):
        """``x`` expanded to ``shape``."""
        return LiftedArray(self._tensor(x).expand(*shape))

    def expand_dims(self, x, axis):
        """``x`` with new unit dims at ``axis`` (an int or a tuple)."""
        t = self._tensor(x)
        axes = axis if isinstance(axis, (tuple, list)) else (axis,)
        ndim = t.ndim + len(axes)
        for a in sorted(a % ndim for a in axes):
            t = t.unsqueeze(a)
        return LiftedArray(t)

    def squeeze(self, x, axis=None):
        """NumPy's squeeze."""
        return lift(x, self.device).squeeze(axis)

    def reshape(self, x, shape):
        """NumPy's reshape."""
        return lift(x, self.device).reshape(shape)

    def moveaxis(self, x, source, destination):
        """NumPy's moveaxis."""
        return LiftedArray(self._tensor(x).movedim(source, destination))

    def swapaxes(self, x, a, b):
        """NumPy's swapaxes."""
        return LiftedArray(self._tensor(x).transpose(a, b))

    def transpose(self, x, axes=None):
        """NumPy's transpose."""
        return lift(x, self.device).transpose(*(() if axes is None else (tuple(axes),)))

    def ascontiguousarray(self, x):
        """The values themselves (layout does not matter to a graph)."""
        return lift(x, self.device)

    def flip(self, x, axis=None):
        """NumPy's flip."""
        t = self._tensor(x)
        axes = tuple(range(t.ndim)) if axis is None else \
            tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
        return LiftedArray(t.flip(axes))

    def concatenate(self, arrays, axis=0):
        """NumPy's concatenate."""
        return LiftedArray(shape.cat([self._tensor(a) for a in arrays], axis))

    def stack(self, arrays, axis=0):
        """NumPy's stack."""
        return self.concatenate([self.expand_dims(a, axis) for a in arrays], axis)

    def split(self, x, indices_or_sections, axis=0):
        """NumPy's split at the given indices (or into equal sections)."""
        t = self._tensor(x)
        n = t.shape[axis]
        if isinstance(indices_or_sections, int):
            step = n // indices_or_sections
            bounds = list(range(step, n, step))[:indices_or_sections - 1]
        else:
            bounds = [int(i) for i in indices_or_sections]
        edges = [0] + [min(max(b, 0), n) for b in bounds] + [n]
        return [LiftedArray(t.narrow(axis, a, max(b - a, 0))) for a, b in zip(edges, edges[1:])]

    def cumprod(self, x, axis=None):
        """NumPy's cumprod."""
        t = self._tensor(x)
        return LiftedArray(t.reshape(-1).cumprod(0) if axis is None else t.cumprod(axis))

    def roll(self, x, shift, axis=None):
        """NumPy's roll."""
        t = self._tensor(x)
        return LiftedArray(t.roll(shift) if axis is None else t.roll(shift, axis))

    def rot90(self, x, k=1, axes=(0, 1)):
        """NumPy's rot90."""
        return LiftedArray(self._tensor(x).rot90(k, tuple(axes)))

    @property
    def add(self):
        """NumPy's add, with ``add.at`` (unbuffered accumulation) as an in-place index_put."""
        return _AddUfunc(self)

    # ---- piecewise constant: no gradient flows through them --------------------------------
    def _flat(self, method, *args):
        args = [_unwrap(a) for a in args]
        args = [a.detach() if isinstance(a, TensorCore) else a for a in args]
        if not any(isinstance(a, TensorCore) for a in args):
            return getattr(self.array_xp, method)(*args)
        tensors = [a for a in args if isinstance(a, TensorCore)]
        args = [a if isinstance(a, TensorCore) or not hasattr(a, "shape")
                else constant(a, self.device) for a in args]
        first = args[0] if isinstance(args[0], TensorCore) else tensors[0].new_full((), args[0])
        return LiftedArray(getattr(first, _FLAT[method])(*args[1:]))

    def floor_divide(self, a, b):
        """NumPy's floor_divide (piecewise constant)."""
        return self._flat("floor_divide", a, b)

    def sign(self, x):
        """NumPy's sign (piecewise constant)."""
        return self._flat("sign", x)

    def floor(self, x):
        """NumPy's floor (piecewise constant)."""
        return self._flat("floor", x)

    def ceil(self, x):
        """NumPy's ceil (piecewise constant)."""
        return self._flat("ceil", x)

    def trunc(self, x):
        """NumPy's trunc (piecewise constant)."""
        return self._flat("trunc", x)

    def round(self, x, decimals=0):
        """NumPy's round (piecewise constant)."""
        return self._flat("round", x) if decimals == 0 else LiftedArray(
            self._tensor(x).detach().round(decimals=decimals))

    # ---- reductions and products ------------------------------------------------------
    def sum(self, x, axis=None, dtype=None, keepdims=False):
        """NumPy's sum."""
        return lift(x, self.device).sum(axis, dtype, keepdims)

    def mean(self, x, axis=None, dtype=None, keepdims=False):
        """NumPy's mean."""
        return lift(x, self.device).mean(axis, dtype, keepdims)

    def cumsum(self, x, axis=None):
        """NumPy's cumsum."""
        return lift(x, self.device).cumsum(axis)

    def matmul(self, a, b):
        """The matrix product."""
        return LiftedArray(self._tensor(a) @ self._tensor(b))

    def clip(self, x, lo=None, hi=None):
        """NumPy's clip."""
        return lift(x, self.device).clip(lo, hi)

    def take_along_axis(self, x, indices, axis):
        """NumPy's take_along_axis (gputensor's gather)."""
        return LiftedArray(self._tensor(x).gather(axis, self._tensor(indices)))

    def any(self, x, axis=None, keepdims=False):
        """NumPy's any."""
        return lift(x, self.device).any(axis, keepdims)

    def all(self, x, axis=None, keepdims=False):
        """NumPy's all."""
        return lift(x, self.device).all(axis, keepdims)


class LiftedBackend:
    """A backend's hooks for a lifted backward: each by its array formula, on LiftedArrays."""

    lifted = True  # (an op's backward may read this to recompute what it kept as arrays)

    def __init__(self, backend, device):
        self.array_backend = backend
        self.xp = LiftedNamespace(backend.xp, device)
        self.use_our_kernel = {}

    def __getattr__(self, name):
        raise NotLiftableError(f"backend.{name} has no differentiable form")

    def matmul(self, a, b):
        """The matrix product."""
        return self.xp.matmul(a, b)

    def sum_to_shape(self, array, shape):
        """A broadcast gradient summed back to ``shape``."""
        return array_ops.sum_to_shape(lift(array, self.xp.device), tuple(shape))

    def activation_backward(self, kind, g, y):
        """The activation's input gradient by its formula."""
        return array_ops.activation_formula(self.xp, kind, g, y)

    def special_function(self, name, x):
        """erf, erfc or erfinv."""
        return LiftedArray(getattr(self.xp._tensor(x), name)())

    def softmax_rows(self, *args, **kwargs):
        """None: the op's array formula runs."""
        return None

    softmax_rows_backward = layer_norm_rows = gelu = gelu_backward = power = im2col = \
        col2im = softmax_rows

    def scatter_accumulate(self, target, positions, values, how):
        """``values`` summed into 1-D ``target`` at ``positions``, in place (sum only)."""
        if how != "sum":
            raise NotLiftableError(f"scatter_accumulate {how}")
        self.xp.add.at(target, positions, values)


def _has_float_arrays(node, saved) -> bool:
    """Whether forward left on the node a float array its backward reads besides the saved
    ones (a value the lifted formula would treat as a constant although it is not)."""
    kept = {id(s) for s in saved}
    recomputed = type(node).recomputed_when_lifted
    for name, value in vars(node).items():
        if name in recomputed:
            continue
        kind = getattr(getattr(value, "dtype", None), "kind", None)
        if kind in ("f", "c") and hasattr(value, "shape") and id(value) not in kept \
                and not isinstance(value, (TensorCore, np.generic)):
            return True
    return False


def op_backward(node, grads):
    """A built-in op's backward formula run on LiftedArrays: tensors with their graph."""
    saved = graph_backward.saved_tensors_in_graph(node) if type(node).liftable else None
    if saved is None or _has_float_arrays(node, node._saved or ()):
        raise NotLiftableError(node.name())
    device = node._device
    lifted_backend = LiftedBackend(node.backend, device)
    old = node.xp, node.backend, node._saved, node._saved_versions
    node.xp, node.backend = lifted_backend.xp, lifted_backend
    node._saved = tuple(lift(s, device) for s in saved)
    node._saved_versions = ()  # (checked above)
    try:
        result = type(node).backward(node, *[lift(g, device) for g in grads])
    finally:
        node.xp, node.backend, node._saved, node._saved_versions = old
    if not isinstance(result, tuple):
        result = (result,)
    out = []
    for g in result:
        if g is None or isinstance(g, TensorCore):
            out.append(g)
        elif isinstance(g, LiftedArray):
            out.append(g.tensor)
        elif isinstance(g, numbers.Number):
            raise NotLiftableError("a number for a gradient")
        else:
            out.append(constant(g, device))
    return out


def _cast(t, np_dtype):
    return t.to(from_numpy_dtype(np_dtype))


graph_backward.LIFTED.op_backward = op_backward
graph_backward.LIFTED.not_liftable = (NotLiftableError, AttributeError)
graph_backward.LIFTED.sum_to_shape = lambda t, shape: t.sum_to_size(*shape)
graph_backward.LIFTED.cast = _cast
graph_backward.LIFTED.to_device = lambda t, device: t.to(device)
