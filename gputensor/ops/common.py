"""Helpers shared by ops: dims, dtype promotion, wrapping scalars."""

from __future__ import annotations

import numpy as np

from .. import dtypes
from ..tensor import Tensor

_BY_NUMPY = dtypes._BY_NUMPY
_CATEGORY = {d.numpy: d.category for d in dtypes.ALL_DTYPES}


def normalize_dim(dim, ndim: int) -> int:
    """A dim in [0, ndim), from a possibly negative one; torch's IndexError otherwise."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    low, high = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if dim < low or dim > high:
        raise IndexError(f"Dimension out of range (expected to be in range of [{low}, {high}], "
                         f"but got {dim})")
    return int(dim) % max(ndim, 1)


def normalize_dims(dim, ndim: int):
    """A sorted tuple of dims from None (all), an int, or a sequence; repeats are an error."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    out = tuple(normalize_dim(d, ndim) for d in dims)
    if len(set(out)) != len(out):
        raise RuntimeError(f"dim {out[0]} appears multiple times in the list of dims")
    return tuple(sorted(out)) if dims else tuple(range(ndim))


def shape_arg(args):
    """Sizes given as varargs or as one sequence, as a tuple of ints."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    out = []
    for a in args:
        if isinstance(a, Tensor):
            a = int(a)
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"expected a sequence of integers or a single integer, got "
                            f"'{a!r}' of type {type(a).__name__}")
        out.append(int(a))
    return tuple(out)


def scalar_category(value) -> int:
    """bool 0, int 1, float 2: the promotion category of a Python number."""
    if isinstance(value, (bool, np.bool_)):
        return 0
    if isinstance(value, (int, np.integer)):
        return 1
    if isinstance(value, (float, np.floating)):
        return 2
    raise TypeError(f"unsupported operand type: {type(value).__name__}")


def result_dtype(a, b) -> np.dtype:
    """torch's result NumPy dtype for two operands (arrays or Python numbers)."""
    a_arr, b_arr = isinstance(a, np.ndarray) or hasattr(a, "__cuda_array_interface__"), \
        isinstance(b, np.ndarray) or hasattr(b, "__cuda_array_interface__")
    if a_arr and b_arr:
        if a.dtype == b.dtype:
            return a.dtype
        return dtypes.result_type([(_BY_NUMPY[a.dtype], a.ndim),
                                   (_BY_NUMPY[b.dtype], b.ndim)]).numpy
    arr, scalar = (a, b) if a_arr else (b, a)
    category = scalar_category(scalar)
    if category <= _CATEGORY[arr.dtype]:
        return arr.dtype
    return dtypes.scalar_dtype(scalar).numpy


def float_dtype(dt: np.dtype) -> np.dtype:
    """``dt`` if floating point, else the default float dtype (true division, mean...)."""
    return dt if dt.kind == "f" else dtypes.get_default_dtype().numpy


def check_broadcast(a_shape, b_shape):
    """torch's RuntimeError when two shapes do not broadcast."""
    n = max(len(a_shape), len(b_shape))
    a = (1,) * (n - len(a_shape)) + tuple(a_shape)
    b = (1,) * (n - len(b_shape)) + tuple(b_shape)
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b "
                               f"({y}) at non-singleton dimension {i}")


def as_tensor_like(value, like: Tensor) -> Tensor:
    """A tensor on ``like``'s device for a Tensor, array or Python number."""
    if isinstance(value, Tensor):
        return value
    from .creation import tensor
    return tensor(value, device=like.device)
