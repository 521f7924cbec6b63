"""The CUDA backend: CuPy arrays plus our Numba CUDA kernels (stand-ins when simulated).

Real mode: ``xp`` is CuPy; CuPy and numba-cuda are imported by ``load()``, never at import.
Simulated mode (``GPUTENSOR_SIMULATE_CUDA=N``, N devices): ``xp`` is ``kernels/cuda/simcupy``,
NumPy arrays that act as CuPy's (they know their device and refuse host operands and
other devices' arrays as CuPy does), and the Numba CUDA kernels run in Numba's simulator
(``NUMBA_ENABLE_CUDASIM=1``), so CI exercises the dispatch and the kernels without a GPU.
Transfers copy, as they would across the bus; the memory statistics report 0.

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

from . import OutOfMemoryError, register_array_type
from .cpu import activation_formula
from .cpu import sum_to_shape as _sum_to_shape_xp
from .flat_step import KERNEL_DTYPES, run_step

name = "cuda"
xp = None  # cupy, or simcupy's namespace when simulated; set by load()
simulated = False
current_index = 0  # the current device (kept by set_device and on_device)
OUT_OF_MEMORY = ()  # the exception types that mean "the GPU is out of memory" (CuPy's)

# Which implementation each hook uses: True = our Numba kernel (kernels/cuda), False = CuPy
# (cuBLAS for matmul). No GPU was at hand when this was written: the defaults follow the
# design (CuPy for what it does in one call, our kernels where they fuse several CuPy passes
# into one launch). benchmarks/gpu_bench.py times each pair on a GPU and prints the faster
# one, so an entry here can follow the numbers (recorded in benchmarks/RESULTS.md);
# ``choose(hook, ours)`` flips one at run time.
USE_OUR_KERNEL = {
    "elementwise": False,          # CuPy's ufuncs (one kernel each, like ours)
    "matmul": False,               # cuBLAS (cupy.matmul)
    "sum_to_shape": False,         # cupy.sum over the broadcast axes
    "optimizer_step": True,        # one fused launch per step over flat buffers (the only
                                   # implementation: CuPy would take a pass per operation)
    "activation_backward": True,   # one fused launch instead of 2-3 CuPy elementwise passes
    "cross_entropy": True,         # one launch forward, one backward, instead of ~30 CuPy ones
}


_cupy = None  # cupy (None when simulated)
_sim = None  # kernels/cuda/simcupy when simulated
_pool = None
_peak = {}  # device index -> the memory pool's largest used_bytes() since the last reset
_count = [0]  # GPUs CuPy sees, counted once by load()
_KERNEL_MODULES = {}  # "optim", "activations", ... -> the kernels.cuda module, once imported
EXTRA_HINT = ("install a CUDA build of gputensor's dependencies: pip install "
              "'gputensor[cuda13]' (CUDA 13 driver) or 'gputensor[cuda12]' (CUDA 12 driver)")


def load(simulated: int) -> None:
    """Make this backend usable, or raise RuntimeError saying why CUDA cannot run here.

    ``simulated``: the number of devices to simulate (0: use CuPy on real GPUs).
    """
    global xp, OUT_OF_MEMORY, _cupy, _sim, _pool, current_index
    if simulated:
        _use_simulator()
        from ..kernels.cuda import simcupy
        simcupy.configure(simulated)
        OUT_OF_MEMORY, _cupy, _sim, _pool = (), None, simcupy, None
        _count[0], current_index = simulated, 0
        globals()["simulated"] = True
        _set_namespace()
        return
    try:
        import cupy
    except ImportError as err:
        raise RuntimeError(f"CUDA is not available: CuPy is not installed ({err}); "
                           f"{EXTRA_HINT}") from None
    except Exception as err:  # noqa: BLE001 - a CuPy build that cannot load its CUDA libraries
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
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        raise RuntimeError("CUDA is not available: NUMBA_ENABLE_CUDASIM=1 is set, so Numba "
                           "would simulate the kernels; unset it, or set "
                           "GPUTENSOR_SIMULATE_CUDA=1 to run on the simulator on purpose")
    # no host synchronisation when numba receives a CuPy array (set before numba.cuda loads)
    os.environ.setdefault("NUMBA_CUDA_ARRAY_INTERFACE_SYNC", "0")
    _cupy, _sim, _pool, _count[0] = cupy, None, cupy.get_default_memory_pool(), count
    register_array_type(cupy.ndarray)
    cupy.cuda.set_allocator(_tracked_malloc)
    OUT_OF_MEMORY = (cupy.cuda.memory.OutOfMemoryError,)
    globals()["simulated"], current_index = False, cupy.cuda.runtime.getDevice()
    _set_namespace()


def choose(hook: str, ours: bool) -> None:
    """Make ``hook`` (a key of USE_OUR_KERNEL) use our Numba kernel (True) or CuPy (False)."""
    if hook not in USE_OUR_KERNEL:
        raise KeyError(f"unknown hook {hook!r}; the hooks are {sorted(USE_OUR_KERNEL)}")
    USE_OUR_KERNEL[hook] = bool(ours)
    if xp is not None:
        _set_namespace()


def _set_namespace() -> None:
    """``xp``: CuPy (or simcupy), with our elementwise kernels when that hook is chosen."""
    global xp
    base = _cupy if _sim is None else _sim.xp
    if USE_OUR_KERNEL["elementwise"]:
        from .kernel_ufuncs import KernelNamespace
        xp = KernelNamespace(base, _kernels("elementwise").elementwise)
    else:
        xp = base


def _use_simulator() -> None:
    """Make sure Numba simulates CUDA kernels in this process, or say why it cannot."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM", "1") != "1":
        raise RuntimeError("CUDA is not available: GPUTENSOR_SIMULATE_CUDA=1 needs the Numba "
                           "simulator, but NUMBA_ENABLE_CUDASIM is set to "
                           f"{os.environ['NUMBA_ENABLE_CUDASIM']!r}")
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"  # read when numba.cuda is first imported
    if "numba.cuda" in sys.modules and not _numba_simulates():
        raise RuntimeError("CUDA is not available: GPUTENSOR_SIMULATE_CUDA=1 was set after "
                           "numba.cuda was imported for a real GPU; set it before importing "
                           "gputensor or numba")


def _numba_simulates() -> bool:
    """Whether the imported numba.cuda runs kernels in its simulator."""
    try:
        from numba.cuda.core import config
    except ImportError:  # the CUDA target built into older numba
        from numba.core import config
    return bool(config.ENABLE_CUDASIM)


# ---- arrays ----------------------------------------------------------------------------
def _format_size(nbytes: int) -> str:
    """A byte count as torch prints it in its out-of-memory message."""
    if nbytes <= 1024:
        return f"{nbytes} bytes"
    for unit, scale in (("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30)):
        if nbytes <= scale << 10 or unit == "GiB":
            return f"{nbytes / scale:.2f} {unit}"


def out_of_memory(err, nbytes=None, index=None) -> OutOfMemoryError:
    """The clear error for CuPy's OutOfMemoryError ``err`` (sizes in torch's wording)."""
    if nbytes is None:  # CuPy's error keeps the size it failed to allocate in ``_size``
        nbytes = getattr(err, "_size", 0)
    index = current_device() if index is None else index
    text = f"CUDA out of memory. Tried to allocate {_format_size(int(nbytes))}."
    with contextlib.suppress(Exception):
        free, total = _cupy.cuda.runtime.memGetInfo()
        text += (f" GPU {index} has a total capacity of {_format_size(total)} of which "
                 f"{_format_size(free)} is free.")
    with contextlib.suppress(Exception):
        used, reserved = _pool.used_bytes(), _pool.total_bytes()
        text += (f" Of the allocated memory {_format_size(used)} is allocated by gputensor, "
                 f"and {_format_size(reserved - used)} is reserved by gputensor but "
                 "unallocated.")
    return OutOfMemoryError(text)


class on_device:  # noqa: N801 - used as a context manager, like cupy.cuda.Device
    """``with on_device(i):`` runs the block with CUDA device ``i`` current (None: as it is)."""

    __slots__ = ("index", "_context", "_previous")

    def __init__(self, index):
        self.index = index
        self._context = None

    def __enter__(self):
        global current_index
        if self.index is not None and self.index != current_index:
            self._context = (_cupy.cuda if _sim is None else _sim).Device(self.index)
            self._context.__enter__()
            self._previous, current_index = current_index, self.index
        return self

    def __exit__(self, *exc_info):
        global current_index
        if self._context is not None:
            self._context.__exit__(*exc_info)
            self._context, current_index = None, self._previous


def set_device(index: int) -> None:
    """Make CUDA device ``index`` current."""
    global current_index
    check_index(index)
    (_cupy.cuda if _sim is None else _sim).Device(index).use()
    current_index = index


def asarray(data, dtype=None, index=None):
    """A new array on device ``index`` (default: current) holding a copy of ``data``.

    ``data`` is host data or a device array of any device (a device-to-device copy).
    """
    check_index(index)
    nbytes = int(getattr(data, "nbytes", 0))
    try:
        with on_device(index):
            if isinstance(data, xp.ndarray):  # copy() copies to the current device
                out = data.copy()
                return out if dtype is None or out.dtype == dtype else out.astype(dtype)
            return xp.array(data, dtype=dtype, copy=True)
    except OUT_OF_MEMORY as err:
        raise out_of_memory(err, nbytes, index) from None


def full(shape, value, dtype, index=None):
    """A new array on device ``index`` (default: current) filled with ``value``, made there."""
    check_index(index)
    try:
        with on_device(index):
            return xp.full(shape, value, dtype=dtype)
    except OUT_OF_MEMORY as err:
        raise out_of_memory(err, math.prod(shape) * np.dtype(dtype).itemsize, index) from None


def to_numpy(array) -> np.ndarray:
    """A host (NumPy) copy of a device array."""
    return xp.asnumpy(array)


def check_index(index) -> None:
    """Raise torch's error for a device index this machine does not have."""
    if index is not None and not 0 <= index < device_count():
        raise RuntimeError("CUDA error: invalid device ordinal\nCUDA kernel errors might be "
                           "asynchronously reported at some other API call, so the stacktrace "
                           "below might be incorrect.")


# ---- hooks -----------------------------------------------------------------------------
def _kernels(which: str):
    """The kernels.cuda module ``which`` (imported on first use: it imports numba.cuda)."""
    module = _KERNEL_MODULES.get(which)
    if module is None:
        module = importlib.import_module(f"gputensor.kernels.cuda.{which}")
        _KERNEL_MODULES[which] = module
    return module


def sum_to_shape(array, shape):
    """Sum a broadcast gradient back down to ``shape`` (the choice: USE_OUR_KERNEL)."""
    if array.shape == shape:
        return array
    if USE_OUR_KERNEL["sum_to_shape"] and array.dtype in KERNEL_DTYPES:
        return _kernels("reduce").sum_to_shape(array, shape)
    return _sum_to_shape_xp(array, shape)


def matmul(a, b):
    """Matrix product with batch broadcasting (the choice: USE_OUR_KERNEL)."""
    if (USE_OUR_KERNEL["matmul"] and a.dtype == np.float32 and b.dtype == np.float32
            and 2 <= a.ndim <= 3 and 2 <= b.ndim <= 3):
        return _kernels("matmul").matmul(a, b)
    return xp.matmul(a, b)


def optimizer_step(rule: str, arrays, scalars, flags) -> None:
    """Apply update rule ``rule`` (kernels/rules.py) in place over flat 1-D device buffers.

    One fused Numba CUDA launch on CuPy's current stream; float16 buffers are updated
    through float32 copies (the kernels are compiled for float32 and float64).
    """
    run_step(_kernels("optim").optimizer_step, rule, arrays, scalars, flags)


def activation_backward(kind: str, g, y):
    """The input gradient of activation ``kind`` (relu, sigmoid, tanh) from its output ``y``.

    float32/float64 take one fused Numba kernel; other dtypes the CuPy formula (the same as
    the CPU backend's).
    """
    if USE_OUR_KERNEL["activation_backward"] and y.dtype in KERNEL_DTYPES:
        if g.dtype != y.dtype:
            g = g.astype(y.dtype)
        return _kernels("activations").activation_backward(kind, g, y)
    return activation_formula(xp, kind, g, y)


def cross_entropy_rows(x2, targets, weight, ignore_index):
    """Cross entropy of 2-D logits by our fused kernel: ``(loss, row_weight, logp)`` per row
    (kernels/cuda/losses.py); None where the op's array formula runs instead (the hook is
    off, or a dtype other than float32/float64)."""
    if not USE_OUR_KERNEL["cross_entropy"] or x2.dtype not in KERNEL_DTYPES:
        return None
    return _kernels("losses").cross_entropy_forward(x2, targets, weight, ignore_index)


def cross_entropy_rows_backward(logp, targets, row_weight, coef, ignore_index):
    """The logits' gradient after ``cross_entropy_rows`` (``coef``: the per-row factor)."""
    return _kernels("losses").cross_entropy_backward(logp, targets, row_weight, coef,
                                                     ignore_index)


def erf(x):
    """erf by CuPy's kernel (one launch, x's dtype); None when simulated (the op's formula)."""
    if _cupy is None:
        return None
    from cupyx.scipy import special
    return special.erf(x)


# ---- devices and memory ------------------------------------------------------------------
def device_count() -> int:
    """How many GPUs this backend can use (the simulated count when simulated)."""
    return _count[0] if xp is not None else 0


def current_device() -> int:
    """The index of the current device."""
    return current_index


def device_properties(index=None) -> dict:
    """name, major, minor, total_memory and multi_processor_count of a device (the current
    one by default); the simulator reports itself with no memory."""
    check_index(index)
    if _cupy is None:
        return {"name": "Numba CUDA simulator", "major": 9, "minor": 0, "total_memory": 0,
                "multi_processor_count": 1}
    props = _cupy.cuda.runtime.getDeviceProperties(current_index if index is None else index)
    raw = props["name"]
    return {"name": raw.decode() if isinstance(raw, bytes) else str(raw),
            "major": int(props["major"]), "minor": int(props["minor"]),
            "total_memory": int(props["totalGlobalMem"]),
            "multi_processor_count": int(props["multiProcessorCount"])}


def synchronize(index=None) -> None:
    """Wait until every queued kernel and copy on device ``index`` (default: current) is done."""
    if _cupy is not None:
        _cupy.cuda.Device(current_index if index is None else index).synchronize()


def _tracked_malloc(size):
    """CuPy's pool allocation (on the current device), recording that device's peak use."""
    memory = _pool.malloc(size)
    used = _pool.used_bytes()
    if used > _peak.get(current_index, 0):
        _peak[current_index] = used
    return memory


def memory_allocated(index=None) -> int:
    """Bytes held by live arrays on device ``index`` (default: current); 0 when simulated."""
    if _pool is None:
        return 0
    with on_device(index):  # CuPy's pool reports the current device's use
        return int(_pool.used_bytes())


def max_memory_allocated(index=None) -> int:
    """The largest ``memory_allocated(index)`` since start or ``reset_peak_memory_stats``."""
    if _pool is None:
        return 0
    return max(_peak.get(current_index if index is None else index, 0), memory_allocated(index))


def memory_reserved(index=None) -> int:
    """Bytes CuPy's pool holds from the driver for device ``index``, in use or cached."""
    if _pool is None:
        return 0
    with on_device(index):
        return int(_pool.total_bytes())


def reset_peak_memory_stats(index=None) -> None:
    """Start ``max_memory_allocated(index)`` again from the current use."""
    _peak[current_index if index is None else index] = memory_allocated(index)


def empty_cache() -> None:
    """Give the cached, unused blocks of CuPy's memory pools back to the driver."""
    if _cupy is not None:
        _pool.free_all_blocks()
        _cupy.get_default_pinned_memory_pool().free_all_blocks()
