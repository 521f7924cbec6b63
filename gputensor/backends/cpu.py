"""The CPU backend: NumPy arrays plus the named hooks ops call."""

from __future__ import annotations

import contextlib

import numpy as np

from .flat_step import run_step

xp = np
name = "cpu"
current_index = None  # the CPU has no device index: ops never switch devices here
OUT_OF_MEMORY = ()  # no exception is turned into OutOfMemoryError: NumPy's MemoryError stays


def asarray(data, dtype=None, index=None):
    """An array on this backend holding ``data`` (no copy when already an ndarray of dtype).

    ``index`` (a device index) is accepted for symmetry with CUDA and ignored.
    """
    return np.asarray(data, dtype=dtype)


NO_SWITCH = contextlib.nullcontext()  # reusable: entering it does nothing


def full(shape, value, dtype, index=None):
    """A new array of ``shape`` and ``dtype`` filled with ``value`` (``index`` is ignored)."""
    return np.full(shape, value, dtype=dtype)


def on_device(index):
    """A context that changes nothing: the CPU has no devices to switch between."""
    return NO_SWITCH


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


_kernels_cpu = None


def optimizer_step(rule: str, arrays, scalars, flags) -> None:
    """Apply update rule ``rule`` (see kernels/rules.py) in place over flat 1-D buffers.

    One fused Numba kernel call whatever the buffers hold; numba is imported on first use.
    Float dtypes without a compiled kernel (float16) are updated through float32 copies.
    """
    global _kernels_cpu
    if _kernels_cpu is None:
        from ..kernels import cpu as kernels_cpu
        _kernels_cpu = kernels_cpu
    run_step(_kernels_cpu.optimizer_step, rule, arrays, scalars, flags)


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


def activation_backward(kind: str, g, y):
    """The input gradient of activation ``kind`` (relu, sigmoid, tanh) from its output ``y``."""
    return activation_formula(np, kind, g, y)


def cross_entropy_rows(x2, targets, weight, ignore_index):
    """None: on the CPU, cross entropy runs the op's array formula (no fused kernel)."""
    return None


def erf(x):
    """None: on the CPU, erf runs the op's float64 formula (ops/activations.py)."""
    return None
