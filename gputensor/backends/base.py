"""The backend interface: what ops, autograd and optim call on a device kind's backend.

A backend is one object per device kind (``cpu.cpu_backend``,
``cuda_backend.CudaBackend``), found with ``backends.backend_for(device_type)``. It is
``xp``, the NumPy-compatible array namespace the ops are written against, plus the named
hooks below for what one ``xp`` call cannot do well (fused optimizer steps and activation
gradients, sum-to-shape, our matmul, cross entropy).
Every hook has a CPU version; the CUDA one may run our Numba kernels (``kernels/cuda``).
Ops never test the device: they call these hooks.

Arrays passed to a hook are arrays of this backend (``xp.ndarray``) on its current device.
"""

from __future__ import annotations

import abc
import contextlib

from .array_ops import scatter_accumulate

NO_SWITCH = contextlib.nullcontext()  # reusable: entering it does nothing

# CuPy has no bfloat16 arrays: the CUDA backend refuses them with this error
BFLOAT16_ON_CUDA = ("bfloat16 is not supported on CUDA devices: CuPy has no bfloat16 arrays "
                    "(convert with .float() or .half() before moving the tensor)")


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
    # True for the stand-in an op's backward sees when it builds a graph (create_graph):
    # arrays are then lifted arrays (ops/lifted.py), and a formula that kept arrays derived
    # from its inputs recomputes them from the saved inputs
    lifted = False

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
        """Apply update rule ``rule`` (kernels/rules.py) in place: to the parameters' own arrays
        (``flat_step.ArrayList``s) and the flat state buffers, by name (see run_step)."""

    @abc.abstractmethod
    def bind_optimizer_step(self, rule: str, arrays, values):
        """``optimizer_step``'s call bound to ``arrays`` and the flags in ``values`` (a
        ``flat_step.BoundStep``: call it with the scalars), or None for a dtype without
        kernels; a step whose arrays stay put keeps it and skips the checks."""

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

    def scatter_accumulate(self, target, positions, values, how: str) -> None:
        """Combine ``values`` into 1-D ``target`` at int64 ``positions`` in place (repeats
        combine too) by ``how``: sum, prod, amax or amin."""
        scatter_accumulate(self.xp, target, positions, values, how)

    @abc.abstractmethod
    def special_function(self, name: str, x):
        """``name`` ("erf", "erfc" or "erfinv") of a float32 or float64 array, in its dtype."""

    def max_pool_planes(self, x, kernel, stride, pads, dilation, out_size):
        """``(values, flat indices, kernel offsets)`` of 2-D max pooling over ``x``'s last two
        dims by a kernel, or None where the op's slice formula is to run instead."""
        return None

    # elements from which ``threaded_binary`` is asked (never, unless a backend says)
    threaded_from = float("inf")

    def im2col(self, padded, kernel, stride, dilation, out_size):
        """The (C, kh, kw, N, oh, ow) windows of ``padded`` (C, N, Hp, Wp) by a compiled
        loop; None where the op's array formula (ops/conv_geometry.py) runs instead."""
        return None

    def col2im(self, cols, padded_size, stride, dilation):
        """Windows ``cols`` (C, kh, kw, N, oh, ow) summed back into a new (C, N, Hp, Wp) by
        a compiled loop; None where the op's array formula runs instead."""
        return None

    def threaded_binary(self, name: str, a, b):
        """``a <name> b`` (add, sub, mul, div) on all threads for large operands of one shape
        and float dtype, or None where the op's ufunc is to run instead."""
        return None

    def gelu(self, x, approximate: str):
        """gelu of a float array by one fused kernel (``approximate``: "none" or "tanh"), or
        None where the op's array formula is to run instead."""
        return None

    def gelu_backward(self, g, x, approximate: str):
        """The input gradient of gelu at ``x`` by one fused kernel, or None (the formula)."""
        return None

    def power(self, a, exponent: float):
        """``a ** exponent`` of a float array by one kernel pass (for the exponents torch
        computes by products and reciprocals), or None where the op's formula is to run."""
        return None

    def layer_norm_rows(self, x2, weight, bias, eps):
        """``(y, mean, rstd)`` of layer norm over the rows of 2-D ``x2`` by a fused kernel, or
        None where the op's array formula is to run instead."""
        return None

    def layer_norm_rows_backward(self, g2, x2, mean, rstd, weight, needs):
        """``(dx, dweight, dbias)`` after ``layer_norm_rows`` (None for each not in ``needs``)."""
        raise NotImplementedError(f"{self.name} has no fused layer norm")

    def softmax_rows(self, x2, mask=None, log=False):
        """Softmax (``log``: log_softmax) over the rows of 2-D ``x2``, ``mask`` (2-D, its row
        ``r % len(mask)`` for row ``r``) added (float) or keeping (bool) elements, by a fused
        kernel; or None where the op's array formula is to run instead."""
        return None

    def softmax_rows_backward(self, g2, y, mask=None, log=False):
        """The input gradient of softmax over the rows of its 2-D output ``y`` (however it was
        computed) by a fused kernel, or None where the op's array formula is to run."""
        return None

    # ---- devices, memory and events: what gputensor.cuda calls ------------------------------
    # A kind without devices (the CPU) keeps these defaults: one device, always current, whose
    # work is done when its call returns, with no memory statistics.
    def array_type(self) -> type:
        """The class of this backend's arrays (counted as backend arrays once it loads)."""
        return self.xp.ndarray

    def device_count(self) -> int:
        """How many devices of this kind can be used."""
        return 1

    def current_device(self):
        """The index of the current device."""
        return self.current_index

    def check_index(self, index) -> None:
        """Raise torch's error for a device index this machine does not have."""
        return None  # one device: every index means it

    def set_device(self, index: int) -> None:
        """Make device ``index`` current."""
        return None  # the one device is always current

    def device_properties(self, index=None) -> dict:
        """name, major, minor, total_memory and multi_processor_count of a device."""
        raise NotImplementedError(f"{self.name} devices have no properties")

    def synchronize(self, index=None) -> None:
        """Wait until the work queued on device ``index`` (default: current) is done."""
        return None  # the work is done when its call returns

    def new_event(self, timing: bool, blocking: bool):
        """A new event marking a point of the device's work (``record``/``synchronize``)."""
        raise NotImplementedError(f"{self.name} has no events")

    def elapsed_ms(self, start, end) -> float:
        """Milliseconds between two recorded events."""
        raise NotImplementedError(f"{self.name} has no events")

    def memory_allocated(self, index=None) -> int:
        """Bytes held by live arrays on device ``index`` (default: current)."""
        return 0

    def max_memory_allocated(self, index=None) -> int:
        """The largest ``memory_allocated(index)`` since start or the last reset."""
        return 0

    def memory_reserved(self, index=None) -> int:
        """Bytes the allocator holds for device ``index``, in use or cached."""
        return 0

    def reset_peak_memory_stats(self, index=None) -> None:
        """Start ``max_memory_allocated(index)`` again from the current use."""
        return None  # no statistics to reset

    def empty_cache(self) -> None:
        """Give cached, unused memory back to the system."""
        return None  # no cache

    def graph_capture(self):
        """``(streams, pool)`` for capturing CUDA graphs: the module with ``Stream`` and
        ``using_allocator`` (cupy.cuda, or the simulated CuPy's emulation) and the memory
        pool to keep the graph's blocks from (None when simulated); None without graphs."""
        return None

    def deferred_device_checks(self):
        """A context in which checks that read a device value back to the host (cross
        entropy's target range) are left to the next host wait (``to_numpy``,
        ``synchronize``), including those of kernels launched in it."""
        return NO_SWITCH
