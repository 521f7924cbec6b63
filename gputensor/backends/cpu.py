"""The CPU backend: NumPy arrays plus the named hooks ops call."""

from __future__ import annotations

import numpy as np

xp = np
name = "cpu"


def asarray(data, dtype=None):
    """An array on this backend holding ``data`` (no copy when already an ndarray of dtype)."""
    return np.asarray(data, dtype=dtype)


def to_numpy(array) -> np.ndarray:
    """The array as a NumPy array (the same object on the CPU)."""
    return array


def sum_to_shape(array, shape):
    """Sum a broadcast gradient back down to ``shape``."""
    if array.shape == shape:
        return array
    lead = array.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and array.shape[i + lead] != 1)
    out = array.sum(axis=axes, keepdims=True) if axes else array
    if lead:
        out = out.reshape(shape)
    return out


def matmul(a, b):
    """Matrix product with batch broadcasting."""
    return np.matmul(a, b)
