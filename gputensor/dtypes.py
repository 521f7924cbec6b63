"""dtype objects and torch's type-promotion rules.

``bfloat16`` arrays are ``ml_dtypes.bfloat16`` NumPy arrays on the CPU (NumPy's ufuncs on them
compute in float32 and round each result to nearest even, as torch's CPU ops do). CuPy has
no bfloat16 arrays: moving a bfloat16 tensor to CUDA raises a TypeError naming the dtype.
"""

from __future__ import annotations

import builtins

import ml_dtypes
import numpy as np

_BOOL, _INT, _FLOAT = 0, 1, 2


class dtype:  # noqa: N801 - torch's name
    """A tensor element type such as ``gputensor.float32``."""

    __slots__ = ("name", "numpy", "category", "itemsize", "is_signed")

    def __init__(self, name: str, numpy_dtype, category: int):
        self.name = name
        self.numpy = np.dtype(numpy_dtype)
        self.category = category
        self.itemsize = self.numpy.itemsize
        self.is_signed = category != _BOOL and name != "uint8"

    @property
    def is_floating_point(self) -> bool:
        """True for float16, bfloat16, float32 and float64."""
        return self.category == _FLOAT

    @property
    def is_complex(self) -> bool:
        """Always False: complex dtypes are not covered."""
        return False

    def __repr__(self) -> str:
        return f"gputensor.{self.name}"

    def __reduce__(self):
        return self.name


float16 = dtype("float16", np.float16, _FLOAT)
bfloat16 = dtype("bfloat16", ml_dtypes.bfloat16, _FLOAT)
float32 = dtype("float32", np.float32, _FLOAT)
float64 = dtype("float64", np.float64, _FLOAT)
int8 = dtype("int8", np.int8, _INT)
int16 = dtype("int16", np.int16, _INT)
int32 = dtype("int32", np.int32, _INT)
int64 = dtype("int64", np.int64, _INT)
uint8 = dtype("uint8", np.uint8, _INT)
bool = dtype("bool", np.bool_, _BOOL)  # noqa: A001 - torch's name
half, float, double = float16, float32, float64  # noqa: A001
short, int, long = int16, int32, int64  # noqa: A001

ALL_DTYPES = (float16, bfloat16, float32, float64, int8, int16, int32, int64, uint8, bool)
_BY_NUMPY = {d.numpy: d for d in ALL_DTYPES}

# torch's ScalarType names, as its error messages spell them ("... for 'Float'")
SCALAR_TYPE_NAMES = {float16: "Half", bfloat16: "BFloat16", float32: "Float", float64: "Double",
                     int8: "Char", int16: "Short", int32: "Int", int64: "Long", uint8: "Byte",
                     bool: "Bool"}
_default_float = float32


def is_float_array_dtype(np_dtype) -> builtins.bool:
    """True for the NumPy dtype of a floating tensor (bfloat16's is no NumPy "f" kind)."""
    return np_dtype.kind == "f" or np_dtype == bfloat16.numpy


def from_numpy_dtype(np_dtype) -> dtype:
    """The gputensor dtype for a NumPy dtype; TypeError for unsupported ones."""
    try:
        return _BY_NUMPY[np.dtype(np_dtype)]
    except KeyError:
        np_dtype = np.dtype(np_dtype)
        if np_dtype.kind in "biufc":  # a type torch has and we have not
            raise TypeError(
                f"can't convert np.ndarray of type {np_dtype}. The only supported types are: "
                "float64, float32, float16, int64, int32, int16, int8, uint8, and bool."
            ) from None
        raise TypeError(  # torch's words for what it cannot convert either
            f"can't convert np.ndarray of type numpy.{np_dtype.type.__name__}. The only "
            "supported types are: float64, float32, float16, complex64, complex128, int64, "
            "int32, int16, int8, uint64, uint32, uint16, uint8, and bool."
        ) from None


def get_default_dtype() -> dtype:
    """The dtype of float tensors built from Python floats (float32 unless changed)."""
    return _default_float


def set_default_dtype(d: dtype) -> None:
    """Set the default floating point dtype (float16, float32 or float64)."""
    global _default_float
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _default_float = d


def _promote_pair(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    return _PROMOTE[a, b]


def _build_promotion_table():
    table = {}
    for a in ALL_DTYPES:
        for b in ALL_DTYPES:
            if a.category != b.category:
                table[a, b] = a if a.category > b.category else b
            elif a.category == _FLOAT and a.itemsize == b.itemsize:
                table[a, b] = float32  # float16 with bfloat16: neither holds the other
            elif a.category == _FLOAT:
                table[a, b] = a if a.itemsize >= b.itemsize else b
            elif a.category == _BOOL:
                table[a, b] = a
            elif a is uint8 or b is uint8:
                other = b if a is uint8 else a
                table[a, b] = {int8: int16}.get(other, other)
            else:
                table[a, b] = a if a.itemsize >= b.itemsize else b
    return table


_PROMOTE = _build_promotion_table()


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both ``a`` and ``b`` cast to, as torch.promote_types."""
    return _promote_pair(a, b)


def scalar_dtype(value) -> dtype:
    """The dtype torch gives a bare Python number (bool, int64 or the default float)."""
    if isinstance(value, (builtins.bool, np.bool_)):
        return bool
    if isinstance(value, (builtins.int, np.integer)):
        return int64
    if isinstance(value, (builtins.float, np.floating)):
        return _default_float
    raise TypeError(f"unsupported operand type: {type(value).__name__}")


def result_type(operands) -> dtype:
    """torch's result dtype for (dtype, ndim) pairs; ndim None marks a Python scalar.

    Tensors with dims take priority; 0-d tensors and then Python scalars only
    raise the result when they belong to a higher category (bool < int < float).
    """
    dim_t = zero_t = scalar_t = None
    for dt, ndim in operands:
        if ndim is None:
            scalar_t = dt if scalar_t is None else _promote_pair(scalar_t, dt)
        elif ndim == 0:
            zero_t = dt if zero_t is None else _promote_pair(zero_t, dt)
        else:
            dim_t = dt if dim_t is None else _promote_pair(dim_t, dt)
    result = None
    for group in (dim_t, zero_t, scalar_t):
        if group is None:
            continue
        if result is None:
            result = group
        elif group.category > result.category:
            result = group
    return result
