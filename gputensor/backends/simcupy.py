"""A strict stand-in for CuPy in simulation: NumPy arrays wrapped to act as device arrays.

With ``GPUTENSOR_SIMULATE_CUDA`` the CUDA backend's arrays are this module's ``ndarray``
(sim_arrays.py): objects holding a NumPy array, which know their device and refuse what CuPy
refuses, so CI catches code that would only break on a real GPU:

- they are no NumPy arrays: ``np.asarray`` raises CuPy's ``TypeError: Implicit conversion to
  a NumPy array is not allowed...``, and the buffer protocol, ``operator.index`` and the
  CPU's Numba kernels refuse them, so a host read or a call of the wrong backend fails;
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
rules above); ``Stream`` and ``Graph`` emulate CuPy's stream capture (sim_graphs.py);
``Device(i)`` makes device ``i`` current inside a ``with`` block, as
``cupy.cuda.Device`` does; ``configure(count)`` sets how many devices exist.
"""

from __future__ import annotations

import functools
import time
import types

import numpy as np

from .sim_arrays import (
    IMPLICIT_CONVERSION,
    Device,
    call_ufunc,
    capture,
    configure,
    device_view,
    host_reads,
    ndarray,
    on_device,
    operand,
    operands,
    recorded,
    wrap,
)
from .sim_graphs import Graph, RecordedModule, Stream

__all__ = ["IMPLICIT_CONVERSION", "Device", "Event", "Graph", "Stream", "configure",
           "device_view", "elapsed_ms", "host_reads", "ndarray", "RecordedModule", "xp"]


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


class _Ufunc:
    """A NumPy ufunc whose calls and methods follow CuPy's rules."""

    def __init__(self, ufunc):
        self._ufunc = ufunc
        self.__name__ = ufunc.__name__

    def __call__(self, *inputs, **kwargs):
        return call_ufunc(self._ufunc, "__call__", inputs, kwargs)

    def __getattr__(self, name):
        if name not in ("reduce", "accumulate", "reduceat", "outer", "at"):
            return getattr(self._ufunc, name)

        def method(*inputs, **kwargs):
            return call_ufunc(self._ufunc, name, inputs, kwargs)

        return method


def _function(func):
    """NumPy function ``func`` under CuPy's rules."""

    @functools.wraps(func)
    def call(*args, **kwargs):
        return on_device(func(*operands(args), **operands(kwargs)))

    return recorded(call)


def _from_host(func):
    """``asarray``/``array``: host data is copied to the current device (device data kept)."""

    @functools.wraps(func)
    def call(obj, *args, **kwargs):
        if type(obj) is ndarray:
            return on_device(func(operand(obj), *args, **kwargs))
        if capture[0] is not None:
            capture[0].refuse("a copy from host memory")
        return on_device(np.array(func(obj, *args, **kwargs), copy=True))

    return recorded(call)


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


class _HostProducer:
    """A DLPack producer handing NumPy the memory of a simulated device array's producer as
    host memory."""

    def __init__(self, source):
        self._source = source

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        return self._source.__dlpack__(max_version=max_version, copy=copy)

    def __dlpack_device__(self):
        return (1, 0)


def from_dlpack(source):
    """A device array sharing the memory of a DLPack producer of (simulated) CUDA memory, on the
    producer's device (``cupy.from_dlpack``)."""
    device_type, index = source.__dlpack_device__()
    if int(device_type) != 2:
        raise BufferError("from_dlpack: the producer's memory is not on a CUDA device")
    return wrap(np.from_dlpack(_HostProducer(source)), index)


xp = _Namespace(np)
xp.from_dlpack = from_dlpack
xp.ndarray = ndarray
xp.asnumpy = lambda array: array.get() if type(array) is ndarray else np.array(array)
