"""The ``out=`` keyword: a result written into a tensor the caller gives, with torch's rules.

An op that takes ``out=`` computes its result as usual and ends with ``return
write_out("add", result, out)``. ``out`` may be a tensor or, for ops with several results
(``sort``, ``topk``, ``max(dim)``), a tuple of tensors. As torch does:

- autograd cannot record a write into ``out``: if grad mode is on and an input or ``out``
  requires grad, a ``RuntimeError`` names the op;
- the result is cast to ``out``'s dtype if that loses no category (float into int is refused);
- an ``out`` of another shape is resized (given new storage), with torch's deprecation
  warning when it had elements;
- ``out`` itself is returned (the same tuple type for several results).
"""

from __future__ import annotations

import warnings
from typing import TypeVar

from .. import dtypes
from .._tensor_core import TensorCore
from ..autograd.grad_mode import is_grad_enabled

__all__ = ["write_out"]

_Result = TypeVar("_Result")  # a tensor or a tuple of them: out is returned as the result's type

_RESIZED = ("An output with one or more elements was resized since it had shape {}, which "
            "does not match the required output shape {}. This behavior is deprecated, and in "
            "a future PyTorch release outputs will not be resized unless they have zero "
            "elements. You can explicitly reuse an out tensor t by resizing it, inplace, to "
            "zero elements with t.resize_(0).")


def _type_name(d) -> str:
    return dtypes.SCALAR_TYPE_NAMES[d]


def _check(name: str, result: TensorCore, out) -> None:
    if not isinstance(out, TensorCore):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if is_grad_enabled() and (result._requires_grad or out._requires_grad):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support "
                           f"automatic differentiation, but one of the arguments requires "
                           f"grad.")
    if result._device != out._device:
        raise RuntimeError(f"Expected out tensor to have device {result.device}, but got "
                           f"{out.device} instead")
    if result.dtype.category > out.dtype.category:
        raise RuntimeError(f"result type {_type_name(result.dtype)} can't be cast to the "
                           f"desired output type {_type_name(out.dtype)}")


def _store(result: TensorCore, out: TensorCore) -> None:
    data = result._data
    if out._data.shape != data.shape:
        if out._data.size:
            warnings.warn(_RESIZED.format(list(out._data.shape), list(data.shape)),
                          UserWarning, stacklevel=4)
        out._data = data.astype(out._data.dtype, copy=True)
    else:
        out._data[...] = data
    out._version.value += 1


def write_out(name: str, result: _Result, out) -> _Result:
    """``result`` (a tensor or a tuple of them) written into ``out``; ``result`` if no out."""
    if out is None:
        return result
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(f"{name}(): argument 'out' must be tuple of Tensors, not "
                            f"{type(out).__name__}")
        for r, o in zip(result, out):
            _check(name, r, o)
        for r, o in zip(result, out):
            _store(r, o)
        return type(result)(*out) if hasattr(result, "_fields") else tuple(out)
    _check(name, result, out)
    _store(result, out)
    return out
