"""Names that old tutorials use: the typed tensor constructors (``FloatTensor(2, 3)``),
``is_tensor``/``is_floating_point``/``is_nonzero``/``numel`` as functions, and the thread
settings (``set_num_threads``: NumPy's BLAS through threadpoolctl, Numba's parallel loops)."""

from __future__ import annotations

import os

import threadpoolctl

from . import dtypes
from ._tensor import Tensor
from ._tensor_core import FLOAT_TYPE_NAMES
from .backends.cpu import cpu_backend
from .ops.creation import empty, tensor
from .size import Size

__all__ = ["BFloat16Tensor", "BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor",
           "FloatTensor", "HalfTensor", "IntTensor", "LongTensor", "ShortTensor",
           "get_num_interop_threads", "get_num_threads", "is_floating_point", "is_nonzero",
           "is_tensor", "numel", "set_num_interop_threads", "set_num_threads"]


class _LegacyTensorType(type):
    """``isinstance(x, FloatTensor)``: x is a CPU tensor of that class's dtype, as in torch."""

    def __instancecheck__(cls, other):
        return (isinstance(other, Tensor) and other.dtype is cls.dtype
                and other.device.type == "cpu")

    def __repr__(cls):
        return f"<class 'gputensor.{cls.__name__}'>"


class _LegacyTensor(metaclass=_LegacyTensorType):
    """``XTensor(*sizes)`` uninitialised, ``XTensor(data)`` from data, ``XTensor()`` empty."""

    dtype = dtypes.float32

    def __new__(cls, *args, device=None):
        if device is not None and str(device).split(":")[0] != "cpu":
            raise RuntimeError(f"legacy constructor expects device type: cpu but device type: "
                               f"{str(device).split(':')[0]} was passed")
        if not args:
            return empty(0, dtype=cls.dtype)
        if len(args) == 1 and isinstance(args[0], Size):
            return empty(*args[0], dtype=cls.dtype)
        if all(isinstance(a, int) and not isinstance(a, bool) for a in args):
            return empty(*args, dtype=cls.dtype)
        if len(args) > 1:
            bad = next(i for i, a in enumerate(args) if not isinstance(a, int))
            raise TypeError(f"new(): argument 'size' failed to unpack the object at pos "
                            f"{bad + 1} with error \"type must be tuple of ints,but got "
                            f"{type(args[bad]).__name__}\"")
        data = args[0]
        if isinstance(data, Tensor):
            if data.dtype is not cls.dtype:
                raise TypeError(f"expected {_options(cls.dtype)} (got {_options(data.dtype)})")
            return data.detach()  # an alias of data's storage, as torch's
        if isinstance(data, (str, bytes)):
            raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
        return tensor(data, dtype=cls.dtype)


def _options(dtype) -> str:
    """torch's text of a CPU tensor's options, as its legacy constructors print them."""
    name = {"float32": "float", "float64": "double", "float16": "c10::Half",
            "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int",
            "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
            "bool": "bool"}[dtype.name]
    return (f"TensorOptions(dtype={name}, device=cpu, layout=Strided, requires_grad=false "
            f"(default), pinned_memory=false (default), memory_format=(nullopt))")


def _legacy_type(dtype):
    name = FLOAT_TYPE_NAMES[dtype.name]
    doc = f"A CPU tensor of {dtype.name}: ``{name}(2, 3)`` uninitialised, ``{name}([1, 2])``."
    return _LegacyTensorType(name, (_LegacyTensor,), {"dtype": dtype, "__doc__": doc,
                                                      "__module__": "gputensor"})


FloatTensor = _legacy_type(dtypes.float32)
DoubleTensor = _legacy_type(dtypes.float64)
HalfTensor = _legacy_type(dtypes.float16)
BFloat16Tensor = _legacy_type(dtypes.bfloat16)
LongTensor = _legacy_type(dtypes.int64)
IntTensor = _legacy_type(dtypes.int32)
ShortTensor = _legacy_type(dtypes.int16)
CharTensor = _legacy_type(dtypes.int8)
ByteTensor = _legacy_type(dtypes.uint8)
BoolTensor = _legacy_type(dtypes.bool)


def _require_tensor(name: str, obj) -> None:
    if not isinstance(obj, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(obj).__name__}")


def is_tensor(obj) -> bool:
    """True when ``obj`` is a tensor."""
    return isinstance(obj, Tensor)


def is_floating_point(input) -> bool:  # noqa: A002 - torch's name
    """True when ``input``'s dtype is a floating point one."""
    _require_tensor("is_floating_point", input)
    return input.is_floating_point()


def is_nonzero(input) -> bool:  # noqa: A002 - torch's name
    """The truth of a one-element tensor (torch's RuntimeError for more or none)."""
    _require_tensor("is_nonzero", input)
    if input.numel() == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    return bool(input)


def numel(input) -> int:  # noqa: A002 - torch's name
    """The number of elements of ``input``."""
    _require_tensor("numel", input)
    return input.numel()


_THREADS = {}  # "intra": the count set with set_num_threads, "interop": the interop one


def _numba():
    import numba  # lazy: numba loads slowly

    return numba


def get_num_threads() -> int:
    """The threads the CPU kernels use (Numba's parallel loops; NumPy's BLAS follows)."""
    return _THREADS.get("intra") or _numba().get_num_threads()


def _check_count(name: str, num) -> None:
    """torch's RuntimeError for a thread count that is not a positive int."""
    if not isinstance(num, int) or isinstance(num, bool):
        raise RuntimeError(f"{name} expects an int, but got {type(num).__name__}")
    if num <= 0:
        raise RuntimeError(f"{name} expects a positive integer")


def set_num_threads(num: int) -> None:
    """Use ``num`` threads in Numba's parallel loops and NumPy's BLAS (threadpoolctl)."""
    _check_count("set_num_threads", num)
    numba = _numba()
    numba.set_num_threads(min(num, numba.config.NUMBA_NUM_THREADS))
    threadpoolctl.threadpool_limits(limits=num)
    cpu_backend.blas_threads.forget()  # small products go back to one thread from this count
    cpu_backend.split_matmul.threads = num  # ... and are split over this many threads
    _THREADS["intra"] = num


def get_num_interop_threads() -> int:
    """The inter-op thread count (recorded: gputensor runs ops one after another)."""
    return _THREADS.get("interop") or os.cpu_count() or 1


def set_num_interop_threads(num: int) -> None:
    """Record the inter-op thread count (gputensor has no inter-op thread pool)."""
    _check_count("set_num_interop_threads", num)
    _THREADS["interop"] = num
