"""The simulated CUDA device's arrays: NumPy arrays held by ``ndarray``, under CuPy's rules.

``simcupy`` (the CuPy stand-in the simulated CUDA backend uses as ``xp``) builds on this
module: the device state (how many devices, which is current), ``Device``, the ``ndarray``
class and the rules every operation follows (``operand``: a device array of the current
device, never host data; ``on_device``: results are device arrays).
"""

from __future__ import annotations

import functools

import numpy as np

from .base import BFLOAT16_ON_CUDA

_current = [0]  # the current device's index
_count = [1]  # how many devices are simulated
host_reads = [0]  # values read back to the host (each one a synchronisation on a real GPU)
capture = [None]  # the stream capture under way (sim_graphs.Recorder), or None


def recorded(fn):
    """``fn``, a device operation, recorded by the stream capture under way (sim_graphs)."""
    @functools.wraps(fn)
    def call(*args, **kwargs):
        recorder = capture[0]
        if recorder is None:
            return fn(*args, **kwargs)
        return recorder.run(fn, args, kwargs)
    return call


def count_host_read() -> None:
    """Count a value read back to the host; under a stream capture, CUDA's error."""
    host_reads[0] += 1
    if capture[0] is not None:
        capture[0].refuse("a value read back to the host")


def configure(count: int) -> None:
    """Simulate ``count`` devices, device 0 current."""
    _count[0], _current[0] = int(count), 0


class Device:
    """A device; ``with Device(i):`` makes it current for the block (``cupy.cuda.Device``)."""

    def __init__(self, index=None):
        self.id = _current[0] if index is None else int(index)
        if not 0 <= self.id < _count[0]:
            raise RuntimeError("cudaErrorInvalidDevice: invalid device ordinal")
        self._previous = []

    def __enter__(self):
        self._previous.append(_current[0])
        _current[0] = self.id
        return self

    def __exit__(self, *exc_info):
        _current[0] = self._previous.pop()

    def use(self) -> None:
        """Make this device current."""
        _current[0] = self.id

    def synchronize(self) -> None:
        """Nothing to wait for: simulated work is done when its call returns."""

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


class _Flags:
    """The flags a CuPy array has."""

    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    _KEYS = {"C_CONTIGUOUS": "c_contiguous", "F_CONTIGUOUS": "f_contiguous",
             "OWNDATA": "owndata"}

    def __init__(self, c_contiguous, f_contiguous, owndata):
        self.c_contiguous, self.f_contiguous, self.owndata = c_contiguous, f_contiguous, owndata

    def __getitem__(self, key):
        return getattr(self, self._KEYS[key])


IMPLICIT_CONVERSION = ("Implicit conversion to a NumPy array is not allowed. Please use "
                       "`.get()` to construct a NumPy array explicitly.")


def wrap(array: np.ndarray, device_id: int) -> ndarray:
    """A device array of ``device_id`` holding NumPy array ``array`` (no copy)."""
    out = object.__new__(ndarray)
    out._array, out._device_id = array, device_id
    return out


def operand(x):
    """``x`` ready for NumPy: a device array of the current device as the NumPy array it holds."""
    kind = type(x)
    if kind is ndarray:
        if x._device_id != _current[0]:
            raise ValueError(f"Array device must be same as the current device: array device "
                             f"= {x._device_id} while current = {_current[0]}")
        return x._array
    if kind is np.ndarray or kind is list or kind is tuple:
        raise TypeError(f"Unsupported type {kind}")
    return x


def device_view(array) -> np.ndarray:
    """The NumPy array holding a device array's elements (no copy), for the kernel simulator;
    ValueError if the array is not on the current device."""
    return operand(array)


def operands(value):
    """Function arguments with every array checked by ``_operand`` (inside lists too)."""
    kind = type(value)
    if kind is list or kind is tuple:
        return kind(operands(v) for v in value)
    if kind is dict:
        return {k: operands(v) for k, v in value.items()}
    if kind is ndarray or isinstance(value, np.ndarray):
        return operand(value)
    return value


def index_key(key):
    """An index for NumPy: device arrays checked by ``_operand``, host ones as they are."""
    if type(key) is tuple:
        return tuple(index_key(k) for k in key)
    return operand(key) if type(key) is ndarray else key


def on_device(result, device_id=None):
    """NumPy results as device arrays of ``device_id`` (default: current); scalars as 0-d."""
    if type(result) is ndarray:
        return result
    if isinstance(result, np.ndarray):
        if result.dtype.kind == "V":  # ml_dtypes' bfloat16: no CuPy array can hold it
            raise TypeError(BFLOAT16_ON_CUDA)
        return wrap(result, _current[0] if device_id is None else device_id)
    if isinstance(result, np.generic):
        return wrap(np.asarray(result), _current[0] if device_id is None else device_id)
    kind = type(result)
    if kind is tuple or kind is list:
        return kind(on_device(r, device_id) for r in result)
    if isinstance(result, tuple):  # a named tuple (linalg.svd's SVDResult)
        return kind(*(on_device(r, device_id) for r in result))
    return result


def call_ufunc(ufunc, method: str, inputs, kwargs):
    """Call ``ufunc.method`` under CuPy's rules; ``out=`` arrays are returned as given."""
    out = kwargs.get("out")
    if out is not None:
        kwargs = dict(kwargs, out=tuple(operand(o) for o in
                                        (out if isinstance(out, tuple) else (out,))))
    if "where" in kwargs:
        kwargs["where"] = operand(kwargs["where"])
    if method == "at":  # at(a, indices, b): indices as for indexing (host arrays allowed)
        a, indices, *b = inputs
        ufunc.at(operand(a), index_key(indices), *[operand(x) for x in b])
        return None
    result = getattr(ufunc, method)(*[operand(x) for x in inputs], **kwargs)
    if out is not None:
        out = out if isinstance(out, tuple) else (out,)
        return out[0] if len(out) == 1 else out
    return on_device(result)


call_ufunc = recorded(call_ufunc)


class _MemoryPointer:
    """What CuPy's ``ndarray.data`` gives: the device address of the first element."""

    __slots__ = ("ptr",)

    def __init__(self, ptr: int):
        self.ptr = ptr


def _is_advanced(key) -> bool:
    """Whether an index runs a gather kernel (arrays or lists in it), not a view."""
    kind = type(key)
    return kind is ndarray or kind is list or kind is np.ndarray or (
        kind is tuple and any(type(k) in (ndarray, list, np.ndarray) for k in key))


class ndarray:  # noqa: N801 - CuPy's name
    """A device array of device ``device.id``, holding a NumPy array that only the simulated
    device reads: no ``__array__`` (CuPy's TypeError instead), no buffer protocol and no
    ``__index__``, so NumPy, ``memoryview`` and the CPU kernels refuse it as they refuse
    CuPy's arrays."""

    __slots__ = ("_array", "_device_id", "__weakref__")
    __array_priority__ = 100.0  # NumPy defers binary operators to this class
    __hash__ = None

    def __init__(self, shape, dtype=float, order="C"):
        self._array = np.empty(shape, dtype=dtype, order=order)
        self._device_id = _current[0]

    def __array__(self, *args, **kwargs):
        raise TypeError(IMPLICIT_CONVERSION)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return call_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return on_device(func(*operands(args), **operands(kwargs)))

    @property
    def device(self) -> Device:
        """The device holding this array."""
        return Device(self._device_id)

    @property
    def flags(self):
        """CuPy's flags: c_contiguous, f_contiguous and owndata only (no writeable)."""
        flags = self._array.flags
        return _Flags(flags.c_contiguous, flags.f_contiguous, flags.owndata)

    @property
    def data(self) -> _MemoryPointer:
        """The memory pointer (``data.ptr``: the first element's address), as CuPy's."""
        return _MemoryPointer(self._array.__array_interface__["data"][0])

    @property
    def __cuda_array_interface__(self) -> dict:
        """The CUDA array interface (version 3) as CuPy gives it: the host memory stands in
        for the device's."""
        info = self._array.__array_interface__
        strides = None if self._array.flags.c_contiguous else self._array.strides
        return {"shape": self._array.shape, "typestr": info["typestr"], "descr": info["descr"],
                "data": info["data"], "strides": strides, "version": 3}

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """A DLPack capsule of the elements (a CPU capsule: only simcupy's ``from_dlpack``
        reads it, as memory of this array's device)."""
        options = {"max_version": max_version, "copy": copy}
        return self._array.__dlpack__(**{k: v for k, v in options.items() if v is not None})

    def __dlpack_device__(self) -> tuple:
        """(kDLCUDA, device index), as CuPy's."""
        return (2, self._device_id)

    @property
    def T(self):  # noqa: N802 - NumPy's name
        """The transposed view."""
        return wrap(self._array.T, self._device_id)

    @property
    def mT(self):  # noqa: N802 - NumPy's name
        """The view with the last two dimensions swapped."""
        return wrap(self._array.mT, self._device_id)

    @property
    def real(self):
        """The real part (a view)."""
        return wrap(self._array.real, self._device_id)

    @property
    def imag(self):
        """The imaginary part."""
        return wrap(self._array.imag, self._device_id)

    def __len__(self):
        return len(self._array)

    def __iter__(self):
        if self._array.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self._array)))

    def __getitem__(self, key):
        if _is_advanced(key):  # a gather kernel on the current device
            return on_device(operand(self)[index_key(key)])
        return on_device(self._array[index_key(key)], self._device_id)

    def __setitem__(self, key, value):
        if self._device_id != _current[0]:  # every write runs a kernel on the current device
            operand(self)
        if type(value) is ndarray or isinstance(value, np.ndarray):
            value = operand(value)
        self._array[index_key(key)] = value

    def copy(self, order="C"):
        """A copy on the current device (from any device, as CuPy's copy)."""
        return wrap(self._array.copy(order), _current[0])

    def __copy__(self):
        return wrap(self._array.copy(), self._device_id)

    def __deepcopy__(self, memo):
        return wrap(self._array.copy(), self._device_id)

    def astype(self, dtype, order="K", casting="unsafe", subok=None, copy=True):
        """The array as ``dtype``, made by the current device (itself when no copy is needed)."""
        if not copy and np.dtype(dtype) == self.dtype:
            return self
        return on_device(operand(self).astype(dtype, order=order, casting=casting))

    def fill(self, value) -> None:
        """Set every element to ``value`` (a kernel of the current device)."""
        operand(self).fill(value)

    def get(self) -> np.ndarray:
        """A host (NumPy) copy, as ``cupy.ndarray.get``."""
        count_host_read()
        return np.array(self._array, copy=True)

    # reading a value on the host waits for the device: counted in ``host_reads``
    def __bool__(self):
        count_host_read()
        return bool(self._array)

    def __float__(self):
        count_host_read()
        return float(self._array)

    def __int__(self):
        count_host_read()
        return int(self._array)

    def __complex__(self):
        count_host_read()
        return complex(self._array)

    def item(self, *args):
        """The element as a Python number (a read back to the host)."""
        count_host_read()
        return self._array.item(*args)

    def tolist(self):
        """The elements as Python numbers (a read back to the host)."""
        count_host_read()
        return self._array.tolist()

    def __repr__(self):
        return repr(self._array)

    def __str__(self):
        return str(self._array)


def _attribute(name: str):
    """A read-only attribute of the held NumPy array (shape, dtype, ...)."""
    return property(lambda self: getattr(self._array, name), doc=f"The array's {name}.")


def _view_method(name: str):
    """A method making a view (or a copy where NumPy must), on the array's own device."""
    def method(self, *args, **kwargs):
        return on_device(getattr(self._array, name)(*args, **kwargs), self._device_id)
    method.__name__ = name
    method.__doc__ = f"``{name}`` as NumPy's, the result on the array's device."
    return method


def _kernel_method(name: str):
    """A method that runs a kernel on the current device (the array must be there)."""
    def method(self, *args, **kwargs):
        return on_device(getattr(operand(self), name)(*operands(args), **operands(kwargs)))
    method.__name__ = name
    method.__doc__ = f"``{name}`` as NumPy's, run on the current device."
    return recorded(method)


def _operator(ufunc, reflected: bool = False, in_place: bool = False):
    """An arithmetic or comparison operator through ``ufunc`` under CuPy's rules."""
    if in_place:
        return lambda self, other: call_ufunc(ufunc, "__call__", (self, other), {"out": self})
    if reflected:
        return lambda self, other: call_ufunc(ufunc, "__call__", (other, self), {})
    return lambda self, other: call_ufunc(ufunc, "__call__", (self, other), {})


for _name in ("__array_function__", "__getitem__", "__setitem__", "copy", "__copy__", "astype",
              "fill"):  # device work the stream capture records
    setattr(ndarray, _name, recorded(getattr(ndarray, _name)))
for _name in ("shape", "dtype", "ndim", "size", "itemsize", "nbytes", "strides"):
    setattr(ndarray, _name, _attribute(_name))
for _name in ("reshape", "view", "ravel", "squeeze", "transpose", "swapaxes", "diagonal"):
    setattr(ndarray, _name, _view_method(_name))
for _name in ("all", "any", "argmax", "argmin", "argsort", "clip", "conj", "cumprod", "cumsum",
              "dot", "flatten", "max", "mean", "min", "nonzero", "prod", "put", "repeat",
              "round", "sort", "std", "sum", "take", "trace", "var", "partition",
              "argpartition", "compress", "choose"):
    setattr(ndarray, _name, _kernel_method(_name))
for _name, _ufunc_of in (("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                         ("truediv", np.true_divide), ("floordiv", np.floor_divide),
                         ("mod", np.remainder), ("pow", np.power), ("matmul", np.matmul),
                         ("and", np.bitwise_and), ("or", np.bitwise_or),
                         ("xor", np.bitwise_xor), ("lshift", np.left_shift),
                         ("rshift", np.right_shift)):
    setattr(ndarray, f"__{_name}__", _operator(_ufunc_of))
    setattr(ndarray, f"__r{_name}__", _operator(_ufunc_of, reflected=True))
    if _name != "matmul":
        setattr(ndarray, f"__i{_name}__", _operator(_ufunc_of, in_place=True))
for _name, _ufunc_of in (("lt", np.less), ("le", np.less_equal), ("gt", np.greater),
                         ("ge", np.greater_equal), ("eq", np.equal), ("ne", np.not_equal)):
    setattr(ndarray, f"__{_name}__", _operator(_ufunc_of))
for _name, _ufunc_of in (("neg", np.negative), ("pos", np.positive), ("abs", np.absolute),
                         ("invert", np.invert)):
    setattr(ndarray, f"__{_name}__",
            lambda self, u=_ufunc_of: call_ufunc(u, "__call__", (self,), {}))
