"""Numba-compiled kernels launched through CuPy: Numba's argument layout, built cheaply.

Numba's own launch (``kernel[grid, block, stream](*args)``) builds a view of every CuPy array
argument through ``__cuda_array_interface__``/DLPack on every call: tens of microseconds of
host time per launch. A ``RawKernel`` keeps Numba as the compiler but launches its code
through CuPy: the kernel's cubin for the current device (PTX when no cubin can be had) is
loaded once per device with ``cupy.cuda.function.Module``, its entry function found by the
mangled name on the PTX ``.entry`` line, and each launch passes the arguments flattened the
way Numba's ABI lays them out (numba-cuda's ``_Kernel._prepare_args``):

- an array: ``meminfo (0), parent (0), nitems, itemsize, data pointer, shape[0..ndim),
  strides[0..ndim)``, every field 64 bits, strides in bytes;
- an integer: its own width (``int64``: 8 bytes, ``int32``: 4); a float: 4 or 8 bytes;
  a boolean: 1 byte;
- a tuple (``UniTuple``/``Tuple``): its items, one after the other, each flattened.

CuPy passes a Python int as 8 bytes and a Python float as a float64, so every other scalar
is converted to the NumPy scalar of its width (a Python bool would otherwise go as 8 bytes).
The cubin (and PTX) come from Numba's code library, which Numba's disk cache
(``cache=True`` in ``launch.compiled``) keeps: a process that finds a kernel there loads it
with no compilation and no link.

The flattening function of a signature is generated once (``flattener``) so that a launch
costs one call building one tuple. ``param_layout`` reads the ``.param`` list of a compiled
entry, and ``layout_problems`` compares it with the flattened arguments: the check that the
raw launch passes the right bytes (``python -m gputensor.kernels.cuda.raw_launch`` runs it
for every registered kernel and signature; it needs NVVM, no GPU).
"""

from __future__ import annotations

import re
import sys
import warnings

import numpy as np
from numba import types
from numba.core import sigutils

_ENTRY = re.compile(r"\.entry\s+([\w$.]+)\s*\(([^)]*)\)")
_PARAM = re.compile(r"\.param\s+(?:\.align\s+\d+\s+)?\.([a-z])(\d+)\s+[\w$.]+(\[(\d+)\])?")
# widths of the PTX parameter kinds: u/s/b are integers (or pointers), f floats
_KIND = {"u": "int", "s": "int", "b": "int", "f": "float"}


def argument_types(signature) -> tuple:
    """The Numba argument types of a signature string (or of a Numba signature)."""
    if isinstance(signature, str):
        args, _ = sigutils.normalize_signature(signature)
        return tuple(args)
    return tuple(signature.args if hasattr(signature, "args") else signature)


def _scalar_converter(ty) -> str | None:
    """The name of the converter a scalar of Numba type ``ty`` goes through (None: not a
    scalar the flattening knows)."""
    if isinstance(ty, types.Boolean):
        return "bool_"
    if isinstance(ty, types.Integer):
        # CuPy passes a Python int as int64: int() keeps an np.int32 from going as 4 bytes
        if ty.bitwidth == 64 and ty.signed:
            return "int"
        return f"{'' if ty.signed else 'u'}int{ty.bitwidth}"
    if isinstance(ty, types.Float):
        return "float" if ty.bitwidth == 64 else f"float{ty.bitwidth}"
    return None


def _expressions(ty, name: str) -> list[str]:
    """The Python expressions of the flattened values of argument ``name`` of type ``ty``."""
    if isinstance(ty, types.Array):
        itemsize = np.dtype(str(ty.dtype)).itemsize
        return ["0", "0", f"{name}.size", str(itemsize), f"{name}.data.ptr",
                f"*{name}.shape", f"*{name}.strides"]
    if isinstance(ty, types.BaseTuple):
        out = []
        for index, item in enumerate(ty):
            out.extend(_expressions(item, f"{name}[{index}]"))
        return out
    converter = _scalar_converter(ty)
    if converter is None:
        raise NotImplementedError(f"raw launch: no flattening for argument type {ty}")
    return [f"{converter}({name})"]


_CONVERTERS = {"bool_": np.bool_, "int8": np.int8, "int16": np.int16, "int32": np.int32,
               "uint8": np.uint8, "uint16": np.uint16, "uint32": np.uint32,
               "uint64": np.uint64, "float16": np.float16, "float32": np.float32}


def flattener(signature):
    """A function ``flatten(*args) -> tuple`` of the values Numba's ABI passes for ``args``.

    Generated once per signature: one expression per flattened value, no loop per launch.
    Arrays need ``size``, ``data.ptr``, ``shape`` and ``strides`` (bytes), as CuPy's have.
    """
    argtypes = argument_types(signature)
    names = [f"a{i}" for i in range(len(argtypes))]
    values = [e for ty, name in zip(argtypes, names) for e in _expressions(ty, name)]
    source = (f"def flatten({', '.join(names)}):\n"
              f"    return ({', '.join(values)}{',' if values else ''})\n")
    namespace = dict(_CONVERTERS)
    exec(compile(source, f"<flatten {signature}>", "exec"), namespace)  # noqa: S102
    flatten = namespace["flatten"]
    flatten.source = source
    return flatten


def entry_name(ptx: str) -> str:
    """The mangled name of the (first) ``.entry`` of a PTX module."""
    found = _ENTRY.search(ptx)
    if found is None:
        raise ValueError("no .entry in the PTX")
    return found.group(1)


def param_layout(ptx: str) -> list[tuple[str, int]]:
    """``(kind, bytes)`` of each ``.param`` of the PTX entry, in order (kind: int or float)."""
    found = _ENTRY.search(ptx)
    if found is None:
        raise ValueError("no .entry in the PTX")
    layout = []
    for param in found.group(2).split(","):
        if not param.strip():
            continue
        match = _PARAM.search(param)
        if match is None:
            raise ValueError(f"unreadable PTX parameter {param.strip()!r}")
        kind, bits, count = match.group(1), int(match.group(2)), match.group(4)
        if count is not None:  # an aggregate passed by value: bytes, not a scalar
            layout.append(("bytes", bits // 8 * int(count)))
        else:
            layout.append((_KIND.get(kind, kind), bits // 8))
    return layout


def value_layout(value) -> tuple[str, int]:
    """``(kind, bytes)`` CuPy passes for one flattened value (a Python bool: 8 bytes)."""
    if isinstance(value, (np.integer, np.bool_)):
        return "int", value.itemsize
    if isinstance(value, np.floating):
        return "float", value.itemsize
    if isinstance(value, int):
        return "int", 8
    if isinstance(value, float):
        return "float", 8
    return type(value).__name__, 0


def layout_problems(ptx: str, values) -> list[str]:
    """Where flattened ``values`` disagree with the PTX entry's ``.param`` list (empty: none)."""
    expected = param_layout(ptx)
    given = [value_layout(v) for v in values]
    problems = []
    if len(expected) != len(given):
        problems.append(f"{len(given)} values for {len(expected)} parameters")
    for index, (want, have) in enumerate(zip(expected, given)):
        if want != have:
            problems.append(f"parameter {index}: PTX {want[0]} of {want[1]} bytes, "
                            f"launch passes {have[0]} of {have[1]} bytes")
    return problems


class _Memory:
    """The ``data`` of a ``SampleArray``: its device address."""

    __slots__ = ("ptr",)

    def __init__(self, ptr: int):
        self.ptr = ptr


class SampleArray:
    """A stand-in for a CuPy array (``data.ptr``, ``shape``, ``strides`` in bytes, ``dtype``,
    ``size``, ``ndim``): what the flattening reads, with no memory behind it."""

    def __init__(self, ptr: int, shape, dtype, strides=None):
        self.dtype = np.dtype(dtype)
        self.shape = tuple(int(s) for s in shape)
        self.ndim = len(self.shape)
        if strides is None:
            strides, step = [], self.dtype.itemsize
            for size in reversed(self.shape):
                strides.insert(0, step)
                step *= max(size, 1)
        self.strides = tuple(int(s) for s in strides)
        self.size = int(np.prod(self.shape, dtype=np.int64))
        self.data = _Memory(int(ptr))


def sample_arguments(signature) -> list:
    """Arguments of the types of ``signature`` as call sites pass them: ``SampleArray`` for
    arrays, Python ints and bools, Python floats (which the flattening must convert)."""
    samples = []
    for index, ty in enumerate(argument_types(signature)):
        samples.append(_sample(ty, index))
    return samples


def _sample(ty, index: int):
    """One sample argument of Numba type ``ty`` (distinct values per position)."""
    if isinstance(ty, types.Array):
        shape = tuple(3 + index + d for d in range(ty.ndim))
        return SampleArray(0x7F0000000000 + 0x1000 * index, shape, str(ty.dtype))
    if isinstance(ty, types.BaseTuple):
        return tuple(_sample(item, index + k) for k, item in enumerate(ty))
    if isinstance(ty, types.Boolean):
        return bool(index % 2)
    if isinstance(ty, types.Integer):
        return index + 1
    if isinstance(ty, types.Float):
        return index + 0.5
    raise NotImplementedError(f"no sample for argument type {ty}")


def load_function(dispatcher, signature):
    """CuPy's ``Function`` for the overload of ``dispatcher`` for ``signature``, loaded on the
    current device from Numba's cubin for it (its PTX when no cubin can be had)."""
    import cupy

    overload = dispatcher.overloads[argument_types(signature)]
    library = overload._codelibrary
    if getattr(library, "_setup_functions", None) or getattr(overload, "cooperative", False):
        # a module Numba initialises on load (NRT, ...) or a cooperative launch: Numba's way
        raise NotImplementedError("the kernel needs Numba's own module setup or launch")
    ptx = library.get_asm_str()
    name = entry_name(ptx)
    try:
        image = library.get_cubin()
        image = bytes(getattr(image, "code", image))
    except Exception:  # no linker for this card: the driver compiles the PTX
        image = ptx.encode()
    module = cupy.cuda.function.Module()
    module.load(image)
    return module.get_function(name)


# devices on which loading a kernel failed (and was warned about)
FAILED_DEVICES: set = set()


class RawKernel:
    """A Numba dispatcher compiled for one signature, launched through CuPy.

    ``function()`` is CuPy's loaded kernel for the current device (loaded on first use; None
    when loading failed, after one warning per device: the Numba launch is used then);
    ``flatten`` the signature's argument flattening; ``get_regs_per_thread`` the
    dispatcher's.
    """

    def __init__(self, dispatcher, pyfunc, signature: str):
        self.dispatcher = dispatcher
        self.name = getattr(pyfunc, "__qualname__", str(pyfunc))
        self.signature = signature
        self.flatten = flattener(signature)
        self._functions: dict = {}

    def get_regs_per_thread(self, *args):
        """Registers per thread of the compiled kernel (Numba's answer)."""
        return self.dispatcher.get_regs_per_thread(*args)

    def function(self, device: int):
        """The kernel loaded on ``device`` (None: the raw launch failed there)."""
        try:
            return self._functions[device]
        except KeyError:
            pass
        try:
            function = load_function(self.dispatcher, self.signature)
        except Exception as error:  # a card or driver the raw path does not work on
            if device not in FAILED_DEVICES:  # one warning per device
                FAILED_DEVICES.add(device)
                warnings.warn(f"kernel {self.name}: launching through CuPy failed on device "
                              f"{device} ({type(error).__name__}: {error}); kernels that "
                              f"fail so use Numba's launch", RuntimeWarning, stacklevel=3)
            function = None
        self._functions[device] = function
        return function


def ptx_problems(ptx: str, signature: str) -> list[str]:
    """What keeps the raw launch of compiled ``ptx`` for ``signature`` from being right:
    flattened sample arguments that disagree with its ``.param`` list, external calls."""
    values = flattener(signature)(*sample_arguments(signature))
    problems = layout_problems(ptx, values)
    if ".extern .func" in ptx:
        problems.append("the PTX calls external functions (it needs linking)")
    return problems


def main() -> int:
    """Check every registered kernel signature's launch layout against its PTX for sm_90;
    one line each; exit status 0 if all match."""
    from . import ptx as ptx_module

    results = ptx_module.compile_all()
    for result in results:
        problems = list(result.layout) if result.ok else [result.error or "no PTX"]
        print(f"{'ok  ' if not problems else 'FAIL'} {result.kernel:36s} {result.signature}")
        for problem in problems:
            print(f"     {problem}")
    failed = sum(bool(r.layout) or not r.ok for r in results)
    print(f"{len(results) - failed}/{len(results)} kernel signatures: launch layout matches "
          f"the PTX")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
