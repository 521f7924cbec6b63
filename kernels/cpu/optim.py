"""Fused optimizer steps: one ``prange`` loop over flat buffers per update rule.

Each kernel applies one rule of ``kernels.rules`` (inlined) to every element of a few
same-length contiguous 1-D buffers, writing the new values in place. One explicit
signature per dtype (float32, float64) is compiled on first use and cached on disk
(``cache=True``); the cache key includes a digest of ``rules.py``, so editing a rule
recompiles the kernels that inline it. Scalars arrive in the buffers' dtype, so float32
buffers are updated in float32 arithmetic, as torch does. Buffers under ``SERIAL_BELOW``
elements run a one-thread build of the same loop (see there why).
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from .._rebind import cache_keyed
from ..step_loops import build

# rule -> (kernel, number of buffers, number of float scalars, number of flags)
KERNELS = build(prange, numba.njit(inline="always"))

# elements; smaller steps run on one thread: the vectorised loop is memory-bound, so a
# second thread adds little, and waking the pool right after a BLAS call makes the two
# thread pools fight over the cores (an MLP's Adam step took 3 ms instead of 0.3 ms)
SERIAL_BELOW = 1 << 24
_NUMBA_TYPES = {np.dtype(np.float32): numba.float32, np.dtype(np.float64): numba.float64}
_COMPILED: dict = {}


def compiled_kernel(name: str, dtype, parallel: bool = True):
    """Kernel ``name`` compiled for ``dtype`` (float32 or float64), compiling on first use.

    ``parallel=False`` gives the same loop on one thread, for buffers too small to be worth
    waking the thread pool.
    """
    dtype = np.dtype(dtype)
    key = (name, dtype, parallel)
    kernel = _COMPILED.get(key)
    if kernel is None:
        fn, n_arrays, n_scalars, n_flags = KERNELS[name]
        scalar = _NUMBA_TYPES[dtype]
        array = numba.types.Array(scalar, 1, "C")
        signature = numba.void(*([array] * n_arrays + [scalar] * n_scalars
                                 + [numba.boolean] * n_flags))
        # a qualname carrying the rules digest keys the on-disk cache to the rules' source
        source = cache_keyed(fn, "parallel" if parallel else "serial")
        # error_model="numpy": no zero-division check per element, so the loop vectorises
        kernel = numba.njit(signature, parallel=parallel, cache=True,
                            error_model="numpy")(source)
        _COMPILED[key] = kernel
    return kernel


def optimizer_step(name: str, arrays, scalars, flags) -> None:
    """Run rule ``name`` over same-length contiguous 1-D ``arrays`` of one float dtype, in place.

    ``scalars`` are numbers (converted to the arrays' dtype), ``flags`` booleans, both in the
    order of the kernel's arguments.
    """
    dtype = arrays[0].dtype
    parallel = arrays[0].shape[0] >= SERIAL_BELOW
    kernel = _COMPILED.get((name, dtype, parallel)) or compiled_kernel(name, dtype, parallel)
    convert = dtype.type
    kernel(*arrays, *[convert(s) for s in scalars], *[bool(f) for f in flags])
