"""Fused optimizer steps on the CPU: one kernel call per step, parameters updated in place.

The kernels of ``kernels/step_loops.py``, generated from the rules of ``kernels.rules``
(inlined), with ``OUTER`` bound to ``numba.prange`` over the chunks and ``INNER`` to
``range`` over a chunk's elements. A rule's tensors (parameters, gradients) arrive as
tables of the addresses of the user's 1-D arrays (``array_list``), read and written through
the address as the CUDA kernels do (a typed list of the arrays cost about 0.2 us per array
and chunk, and an array made over each chunk's address left the loop 3-7% slower than one
over a flat buffer), its state as flat buffers.
One explicit signature per dtype (float32, float64) is compiled on first use and cached on
disk (``cache=True``; the kernel's name carries a digest of its sources). Scalars arrive in
the arrays' dtype, so float32 parameters are updated in float32 arithmetic, as torch does.
Steps under ``SERIAL_BELOW`` elements run a one-thread build of the same loop (see there
why).
"""

from __future__ import annotations

import sys

import numba
import numpy as np
from numba import prange
from numba.core import types
from numba.extending import intrinsic

from .. import addresses, rules
from ..step_loops import build

_load_at = intrinsic(addresses.load_at(types))
_store_at = intrinsic(addresses.store_at(types))


@numba.njit(inline="always")
def _tensor(table, k, start, n, like):
    """Elements ``start:start + n`` of tensor ``k`` of an address table: (address, start)."""
    return table[k], start


@numba.njit(inline="always")
def _load(window, j, like):
    """Element ``j`` of a window."""
    return _load_at(window[0], window[1] + j, like)


@numba.njit(inline="always")
def _store(window, j, value):
    """Write element ``j`` of a window."""
    _store_at(window[0], window[1] + j, value)


# rule -> its kernel (a plain Python function until compiled_kernel compiles it). A tensor
# is a table of its arrays' addresses, read and written through the address (the same
# intrinsics as kernels/cuda/optim.py's, for Numba's CPU target)
KERNELS = build("cpu", numba.njit(inline="always"),
                {"OUTER": prange, "INNER": range, "TENSOR": _tensor, "LOAD": _load,
                 "STORE": _store}, sys.modules[__name__])

# elements; smaller steps run on one thread: the vectorised loop is memory-bound, so a
# second thread adds little, and waking the pool right after a BLAS call makes the two
# thread pools fight over the cores (an MLP's Adam step took 3 ms instead of 0.3 ms)
SERIAL_BELOW = 1 << 24
_NUMBA_TYPES = {np.dtype(np.float32): numba.float32, np.dtype(np.float64): numba.float64}
_COMPILED: dict = {}


def signature(name: str, dtype):
    """The explicit Numba signature of rule ``name``'s kernel for ``dtype``."""
    rule = rules.RULES[name]
    scalar = _NUMBA_TYPES[np.dtype(dtype)]
    array = numba.types.Array(scalar, 1, "C")
    return numba.void(*([numba.types.Array(numba.int64, 1, "C")] * len(rule.tensors)
                        + [array] * len(rule.buffers) + [numba.types.Array(numba.int64, 2, "C")]
                        + [scalar] * len(rule.scalars) + [numba.boolean] * len(rule.flags)))


def compiled_kernel(name: str, dtype, parallel: bool = True):
    """Kernel ``name`` compiled for ``dtype`` (float32 or float64), compiling on first use.

    ``parallel=False`` gives the same loop on one thread, for steps too small to be worth
    waking the thread pool.
    """
    dtype = np.dtype(dtype)
    key = (name, dtype, parallel)
    kernel = _COMPILED.get(key)
    if kernel is None:
        source = KERNELS[name]
        if not parallel:  # the serial build needs a name of its own in the on-disk cache
            source = type(source)(source.__code__, source.__globals__,
                                  f"{source.__name__}_serial")
            source.__qualname__ = source.__name__
        # error_model="numpy": no zero-division check per element, so the loop vectorises
        kernel = numba.njit(signature(name, dtype), parallel=parallel, cache=True,
                            error_model="numpy")(source)
        _COMPILED[key] = kernel
    return kernel


def _address(array) -> int:
    return array.__array_interface__["data"][0]


def array_list(arrays):
    """The kernel form of a rule's tensor: a table (int64 array) of the addresses of its
    1-D C-contiguous arrays, which must outlive every call given the table."""
    return np.array([_address(a) for a in arrays], dtype=np.int64)


def update_array_list(table, arrays, changed):
    """``table`` (an ``array_list``) holding ``arrays`` again: its items ``changed`` replaced
    (a CPU kernel call has returned before the next one starts)."""
    for k in changed:
        table[k] = _address(arrays[k])
    return table


def chunk_table(chunks, like):
    """The kernel form of a chunk table (an int64 NumPy array): itself."""
    return chunks


def bind_step(name: str, arrays: dict, chunks, flags: dict, dtype, size: int):
    """Rule ``name``'s kernel call over ``size`` elements of one float dtype with its arrays
    and flags bound: ``run(scalars)`` then updates them in place.

    ``arrays`` maps each of the rule's tensors to its ``array_list`` and each buffer to a
    flat array, ``chunks`` is the chunk table (see kernels/step_loops.py), ``flags`` and the
    ``scalars`` given to ``run`` map the rule's flags and scalars (converted to ``dtype``)
    by name.
    """
    rule = rules.RULES[name]
    parallel = size >= SERIAL_BELOW
    dtype = np.dtype(dtype)
    kernel = _COMPILED.get((name, dtype, parallel)) or compiled_kernel(name, dtype, parallel)
    head = [arrays[a] for a in rule.tensors + rule.buffers] + [chunks]
    tail = [bool(flags[f]) for f in rule.flags]
    names = rule.scalars
    # the compiled entry point of the kernel's one signature: the dispatcher would work out
    # the Numba type of each argument again on every call, and
    # the entry point converts Python numbers to the signature's scalar type itself
    call = getattr(next(iter(kernel.overloads.values()), None), "entry_point", kernel)

    def run(scalars: dict) -> None:
        call(*head, *[float(scalars[s]) for s in names], *tail)
    return run


def optimizer_step(name: str, arrays: dict, chunks, values: dict, dtype, size: int) -> None:
    """Run rule ``name`` once in place (``values``: its scalars and flags; see bind_step)."""
    bind_step(name, arrays, chunks, values, dtype, size)(values)
