"""Zero-copy exchange: DLPack both ways and the CUDA array interface, as torch's tensors.

A tensor exports its memory through its array: NumPy's ``__dlpack__`` on the CPU, CuPy's (or
the simulated CuPy's) on CUDA. ``from_dlpack`` takes any DLPack producer (a torch tensor, a
NumPy or CuPy array, a gputensor tensor) or a capsule and wraps its memory without copying:
NumPy's ``from_dlpack`` on the CPU, the CUDA backend's on CUDA. ``torch.tensor(t)`` and
``torch.as_tensor(t)`` read a gputensor tensor through ``__dlpack__`` (the copy, or the shared
memory), as torch reads any foreign array.
"""

from __future__ import annotations

import ctypes
import enum
from typing import TYPE_CHECKING

import numpy as np

from .. import dtypes
from .._tensor_core import TensorCore
from ..backends import backend_for
from ..device import device as device_type

if TYPE_CHECKING:
    from .._tensor import Tensor

__all__ = ["from_dlpack"]

REQUIRES_GRAD_ERROR = "Can't export tensors that require gradient, use tensor.detach()"
NOT_CUDA_ERROR = ("Can't get __cuda_array_interface__ on non-CUDA tensor type: {} If CUDA data is "
                  "required use tensor.cuda() to copy tensor to device memory.")
CUDA_REQUIRES_GRAD_ERROR = ("Can't get __cuda_array_interface__ on Variable that requires grad. "
                            "If gradients aren't required, use var.detach() to get Variable that "
                            "doesn't require grad.")


class DLDeviceType(enum.IntEnum):
    """DLPack's device kinds (the two gputensor runs on, and CUDA's host memory)."""

    kDLCPU = 1  # noqa: N815 - DLPack's names
    kDLCUDA = 2  # noqa: N815
    kDLCUDAHost = 3  # noqa: N815


def dlpack(input, *, stream=None, max_version=None, dl_device=None,  # noqa: A002
           copy=None) -> object:
    """A DLPack capsule sharing this tensor's memory (``__dlpack__``); BufferError for a tensor
    that requires grad, as torch's."""
    if input.requires_grad:
        raise BufferError(REQUIRES_GRAD_ERROR)
    array = input._data
    if any(s < 0 for s in array.strides):  # DLPack readers (torch) take no negative strides
        if copy is False:
            raise BufferError("Cannot export a tensor with negative strides without a copy")
        array = input._backend.xp.ascontiguousarray(array)
    options = {"max_version": max_version, "dl_device": dl_device, "copy": copy}
    if input._device.type == "cuda":
        options["stream"] = stream
    elif stream is not None:
        raise BufferError("stream must be None for a CPU tensor")
    with input._on_device():
        return array.__dlpack__(**{k: v for k, v in options.items() if v is not None})


def dlpack_device(input) -> tuple:  # noqa: A002
    """(DLPack device kind, device index) of this tensor's memory (``__dlpack_device__``)."""
    if input._device.type == "cuda":
        return (DLDeviceType.kDLCUDA, input._device.index or 0)
    return (DLDeviceType.kDLCPU, 0)


def cuda_array_interface(input) -> dict:  # noqa: A002
    """The CUDA array interface of a CUDA tensor's memory (``__cuda_array_interface__``);
    AttributeError elsewhere, so ``hasattr`` is False on the CPU, as for torch's."""
    if input._device.type != "cuda":
        raise AttributeError(NOT_CUDA_ERROR.format(input.type()))
    if input.requires_grad:
        raise RuntimeError(CUDA_REQUIRES_GRAD_ERROR)
    return input._data.__cuda_array_interface__


class _Capsule:
    """A DLPack producer around a bare capsule (what ``to_dlpack`` returns)."""

    def __init__(self, capsule):
        self._capsule = capsule
        self._device = _capsule_device(capsule)

    def __dlpack__(self, **options):
        return self._capsule

    def __dlpack_device__(self) -> tuple:
        return self._device


_CAPSULE_TENSOR_OFFSETS = {b"dltensor": 0, b"dltensor_versioned": 32}  # the DLTensor's place


def _capsule_device(capsule) -> tuple:
    """The (device kind, index) a DLPack capsule describes (legacy or versioned)."""
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype, get_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object,
                                                                   ctypes.c_char_p]
    is_valid = ctypes.pythonapi.PyCapsule_IsValid
    is_valid.restype, is_valid.argtypes = ctypes.c_int, [ctypes.py_object, ctypes.c_char_p]
    for name, tensor_offset in _CAPSULE_TENSOR_OFFSETS.items():
        if is_valid(capsule, name):
            address = get_pointer(capsule, name) + tensor_offset
            # DLTensor: void* data, then DLDevice {int32 device_type, int32 device_id}
            pair = (ctypes.c_int32 * 2).from_address(address + ctypes.sizeof(ctypes.c_void_p))
            return (pair[0], pair[1])
    raise ValueError("from_dlpack: expected a DLPack capsule ('dltensor' or "
                     "'dltensor_versioned') that was not consumed yet")


def from_dlpack(ext_tensor) -> Tensor:
    """A tensor sharing the memory of a DLPack producer or capsule (torch.from_dlpack)."""
    source = ext_tensor
    if type(ext_tensor).__name__ == "PyCapsule":
        source = _Capsule(ext_tensor)
    elif not hasattr(ext_tensor, "__dlpack__"):
        raise TypeError(f"from_dlpack: expected an object with __dlpack__ or a DLPack capsule, "
                        f"got {type(ext_tensor).__name__}")
    kind, index = source.__dlpack_device__()
    if int(kind) == DLDeviceType.kDLCUDA:
        device = device_type("cuda", int(index))
        backend = backend_for("cuda")
        with backend.on_device(device.index):
            array = backend.xp.from_dlpack(source)
    elif int(kind) in (DLDeviceType.kDLCPU, DLDeviceType.kDLCUDAHost):
        device = device_type("cpu")
        array = np.from_dlpack(source)
    else:
        raise RuntimeError(f"from_dlpack: unsupported device type {int(kind)}")
    dtypes.from_numpy_dtype(array.dtype)  # torch's TypeError for a dtype gputensor lacks
    return TensorCore._make(array, device)


def foreign_tensor(data):
    """The memory of a foreign tensor (an object with ``__dlpack__``, as torch's) as a gputensor
    tensor sharing it; a tensor that requires grad is read through its ``detach()``."""
    if getattr(data, "requires_grad", False) and hasattr(data, "detach"):
        data = data.detach()
    return from_dlpack(data)
