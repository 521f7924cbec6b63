"""In-place ops: compute out of place, check, then write the result into the tensor's storage.

The write keeps the storage (views see the change), bumps the shared version counter (so
saved tensors modified later are detected), and hands the tensor the op's grad_fn. When
the tensor is a view, its base gets a ``CopySlices`` node, as in torch, so gradients
through the base see the change too.
"""

from __future__ import annotations

import numbers

from .. import dtypes
from ..autograd.function import Node, Op
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor
from . import pointwise as pw
from .common import as_tensor_like, broadcast_shapes, cast_scalar, type_name

TENSOR_METHODS = (
    "add_", "sub_", "mul_", "div_", "pow_", "clamp_", "clip_", "neg_", "copy_", "fill_",
    "zero_", "abs_", "exp_", "log_", "log1p_", "sqrt_", "rsqrt_", "sin_", "cos_", "tanh_",
    "sigmoid_", "relu_", "reciprocal_", "sign_", "floor_", "ceil_", "round_", "remainder_",
    "floor_divide_")

# the C++ type names torch's scalar clamp_ uses in its cast error
_CPP_NAMES = {dtypes.int64: "long int", dtypes.int32: "int", dtypes.int16: "short int",
              dtypes.int8: "signed char", dtypes.uint8: "unsigned char", dtypes.bool: "bool"}
_OVERLAP = ("unsupported operation: more than one element of the written-to tensor refers to "
            "a single memory location. Please clone() the tensor before performing the "
            "operation.")


def _check_can_modify(t: Tensor) -> None:
    if not is_grad_enabled():
        return
    if t._requires_grad and t.grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    base = t._base
    if base is not None and base._requires_grad and base.grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")


def _snapshot(t: Tensor) -> Tensor:
    """A tensor with t's graph identity and a copy of its current values."""
    snap = Tensor._make(t._data.copy(), t._device)
    snap._requires_grad, snap.grad_fn, snap._output_nr = t._requires_grad, t.grad_fn, \
        t._output_nr
    if t.grad_fn is None and t._requires_grad:
        snap._acc_ref = t._acc_ref
    return snap


def _overlapping(array) -> bool:
    """Whether some elements share memory (an expanded tensor)."""
    return array.size > 1 and any(s == 0 and n > 1 for s, n in zip(array.strides, array.shape))


def _check_result(t: Tensor, result: Tensor, names=None) -> None:
    """torch's errors when ``result`` cannot be written into ``t``."""
    if result._data.shape != t._data.shape:
        raise RuntimeError(f"output with shape {list(t._data.shape)} doesn't match the "
                           f"broadcast shape {list(result._data.shape)}")
    if result.dtype.category > t.dtype.category:
        desired = (names or dtypes.SCALAR_TYPE_NAMES)[t.dtype]
        raise RuntimeError(f"result type {type_name(result.dtype)} can't be cast to the "
                           f"desired output type {desired}")


def _write(t: Tensor, result: Tensor, names=None, view_tracked=True) -> Tensor:
    """Copy ``result`` into t's storage, after torch's checks, and adopt result's graph."""
    _check_result(t, result, names)
    try:
        t._data[...] = result._data
    except ValueError:  # a read-only (expanded) view: write its place in the base
        geometry = _view_geometry(t, t._base) if t._base is not None else None
        if geometry is None:
            raise RuntimeError(_OVERLAP) from None
        _region(t._backend.xp, t._base._data, geometry)[...] = result._data
    t._version.value += 1
    if result.grad_fn is not None:
        _adopt_graph(t, result, view_tracked)
    return t


def _tracks(t: Tensor, args) -> bool:
    return is_grad_enabled() and (t._requires_grad or any(
        isinstance(a, Tensor) and a._requires_grad for a in args))


def _inplace(t: Tensor, fn, args, kwargs=None, names=None, allow_overlap=False) -> Tensor:
    _check_can_modify(t)
    if not allow_overlap and _overlapping(t._data):
        raise RuntimeError(_OVERLAP)
    tracked = _tracks(t, args)
    source = _snapshot(t) if tracked else t
    result = fn(source, *args, **(kwargs or {}))
    return _write(t, result, names, view_tracked=t._requires_grad)


def apply_inplace(t: Tensor, fn, *args, **kwargs) -> Tensor:
    """``t = fn(t, *args)`` in t's storage, recorded by autograd when needed.

    ``fn`` must pass its first argument as the first tensor of one op's ``apply``.
    """
    return _inplace(t, fn, args, kwargs)


# ---- views: the base's graph after an in-place change of a view -----------------------
def _address(array) -> int:
    iface = getattr(array, "__cuda_array_interface__", None) or array.__array_interface__
    return iface["data"][0]


def _view_geometry(view, base):
    """(shape, strides, offset) of ``view`` in elements of ``base``'s storage, or None."""
    v, b = view._data, base._data
    if not b.flags.c_contiguous or v.itemsize != b.itemsize:
        return None
    item = b.itemsize
    return v.shape, tuple(s // item for s in v.strides), (_address(v) - _address(b)) // item


def _region(xp, array, geometry):
    """The view of a C-contiguous array of the base's shape at the view's place."""
    shape, strides, offset = geometry
    item = array.itemsize
    return xp.lib.stride_tricks.as_strided(array.reshape(-1)[offset:], shape=shape,
                                           strides=tuple(s * item for s in strides))


class _ViewNode(Node):
    def __init__(self, geometry, device, shape, dtype):
        self.geometry, self._device, self.shape, self.dtype = geometry, device, shape, dtype

    def _xp(self):
        from ..backends import backend_for
        return backend_for(self._device.type).xp


class CopySlices(_ViewNode):
    """The grad_fn of a base whose view was changed in place by the op ``fn``.

    Outside the view the gradient passes to the base's old value unchanged; inside, it
    goes through ``fn``'s backward to the view's old value and to ``fn``'s other inputs.
    """

    def __init__(self, base_node, fn, geometry, device, shape, dtype):
        super().__init__(geometry, device, shape, dtype)
        self.fn = fn
        self.next_functions = (base_node,) + tuple(fn.next_functions[1:])

    def name(self) -> str:
        """torch's name for this node (with gputensor for torch)."""
        return "gputensor::autograd::CopySlices"

    def _run_backward(self, grads, retain_graph):
        xp = self._xp()
        g = grads[0]
        result = xp.array(g if g is not None else xp.zeros(self.shape, self.dtype),
                          dtype=self.dtype, copy=True, order="C")
        region = _region(xp, result, self.geometry)
        fn_grads = self.fn._run_backward([xp.array(region, copy=True)], retain_graph)
        region[...] = 0 if fn_grads[0] is None else fn_grads[0]
        return [result] + list(fn_grads[1:])


class AsStridedBackward0(_ViewNode):
    """The grad_fn of a view after an in-place change: its gradient lands in the base's."""

    def __init__(self, base_node, geometry, device, shape, dtype):
        super().__init__(geometry, device, shape, dtype)
        self.next_functions = ((base_node, 0),)

    def _run_backward(self, grads, retain_graph):
        xp = self._xp()
        result = xp.zeros(self.shape, self.dtype)
        shape, strides, offset = self.geometry
        g = grads[0]
        repeated = tuple(i for i, (n, s) in enumerate(zip(shape, strides)) if s == 0 and n > 1)
        if repeated:  # an expanded view: its elements share memory, their gradients add up
            g = g.sum(axis=repeated, keepdims=True)
            shape = tuple(1 if i in repeated else n for i, n in enumerate(shape))
        _region(xp, result, (shape, strides, offset))[...] = g
        return [result]


def _adopt_graph(t: Tensor, result: Tensor, view_tracked: bool) -> None:
    """Make result's grad_fn t's; for a view, rebase its base's graph on a CopySlices."""
    t.grad_fn, t._output_nr, t._requires_grad = result.grad_fn, result._output_nr, True
    base = t._base
    if base is None or (base._requires_grad and not view_tracked):
        return  # a detached view, or one made under no_grad: it has its own history
    geometry = _view_geometry(t, base)
    if geometry is None:
        return
    base_node = (base.grad_fn, base._output_nr) if base._requires_grad else (None, 0)
    args = (geometry, base._device, base._data.shape, base._data.dtype)
    copy_slices = CopySlices(base_node, result.grad_fn, *args)
    base.grad_fn, base._output_nr, base._requires_grad = copy_slices, 0, True
    t.grad_fn, t._output_nr = AsStridedBackward0(copy_slices, *args), 0


# ---- the in-place ops ---------------------------------------------------------------
def add_(self, other, alpha=1):
    """In-place add."""
    return _inplace(self, pw.add, (other,), {"alpha": alpha})


def sub_(self, other, alpha=1):
    """In-place subtract."""
    return _inplace(self, pw.sub, (other,), {"alpha": alpha})


def mul_(self, other):
    """In-place multiply."""
    return _inplace(self, pw.mul, (other,))


def div_(self, other, rounding_mode=None):
    """In-place divide."""
    return _inplace(self, pw.div, (other,), {"rounding_mode": rounding_mode})


def pow_(self, exponent):
    """In-place power."""
    return _inplace(self, pw.pow, (exponent,))


def clamp_(self, min=None, max=None):  # noqa: A002
    """In-place clamp."""
    numbers_only = not isinstance(min, Tensor) and not isinstance(max, Tensor)
    return _inplace(self, pw.clamp, (min, max), names=_CPP_NAMES if numbers_only else None)


clip_ = clamp_


def neg_(self):
    """In-place negation."""
    return _inplace(self, pw.neg, ())


def _inplace_function(fn, name):
    def op_(self, *args):
        return _inplace(self, fn, args)
    op_.__name__ = op_.__qualname__ = name
    op_.__doc__ = f"In-place ``{fn.__name__}``."
    return op_


abs_ = _inplace_function(pw.abs, "abs_")
exp_ = _inplace_function(pw.exp, "exp_")
log_ = _inplace_function(pw.log, "log_")
log1p_ = _inplace_function(pw.log1p, "log1p_")
sqrt_ = _inplace_function(pw.sqrt, "sqrt_")
rsqrt_ = _inplace_function(pw.rsqrt, "rsqrt_")
sin_ = _inplace_function(pw.sin, "sin_")
cos_ = _inplace_function(pw.cos, "cos_")
tanh_ = _inplace_function(pw.tanh, "tanh_")
sigmoid_ = _inplace_function(pw.sigmoid, "sigmoid_")
relu_ = _inplace_function(pw.relu, "relu_")
reciprocal_ = _inplace_function(pw.reciprocal, "reciprocal_")
sign_ = _inplace_function(pw.sign, "sign_")
floor_ = _inplace_function(pw.floor, "floor_")
ceil_ = _inplace_function(pw.ceil, "ceil_")
remainder_ = _inplace_function(pw.remainder, "remainder_")
floor_divide_ = _inplace_function(pw.floor_divide, "floor_divide_")


def round_(self, *, decimals=0):
    """In-place round half to even."""
    return _inplace(self, pw.round, (), {"decimals": decimals})


class Fill(Op):
    """A tensor like ``x`` holding one number everywhere (``fill_``)."""

    variant = 2

    @staticmethod
    def forward(ctx, x, value):
        return ctx.xp.full(x.shape, cast_scalar(value, x.dtype), dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.zeros_like(g), None  # d fill = 0


class FillTensor(Op):
    """A tensor like ``x`` holding a 0-d tensor's value everywhere."""

    opname, variant = "Fill", 3

    @staticmethod
    def forward(ctx, x, value):
        out = ctx.xp.empty(x.shape, dtype=x.dtype)
        out[...] = value
        return out

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.zeros_like(g), g  # d fill / d value = 1 for every element


class Zero(Op):
    """A tensor of zeros like ``x`` (``zero_``)."""

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.zeros_like(x)

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.zeros_like(g)  # d zero = 0


class Copy(Op):
    """``src`` broadcast to ``x``'s shape and cast to its dtype (``copy_``)."""

    opname, variant = "Copy", "s"  # torch's node is named CopyBackwards

    def name(self) -> str:
        """torch's name for this node (with gputensor for torch)."""
        return "gputensor::autograd::CopyBackwards"

    @staticmethod
    def forward(ctx, x, src):
        shape = broadcast_shapes(x.shape, src.shape)
        if shape != x.shape:
            raise RuntimeError(f"output with shape {list(x.shape)} doesn't match the "
                               f"broadcast shape {list(shape)}")
        out = ctx.xp.empty(x.shape, dtype=x.dtype)
        out[...] = src
        return out

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.zeros_like(g), g  # d copy / d src = 1


def fill_(self, value):
    """Fill with one value (a number or a 0-d tensor)."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.ndim} dimensions.")
        return _inplace(self, FillTensor.apply, (value,), allow_overlap=True)
    if not isinstance(value, numbers.Number):
        raise TypeError(f"fill_(): argument 'value' (position 1) must be Number, not "
                        f"{type(value).__name__}")
    return _inplace(self, Fill.apply, (value,), allow_overlap=True)


def zero_(self):
    """Fill with zeros."""
    return _inplace(self, Zero.apply, (), allow_overlap=True)


def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast, and cast to this tensor's dtype) into this tensor."""
    if not isinstance(src, Tensor):
        if not isinstance(src, numbers.Number):
            raise TypeError(f"copy_(): argument 'src' (position 1) must be Tensor, not "
                            f"{type(src).__name__}")
        src = as_tensor_like(src, self)
    return _inplace(self, Copy.apply, (src,))
