"""Tensor creation: tensor, zeros, ones, full, arange, ..., manual_seed (random tensors:
``random_tensors``)."""

from __future__ import annotations

import math
import numbers
import warnings
from typing import TYPE_CHECKING

import numpy as np

from .. import dtypes
from .._tensor_core import TensorCore
from ..backends import backend_for
from ..device import as_device
from ..device import device as device_type
from ..random import (
    Generator,
    default_generator,
    initial_seed,
    manual_seed,
    seed,
)
from .common import shape_arg
from .dlpack import foreign_tensor
from .out import write_out

if TYPE_CHECKING:
    from .._tensor import Tensor

__all__ = [
    "Generator", "arange", "as_tensor", "default_generator", "empty", "empty_like", "eye",
    "from_numpy", "full", "full_like", "initial_seed", "linspace", "manual_seed", "ones",
    "ones_like", "seed", "set_default_device", "tensor", "zeros", "zeros_like",
]

_default_device = None
COPY_CONSTRUCT_WARNING = (
    "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
    "sourceTensor.detach().clone().requires_grad_(True), rather than {}(sourceTensor).")


def set_default_device(device) -> None:
    """The device new tensors are made on when none is given ("cuda": the current one)."""
    global _default_device
    _default_device = None if device is None else device_type(device)


def _place(array: np.ndarray, device, requires_grad=False) -> Tensor:
    """Move a host array to ``device`` and wrap it."""
    dev = as_device(device if device is not None else _default_device)
    backend = backend_for(dev.type)
    return _new(array if dev.type == "cpu" else backend.asarray(array, index=dev.index), dev,
                requires_grad)


def _new(array, dev, requires_grad) -> Tensor:
    """A new leaf tensor on ``dev`` around backend array ``array``."""
    t = TensorCore._make(array, dev)
    if requires_grad:
        if not dtypes.is_float_array_dtype(array.dtype):
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        t.requires_grad_(True)
    return t


def new_shape(size) -> tuple:
    """``shape_arg(size)``, with torch's RuntimeError for a negative size."""
    shape = shape_arg(size)
    for n in shape:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: "
                               f"[{', '.join(map(str, shape))}]")
    return shape


def _np_dtype(dtype, fallback=None, caller="tensor"):
    if dtype is None:
        return (fallback or dtypes.get_default_dtype()).numpy
    if not isinstance(dtype, dtypes.dtype):
        raise TypeError(f"{caller}(): argument 'dtype' must be gputensor.dtype, not "
                        f"{type(dtype).__name__}")
    return dtype.numpy


def _infer_dtype(array: np.ndarray, data) -> np.dtype:
    kind = array.dtype.kind
    if dtypes.is_float_array_dtype(array.dtype):
        return array.dtype if isinstance(data, np.ndarray) else dtypes.get_default_dtype().numpy
    if kind in "iu":
        return array.dtype if isinstance(data, np.ndarray) else np.dtype(np.int64)
    if kind == "b":
        return array.dtype
    if kind in "US":  # strings: a sequence of them, or one among numbers
        if all(isinstance(v, str) for v in np.asarray(data, dtype=object).ravel()):
            raise ValueError("too many dimensions 'str'")
        raise TypeError("new(): invalid data type 'str'")
    if kind == "O":
        bad = next(v for v in array.ravel() if not isinstance(v, (numbers.Number, np.generic)))
        raise RuntimeError(f"Could not infer dtype of {type(bad).__name__}")
    raise TypeError(f"can't convert data of type {array.dtype} to a tensor")


def _check_nested(data, dim=0):
    """torch's ValueError for ragged nested sequences."""
    if isinstance(data, (list, tuple)) and data and isinstance(data[0], (list, tuple)):
        n = len(data[0])
        for item in data:
            if not isinstance(item, (list, tuple)) or len(item) != n:
                got = len(item) if isinstance(item, (list, tuple)) else type(item).__name__
                raise ValueError(f"expected sequence of length {n} at dim {dim + 1} (got {got})")
            _check_nested(item, dim + 1)


def _host_array(data) -> np.ndarray:
    if isinstance(data, TensorCore):
        return data._to_numpy()
    if isinstance(data, (list, tuple)):
        if any(isinstance(x, TensorCore) for x in data):
            data = [_host_array(x) for x in data]
        else:
            _check_nested(data)
    elif isinstance(data, str):
        raise TypeError("new(): invalid data type 'str'")
    elif not isinstance(data, (np.ndarray, numbers.Number, np.generic)):
        raise RuntimeError(f"Could not infer dtype of {type(data).__name__}")
    return np.asarray(data)


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """A new tensor copying ``data`` (nested lists, numbers, NumPy arrays or tensors)."""
    if isinstance(data, TensorCore):
        warnings.warn(COPY_CONSTRUCT_WARNING.format("gputensor.tensor"), UserWarning, stacklevel=2)
    return tensor_from_data(data, dtype, device, requires_grad)


def _is_foreign_tensor(data) -> bool:
    """Whether ``data`` is another library's tensor, read through DLPack (a torch tensor)."""
    return not isinstance(data, (TensorCore, np.ndarray, np.generic)) and hasattr(
        data, "__dlpack__")


def tensor_from_data(data, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``tensor(data)`` without torch's warning for a tensor given as data."""
    if _is_foreign_tensor(data):
        data = foreign_tensor(data)
    array = _host_array(data)
    target = _np_dtype(dtype) if dtype is not None else _infer_dtype(array, data)
    if isinstance(data, TensorCore):
        target = data._data.dtype if dtype is None else target
    array = np.array(array, dtype=target, copy=True)
    if device is None and isinstance(data, TensorCore):
        device = data.device
    return _place(array, device, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """A tensor from ``data``, sharing memory when it already fits."""
    if _is_foreign_tensor(data):
        data = foreign_tensor(data)
    if isinstance(data, TensorCore) and (dtype is None or data.dtype is dtype) and (
            device is None or as_device(device) == data.device):
        return data
    if isinstance(data, np.ndarray) and device is None and dtype is None:
        return from_numpy(data)
    return tensor_from_data(data, dtype=dtype, device=device)


def as_tensor_like(value, like: Tensor) -> Tensor:
    """A tensor on ``like``'s device for a Tensor, array or Python number."""
    if isinstance(value, TensorCore):
        return value
    return tensor(value, device=like.device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A CPU tensor sharing memory with a NumPy array."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    dtypes.from_numpy_dtype(array.dtype)
    return TensorCore._make(array, as_device("cpu"))


def _into_out(fn, out, dtype, device, *args, **kwargs):
    """``fn(*args)`` made as ``out``'s dtype and on its device (unless given), written into it."""
    result = fn(*args, dtype=dtype or out.dtype, device=device or out.device, **kwargs)
    return write_out(fn.__name__, result, out)


def _filled(shape, value, dtype, device, requires_grad):
    """A tensor of ``value`` made on its device (no host array, no copy)."""
    dev = as_device(device if device is not None else _default_device)
    shape = new_shape(shape)
    return _new(backend_for(dev.type).full(shape, value, dtype, dev.index), dev, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None) -> Tensor:
    """A tensor of zeros."""
    if out is not None:
        return _into_out(zeros, out, dtype, device, *size)
    if any(n < 0 for n in shape_arg(size)):
        raise RuntimeError("zeros: Dimension size must be non-negative.")
    return _filled(shape_arg(size), 0, _np_dtype(dtype, caller="zeros"), device,
                   requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, out=None) -> Tensor:
    """A tensor of ones."""
    if out is not None:
        return _into_out(ones, out, dtype, device, *size)
    return _filled(shape_arg(size), 1, _np_dtype(dtype, caller="ones"), device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """An uninitialised tensor (zeros here)."""
    return _filled(shape_arg(size), 0, _np_dtype(dtype, caller="empty"), device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False, *, out=None) -> Tensor:
    """A tensor filled with ``fill_value``; the dtype follows the value when not given."""
    if out is not None:
        return _into_out(full, out, dtype, device, size, fill_value)
    if dtype is None:
        dtype = dtypes.scalar_dtype(fill_value)
    return _filled(shape_arg((size,)), fill_value, _np_dtype(dtype, caller="full"), device,
                   requires_grad)


def _like(fn, t, dtype, device, requires_grad, *args):
    return fn(t.shape, *args, dtype=dtype or t.dtype, device=device or t.device,
              requires_grad=requires_grad)


def zeros_like(input, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    """Zeros with the shape (and dtype, device) of ``input``."""
    return _like(zeros, input, dtype, device, requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    """Ones with the shape (and dtype, device) of ``input``."""
    return _like(ones, input, dtype, device, requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad=False) -> Tensor:  # noqa: A002
    """An uninitialised tensor shaped like ``input``."""
    return _like(empty, input, dtype, device, requires_grad)


def full_like(input, fill_value, dtype=None, device=None,  # noqa: A002
              requires_grad=False) -> Tensor:
    """``fill_value`` in the shape (and dtype, device) of ``input``."""
    return full(input.shape, fill_value, dtype=dtype or input.dtype,
                device=device or input.device, requires_grad=requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype=None, device=None,
           requires_grad=False, *, out=None) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``."""
    if out is not None:
        return _into_out(arange, out, dtype, device, start, end, step)
    if end is None:
        start, end = 0, start
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"unsupported range: {start:g} -> {end:g}")
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        dtype = dtypes.get_default_dtype() if is_float else dtypes.int64
    n = max(int(np.ceil((end - start) / step)), 0)
    values = start + np.arange(n, dtype=np.float64) * step
    return _place(values.astype(dtype.numpy), device, requires_grad)


def _linspace_values(start, end, steps: int, dtype: np.dtype) -> np.ndarray:
    """torch's values: ``start + step * i`` up to the middle, ``end - step * (steps - 1 - i)``
    after it, each rounded once as torch's fused multiply-add rounds (``step`` in the dtype;
    in double for integers; half types round the product, then the sum)."""
    dtype = np.dtype(dtype)
    if steps <= 1:
        return np.full(steps, start).astype(dtype)
    index = np.arange(steps)
    from_start = index < steps // 2
    if dtype.kind in "iu":
        first, last = float(dtype.type(start)), float(dtype.type(end))
        step = (last - first) / (steps - 1)
        values = np.where(from_start, first + step * index, last - step * (steps - 1 - index))
        return values.astype(dtype)
    first, last = dtype.type(start), dtype.type(end)
    if dtype.itemsize >= 4:  # float32, float64: one rounding of a * b + c
        wide = np.longdouble
        step = dtype.type((wide(last) - wide(first)) / (steps - 1))
        values = np.where(from_start, wide(first) + wide(step) * index,
                          wide(last) - wide(step) * (steps - 1 - index))
        return values.astype(dtype)
    single = np.float32
    step = dtype.type((single(last) - single(first)) / (steps - 1))
    up = (single(step) * index).astype(dtype).astype(single)
    down = (single(step) * (steps - 1 - index)).astype(dtype).astype(single)
    return np.where(from_start, single(first) + up, single(last) - down).astype(dtype)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False, *,
             out=None) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if out is not None:
        return _into_out(linspace, out, dtype, device, start, end, steps)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    return _place(_linspace_values(start, end, steps, _np_dtype(dtype)), device, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False, *, out=None) -> Tensor:
    """The identity matrix (n x m)."""
    if out is not None:
        return _into_out(eye, out, dtype, device, n, m)
    for name, size in (("n", n), ("m", m)):
        if size is not None and size < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {size}")
    return _place(np.eye(n, n if m is None else m, dtype=_np_dtype(dtype)), device,
                  requires_grad)
