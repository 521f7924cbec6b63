"""Fused optimizer steps on CUDA: one launch per step, parameters updated in place.

The kernels of ``kernels/step_loops.py``, generated from the rules of ``kernels.rules``
(inlined as device functions): each block takes chunks of the chunk table in turn
(block-stride) and its threads the elements of a chunk (thread-stride). A rule's tensors
(parameters, gradients) arrive as int64 device tables of the user's arrays' device
addresses (``array_list``), read and written through ``_load``/``_store``; its state as
flat buffers. One explicit signature per dtype (float32, float64) is compiled on first use
and cached on disk (``cache=True``; the kernel's name carries a digest of its sources);
scalars arrive in the arrays' dtype, so float32 parameters are updated in float32
arithmetic. On a GPU the launch goes to CuPy's current stream without synchronising the
host. Under ``NUMBA_ENABLE_CUDASIM=1`` the simulator runs the same kernels on NumPy arrays,
the tables holding host addresses that ``_load``/``_store`` reach through ctypes.
"""

from __future__ import annotations

import ctypes
import sys

import numpy as np
from numba import cuda

from .. import addresses, rules
from ..step_loops import build
from . import launch


@cuda.jit(device=True, inline="always")
def _block_stride(n):
    """The chunks this block takes of ``n``."""
    return range(cuda.blockIdx.x, n, cuda.gridDim.x)


@cuda.jit(device=True, inline="always")
def _thread_stride(n):
    """The elements of a chunk of ``n`` this thread takes."""
    return range(cuda.threadIdx.x, n, cuda.blockDim.x)


if launch.SIMULATED:
    _CTYPES = {np.dtype(np.float32): ctypes.c_float, np.dtype(np.float64): ctypes.c_double}

    def _tensor(table, k, start, n, like):
        """Elements ``start:start + n`` of tensor ``k`` of an address table, as NumPy's."""
        ctype = _CTYPES[np.dtype(type(like))]
        whole = (ctype * int(start + n)).from_address(int(table[k]))
        return np.ctypeslib.as_array(whole)[start:]

    def _load(tensor, j, like):
        """Element ``j`` of a tensor."""
        return tensor[j]

    def _store(tensor, j, value):
        """Write element ``j`` of a tensor."""
        tensor[j] = value
else:
    from numba.cuda import types as _types
    from numba.cuda.extending import intrinsic

    @cuda.jit(device=True, inline="always")
    def _tensor(table, k, start, n, like):
        """Elements ``start:start + n`` of tensor ``k`` of an address table: (address, start)."""
        return table[k], start

    @cuda.jit(device=True, inline="always")
    def _load(window, j, like):
        """Element ``j`` of a window."""
        return _load_at(window[0], window[1] + j, like)

    @cuda.jit(device=True, inline="always")
    def _store(window, j, value):
        """Write element ``j`` of a window."""
        _store_at(window[0], window[1] + j, value)

    _load_at = intrinsic(addresses.load_at(_types))
    _store_at = intrinsic(addresses.store_at(_types))


# rule -> its kernel. Launch configuration of each: block-stride over the chunk table's rows,
# thread-stride within a chunk; launch.BLOCK threads per block, one block per chunk up to one
# full wave (launch.grid_size); on launch.stream() (CuPy's current stream).
RULE_KERNELS = build("cuda", cuda.jit(device=True, inline="always"),
                     {"OUTER": _block_stride, "INNER": _thread_stride, "TENSOR": _tensor,
                      "LOAD": _load, "STORE": _store}, sys.modules[__name__])
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def signature(name: str, dtype) -> str:
    """The explicit signature of rule ``name``'s kernel for ``dtype``."""
    rule = rules.RULES[name]
    t = np.dtype(dtype).name
    return "void({})".format(", ".join(
        ["int64[::1]"] * len(rule.tensors) + [f"{t}[::1]"] * len(rule.buffers)
        + ["int64[:, ::1]"] + [t] * len(rule.scalars) + ["boolean"] * len(rule.flags)))


# the registry of kernels/cuda/__init__.py: every kernel with every signature it is used with
KERNELS = [(f"optim.{name}", fn, [signature(name, d) for d in DTYPES])
           for name, fn in RULE_KERNELS.items()]
_COMPILED: dict = {}


def compiled_kernel(name: str, dtype):
    """Kernel of rule ``name`` compiled for ``dtype`` (float32 or float64) on first use."""
    dtype = np.dtype(dtype)
    kernel = _COMPILED.get((name, dtype))
    if kernel is None:
        kernel = launch.compiled(RULE_KERNELS[name], signature(name, dtype))
        _COMPILED[(name, dtype)] = kernel
    return kernel


def address(array) -> int:
    """The address of a CuPy array's first element (a simulated array's host address)."""
    pointer = getattr(array.data, "ptr", None)
    return array.__array_interface__["data"][0] if pointer is None else pointer


def array_list(arrays):
    """The kernel form of a rule's tensor: a device table of the 1-D arrays' addresses.

    The arrays must outlive every launch given the table (the caller keeps them).
    """
    table = np.array([address(a) for a in arrays], dtype=np.int64)
    return launch.array_module(arrays[0]).asarray(table)


def update_array_list(table, arrays, changed):
    """A new ``array_list`` of ``arrays`` (one transfer; the old table may be in use)."""
    return array_list(arrays)


def chunk_table(chunks, like):
    """The kernel form of a chunk table (an int64 NumPy array): a copy on ``like``'s device."""
    return launch.array_module(like).asarray(chunks)


def bind_step(name: str, arrays: dict, chunks, flags: dict, dtype, size: int):
    """Rule ``name``'s launch over ``size`` elements of one float dtype with its arrays and
    flags bound: ``run(scalars)`` then queues it on CuPy's current stream (not waited for).

    ``arrays`` maps each of the rule's tensors to its ``array_list`` and each buffer to a
    flat array, ``chunks`` is the chunk table (``chunk_table``; see kernels/step_loops.py),
    ``flags`` and the ``scalars`` given to ``run`` map the rule's flags and scalars
    (converted to ``dtype``) by name.
    """
    rule = rules.RULES[name]
    dtype = np.dtype(dtype)
    kernel = _COMPILED.get((name, dtype)) or compiled_kernel(name, dtype)
    rows = chunks.shape[0]
    head = [arrays[a] for a in rule.tensors + rule.buffers] + [chunks]
    tail = [bool(flags[f]) for f in rule.flags]
    convert = dtype.type
    names = rule.scalars
    # one block per chunk, at most a full wave of blocks
    grid = launch.grid_size(rows * launch.BLOCK, kernel=kernel) if rows else 0

    def run(scalars: dict) -> None:
        if grid:
            launch.configure(kernel, grid, launch.BLOCK)(
                *head, *[convert(scalars[s]) for s in names], *tail)
    return run


def optimizer_step(name: str, arrays: dict, chunks, values: dict, dtype, size: int) -> None:
    """Queue rule ``name`` once in place (``values``: its scalars and flags; see bind_step)."""
    bind_step(name, arrays, chunks, values, dtype, size)(values)
