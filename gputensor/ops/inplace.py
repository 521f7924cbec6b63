"""In-place ops: compute out of place, check, then write the result into the tensor's storage.

The write keeps the storage (views see the change), bumps the shared version counter (so
saved tensors modified later are detected), and hands the tensor the op's grad_fn. When
the tensor is a view, its base gets a ``CopySlices`` node, as in torch, so gradients
through the base see the change too.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

import numpy as np

from .. import dtypes
from .._tensor_core import INFERENCE_MODE, NO_GRAD_VIEW, TensorCore
from ..autograd.devices import check_same_device
from ..autograd.function import Op, observing_ops
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.nodes import leaf_accumulator
from . import pointwise as pw
from . import view_writes
from .common import broadcast_shapes, cast_scalar, type_name
from .creation import as_tensor_like
from .transfer import to_device

if TYPE_CHECKING:
    from .._tensor import Tensor


# the C++ type names torch's scalar clamp_ uses in its cast error
_CPP_NAMES = {dtypes.int64: "long int", dtypes.int32: "int", dtypes.int16: "short int",
              dtypes.int8: "signed char", dtypes.uint8: "unsigned char", dtypes.bool: "bool"}

INFERENCE_INPLACE_ERROR = (
    "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a "
    "clone to get a normal tensor before doing inplace update.See "
    "https://github.com/pytorch/rfcs/pull/17 for more details.")


NO_GRAD_VIEW_ERROR = (
    "A view was created in no_grad mode and is being modified inplace with grad mode enabled. "
    "Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify "
    "your code by moving both the view and the inplace either both inside the no_grad block "
    "(if you don't want the inplace to be tracked) or both outside (if you want the inplace to "
    "be tracked).")


def check_no_grad_view(t: Tensor) -> None:
    """torch's error for an in-place write, in grad mode, to a view made under no_grad of a
    tensor that requires grad."""
    if t._view_version == NO_GRAD_VIEW and t._base is not None and t._requires_grad \
            and t._grad_fn is None:
        raise RuntimeError(NO_GRAD_VIEW_ERROR)


def _check_can_modify(t: Tensor) -> None:
    if t._inference and not INFERENCE_MODE.enabled:
        raise RuntimeError(INFERENCE_INPLACE_ERROR)
    if not is_grad_enabled():
        return
    check_no_grad_view(t)
    if t._requires_grad and t.grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    base = t._base
    if base is not None and base._requires_grad and base.grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")


def _snapshot(t: Tensor) -> Tensor:
    """A tensor with t's graph identity and a copy of its current values."""
    snap = TensorCore._make(t._data.copy(), t._device)
    snap._requires_grad, snap.grad_fn, snap._output_nr = t._requires_grad, t.grad_fn, \
        t._output_nr
    if t.grad_fn is None and t._requires_grad:
        snap._accumulator = leaf_accumulator(t)
    return snap


def _overlapping(array) -> bool:
    """Whether some elements share memory (an expanded tensor)."""
    return array.size > 1 and any(s == 0 and n > 1 for s, n in zip(array.strides, array.shape))


def _check_result(t: Tensor, result: Tensor, names=None) -> None:
    """torch's errors when ``result`` cannot be written into ``t``."""
    check_same_device(t, result)  # e.g. a CPU 0-d tensor updated by a CUDA one
    if result._data.shape != t._data.shape:
        raise RuntimeError(f"output with shape {list(t._data.shape)} doesn't match the "
                           f"broadcast shape {list(result._data.shape)}")
    if result.dtype.category > t.dtype.category:
        desired = (names or dtypes.SCALAR_TYPE_NAMES)[t.dtype]
        raise RuntimeError(f"result type {type_name(result.dtype)} can't be cast to the "
                           f"desired output type {desired}")


def _write(t: Tensor, result: Tensor, names=None) -> Tensor:
    """Copy ``result`` into t's storage, after torch's checks, and record result's graph."""
    _check_result(t, result, names)
    t._data[...] = result._data
    t._version.value += 1
    view_writes.rebase(t, result.grad_fn)
    return t


def _tracks(t: Tensor, args) -> bool:
    return is_grad_enabled() and (t._requires_grad or any(
        isinstance(a, TensorCore) and a._requires_grad for a in args))


def _prepare(t: Tensor, allow_overlap: bool) -> None:
    """The checks before any in-place write (a view is brought up to date first)."""
    t._sync_view()  # a view whose storage changed in place reads its base first
    _check_can_modify(t)
    if not allow_overlap and _overlapping(t._data):
        raise RuntimeError(view_writes.OVERLAP_ERROR)


_FAST_DTYPES = tuple(np.dtype(d) for d in ("float32", "float64"))
_NUMBERS = (int, float)


def _arithmetic_in_storage(t: Tensor, ufunc: str, other) -> bool:
    """``t <op>= other`` computed straight into t's storage (``ufunc``: "add", "subtract",
    "multiply" or "true_divide"), when nothing records it and it gives the out-of-place
    op's bits: a float32/float64 tensor and a Python number or a tensor of its dtype on its
    device that broadcasts to its shape (anything else takes the general path: True when
    done)."""
    data = t._data
    if data.dtype not in _FAST_DTYPES or observing_ops() or _tracks(t, (other,)):
        return False
    if type(other) in _NUMBERS:
        operand = float(other)
    elif isinstance(other, TensorCore) and other._data.dtype == data.dtype \
            and other._device == t._device:
        operand = other._data
        if operand.shape != data.shape and (operand.ndim > data.ndim or broadcast_shapes(
                data.shape, operand.shape) != data.shape):
            return False
    else:
        return False
    _prepare(t, False)
    with t._on_device():
        getattr(t._backend.xp, ufunc)(data, operand, out=data)
    t._version.value += 1
    return True


def _inplace(t: Tensor, fn, args, kwargs=None, names=None, allow_overlap=False) -> Tensor:
    _prepare(t, allow_overlap)
    tracked = _tracks(t, args)
    with t._on_device():
        source = _snapshot(t) if tracked else t
        result = fn(source, *args, **(kwargs or {}))
        return _write(t, result, names)


def apply_inplace(t: Tensor, fn, *args, **kwargs) -> Tensor:
    """``t = fn(t, *args)`` in t's storage, recorded by autograd when needed.

    ``fn`` must pass its first argument as the first tensor of one op's ``apply``.
    """
    return _inplace(t, fn, args, kwargs)


inplace_op = _inplace  # (with ``names``: special.py's one-sided clamps)
CPP_NAMES = _CPP_NAMES


# ---- the in-place ops ---------------------------------------------------------------
def add_(self, other, alpha: float = 1):
    """In-place add."""
    if alpha == 1 and type(alpha) is int and _arithmetic_in_storage(self, "add", other):
        return self
    return _inplace(self, pw.add, (other,), {"alpha": alpha})


def sub_(self, other, alpha: float = 1):
    """In-place subtract."""
    if alpha == 1 and type(alpha) is int and _arithmetic_in_storage(self, "subtract", other):
        return self
    return _inplace(self, pw.sub, (other,), {"alpha": alpha})


def mul_(self, other):
    """In-place multiply."""
    if _arithmetic_in_storage(self, "multiply", other):
        return self
    return _inplace(self, pw.mul, (other,))


def div_(self, other, rounding_mode=None):
    """In-place divide."""
    if rounding_mode is None and _arithmetic_in_storage(self, "true_divide", other):
        return self
    return _inplace(self, pw.div, (other,), {"rounding_mode": rounding_mode})


def pow_(self, exponent):
    """In-place power."""
    return _inplace(self, pw.pow, (exponent,))


def clamp_(self, min=None, max=None):  # noqa: A002
    """In-place clamp."""
    numbers_only = not isinstance(min, TensorCore) and not isinstance(max, TensorCore)
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

    node_name = "CopyBackwards"

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
    if isinstance(value, TensorCore):
        if value.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.ndim} dimensions.")
        return _inplace(self, FillTensor.apply, (value,))  # torch checks overlap here
    if not isinstance(value, numbers.Number):
        raise TypeError(f"fill_(): argument 'value' (position 1) must be Number, not "
                        f"{type(value).__name__}")
    return _inplace(self, Fill.apply, (value,), allow_overlap=True)


def zero_(self):
    """Fill with zeros."""
    return _inplace(self, Zero.apply, (), allow_overlap=True)


def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast, and cast to this tensor's dtype) into this tensor."""
    if not isinstance(src, TensorCore):
        if not isinstance(src, numbers.Number):
            raise TypeError(f"copy_(): argument 'src' (position 1) must be Tensor, not "
                            f"{type(src).__name__}")
        src = as_tensor_like(src, self)
    elif src._device != self._device:  # across devices: the gradient goes back to src's
        src = to_device(src, self._device)
    return _inplace(self, Copy.apply, (src,))
