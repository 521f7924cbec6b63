"""A strict stand-in for CuPy in simulation: NumPy arrays that act as device arrays.

With ``GPUTENSOR_SIMULATE_CUDA`` the CUDA backend's arrays are this module's ``ndarray``:
NumPy arrays that know their device and refuse what CuPy refuses, so CI catches code that
would only break on a real GPU:

- a host array (plain NumPy) or a list as an operand of a device op raises CuPy's
  ``TypeError: Unsupported type <class 'numpy.ndarray'>``; host data reaches a device only
  through ``xp.asarray``/``xp.array`` (a copy, as a transfer is);
- an operand on another device than the current one raises ``ValueError`` (CuPy's check
  when the devices cannot reach each other's memory); ``copy()`` copies to the current
  device, as CuPy's does;
- reductions and other scalar results are 0-d device arrays, not NumPy scalars;
- ``flags`` has CuPy's three fields only (no ``writeable``);
- every value read back to the host (``bool``, ``float``, ``item``, ``get``...) is counted in
  ``host_reads``: on a GPU each one makes the host wait for the device.

``xp`` is the namespace the backend uses in place of ``cupy`` (NumPy's functions under the
rules above); ``Device(i)`` makes device ``i`` current inside a ``with`` block, as
``cupy.cuda.Device`` does; ``configure(count)`` sets how many devices exist.
"""

from __future__ import annotations

import functools
import time
import types

import numpy as np

_current = [0]  # the current device's index
_count = [1]  # how many devices are simulated
host_reads = [0]  # values read back to the host (each one a synchronisation on a real GPU)


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


class Event:
    """A simulated CUDA event: the wall-clock time it was recorded at (simulated work is done
    when its call returns, so every event is complete)."""

    done = True

    def __init__(self):
        self.time = None

    def record(self) -> None:
        """Mark now."""
        self.time = time.perf_counter()

    def synchronize(self) -> None:
        """Nothing to wait for."""


def elapsed_ms(start: Event, end: Event) -> float:
    """Milliseconds between two recorded events."""
    return (end.time - start.time) * 1e3


class _Flags:
    """The flags a CuPy array has."""

    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    _KEYS = {"C_CONTIGUOUS": "c_contiguous", "F_CONTIGUOUS": "f_contiguous",
             "OWNDATA": "owndata"}

    def __init__(self, c_contiguous, f_contiguous, owndata):
        self.c_contiguous, self.f_contiguous, self.owndata = c_contiguous, f_contiguous, owndata

    def __getitem__(self, key):
        return getattr(self, self._KEYS[key])


def _operand(x):
    """``x`` ready for NumPy: a device array of the current device as a plain view."""
    kind = type(x)
    if kind is ndarray:
        if x._device_id != _current[0]:
            raise ValueError(f"Array device must be same as the current device: array device "
                             f"= {x._device_id} while current = {_current[0]}")
        return x.view(np.ndarray)
    if kind is np.ndarray or kind is list or kind is tuple:
        raise TypeError(f"Unsupported type {kind}")
    return x


def device_view(array) -> np.ndarray:
    """The NumPy array holding a device array's elements (no copy), for the kernel simulator;
    ValueError if the array is not on the current device."""
    return _operand(array)


def _operands(value):
    """Function arguments with every array checked by ``_operand`` (inside lists too)."""
    kind = type(value)
    if kind is list or kind is tuple:
        return kind(_operands(v) for v in value)
    if kind is dict:
        return {k: _operands(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return _operand(value)
    return value


def _index(key):
    """An index for NumPy: device arrays checked by ``_operand``, host ones as they are."""
    if type(key) is tuple:
        return tuple(_index(k) for k in key)
    return _operand(key) if type(key) is ndarray else key


def _on_device(result):
    """NumPy results as device arrays of the current device (scalars as 0-d arrays)."""
    if isinstance(result, np.ndarray):
        if type(result) is ndarray and result._device_id == _current[0]:
            return result
        out = result.view(ndarray)
        out._device_id = _current[0]
        return out
    if isinstance(result, np.generic):
        return _on_device(np.asarray(result))
    kind = type(result)
    if kind is tuple or kind is list:
        return kind(_on_device(r) for r in result)
    return result


def _ufunc(ufunc, method: str, inputs, kwargs):
    """Call ``ufunc.method`` under CuPy's rules; ``out=`` arrays are returned as given."""
    out = kwargs.get("out")
    if out is not None:
        kwargs = dict(kwargs, out=tuple(_operand(o) for o in
                                        (out if isinstance(out, tuple) else (out,))))
    if "where" in kwargs:
        kwargs["where"] = _operand(kwargs["where"])
    if method == "at":  # at(a, indices, b): indices as for indexing (host arrays allowed)
        a, indices, *b = inputs
        ufunc.at(_operand(a), _index(indices), *[_operand(x) for x in b])
        return None
    result = getattr(ufunc, method)(*[_operand(x) for x in inputs], **kwargs)
    if out is not None:
        out = out if isinstance(out, tuple) else (out,)
        return out[0] if len(out) == 1 else out
    return _on_device(result)


class ndarray(np.ndarray):  # noqa: N801 - CuPy's name
    """A NumPy array acting as a CuPy array on device ``device.id``."""

    _device_id = 0

    def __array_finalize__(self, obj):
        self._device_id = getattr(obj, "_device_id", _current[0])

    @property
    def device(self) -> Device:
        """The device holding this array."""
        return Device(self._device_id)

    @property
    def flags(self):
        """CuPy's flags: c_contiguous, f_contiguous and owndata only (no writeable)."""
        flags = super().flags
        return _Flags(flags.c_contiguous, flags.f_contiguous, flags.owndata)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return _on_device(func(*_operands(args), **_operands(kwargs)))

    def __getitem__(self, key):
        kind = type(key)
        if kind is ndarray or kind is list or kind is np.ndarray or (
                kind is tuple and any(isinstance(k, (np.ndarray, list)) for k in key)):
            _operand(self)  # advanced indexing runs a kernel on the current device
            _index(key)
        return super().__getitem__(key)

    def __setitem__(self, key, value):
        if self._device_id != _current[0]:  # every write runs a kernel on the current device
            _operand(self)
        if isinstance(value, np.ndarray):
            value = _operand(value)
        super().__setitem__(key, value)

    def copy(self, order="C"):
        """A copy on the current device (from any device, as CuPy's copy)."""
        out = self.view(np.ndarray).copy(order)
        return _on_device(out)

    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        """The array as ``dtype``, made by the current device (itself when no copy is needed)."""
        if not copy and np.dtype(dtype) == self.dtype:
            return self
        return _on_device(_operand(self).astype(dtype, order=order, casting=casting))

    def fill(self, value) -> None:
        """Set every element to ``value`` (a kernel of the current device)."""
        _operand(self).fill(value)

    def get(self) -> np.ndarray:
        """A host (NumPy) copy, as ``cupy.ndarray.get``."""
        host_reads[0] += 1
        return np.array(self.view(np.ndarray), copy=True)

    # reading a value on the host waits for the device: counted in ``host_reads``
    def __bool__(self):
        host_reads[0] += 1
        return super().__bool__()

    def __float__(self):
        host_reads[0] += 1
        return super().__float__()

    def __int__(self):
        host_reads[0] += 1
        return super().__int__()

    def item(self, *args):
        """The element as a Python number (a read back to the host)."""
        host_reads[0] += 1
        return super().item(*args)

    def tolist(self):
        """The elements as Python numbers (a read back to the host)."""
        host_reads[0] += 1
        return super().tolist()


class _Ufunc:
    """A NumPy ufunc whose calls and methods follow CuPy's rules."""

    def __init__(self, ufunc):
        self._ufunc = ufunc
        self.__name__ = ufunc.__name__

    def __call__(self, *inputs, **kwargs):
        return _ufunc(self._ufunc, "__call__", inputs, kwargs)

    def __getattr__(self, name):
        if name not in ("reduce", "accumulate", "reduceat", "outer", "at"):
            return getattr(self._ufunc, name)

        def method(*inputs, **kwargs):
            return _ufunc(self._ufunc, name, inputs, kwargs)

        return method


def _function(func):
    """NumPy function ``func`` under CuPy's rules."""

    @functools.wraps(func)
    def call(*args, **kwargs):
        return _on_device(func(*_operands(args), **_operands(kwargs)))

    return call


def _from_host(func):
    """``asarray``/``array``: host data is copied to the current device (device data kept)."""

    @functools.wraps(func)
    def call(obj, *args, **kwargs):
        if type(obj) is ndarray:
            return _on_device(func(_operand(obj), *args, **kwargs))
        return _on_device(np.array(func(obj, *args, **kwargs), copy=True))

    return call


class _Namespace:
    """NumPy's (sub)module ``module`` with its functions under CuPy's rules."""

    _FROM_HOST = ("asarray", "array")

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        attr = getattr(self._module, name)
        if isinstance(attr, np.ufunc):
            wrapped = _Ufunc(attr)
        elif isinstance(attr, types.ModuleType):
            wrapped = _Namespace(attr)
        elif isinstance(attr, type) or not callable(attr):
            wrapped = attr
        elif name in self._FROM_HOST:
            wrapped = _from_host(attr)
        else:
            wrapped = _function(attr)
        setattr(self, name, wrapped)
        return wrapped


xp = _Namespace(np)
xp.ndarray = ndarray
xp.asnumpy = lambda array: array.get() if type(array) is ndarray else np.array(array)
