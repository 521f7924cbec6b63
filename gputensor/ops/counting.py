"""Counting: bincount, histc and count_nonzero (results that carry no gradient)."""

from __future__ import annotations

import math

import numpy as np

from .._tensor_core import TensorCore
from .common import as_array, normalize_dims, not_implemented
from .out import write_out

__all__ = ["bincount", "count_nonzero", "histc"]

_INT64 = np.dtype(np.int64)


def _result(array, like):
    """A tensor holding ``array`` on ``like``'s device."""
    return TensorCore._make(array, like._device)


def bincount(input, weights=None, minlength=0):  # noqa: A002
    """How often each value 0, 1, ... occurs in a 1-D non-negative int tensor (the sum of
    ``weights`` at its places when given); at least ``minlength`` bins."""
    data = input._data
    if data.dtype.kind not in "iu":
        raise not_implemented("bincount", data.dtype, input._device)
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    xp = input._backend.xp
    if input.ndim == 1 and data.size == 0:
        return _result(xp.zeros(minlength, dtype=_INT64), input)
    if input.ndim != 1 or bool((data < 0).any()):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return _result(xp.bincount(data, minlength=minlength).astype(_INT64), input)
    if weights.ndim != 1 or weights.shape[0] != data.size:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    wdata = weights._data
    dtype = wdata.dtype if wdata.dtype.kind == "f" else np.dtype(np.float64)
    counts = xp.bincount(data, weights=wdata.astype(np.float64), minlength=minlength)
    return _result(counts.astype(dtype), input)


def _edge_text(value: float) -> str:
    """A range end as torch's message prints it (C++ stream format)."""
    if math.isnan(value):
        return "-nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:g}"


def histc(input, bins=100, min=0, max=0, *, out=None):  # noqa: A002
    """A histogram of ``input``'s values in ``bins`` equal bins from ``min`` to ``max``
    (the data's own range when both are 0); values outside are left out."""
    data = input._data
    if data.dtype.kind != "f":
        raise not_implemented("histogram", data.dtype, input._device)
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for "
                           "dimension 0")
    low, high = float(min), float(max)
    if low == high and data.size:
        low, high = float(data.min()), float(data.max())
    if low == high:
        low, high = low - 1, high + 1
    if low > high:
        raise RuntimeError("torch.histc: max must be larger than min")
    if not (math.isfinite(low) and math.isfinite(high)):
        raise RuntimeError(f"torch.histc: range of [{_edge_text(low)}, {_edge_text(high)}] is "
                           "not finite")
    xp = input._backend.xp
    flat = data.reshape(-1)
    inside = flat[(flat >= low) & (flat <= high)]
    low_edge, width = data.dtype.type(low), data.dtype.type(high) - data.dtype.type(low)
    # torch's linear interpolation, in the input's dtype: (x - min) * bins / (max - min)
    positions = ((inside - low_edge) * bins / width).astype(_INT64)
    positions = xp.minimum(positions, bins - 1)
    counts = xp.bincount(positions, minlength=bins)[:bins].astype(data.dtype)
    return write_out("histc", _result(counts, input), out)


def count_nonzero(input, dim=None):  # noqa: A002
    """The number of non-zero elements (along ``dim``: an int or a tuple of dims)."""
    axes = normalize_dims(dim, input.ndim)
    counts = (input._data != 0).sum(axis=axes, dtype=_INT64)
    return _result(as_array(input._backend.xp, counts), input)
