"""The CUDA backend: CuPy arrays plus our Numba CUDA kernels (stand-ins when simulated).

``CudaBackend`` is made and loaded by ``backends.backend_for("cuda")`` on the first use of
CUDA, never at ``import gputensor``. Real mode: ``xp`` is CuPy. Simulated mode
(``GPUTENSOR_SIMULATE_CUDA=N``, N devices): ``xp`` is ``backends/simcupy``'s namespace, arrays
that act as CuPy's (they know their device and refuse host operands, other devices' arrays and
implicit host conversion as CuPy does), and the Numba CUDA kernels run in Numba's simulator,
so CI exercises the dispatch and the kernels without a GPU. Transfers copy, as they would
across the bus; the memory statistics report 0.

Process-wide settings, all made by ``load()`` (the first use of CUDA), none at import:

- simulated: ``NUMBA_ENABLE_CUDASIM=1``, which Numba reads when ``numba.cuda`` is first
  imported (Numba's configuration is re-read if numba itself is already loaded); loading fails
  with a clear error if ``numba.cuda`` was already imported for a real GPU;
- ``NUMBA_CUDA_ARRAY_INTERFACE_SYNC=0`` (unless set): our kernels run on CuPy's current
  stream, so Numba need not make the host wait for that stream on every launch that receives
  a CuPy array; ``NUMBA_CUDA_LOW_OCCUPANCY_WARNINGS=0`` (unless set): small tensors make small
  grids, and Numba would warn about each one;
- real GPU: a ``cupy.cuda.MemoryHook`` (``PeakMemoryCounter``) entered on the loading thread,
  which counts the bytes CuPy's pool hands out per device for ``max_memory_allocated``. CuPy's
  allocator is left as it is.

An op runs with its tensors' device current (``on_device``): ``current_index`` mirrors the
current device, so checking costs one comparison.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import sys

import numpy as np

from . import cuda as cuda_switches
from . import simcupy
from .array_ops import activation_formula
from .array_ops import sum_to_shape as sum_to_shape_xp
from .base import BFLOAT16_ON_CUDA, Backend, OutOfMemoryError
from .cpu import cpu_backend
from .cuda_memory import format_size, peak_memory_hook
from .flat_step import KERNEL_DTYPES, bind_step, run_step
from .kernel_ufuncs import KernelNamespace
from .row_hooks import RowHooks

# Which implementation each hook uses by default: True = our Numba kernel (kernels/cuda),
# False = CuPy (cuBLAS for matmul). No GPU was at hand when this was written: the defaults
# follow the design (CuPy for what it does in one call, our kernels where they fuse several
# CuPy passes into one launch). benchmarks/gpu_bench.py times each pair on a GPU and prints
# the faster one, so an entry here can follow the numbers (recorded in benchmarks/RESULTS.md);
# ``CudaBackend.choose(hook, ours)`` flips one at run time.
USE_OUR_KERNEL = {
    "elementwise": False,          # CuPy's ufuncs (one kernel each, like ours)
    "matmul": False,               # cuBLAS (cupy.matmul)
    "sum_to_shape": False,         # cupy.sum over the broadcast axes
    "optimizer_step": True,        # one fused launch per step for every parameter (the only
                                   # implementation: CuPy would take a pass per operation)
    "activation_backward": True,   # one fused launch instead of 2-3 CuPy elementwise passes
    "cross_entropy": True,         # one launch forward, one backward, instead of ~30 CuPy ones
    "layer_norm": True,            # one launch forward (a block per row), two backward
    "softmax": True,               # softmax/log_softmax over the last dim: one launch
    "softmax_backward": True,      # softmax's backward: one launch
    "log_softmax_backward": True,  # log_softmax's backward: one launch
    "gelu": True,                  # gelu forward, backward: one launch each (not yet timed
                                   # on a card: benchmarks/gpu_bench.py has the rows)
}
SIMULATED_FORMULAS = ("layer_norm", "softmax", "softmax_backward", "log_softmax_backward",
                      "gelu")
EXTRA_HINT = ("install a CUDA build of gputensor's dependencies: pip install "
              "'gputensor[cuda13]' (CUDA 13 driver) or 'gputensor[cuda12]' (CUDA 12 driver)")
# the dtypes CuPy's ``add.at`` (atomicAdd) handles; int64 and the rest are summed by sorting
_ATOMIC_ADD_DTYPES = tuple(np.dtype(d) for d in ("int32", "uint32", "uint64", "float16",
                                                  "float32", "float64"))
NUMBA_SETTINGS = {"NUMBA_CUDA_ARRAY_INTERFACE_SYNC": "0", "NUMBA_CUDA_LOW_OCCUPANCY_WARNINGS": "0"}


def _reload_numba_config() -> None:
    """Make an already imported numba read the NUMBA_* variables again."""
    config = sys.modules.get("numba.core.config")
    if config is not None:
        config.reload_config()


def _set_numba_variables(simulated: bool) -> None:
    """The process-wide Numba settings of the module docstring, made before numba.cuda loads."""
    if simulated:
        if os.environ.get("NUMBA_ENABLE_CUDASIM", "1") != "1":
            raise RuntimeError("CUDA is not available: GPUTENSOR_SIMULATE_CUDA=1 needs the "
                               "Numba simulator, but NUMBA_ENABLE_CUDASIM is set to "
                               f"{os.environ['NUMBA_ENABLE_CUDASIM']!r}")
        if "numba.cuda" in sys.modules and not _numba_simulates():
            raise RuntimeError("CUDA is not available: GPUTENSOR_SIMULATE_CUDA=1 was set after "
                               "numba.cuda was imported for a real GPU; set it before importing "
                               "gputensor or numba")
        os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
    elif os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        raise RuntimeError("CUDA is not available: NUMBA_ENABLE_CUDASIM=1 is set, so Numba "
                           "would simulate the kernels; unset it, or set "
                           "GPUTENSOR_SIMULATE_CUDA=1 to run on the simulator on purpose")
    for name, value in NUMBA_SETTINGS.items():
        os.environ.setdefault(name, value)
    _reload_numba_config()


def _numba_simulates() -> bool:
    """Whether the imported numba.cuda runs kernels in its simulator."""
    config = sys.modules.get("numba.cuda.core.config") or sys.modules.get("numba.core.config")
    return bool(getattr(config, "ENABLE_CUDASIM", False))


class _DeviceSwitch:
    """``with backend.on_device(i):`` runs the block with device ``i`` current (None: as is)."""

    __slots__ = ("backend", "index", "_context", "_previous")

    def __init__(self, backend, index):
        self.backend, self.index, self._context = backend, index, None

    def __enter__(self):
        backend = self.backend
        if self.index is not None and self.index != backend.current_index:
            self._context = backend._device_type(self.index)
            self._context.__enter__()
            self._previous, backend.current_index = backend.current_index, self.index
        return self

    def __exit__(self, *exc_info):
        if self._context is not None:
            self._context.__exit__(*exc_info)
            self._context, self.backend.current_index = None, self._previous


def _refuse_bfloat16(dtype) -> None:
    """Raise a TypeError naming the dtype for bfloat16, which CuPy cannot hold."""
    if dtype is not None and np.dtype(dtype).kind == "V":
        raise TypeError(BFLOAT16_ON_CUDA)


class CudaBackend(RowHooks, Backend):
    """CuPy (or the simulated CuPy) arrays and our Numba CUDA kernels, after ``load()``."""

    name = "cuda"

    def __init__(self):
        self.xp = None  # cupy, or simcupy's namespace when simulated; set by load()
        self.simulated = False
        self.current_index = 0  # the current device (kept by set_device and on_device)
        self.OUT_OF_MEMORY = ()  # CuPy's OutOfMemoryError once loaded on a GPU
        self.use_our_kernel = dict(USE_OUR_KERNEL)  # hook -> our kernel (True) or CuPy
        self._cupy = None  # cupy (None when simulated)
        self._base_xp = None  # cupy or simcupy.xp: ``xp`` without our elementwise kernels
        self._device_type = None  # cupy.cuda.Device or simcupy.Device
        self._pool = None  # CuPy's default memory pool (None when simulated)
        self._peak = None  # the PeakMemoryCounter (None when simulated)
        self._device_count = 0  # devices this backend can use, counted by load()
        self._kernel_modules = {}  # "optim", "activations", ... -> kernels.cuda module
        self._tf32_applied = False  # the allow_tf32 value CuPy's compute type follows
        # cross entropy's targets: checked by the kernel, the flag read at the next point the
        # host waits for the device on a GPU (as torch's device-side assert), at once simulated
        self.defer_target_checks = True
        self._target_flags = {}  # device index -> the kernel's 2-element int64 flag
        self._unchecked_targets = set()  # devices whose flag may be set since the last check

    def load(self, simulated: int) -> None:
        """Make this backend usable, or raise RuntimeError saying why CUDA cannot run here.

        ``simulated``: the number of devices to simulate (0: use CuPy on real GPUs).
        """
        if simulated:
            _set_numba_variables(simulated=True)
            simcupy.configure(simulated)
            self._base_xp, self._device_type = simcupy.xp, simcupy.Device
            self._device_count, self.current_index, self.simulated = simulated, 0, True
            self.defer_target_checks = False
            # the row kernels run a block of threads per row, each thread a Python thread in
            # Numba's simulator: a whole model would take minutes, so simulated ops take the
            # array formulas (tests/test_fused_rows.py switches the kernels on, small shapes)
            self.use_our_kernel.update(dict.fromkeys(SIMULATED_FORMULAS, False))
            self._set_namespace()
            return
        try:
            import cupy
        except ImportError as err:
            raise RuntimeError(f"CUDA is not available: CuPy is not installed ({err}); "
                               f"{EXTRA_HINT}") from None
        except Exception as err:  # noqa: BLE001 - a CuPy build that cannot load its libraries
            raise RuntimeError(f"CUDA is not available: CuPy failed to import "
                               f"({type(err).__name__}: {err}); {EXTRA_HINT}") from None
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as err:  # noqa: BLE001 - CUDARuntimeError, or a missing driver library
            raise RuntimeError(f"CUDA is not available: CuPy is installed but cannot use a GPU "
                               f"({type(err).__name__}: {err}). Check the NVIDIA driver, or "
                               f"{EXTRA_HINT}") from None
        if count == 0:
            raise RuntimeError("CUDA is not available: CuPy found no NVIDIA GPU")
        _set_numba_variables(simulated=False)
        self._cupy, self._base_xp, self._device_type = cupy, cupy, cupy.cuda.Device
        self._pool, self._peak = cupy.get_default_memory_pool(), peak_memory_hook(cupy)
        self.OUT_OF_MEMORY = (cupy.cuda.memory.OutOfMemoryError,)
        self._device_count, self.simulated = count, False
        self.current_index = cupy.cuda.runtime.getDevice()
        self._set_namespace()

    def array_type(self):
        """The class of this backend's arrays (CuPy's ndarray, or the simulated one)."""
        return self._base_xp.ndarray

    def choose(self, hook: str, ours: bool) -> None:
        """Make ``hook`` (a key of USE_OUR_KERNEL) use our Numba kernel (True) or CuPy (False)."""
        if hook not in self.use_our_kernel:
            raise KeyError(f"unknown hook {hook!r}; the hooks are {sorted(self.use_our_kernel)}")
        self.use_our_kernel[hook] = bool(ours)
        if self.xp is not None:
            self._set_namespace()

    def _set_namespace(self) -> None:
        """``xp``: CuPy (or simcupy), with our elementwise kernels when that hook is chosen."""
        if self.use_our_kernel["elementwise"]:
            elementwise = self.kernel_module("elementwise").elementwise
            self.xp = KernelNamespace(self._base_xp, elementwise)
        else:
            self.xp = self._base_xp

    def kernel_module(self, which: str):
        """The kernels.cuda module ``which`` (imported on first use: it imports numba.cuda).

        Simulated, the kernels' launcher first learns the simulated arrays (kernels/ imports
        nothing from gputensor, so the backend hands them over).
        """
        module = self._kernel_modules.get(which)
        if module is None:
            if self.simulated and not self._kernel_modules:
                checked = importlib.import_module("gputensor.kernels.cuda.checked")
                checked.register_simulated_arrays(simcupy.ndarray, simcupy.xp,
                                                  simcupy.device_view)
            module = importlib.import_module(f"gputensor.kernels.cuda.{which}")
            if self.simulated:  # (its calls are device work a simulated capture records)
                module = simcupy.RecordedModule(module)
            self._kernel_modules[which] = module
        return module

    # ---- arrays ----------------------------------------------------------------------------
    def out_of_memory(self, err, nbytes=None, index=None) -> OutOfMemoryError:
        """The clear error for CuPy's OutOfMemoryError ``err`` (sizes in torch's wording)."""
        if nbytes is None:  # CuPy's error keeps the size it failed to allocate in ``_size``
            nbytes = getattr(err, "_size", 0)
        index = self.current_index if index is None else index
        text = f"CUDA out of memory. Tried to allocate {format_size(int(nbytes))}."
        with contextlib.suppress(Exception):
            free, total = self._cupy.cuda.runtime.memGetInfo()
            text += (f" GPU {index} has a total capacity of {format_size(total)} of which "
                     f"{format_size(free)} is free.")
        with contextlib.suppress(Exception):
            used, reserved = self._pool.used_bytes(), self._pool.total_bytes()
            text += (f" Of the allocated memory {format_size(used)} is allocated by "
                     f"gputensor, and {format_size(reserved - used)} is reserved by gputensor "
                     "but unallocated.")
        return OutOfMemoryError(text)

    def on_device(self, index):
        """A context manager that makes device ``index`` current for its block (None: as is)."""
        return _DeviceSwitch(self, index)

    def set_device(self, index: int) -> None:
        """Make CUDA device ``index`` current."""
        self.check_index(index)
        self._device_type(index).use()
        self.current_index = index

    def asarray(self, data, dtype=None, index=None):
        """A new array on device ``index`` (default: current) holding a copy of ``data``.

        ``data`` is host data or a device array of any device (a device-to-device copy).
        """
        self.check_index(index)
        _refuse_bfloat16(dtype if dtype is not None else getattr(data, "dtype", None))
        nbytes = int(getattr(data, "nbytes", 0))
        xp = self.xp
        try:
            with self.on_device(index):
                if isinstance(data, xp.ndarray):  # copy() copies to the current device
                    out = data.copy()
                    return out if dtype is None or out.dtype == dtype else out.astype(dtype)
                return xp.array(data, dtype=dtype, copy=True)
        except self.OUT_OF_MEMORY as err:
            raise self.out_of_memory(err, nbytes, index) from None

    def full(self, shape, value, dtype, index=None):
        """A new array on device ``index`` (default: current) filled with ``value``, made there."""
        self.check_index(index)
        _refuse_bfloat16(dtype)
        try:
            with self.on_device(index):
                return self.xp.full(shape, value, dtype=dtype)
        except self.OUT_OF_MEMORY as err:
            raise self.out_of_memory(err, math.prod(shape) * np.dtype(dtype).itemsize,
                                     index) from None

    def to_numpy(self, array) -> np.ndarray:
        """A host (NumPy) copy of a device array (deferred target checks raise first)."""
        if self._unchecked_targets:
            self.check_deferred_targets()
        return self.xp.asnumpy(array)

    def check_index(self, index) -> None:
        """Raise torch's error for a device index this machine does not have."""
        if index is not None and not 0 <= index < self.device_count():
            raise RuntimeError("CUDA error: invalid device ordinal\nCUDA kernel errors might be "
                               "asynchronously reported at some other API call, so the "
                               "stacktrace below might be incorrect.")

    # ---- hooks -----------------------------------------------------------------------------
    def sum_to_shape(self, array, shape):
        """Sum a broadcast gradient back down to ``shape`` (the choice: use_our_kernel)."""
        if array.shape == shape:
            return array
        if self.use_our_kernel["sum_to_shape"] and array.dtype in KERNEL_DTYPES:
            return self.kernel_module("reduce").sum_to_shape(array, shape)
        return sum_to_shape_xp(array, shape)

    def scatter_accumulate(self, target, positions, values, how: str) -> None:
        """Combine ``values`` into ``target`` at ``positions`` in place: a sum by CuPy's
        atomic ``add.at`` for the dtypes it has, anything else by sorting (array_ops)."""
        if how == "sum" and target.dtype in _ATOMIC_ADD_DTYPES:
            self.xp.add.at(target, positions, values)
        else:
            super().scatter_accumulate(target, positions, values, how)

    def matmul(self, a, b):
        """Matrix product with batch broadcasting (the choice: use_our_kernel)."""
        if (self.use_our_kernel["matmul"] and a.dtype == np.float32 and b.dtype == np.float32
                and 2 <= a.ndim <= 3 and 2 <= b.ndim <= 3):
            return self.kernel_module("matmul").matmul(a, b)
        if a.dtype == np.float32 and self._cupy is not None:
            self._apply_tf32_switch()
        return self.xp.matmul(a, b)

    def _apply_tf32_switch(self) -> None:
        """Set CuPy's float32 cuBLAS compute type from ``backends.cuda.matmul.allow_tf32``
        when the switch changed since the last product (TF32 needs compute capability 8.0).

        Until the switch is first set to True, CuPy's own choice (``CUPY_TF32``) stands."""
        allow = bool(cuda_switches.matmul.allow_tf32)
        if allow == self._tf32_applied:
            return
        self._tf32_applied = allow
        if allow and int(self._cupy.cuda.Device().compute_capability) < 80:
            return  # no TF32 on this GPU: products stay float32
        linalg = self._cupy._core._routines_linalg
        kind = (getattr(linalg, "COMPUTE_TYPE_TF32", 7) if allow
                else getattr(linalg, "COMPUTE_TYPE_DEFAULT", 1))
        linalg.set_compute_type(np.float32, kind)

    def optimizer_step(self, rule: str, arrays, scalars, flags) -> None:
        """Apply update rule ``rule`` (kernels/rules.py) in place (see ``run_step``).

        One fused Numba CUDA launch on CuPy's current stream; float16 arrays are updated
        through float32 copies (the kernels are compiled for float32 and float64).
        """
        run_step(self.kernel_module("optim"), rule, arrays, scalars, flags)

    def bind_optimizer_step(self, rule: str, arrays, values):
        """``optimizer_step`` bound to ``arrays`` and the flags in ``values`` (see bind_step)."""
        return bind_step(self.kernel_module("optim"), rule, arrays, values)

    def activation_backward(self, kind: str, g, y):
        """The input gradient of activation ``kind`` (relu, sigmoid, tanh) from its output.

        float32/float64 take one fused Numba kernel; other dtypes the CuPy formula (the same
        as the CPU backend's).
        """
        if self.use_our_kernel["activation_backward"] and y.dtype in KERNEL_DTYPES:
            if g.dtype != y.dtype:
                g = g.astype(y.dtype)
            return self.kernel_module("activations").activation_backward(kind, g, y)
        return activation_formula(self.xp, kind, g, y)

    def cross_entropy_rows(self, x2, targets, weight, ignore_index):
        """Cross entropy of 2-D logits by our fused kernel: ``(loss, row_weight, logp)`` per row
        (kernels/cuda/losses.py); None where the op's array formula runs instead (the hook is
        off, or a dtype other than float32/float64)."""
        if not self.use_our_kernel["cross_entropy"] or x2.dtype not in KERNEL_DTYPES:
            return None
        losses = self.kernel_module("losses")
        if not self.defer_target_checks:  # the kernel's flag is read now: IndexError here
            return losses.cross_entropy_forward(x2, targets, weight, ignore_index)
        flag = self._target_flags.get(self.current_index)
        if flag is None:
            flag = self._target_flags[self.current_index] = self.xp.zeros(2, dtype=np.int64)
        self._unchecked_targets.add(self.current_index)
        return losses.cross_entropy_forward(x2, targets, weight, ignore_index, bad=flag)

    @contextlib.contextmanager
    def deferred_device_checks(self):
        """Target checks deferred inside (``defer_target_checks``); a flag a kernel launched
        inside may set (a CUDA graph's) is read at the next host wait."""
        saved, self.defer_target_checks = self.defer_target_checks, True
        try:
            yield
        finally:
            self.defer_target_checks = saved
            if self.current_index in self._target_flags:
                self._unchecked_targets.add(self.current_index)

    def check_deferred_targets(self) -> None:
        """Raise the IndexError of a cross-entropy target out of range flagged on a device
        since the last check (``defer_target_checks``): one read per device that ran the
        kernel, made where the host waits for the device anyway."""
        while self._unchecked_targets:
            index = self._unchecked_targets.pop()
            flag = self._target_flags[index]
            with self.on_device(index):
                if int(flag[0]):
                    target = int(flag[1])
                    flag.fill(0)
                    raise IndexError(f"Target {target} is out of bounds.")

    def cross_entropy_rows_backward(self, logp, targets, row_weight, coef, ignore_index):
        """The logits' gradient after ``cross_entropy_rows`` (``coef``: the per-row factor)."""
        return self.kernel_module("losses").cross_entropy_backward(logp, targets, row_weight, coef,
                                                              ignore_index)

    def row_kernels(self):
        """The CUDA row kernels (layer norm, softmax; kernels/cuda/rows.py)."""
        return self.kernel_module("rows")

    def gelu(self, x, approximate: str):
        """gelu by one fused launch (kernels/cuda/gelu.py); None for dtypes without a kernel
        (the op's CuPy formula runs)."""
        if not self.use_our_kernel["gelu"] or x.dtype not in KERNEL_DTYPES:
            return None
        return self.kernel_module("gelu").gelu_forward(x, approximate == "tanh")

    def gelu_backward(self, g, x, approximate: str):
        """The input gradient of gelu by one fused launch; None for dtypes without a kernel."""
        if not self.use_our_kernel["gelu"] or x.dtype not in KERNEL_DTYPES:
            return None
        if g.dtype != x.dtype:
            g = g.astype(x.dtype)
        return self.kernel_module("gelu").gelu_backward(g, x, approximate == "tanh")

    def special_function(self, name: str, x):
        """erf, erfc or erfinv by CuPy's kernels (cupyx.scipy.special); simulated, by the CPU's
        Numba ufunc on the array's data."""
        if self._cupy is None:
            return simcupy.on_device(cpu_backend.special_function(name, simcupy.device_view(x)))
        from cupyx.scipy import special  # lazy: part of CuPy
        return getattr(special, name)(x)

    # ---- devices and memory (gputensor.cuda) ----------------------------------------------
    def device_count(self) -> int:
        """How many GPUs this backend can use (the simulated count when simulated)."""
        return self._device_count

    def current_device(self) -> int:
        """The index of the current device."""
        return self.current_index

    def device_properties(self, index=None) -> dict:
        """name, major, minor, total_memory and multi_processor_count of a device (the current
        one by default); the simulator reports itself with no memory."""
        self.check_index(index)
        if self._cupy is None:
            return {"name": "Numba CUDA simulator", "major": 9, "minor": 0, "total_memory": 0,
                    "multi_processor_count": 1}
        props = self._cupy.cuda.runtime.getDeviceProperties(
            self.current_index if index is None else index)
        raw = props["name"]
        return {"name": raw.decode() if isinstance(raw, bytes) else str(raw),
                "major": int(props["major"]), "minor": int(props["minor"]),
                "total_memory": int(props["totalGlobalMem"]),
                "multi_processor_count": int(props["multiProcessorCount"])}

    def synchronize(self, index=None) -> None:
        """Wait until every queued kernel and copy on device ``index`` (default: current) is
        done."""
        if self._cupy is not None:
            self._cupy.cuda.Device(self.current_index if index is None else index).synchronize()
        if self._unchecked_targets:
            self.check_deferred_targets()

    def new_event(self, timing: bool, blocking: bool):
        """A new CUDA event (CuPy's; a wall-clock one when simulated)."""
        if self._cupy is None:
            return simcupy.Event()
        return self._cupy.cuda.Event(block=blocking, disable_timing=not timing)

    def elapsed_ms(self, start, end) -> float:
        """Milliseconds between two recorded events (``end`` must be complete)."""
        if self._cupy is None:
            return simcupy.elapsed_ms(start, end)
        return float(self._cupy.cuda.get_elapsed_time(start, end))

    def memory_allocated(self, index=None) -> int:
        """Bytes held by live arrays on device ``index`` (default: current); 0 when simulated."""
        if self._pool is None:
            return 0
        with self.on_device(index):  # CuPy's pool reports the current device's use
            return int(self._pool.used_bytes())

    def max_memory_allocated(self, index=None) -> int:
        """The largest ``memory_allocated(index)`` since start or ``reset_peak_memory_stats``."""
        if self._pool is None:
            return 0
        peak = self._peak.peak.get(self.current_index if index is None else index, 0)
        return max(peak, self.memory_allocated(index))

    def memory_reserved(self, index=None) -> int:
        """Bytes CuPy's pool holds from the driver for device ``index``, in use or cached."""
        if self._pool is None:
            return 0
        with self.on_device(index):
            return int(self._pool.total_bytes())

    def reset_peak_memory_stats(self, index=None) -> None:
        """Start ``max_memory_allocated(index)`` again from the current use."""
        if self._peak is not None:
            self._peak.reset(self.current_index if index is None else index,
                             self.memory_allocated(index))

    def empty_cache(self) -> None:
        """Give the cached, unused blocks of CuPy's memory pools back to the driver."""
        if self._cupy is not None:
            self._pool.free_all_blocks()
            self._cupy.get_default_pinned_memory_pool().free_all_blocks()

    def graph_capture(self):
        """``(cupy.cuda, CuPy's memory pool)``; simulated, the simulated CuPy's emulation."""
        return (simcupy, None) if self.simulated else (self._cupy.cuda, self._pool)
