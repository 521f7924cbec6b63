"""Array-generic helpers the backends share: written against any ``xp`` (NumPy or CuPy)."""

from __future__ import annotations


def sum_to_shape(array, shape):
    """Sum a broadcast gradient back down to ``shape`` (the array itself if it has it)."""
    if array.shape == shape:
        return array
    lead = array.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and array.shape[i + lead] != 1)
    out = array.sum(axis=axes, keepdims=True) if axes else array
    if lead:
        out = out.reshape(shape)
    return out


def activation_formula(xp, kind: str, g, y):
    """The input gradient of activation ``kind`` from its output ``y``, in ``xp`` operations."""
    if kind == "relu":
        # d relu = 1 where y > 0 (and where y is NaN, as torch's threshold_backward)
        return xp.where(y <= 0, 0, g).astype(y.dtype, copy=False)
    if kind == "sigmoid":
        return g * y * (1 - y)  # d sigmoid = y * (1 - y)
    if kind == "tanh":
        return g * (1 - y * y)  # d tanh = 1 - y^2
    raise ValueError(f"unknown activation {kind!r}: expected relu, sigmoid or tanh")
