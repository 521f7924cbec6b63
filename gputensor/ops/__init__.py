"""Every differentiable op, and the table that turns them into Tensor methods."""

from __future__ import annotations

from . import (
    activations,
    bce,
    creation,
    cross_entropy,
    extrema,
    index,
    inplace,
    linalg,
    losses,
    nn_ops,
    pointwise,
    reduce,
    shape,
    softmaxes,
    transfer,
)
from .common import normalize_dim, normalize_dims
from .creation import *  # noqa: F401,F403
from .extrema import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .pointwise import *  # noqa: F401,F403
from .reduce import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .softmaxes import *  # noqa: F401,F403

_OPERATORS = {
    "__add__": lambda a, b: pointwise.add(a, b),
    "__radd__": lambda a, b: pointwise.add(a, b),  # as torch: self.add(other)
    "__sub__": lambda a, b: pointwise.sub(a, b),
    "__rsub__": lambda a, b: pointwise.sub(b, a),
    "__mul__": lambda a, b: pointwise.mul(a, b),
    "__rmul__": lambda a, b: pointwise.mul(a, b),  # as torch: self.mul(other)
    "__truediv__": lambda a, b: pointwise.div(a, b),
    "__rtruediv__": lambda a, b: pointwise.div(b, a),
    "__floordiv__": lambda a, b: pointwise.floor_divide(a, b),
    "__rfloordiv__": lambda a, b: pointwise.floor_divide(b, a),
    "__mod__": lambda a, b: pointwise.remainder(a, b),
    "__rmod__": lambda a, b: pointwise.remainder(b, a),
    "__pow__": lambda a, b: pointwise.pow(a, b),
    "__rpow__": lambda a, b: pointwise.pow(b, a),
    "__matmul__": lambda a, b: linalg.matmul(a, b),
    "__rmatmul__": lambda a, b: linalg.matmul(creation.as_tensor(b), a),
    "__and__": lambda a, b: pointwise.bitwise_and(a, b),
    "__rand__": lambda a, b: pointwise.bitwise_and(b, a),
    "__or__": lambda a, b: pointwise.bitwise_or(a, b),
    "__ror__": lambda a, b: pointwise.bitwise_or(b, a),
    "__xor__": lambda a, b: pointwise.bitwise_xor(a, b),
    "__rxor__": lambda a, b: pointwise.bitwise_xor(b, a),
    "__lt__": lambda a, b: pointwise.lt(a, b),
    "__le__": lambda a, b: pointwise.le(a, b),
    "__gt__": lambda a, b: pointwise.gt(a, b),
    "__ge__": lambda a, b: pointwise.ge(a, b),
    "__neg__": lambda a: pointwise.neg(a),
    "__pos__": lambda a: pointwise.positive(a),
    "__abs__": lambda a: pointwise.abs(a),
    "__invert__": lambda a: pointwise.invert_operator(a),
    "__getitem__": lambda a, i: index.getitem(a, i),
    "__setitem__": lambda a, i, v: index.setitem(a, i, v),
    "__iadd__": lambda a, b: inplace.add_(a, b),
    "__isub__": lambda a, b: inplace.sub_(a, b),
    "__imul__": lambda a, b: inplace.mul_(a, b),
    "__itruediv__": lambda a, b: inplace.div_(a, b),
    "__ipow__": lambda a, b: inplace.pow_(a, b),
    "__ifloordiv__": lambda a, b: inplace.floor_divide_(a, b),
    "__imod__": lambda a, b: inplace.remainder_(a, b),
}


def _equality(name):
    fn = pointwise.eq if name == "__eq__" else pointwise.ne

    def compare(a, b):
        if b is None or not hasattr(b, "__array__") and not isinstance(b, (int, float, bool)):
            return name == "__ne__"
        return fn(a, b)
    return compare


def install_tensor_methods(tensor_cls) -> None:
    """Attach the ops as Tensor methods and operators (one table, one place)."""
    for name, fn in _OPERATORS.items():
        setattr(tensor_cls, name, fn)
    for name in ("__eq__", "__ne__"):
        setattr(tensor_cls, name, _equality(name))
    for module, names in ((pointwise, pointwise.TENSOR_METHODS), (inplace, inplace.TENSOR_METHODS),
                          (reduce, reduce.TENSOR_METHODS), (shape, shape.TENSOR_METHODS),
                          (linalg, linalg.TENSOR_METHODS), (index, index.TENSOR_METHODS),
                          (extrema, extrema.TENSOR_METHODS), (softmaxes, softmaxes.TENSOR_METHODS)):
        for name in names:
            setattr(tensor_cls, name, getattr(module, name))
    for name, method in creation._NEW_METHODS.items():
        setattr(tensor_cls, name, method)
    for name, dtype_name in (("float", "float32"), ("double", "float64"), ("half", "float16"),
                             ("long", "int64"), ("int", "int32"), ("short", "int16"),
                             ("bool", "bool"), ("byte", "uint8"), ("char", "int8")):
        setattr(tensor_cls, name, _cast_method(name, dtype_name))
    tensor_cls.T = property(shape.reversed_dims, doc="All dims reversed.")
    tensor_cls.mT = property(shape.matrix_transpose, doc="The last two dims swapped.")
    tensor_cls.mH = property(shape.matrix_adjoint, doc="The conjugate of mT.")
    tensor_cls.H = property(shape.hermitian, doc="The conjugate transpose of a matrix.")
    tensor_cls.to = _to
    tensor_cls.cpu = _cpu
    tensor_cls.cuda = _cuda
    tensor_cls.type_as = lambda self, other: pointwise.to_dtype(self, other.dtype)


def _cast_method(name, dtype_name):
    from .. import dtypes

    def cast(self):
        return pointwise.to_dtype(self, getattr(dtypes, dtype_name))
    cast.__name__ = name
    cast.__doc__ = f"A copy as {dtype_name} (self when it already is)."
    return cast


def _to(self, *args, dtype=None, device=None, copy=False, non_blocking=False,
        memory_format=None):
    """A tensor with another dtype and/or device (self when nothing changes)."""
    from .. import dtypes
    from ..device import as_device
    from ..tensor import Tensor
    for arg in args:
        if isinstance(arg, dtypes.dtype):
            dtype = arg
        elif isinstance(arg, Tensor):
            dtype, device = arg.dtype, arg.device
        elif isinstance(arg, bool):
            continue  # non_blocking: every copy here is ordered on the current stream
        else:
            device = arg
    out = self
    if device is not None:
        target = as_device(device)
        if target != self._device:
            out = _move(out, target)
    if dtype is not None:
        out = pointwise.to_dtype(out, dtype)
    if copy and out is self:
        out = pointwise.clone(self)
    return out


def _move(t, device):
    """``t`` copied to another device (differentiable: the gradient is copied back)."""
    return transfer.to_device(t, device)


def _cuda(self, device=None, non_blocking=False, memory_format=None):
    """A copy on a CUDA device (the current one by default; self when already there)."""
    from ..device import device as device_type
    if device is None or isinstance(device, int):
        target = device_type("cuda", device)
    else:
        target = device_type(device)
        if target.type != "cuda":
            raise RuntimeError("Invalid device, must be cuda device")
    return _to(self, target)


def _cpu(self, memory_format=None):
    """A copy in CPU memory (self when already there)."""
    return _to(self, "cpu")


__all__ = [n for n in dir() if not n.startswith("_")]
