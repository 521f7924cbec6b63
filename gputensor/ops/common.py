"""Helpers shared by ops: dims, dtype promotion, wrapping scalars."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np

from .. import backends as _backends
from .. import dtypes
from .._tensor_core import TensorCore, normalize_dim
from ..dtypes import is_float_array_dtype

if TYPE_CHECKING:
    pass

_BY_NUMPY = dtypes._BY_NUMPY
_CATEGORY = {d.numpy: d.category for d in dtypes.ALL_DTYPES}


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
        if isinstance(a, TensorCore):
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


LIFTED_TYPES = [()]  # [LiftedArray] once ops/lifted.py is loaded: arrays that build a graph


def is_array(value) -> bool:
    """Whether ``value`` is a backend array (NumPy or CuPy, or a lifted array standing in for
    one in a backward that builds a graph), not a Python number."""
    return isinstance(value, _backends.array_types) or isinstance(value, LIFTED_TYPES[0])


def result_dtype(*operands) -> np.dtype:
    """torch's result NumPy dtype for operands: arrays, Python numbers, or None (skipped).

    Arrays with dims decide; a 0-d array, then a Python number, only raise the result
    when it belongs to a higher category (bool < int < float), as in torch.result_type.
    """
    if len(operands) == 2:
        a, b = operands
        a_arr, b_arr = is_array(a), is_array(b)
        if a_arr and b_arr:
            if a.dtype == b.dtype:
                return a.dtype
        elif a_arr or b_arr:
            arr, scalar = (a, b) if a_arr else (b, a)
            if scalar is not None:
                if scalar_category(scalar) <= _CATEGORY[arr.dtype]:
                    return arr.dtype
                return dtypes.scalar_dtype(scalar).numpy
    pairs = [(_BY_NUMPY[x.dtype], x.ndim) if is_array(x) else (dtypes.scalar_dtype(x), None)
             for x in operands if x is not None]
    return dtypes.result_type(pairs).numpy


def cast_scalar(value, dt: np.dtype):
    """A Python number as torch converts a scalar operand to ``dt``: integers wrap around."""
    if dt.kind == "b":
        return bool(value)
    if dt.kind in "iu":
        bits = dt.itemsize * 8
        v = int(value) & ((1 << bits) - 1)
        if dt.kind == "i" and v >= 1 << (bits - 1):
            v -= 1 << bits
        return v
    return float(value)


def cast_operand(x, dt: np.dtype):
    """An array cast to ``dt`` (no copy when it already is), or a number converted for ``dt``."""
    if is_array(x):
        return x if x.dtype == dt else x.astype(dt)
    return cast_scalar(x, dt)


def as_array(xp, value):
    """``value`` as an array of the backend (NumPy turns 0-d results into scalars)."""
    return value if isinstance(value, xp.ndarray) else xp.asarray(value)


# torch computes silently: NumPy's floating point RuntimeWarnings raised inside our ops and
# the backends they call (overflow, 0/0) are dropped by one filter, at no per-call cost
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"gputensor\.(ops|backends)\.")


def shape_of(x):
    """The shape of an array; () for a Python number."""
    return x.shape if is_array(x) else ()


def promote(*operands):
    """(dtype, operands cast to it): torch's type promotion, after its broadcast check."""
    broadcast_shapes(*(shape_of(x) for x in operands if x is not None))
    dt = result_dtype(*operands)
    return dt, [None if x is None else cast_operand(x, dt) for x in operands]


def float_dtype(dt: np.dtype) -> np.dtype:
    """``dt`` if floating point, else the default float dtype (true division, mean...)."""
    return dt if is_float_array_dtype(dt) else dtypes.get_default_dtype().numpy


def type_name(dt) -> str:
    """torch's ScalarType name of a dtype (NumPy or gputensor): 'Float', 'Long', ..."""
    if not isinstance(dt, dtypes.dtype):
        dt = _BY_NUMPY[np.dtype(dt)]
    return dtypes.SCALAR_TYPE_NAMES[dt]


def device_type(ctx) -> str:
    """The device type ("cpu", "cuda") of an op's backend, for torch's kernel names."""
    return getattr(ctx.backend, "name", "cpu")


def not_implemented(kernel: str, dt, device="cpu") -> NotImplementedError:
    """torch's error for a kernel that has no version for a dtype."""
    device_type = getattr(device, "type", device)
    return NotImplementedError(f'"{kernel}_{device_type}" not implemented for '
                               f"'{type_name(dt)}'")


def broadcast_shapes(*shapes):
    """The broadcast of ``shapes`` combined left to right; torch's error when they do not.

    As in torch's message, tensor a is the shape so far and tensor b the next one.
    """
    out = tuple(shapes[0]) if shapes else ()
    for shape in shapes[1:]:
        check_broadcast(out, shape)
        n = max(len(out), len(shape))
        a = (1,) * (n - len(out)) + out
        b = (1,) * (n - len(shape)) + tuple(shape)
        out = tuple(y if x == 1 else x for x, y in zip(a, b))
    return out


def check_broadcast(a_shape, b_shape):
    """torch's RuntimeError when two shapes do not broadcast."""
    n = max(len(a_shape), len(b_shape))
    a = (1,) * (n - len(a_shape)) + tuple(a_shape)
    b = (1,) * (n - len(b_shape)) + tuple(b_shape)
    for i in reversed(range(n)):  # torch names the last mismatching dimension
        x, y = a[i], b[i]
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b "
                               f"({y}) at non-singleton dimension {i}")
