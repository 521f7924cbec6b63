"""Fused optimizer steps on CUDA: one grid-stride kernel per update rule over flat buffers.

The same scalar rules as ``kernels/cpu`` (``kernels.rules``), wrapped as inlined device
functions. Each kernel updates a few same-length contiguous 1-D buffers in place, one launch
per step. One explicit signature per dtype (float32, float64) is compiled on first use and
cached on disk (``cache=True``; the kernel's name carries a digest of ``rules.py``); scalars
arrive in the buffers' dtype, so float32 buffers are updated in float32 arithmetic. On a
GPU the launch goes to CuPy's current stream without synchronising the host; under
``NUMBA_ENABLE_CUDASIM=1`` the simulator runs it on the default stream, on NumPy arrays.
"""

from __future__ import annotations

import numpy as np
from numba import cuda

from .._rebind import cache_keyed
from ..step_loops import build
from . import launch


@cuda.jit(device=True, inline="always")
def _grid_stride(n):
    """This thread's indices of a 1-D grid-stride loop over ``n`` elements."""
    return range(cuda.grid(1), n, cuda.gridsize(1))


# rule -> (kernel, number of buffers, number of float scalars, number of flags), the kernels
# of kernels/step_loops.py. Launch configuration of each: 1-D grid-stride loop over the
# buffers' elements, launch.BLOCK threads per block, launch.grid_size(n) blocks (at most one
# full wave), on launch.stream() (CuPy's current stream); one element per thread per turn.
RULE_KERNELS = build(_grid_stride, cuda.jit(device=True, inline="always"))
# the buffer each rule only reads (the gradient); optimizers also pass it for unused slots
_READ_ONLY = {"sgd": 1, "adam": 1, "rmsprop": 1, "adagrad": 1}
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
# the compiled functions, named with the rules' digest for the on-disk cache (see _rebind)
_SOURCES = {name: cache_keyed(spec[0], "cuda") for name, spec in RULE_KERNELS.items()}


def signature(name: str, dtype) -> str:
    """The explicit signature of rule ``name``'s kernel for ``dtype``."""
    _, n_arrays, n_scalars, n_flags = RULE_KERNELS[name]
    t = np.dtype(dtype).name
    return f"void({', '.join([f'{t}[::1]'] * n_arrays + [t] * n_scalars + ['boolean'] * n_flags)})"


# the registry of kernels/cuda/__init__.py: every kernel with every signature it is used with
KERNELS = [(f"optim.{name}", _SOURCES[name], [signature(name, d) for d in DTYPES])
           for name in RULE_KERNELS]
_COMPILED: dict = {}


def compiled_kernel(name: str, dtype):
    """Kernel of rule ``name`` compiled for ``dtype`` (float32 or float64) on first use."""
    dtype = np.dtype(dtype)
    kernel = _COMPILED.get((name, dtype))
    if kernel is None:
        kernel = launch.compiled(_SOURCES[name], signature(name, dtype))
        _COMPILED[(name, dtype)] = kernel
    return kernel


def _simulator_args(name: str, arrays) -> list:
    """The arrays, those the kernel only reads marked as inputs: the simulator copies every
    other array back after the launch, and a stale copy of an aliased gradient must not win."""
    read_only = _READ_ONLY.get(name)
    if read_only is None:
        return list(arrays)
    grad = arrays[read_only]
    return [launch.inp(a) if a is grad else a for a in arrays]


def optimizer_step(name: str, arrays, scalars, flags) -> None:
    """Run rule ``name`` over same-length contiguous 1-D ``arrays`` of one float dtype, in place.

    ``scalars`` are numbers (converted to the arrays' dtype), ``flags`` booleans, both in the
    order of the kernel's arguments. The arrays are CuPy arrays on a GPU (NumPy arrays in
    the simulator); the launch is queued on CuPy's current stream and not waited for.
    """
    dtype = arrays[0].dtype
    kernel = _COMPILED.get((name, dtype)) or compiled_kernel(name, dtype)
    n = arrays[0].shape[0]
    if n == 0:
        return
    if launch.SIMULATED:
        arrays = _simulator_args(name, arrays)
    convert = dtype.type
    # launch: grid-stride, BLOCK threads, at most a full wave of blocks; CuPy's current stream
    kernel[launch.grid_size(n, kernel=kernel), launch.BLOCK, launch.stream()](
        *arrays, *[convert(s) for s in scalars], *[bool(f) for f in flags])
