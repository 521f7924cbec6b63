"""The CPU backend: NumPy arrays plus the named hooks ops call (``cpu_backend``, one instance)."""

from __future__ import annotations

import importlib

import ml_dtypes
import numpy as np

from .array_ops import activation_formula, sum_to_shape
from .base import NO_SWITCH, Backend
from .blas_threads import ONE_THREAD_BELOW, BlasThreads
from .flat_step import bind_step, run_step
from .parallel_matmul import SPLIT_FROM, SplitMatmul
from .row_hooks import RowHooks

_BFLOAT16 = np.dtype(ml_dtypes.bfloat16)
_GELU_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

__all__ = ["CpuBackend", "cpu_backend", "NO_SWITCH", "USE_OUR_KERNEL"]

# Which row hooks run our Numba kernel (kernels/cpu/rows.py) rather than the op's NumPy
# formula: the kernel where it was measured faster (python -m benchmarks.fused_rows, forward
# + backward of a float32 (256, 1024) input, kernel time / NumPy formula time).
USE_OUR_KERNEL = {
    "layer_norm": True,   # kernel / NumPy 0.28-0.45: a few passes over each row in cache
                          # instead of ~15 array operations over the whole input
    "softmax": True,      # forward (256, 1024) float32: 121 us on one thread (NumPy's formula
                          # 370), 60 us on 2 threads from 64k elements (torch 65): the row
                          # loops vectorise (max by LLVM's maxnum, exp32, 512-bit vectors)
    "softmax_backward": True,        # kernel / NumPy 0.83 (the backward alone): no exp
    "log_softmax_backward": True,    # kernel / NumPy 0.75 (forward + backward) since float32
                                     # rows take a vectorisable exp (kernels/cpu/fast_math.py)
    "threaded_binary": False,  # large add/sub/mul/div on all threads (see threaded_from):
                               # off, as NumPy's single thread was steadier on a shared
                               # 2-core machine (benchmarks.run, 4M a * b + c: 19 ms with
                               # NumPy, 32-38 ms threaded under load; best case 0.73x; at
                               # 100k float32, threaded or not as kernels/cpu/thread_choice.py
                               # picks: 11-17 us against NumPy's 12-23, no clear gain)
    "power": True,        # x ** 2, 3, -1, -2, -0.5 in one pass (kernels/cpu/elementwise.py):
                          # x ** 3.0 of 256k float32 13 us on 2 threads, 37 on one, against
                          # NumPy's two passes' 70
    "gelu": True,         # one fused loop each way (kernels/cpu/activations.py), vectorised
                          # float32 exp/erf/tanh: forward + backward of 256k float32 ~6x
                          # faster than the NumPy formula, on a par with torch's kernels
}

_UFUNCS = {"sum": "add", "prod": "multiply", "amax": "maximum", "amin": "minimum"}


class CpuBackend(RowHooks, Backend):
    """NumPy arrays; fused optimizer steps by Numba's CPU kernels (imported on first use)."""

    name = "cpu"
    xp = np
    current_index = None  # the CPU has no device index: ops never switch devices here
    OUT_OF_MEMORY = ()  # no exception is turned into OutOfMemoryError: NumPy's MemoryError stays

    def __init__(self):
        self._loaded = {}  # "rows", "pooling", ...: gputensor.kernels.cpu's modules (numba)
        self.use_our_kernel = dict(USE_OUR_KERNEL)  # row hook -> our kernel or the formula
        self.blas_threads = BlasThreads()  # one BLAS thread for small products
        self.split_matmul = SplitMatmul()  # ... which the calling and helper threads share

    def asarray(self, data, dtype=None, index=None):
        """An ndarray holding ``data`` (no copy when already an ndarray of ``dtype``).

        ``index`` (a device index) is accepted for symmetry with CUDA and ignored.
        """
        return np.asarray(data, dtype=dtype)

    def full(self, shape, value, dtype, index=None):
        """A new ndarray of ``shape`` and ``dtype`` filled with ``value`` (``index`` ignored)."""
        return np.full(shape, value, dtype=dtype)

    def to_numpy(self, array) -> np.ndarray:
        """The array itself: it is a NumPy array."""
        return array

    def sum_to_shape(self, array, shape):
        """Sum a broadcast gradient back down to ``shape``."""
        return sum_to_shape(array, shape)

    def matmul(self, a, b):
        """Matrix product with batch broadcasting (bfloat16: summed in float32, as torch);
        small products on one BLAS thread (see blas_threads.py)."""
        a_shape, b_shape = a.shape, b.shape
        work = (a_shape[-2] if len(a_shape) > 1 else 1) * a_shape[-1] * (
            b_shape[-1] if len(b_shape) > 1 else 1)  # multiply-adds of one product
        if work >= ONE_THREAD_BELOW or not self.blas_threads.on_one_thread:
            self.blas_threads.before_product(work)
        if a.dtype == _BFLOAT16:
            return np.matmul(a.astype(np.float32), b.astype(np.float32)).astype(_BFLOAT16)
        if work < ONE_THREAD_BELOW and a.size * b.shape[-1] >= SPLIT_FROM \
                and a.dtype.kind == "f":  # BLAS on one thread: split the larger products
            out = self.split_matmul.matmul(a, b)
            if out is not None:
                return out
        return np.matmul(a, b)

    def optimizer_step(self, rule: str, arrays, scalars, flags) -> None:
        """Apply update rule ``rule`` (see kernels/rules.py) in place (see ``run_step``).

        One fused Numba kernel call for every parameter; numba is imported on first use.
        Float dtypes without a compiled kernel (float16) are updated through float32 copies.
        """
        run_step(self._kernel_module(), rule, arrays, scalars, flags)

    def bind_optimizer_step(self, rule: str, arrays, values):
        """``optimizer_step`` bound to ``arrays`` and the flags in ``values`` (see bind_step)."""
        return bind_step(self._kernel_module(), rule, arrays, values)

    def _kernel_module(self, name: str = ""):
        """``gputensor.kernels.cpu`` (or its module ``name``), imported on first use: it
        loads numba."""
        module = self._loaded.get(name)
        if module is None:
            module = self._loaded[name] = importlib.import_module(
                "gputensor.kernels.cpu" + (f".{name}" if name else ""))
        return module

    def scatter_accumulate(self, target, positions, values, how: str) -> None:
        """Combine ``values`` into ``target`` at ``positions`` in place by NumPy's ufunc.at."""
        getattr(np, _UFUNCS[how]).at(target, positions, values)

    def row_kernels(self):
        """The CPU row kernels (kernels/cpu/rows.py), imported on first use (it loads numba)."""
        return self._kernel_module("rows")

    def activation_backward(self, kind: str, g, y):
        """The input gradient of activation ``kind`` (relu, sigmoid, tanh) from its output."""
        return activation_formula(np, kind, g, y)

    def cross_entropy_rows(self, x2, targets, weight, ignore_index):
        """None: on the CPU, cross entropy runs the op's array formula (no fused kernel)."""
        return None

    def max_pool_planes(self, x, kernel, stride, pads, dilation, out_size):
        """``(values, indices, offsets)`` of 2-D max pooling over ``x``'s last two dims by the
        Numba kernel (kernels/cpu/pooling.py) for float32/float64; None for other dtypes."""
        if x.dtype not in (np.float32, np.float64):
            return None
        planes = np.ascontiguousarray(x).reshape((-1,) + x.shape[-2:])
        results = self._kernel_module("pooling").max_pool2d_planes(
            planes, kernel, stride, pads, dilation, out_size)
        return tuple(r.reshape(x.shape[:-2] + tuple(out_size)) for r in results)

    def im2col(self, padded, kernel, stride, dilation, out_size):
        """Convolution windows by the Numba loop (kernels/cpu/windows.py), float32/64."""
        if padded.dtype not in (np.float32, np.float64) or not padded.flags.c_contiguous:
            return None
        return self._kernel_module("windows").im2col(padded, kernel, stride, dilation, out_size)

    def col2im(self, cols, padded_size, stride, dilation):
        """Windows summed back by the Numba loop (kernels/cpu/windows.py), float32/64."""
        if cols.dtype not in (np.float32, np.float64):
            return None
        return self._kernel_module("windows").col2im(cols, padded_size, stride, dilation)

    # add/sub/mul/div of float arrays from this many elements run on all Numba threads when
    # the "threaded_binary" hook is on (kernels/cpu/elementwise.py; bit-equal to NumPy's)
    threaded_from = 1 << 20

    def threaded_binary(self, name: str, a, b):
        """``a <name> b`` by a Numba loop on the threads ``set_num_threads`` gives Numba;
        None where the operands do not suit it."""
        if not self.use_our_kernel["threaded_binary"]:
            return None
        return self._kernel_module("elementwise").binary(name, a, b)

    def power(self, a, exponent: float):
        """``a ** exponent`` (2, 3, -1, -2, -0.5) of a C-contiguous float32/float64 array by
        one Numba loop (kernels/cpu/elementwise.py); None otherwise."""
        if not self.use_our_kernel["power"] or a.dtype not in _GELU_DTYPES:
            return None
        return self._kernel_module("elementwise").power(a, exponent)

    def gelu(self, x, approximate: str):
        """gelu of a float32/float64 array by one fused Numba loop; None for other dtypes."""
        if not self.use_our_kernel["gelu"] or x.dtype not in _GELU_DTYPES:
            return None
        return self._activation_kernels().gelu_forward(x, approximate == "tanh")

    def gelu_backward(self, g, x, approximate: str):
        """The input gradient of gelu by one fused Numba loop; None for other dtypes."""
        if not self.use_our_kernel["gelu"] or x.dtype not in _GELU_DTYPES:
            return None
        return self._activation_kernels().gelu_backward(g.astype(x.dtype, copy=False), x,
                                                        approximate == "tanh")

    def _activation_kernels(self):
        return self._kernel_module("activations")

    def special_function(self, name: str, x):
        """erf, erfc or erfinv by a Numba ufunc (kernels/cpu/special.py; numba loads lazily)."""
        return self._kernel_module("special").FUNCTIONS[name](x)


cpu_backend = CpuBackend()
