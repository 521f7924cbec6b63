"""Launch helpers shared by the CUDA kernels: compile-once cache, grid sizing, stream, views.

Entry points of the kernel modules take CuPy arrays on a real GPU and, under the Numba CUDA
simulator (``NUMBA_ENABLE_CUDASIM=1``), the simulated device arrays that the simulated CUDA
backend registers with ``checked.register_simulated_arrays`` (kernels/ imports nothing from
gputensor); the helpers here hide the difference. On a real GPU a kernel is launched on
CuPy's current stream and nothing here synchronises the host.

The launch path, one for every kernel: ``kernel = compiled(pyfunc, signature)`` then
``configure(kernel, grid, block)(*args)``.

- Real GPU (the default): ``compiled`` returns a ``raw_launch.RawKernel``; Numba compiles the
  kernel, CuPy loads its cubin once per device and launches it with the arguments flattened
  as Numba's ABI lays them out (raw_launch.py): a few microseconds of host time, where
  Numba's own launch spends tens building a view of every array argument. If loading fails
  on a card, one warning, and that kernel goes through Numba's launch.
- ``GPUTENSOR_NUMBA_LAUNCH=1``: ``compiled`` returns Numba's dispatcher and every launch is
  Numba's (``kernel[grid, block, stream()](*args)``), as an escape hatch.
- Simulated: ``compiled`` returns a ``CheckedKernel`` (checked.py), launched the Numba way,
  whose launches check their arguments against the kernel's signature.
"""

from __future__ import annotations

import os

import numpy as np
from numba import cuda, int64, uint32

from ..templates import specialize
from .checked import SIMULATED_ARRAYS, CheckedKernel, ReadOnly
from .raw_launch import RawKernel

MAX_DIMS = 8


def _strided_offset(i, shape, strides, ndim):
    """The memory offset (in elements) of the ``i``-th element, in row-major order, of an
    array of ``shape``/``strides`` (UniTuples of MAX_DIMS, the last ``ndim`` entries used);
    ``IDX`` is the index type (int64, or uint32 for 32-bit divisions)."""
    offset = 0
    for k in range(MAX_DIMS):
        if k == ndim:
            break
        d = MAX_DIMS - 1 - k
        q = IDX(i // shape[d])  # noqa: F821 (bound per index width)
        offset += int64(IDX(i - q * shape[d])) * strides[d]  # noqa: F821
        i = q
    return offset


# int64 indices, and uint32 ones for sizes below 2^31: there the divisions are 32-bit (a
# 64-bit one is a long software sequence on a GPU)
strided_offset = cuda.jit(device=True, inline="always")(
    specialize(_strided_offset, {"IDX": int64}, "strided_offset"))
strided_offset_u32 = cuda.jit(device=True, inline="always")(
    specialize(_strided_offset, {"IDX": uint32}, "strided_offset_u32"))


# sizes up to this take the kernels' 32-bit-index (uint32) variants
INDEX32_LIMIT = 2 ** 31 - 1
# threads per block of the 1-D grid-stride kernels
REAL_BLOCK = 256
# resident blocks per SM a grid-stride launch asks for when its kernel's register use is
# unknown: 8 x 256 threads fills an SM
BLOCKS_PER_SM = 8
# the simulator runs every thread as a Python thread: keep grids tiny there
SIM_BLOCK = 32
SIM_GRID = 2


def _config():
    """Numba's configuration module for CUDA (numba-cuda's own, or numba's)."""
    try:
        from numba.cuda.core import config
    except ImportError:  # numba without the numba-cuda package
        from numba.core import config
    return config


def simulated() -> bool:
    """True when Numba runs CUDA kernels in its CPU simulator."""
    return bool(_config().ENABLE_CUDASIM)


SIMULATED = simulated()
# GPUTENSOR_SIMULATE_REAL_SIZES=1: the simulator runs the kernels with the real GPU's block
# and tile sizes (slow: for a test with small data that checks those sizes work)
REAL_SIZES = not SIMULATED or os.environ.get("GPUTENSOR_SIMULATE_REAL_SIZES") == "1"
BLOCK = REAL_BLOCK if REAL_SIZES else SIM_BLOCK
# GPUTENSOR_NUMBA_LAUNCH=1: launch through Numba's dispatcher instead of CuPy (see above)
NUMBA_LAUNCH = os.environ.get("GPUTENSOR_NUMBA_LAUNCH") == "1"

_COMPILED: dict = {}
_SM_COUNT: dict = {}
_RESIDENT: dict = {}
_STREAMS: dict = {}


def compiled(pyfunc, signature: str, launch_bounds=None):
    """``pyfunc`` compiled for the one ``signature`` (compiled on first use, cached on disk).

    Numba's on-disk cache is used where it can be (``cache=True``); where it cannot (no
    writable cache directory, a simulator without it) the kernel is compiled without it.
    ``launch_bounds``: ``(threads per block, blocks per SM)`` the compiler is to fit the
    registers to (a real GPU only; the simulator has no registers). Simulated, the kernel
    comes wrapped in a ``CheckedKernel``; on a real GPU in a ``RawKernel`` (launched
    through CuPy) unless ``GPUTENSOR_NUMBA_LAUNCH=1``. Launch it with ``configure``.
    """
    key = (pyfunc, signature)
    kernel = _COMPILED.get(key)
    if kernel is None:
        options = {} if SIMULATED or launch_bounds is None else {"launch_bounds": launch_bounds}
        try:
            kernel = cuda.jit(signature, cache=True, **options)(pyfunc)
        except (RuntimeError, TypeError, NotImplementedError, OSError):
            kernel = cuda.jit(signature, **options)(pyfunc)
        if SIMULATED:
            kernel = CheckedKernel(kernel, pyfunc, signature)
        elif not NUMBA_LAUNCH:
            kernel = RawKernel(kernel, pyfunc, signature)
        _COMPILED[key] = kernel
    return kernel


def configure(kernel, grid, block):
    """``kernel`` (from ``compiled``) set up to run on ``grid`` x ``block`` (ints or tuples)
    on CuPy's current stream: call the result with the kernel's arguments.

    A ``RawKernel`` launches through CuPy with its flattened arguments; any other kernel
    (Numba's dispatcher, a simulated ``CheckedKernel``, a ``RawKernel`` whose loading
    failed) is launched the Numba way.
    """
    if type(kernel) is RawKernel:
        function = kernel.function(_current_device())
        if function is not None:
            flatten = kernel.flatten
            grid = grid if type(grid) is tuple else (grid,)
            block = block if type(block) is tuple else (block,)

            def run(*args):
                function(grid, block, flatten(*args))
            return run
        kernel = kernel.dispatcher
    return kernel[grid, block, stream()]


_GET_DEVICE: list = []


def _current_device() -> int:
    """CuPy's current device id (the runtime's call, looked up once)."""
    if not _GET_DEVICE:
        import cupy

        _GET_DEVICE.append(cupy.cuda.runtime.getDevice)
    return _GET_DEVICE[0]()


def sm_count() -> int:
    """Number of streaming multiprocessors of the current device."""
    device = _current_device()
    count = _SM_COUNT.get(device)
    if count is None:
        import cupy

        count = int(cupy.cuda.runtime.getDeviceProperties(device)["multiProcessorCount"])
        _SM_COUNT[device] = count
    return count


def grid_size(n: int, block: int = BLOCK, kernel=None) -> int:
    """Blocks for a grid-stride loop over ``n`` items: enough to fill the GPU, no more.

    At most one wave of resident blocks (see ``max_blocks``); at least 1.
    """
    return min(max(1, -(-n // block)), max_blocks(kernel, block))


def max_blocks(kernel=None, block: int = BLOCK) -> int:
    """The most blocks a grid-stride launch uses: the SM count times the blocks of ``kernel``
    resident per SM (``BLOCKS_PER_SM`` when no kernel is given; ``SIM_GRID`` simulated).

    A grid that fits in one wave leaves no tail of blocks waiting for a free SM.
    """
    if SIMULATED:
        return SIM_GRID
    return sm_count() * (BLOCKS_PER_SM if kernel is None else resident_blocks(kernel, block))


def resident_blocks(kernel, block: int) -> int:
    """Blocks of ``block`` threads of compiled ``kernel`` that fit on one SM at once."""
    device = _current_device()
    key = (kernel, block, device)
    count = _RESIDENT.get(key)
    if count is None:
        import cupy

        try:
            regs = kernel.get_regs_per_thread()
            if isinstance(regs, dict):
                regs = max(regs.values())
            props = cupy.cuda.runtime.getDeviceProperties(device)
            warps = -(-block // 32)
            regs_per_warp = -(-max(int(regs), 1) * 32 // 256) * 256  # allocated per 256
            by_regs = int(props.get("regsPerMultiprocessor", 65536)) // (regs_per_warp * warps)
            by_threads = int(props.get("maxThreadsPerMultiProcessor", 2048)) // block
            by_blocks = int(props.get("maxBlocksPerMultiProcessor", 32))
            count = max(1, min(by_regs, by_threads, by_blocks))
        except Exception:  # an older Numba without register counts: the default
            count = BLOCKS_PER_SM
        _RESIDENT[key] = count
    return count


def stream():
    """The Numba stream to launch on: CuPy's current stream (the default one in the simulator)."""
    if SIMULATED:
        return 0
    import cupy

    key = (cupy.cuda.Device().id, cupy.cuda.get_current_stream().ptr)
    numba_stream = _STREAMS.get(key)
    if numba_stream is None:
        ptr = key[1]
        numba_stream = cuda.legacy_default_stream() if ptr == 0 else cuda.external_stream(ptr)
        _STREAMS[key] = numba_stream
    return numba_stream


def inp(array):
    """Mark a kernel argument as read-only input (the array itself on a GPU).

    The simulator copies every array argument back after a launch, which would fail for
    read-only views and could overwrite an aliased output; simulated launches hand these to
    it as ``cuda.In`` (copied in only).
    """
    return ReadOnly(array) if SIMULATED else array


def array_module(array):
    """The array module of a device array: the simulated one's namespace, else ``cupy``."""
    simulated_type = SIMULATED_ARRAYS.get("type")
    if simulated_type is not None and isinstance(array, simulated_type):
        return SIMULATED_ARRAYS["namespace"]
    if type(array) is np.ndarray:
        return np
    import cupy

    return cupy


def contiguous(array):
    """``array`` itself if C-contiguous, else a C-contiguous copy (same shape, 0-d kept)."""
    if array.flags.c_contiguous:
        return array
    return array_module(array).ascontiguousarray(array)


def check_float(*arrays) -> np.dtype:
    """The arrays' common dtype, which must be float32 or float64 and shared by all."""
    dtype = np.dtype(arrays[0].dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"CUDA kernels support float32 and float64, got {dtype}")
    for array in arrays[1:]:
        if np.dtype(array.dtype) != dtype:
            raise TypeError(f"dtype mismatch: {dtype} and {np.dtype(array.dtype)}")
    return dtype


def flat_view(array):
    """``(buffer, offset, strides)`` addressing a strided array through a 1-D contiguous buffer.

    Element ``idx`` of ``array`` is ``buffer[offset + sum(idx[d] * strides[d])]`` (strides in
    elements, possibly 0 or negative). An array whose byte strides are not whole elements
    is copied first.
    """
    xp = array_module(array)
    itemsize = array.dtype.itemsize
    if array.size == 0:
        return xp.empty((1,), dtype=array.dtype), 0, (0,) * array.ndim
    if any(s % itemsize for s in array.strides):
        array = xp.ascontiguousarray(array)
    strides = tuple(s // itemsize for s in array.strides)
    if array.ndim == 0:
        return array.reshape(1), 0, ()
    # flip dimensions with negative strides: the flipped view starts at the lowest address
    low = array[tuple(slice(None, None, -1) if s < 0 else slice(None) for s in strides)]
    offset = sum((n - 1) * -s for n, s in zip(array.shape, strides) if s < 0)
    span = 1 + sum((n - 1) * abs(s) for n, s in zip(array.shape, strides))
    if xp is SIMULATED_ARRAYS.get("namespace") or xp is np:
        buffer = xp.lib.stride_tricks.as_strided(low, (span,), (itemsize,))
    else:
        buffer = xp.ndarray((span,), dtype=array.dtype, memptr=low.data)
    return buffer, offset, strides


def pad(values, fill: int = 0) -> tuple:
    """``values`` as a tuple of ``MAX_DIMS`` ints, left-padded with ``fill``."""
    values = tuple(int(v) for v in values)
    if len(values) > MAX_DIMS:
        raise ValueError(f"CUDA kernels support at most {MAX_DIMS} dimensions, got {len(values)}")
    return (fill,) * (MAX_DIMS - len(values)) + values


class SimMath:
    """``math`` for kernels run by the simulator: IEEE results (NaN, inf) as on a GPU.

    Python's ``math`` raises on ``log(-1)`` or ``exp(1000)`` where CUDA returns NaN or inf;
    kernel modules bind this in place of ``math`` when simulated.
    """

    def __getattr__(self, name):
        ufunc = getattr(np, name)

        def call(*args):
            with np.errstate(all="ignore"):
                return ufunc(*args)

        return call


def ceil_div(a: int, b: int) -> int:
    """``ceil(a / b)`` for positive ints."""
    return -(-a // b)
