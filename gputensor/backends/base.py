"""The backend interface: what ops, autograd and optim call on a device kind's backend.

A backend is one object per device kind (``cpu.cpu_backend``, ``cuda.CudaBackend``), found with
``backends.backend_for(device_type)``. It is ``xp``, the NumPy-compatible array namespace the
ops are written against, plus the named hooks below for what one ``xp`` call cannot do well
(fused optimizer steps and activation gradients, sum-to-shape, our matmul, cross entropy).
Every hook has a CPU version; the CUDA one may run our Numba kernels (``kernels/cuda``).
Ops never test the device: they call these hooks.

Arrays passed to a hook are arrays of this backend (``xp.ndarray``) on its current device.
"""

from __future__ import annotations

import abc
import contextlib

NO_SWITCH = contextlib.nullcontext()  # reusable: entering it does nothing


class OutOfMemoryError(RuntimeError):
    """A device ran out of memory (``gputensor.cuda.OutOfMemoryError``, as torch's)."""


class Backend(abc.ABC):
    """A device kind's array namespace and hooks; each hook's contract is its docstring."""

    name: str  # the device type: "cpu" or "cuda"
    xp = None  # the array namespace (numpy, cupy, or the simulated CuPy)
    # the index of the current device (None where the kind has no devices, as the CPU);
    # ops compare a tensor's device index with it and switch only when they differ
    current_index = None
    # the exception types that mean "this device is out of memory" (turned into
    # OutOfMemoryError by ``out_of_memory``); () where none is translated
    OUT_OF_MEMORY: tuple = ()

    # ---- arrays ------------------------------------------------------------------------
    @abc.abstractmethod
    def asarray(self, data, dtype=None, index=None):
        """An array on device ``index`` (default: current) holding ``data`` (host or device)."""

    @abc.abstractmethod
    def full(self, shape, value, dtype, index=None):
        """A new array of ``shape`` and ``dtype`` filled with ``value``, on device ``index``."""

    @abc.abstractmethod
    def to_numpy(self, array):
        """The array as a host NumPy array (a copy from a device; itself on the CPU)."""

    def on_device(self, index):
        """A context manager that makes device ``index`` current for its block."""
        return NO_SWITCH

    def out_of_memory(self, err, nbytes=None, index=None) -> OutOfMemoryError:
        """The clear OutOfMemoryError for ``err`` (one of ``OUT_OF_MEMORY``)."""
        return OutOfMemoryError(str(err))

    # ---- hooks ---------------------------------------------------------------------------
    @abc.abstractmethod
    def sum_to_shape(self, array, shape):
        """A broadcast gradient summed back down to ``shape`` (``array`` itself if it has it)."""

    @abc.abstractmethod
    def matmul(self, a, b):
        """The matrix product ``a @ b`` with batch broadcasting, NumPy's rules."""

    @abc.abstractmethod
    def optimizer_step(self, rule: str, arrays, scalars, flags) -> None:
        """Apply update rule ``rule`` (kernels/rules.py) in place over flat 1-D buffers."""

    @abc.abstractmethod
    def activation_backward(self, kind: str, g, y):
        """The input gradient of activation ``kind`` (relu, sigmoid, tanh) from output ``y``."""

    def cross_entropy_rows(self, x2, targets, weight, ignore_index):
        """``(loss, row_weight, logp)`` per row of 2-D logits by a fused kernel, or None where
        the op's array formula is to run instead."""
        return None

    def cross_entropy_rows_backward(self, logp, targets, row_weight, coef, ignore_index):
        """The logits' gradient after ``cross_entropy_rows`` (``coef``: the per-row factor)."""
        raise NotImplementedError(f"{self.name} has no fused cross entropy")

    def erf(self, x):
        """erf of a float array by the device's own kernel, or None (the op's formula runs)."""
        return None
