"""Simulated kernel launches: the simulated backend's arrays, and arguments checked.

A compiled kernel is specialised to one signature and Numba's real dispatcher does not check
its arguments, so a wrong dtype, a strided array or a host array would be read as garbage on a
GPU. Under the simulator ``launch.compiled`` returns a ``CheckedKernel``: every launch's
arguments are checked against the signature (a device array of the current device, of the
signature's dtype, rank and contiguity; a number or tuple where it names one) and a clear
TypeError names the kernel and the argument that does not match. The simulated CUDA backend
hands over its array type with ``register_simulated_arrays`` (kernels/ imports nothing from
gputensor).
"""

from __future__ import annotations

import re

import numpy as np
from numba import cuda

SIMULATED_ARRAYS = {}  # "type", "namespace", "device_view": set by register_simulated_arrays


def register_simulated_arrays(array_type, namespace, device_view) -> None:
    """Use ``array_type`` as the device arrays of simulated launches.

    ``namespace``: its array module (CuPy's stand-in); ``device_view(array)``: the NumPy array
    holding its elements, which the simulator runs on (raising if the array is not on the
    current device). The simulated CUDA backend calls this when it loads.
    """
    SIMULATED_ARRAYS.update(type=array_type, namespace=namespace, device_view=device_view)


class ReadOnly:
    """A simulated launch argument the kernel only reads (see ``inp``)."""

    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array


def _split_arguments(signature: str) -> list[str]:
    """The argument types of a signature string such as ``"void(float32[::1], int64)"``."""
    inner = signature[signature.index("(") + 1:signature.rindex(")")]
    parts, depth, start = [], 0, 0
    for i, char in enumerate(inner):
        depth += char in "(["
        depth -= char in ")]"
        if char == "," and depth == 0:
            parts.append(inner[start:i].strip())
            start = i + 1
    parts.append(inner[start:].strip())
    return [p for p in parts if p]


_ARRAY_TYPE = re.compile(r"^(\w+)\[(.*)\]$")
_TUPLE_TYPE = re.compile(r"^UniTuple\((\w+),\s*(\d+)\)$")


def _number_types(kind: str) -> tuple:
    """The Python types a scalar argument of Numba type ``kind`` takes (any value if unknown)."""
    if kind in ("boolean", "bool_", "b1"):
        return (bool, np.bool_)
    if kind.startswith(("int", "uint")) or kind == "intp":
        return (int, np.integer)
    if kind.startswith("float"):
        return (int, float, np.integer, np.floating)
    return (object,)


def _argument_check(kind: str):
    """A function returning None if a value fits argument type ``kind``, else what it expects."""
    array = _ARRAY_TYPE.match(kind)
    if array:
        name, dims = array.group(1), array.group(2).split(",")
        dtype = np.dtype("bool" if name in ("boolean", "b1", "bool_") else name)
        contiguous = dims[-1].strip() == "::1"
        expected = (f"a {len(dims)}-D {'C-contiguous ' if contiguous else ''}device array of "
                    f"{dtype}")

        def check_array(value):
            if (dtype != value.dtype or len(dims) != value.ndim
                    or contiguous and not value.flags.c_contiguous):
                return expected
            return None
        check_array.expects_array = True
        return check_array
    tuple_type = _TUPLE_TYPE.match(kind)
    if tuple_type:
        item_types, length = _number_types(tuple_type.group(1)), int(tuple_type.group(2))

        def check_tuple(value):
            if (type(value) is not tuple or len(value) != length
                    or not all(isinstance(v, item_types) for v in value)):
                return f"a tuple of {length} {tuple_type.group(1)}"
            return None
        return check_tuple
    types = _number_types(kind)

    def check_number(value):
        if not isinstance(value, types) or bool not in types and isinstance(value, bool):
            return f"a {kind} number"
        return None
    return check_number


def _describe(value) -> str:
    """How a wrong argument is named in an error."""
    if hasattr(value, "dtype") and hasattr(value, "shape"):
        layout = "C-contiguous" if value.flags.c_contiguous else "strided"
        return (f"{type(value).__module__}.{type(value).__name__} of {value.dtype}, shape "
                f"{tuple(value.shape)}, {layout}")
    return f"{type(value).__name__} {value!r}"


class CheckedKernel:
    """A simulated kernel whose launches check their arguments against its signature.

    ``kernel[grid, block, stream](*args)`` as Numba's dispatcher; device arrays are handed to
    the simulator as the NumPy arrays they hold (``inp`` ones as ``cuda.In``).
    """

    def __init__(self, dispatcher, pyfunc, signature: str):
        self.dispatcher, self.signature = dispatcher, signature
        self.name = pyfunc.__qualname__
        code = pyfunc.__code__
        self.parameters = code.co_varnames[:code.co_argcount]
        self.checks = [_argument_check(kind) for kind in _split_arguments(signature)]

    def __getitem__(self, config):
        launcher = self.dispatcher[config]

        def launch(*args):
            return launcher(*self.arguments(args))
        return launch

    def arguments(self, args) -> list:
        """``args`` checked against the signature, as the simulator takes them."""
        if len(args) != len(self.checks):
            raise TypeError(f"kernel {self.name} takes {len(self.checks)} arguments "
                            f"({self.signature}), got {len(args)}")
        array_type = SIMULATED_ARRAYS.get("type")
        out = []
        for position, (value, check) in enumerate(zip(args, self.checks)):
            read_only = type(value) is ReadOnly
            if read_only:
                value = value.array
            expects_array = getattr(check, "expects_array", False)
            problem = None
            if expects_array and (array_type is None or not isinstance(value, array_type)):
                problem = "a device array"
            problem = problem or check(value)
            if problem is not None:
                raise TypeError(f"kernel {self.name}: argument {position} "
                                f"({self.parameters[position]}) must be {problem}, got "
                                f"{_describe(value)}")
            if expects_array:
                value = SIMULATED_ARRAYS["device_view"](value)
                value = cuda.In(value) if read_only else value
            out.append(value)
        return out
