"""Closeness and equality of whole tensors: isclose, allclose, equal."""

from __future__ import annotations

from .._tensor_core import TensorCore
from ..autograd.devices import check_same_device
from .common import broadcast_shapes, float_dtype, promote, type_name

__all__ = ["isclose", "allclose", "equal"]


def _require_tensors(name, input, other):  # noqa: A002
    for position, (arg, value) in enumerate((("input", input), ("other", other)), 1):
        if not isinstance(value, TensorCore):
            raise TypeError(f"{name}(): argument '{arg}' (position {position}) must be Tensor, "
                            f"not {type(value).__name__}")


def _close_array(xp, a, b, rtol, atol, equal_nan):
    """A bool array: |a - b| <= atol + rtol * |b|, or a == b (infinities), or both NaN."""
    close = a == b
    if equal_nan and a.dtype.kind == "f":
        close = close | (xp.isnan(a) & xp.isnan(b))
    if rtol == 0 and atol == 0:
        return close
    if a.dtype.kind != "f":  # integers and bools compare in the default float dtype
        dt = float_dtype(a.dtype)
        a, b = a.astype(dt), b.astype(dt)
    kind = a.dtype.type
    allowed = kind(atol) + xp.abs(kind(rtol) * b)
    actual = xp.abs(a - b)
    return close | (xp.isfinite(actual) & (actual <= allowed))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    """Where ``input`` and ``other`` are close: |input - other| <= atol + rtol * |other|."""
    _require_tensors("isclose", input, other)
    check_same_device(input, other)
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{type_name(input.dtype)} did not match {type_name(other.dtype)}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    broadcast_shapes(input.shape, other.shape)
    with input._on_device():
        xp = input._backend.xp
        return input._wrap(_close_array(xp, input._data, other._data, rtol, atol, equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:  # noqa: A002
    """Whether every element of ``input`` is close to ``other``'s (a Python bool)."""
    _require_tensors("allclose", input, other)
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def equal(input, other) -> bool:  # noqa: A002
    """Whether both tensors have the same shape and elements (a Python bool)."""
    _require_tensors("equal", input, other)
    check_same_device(input, other)
    if input.shape != other.shape:
        return False
    with input._on_device():
        xp = input._backend.xp
        _, (a, b) = promote(input._data, other._data)
        return bool(xp.all(a == b))
