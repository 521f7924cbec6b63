"""Numba's own argument flattening as the oracle of raw_launch's (run without the simulator).

``python tests/raw_launch_oracle.py`` flattens sample arguments of every registered kernel
signature twice: with ``raw_launch.flattener`` and with numba-cuda's ``_Kernel._prepare_args``
(the code Numba's launch runs), its device-array step replaced by a view of the sample's
fields, since there is no GPU. Prints one line per signature that differs (value, width or
kind) and ``checked N`` at the end; exit status 1 if any differs.
"""

from __future__ import annotations

import ctypes
import sys

import numpy as np
from numba.cuda import dispatcher as numba_dispatcher

from gputensor.kernels.cuda import ptx, raw_launch


class _Layout:
    """What ``_prepare_args`` reads of a device array's layout."""

    def __init__(self, strides):
        self.strides_in_bytes = strides
        self.is_contiguous_c = self.is_contiguous_f = False


class _DeviceView:
    """The device array ``_prepare_args`` flattens, made from a ``raw_launch.SampleArray``."""

    def __init__(self, sample):
        self.size, self.dtype, self.shape = sample.size, sample.dtype, sample.shape
        self.ptr = sample.data.ptr
        self._layout = _Layout(sample.strides)


class _Wrapped:
    """``wrap_arg``'s result: ``to_device`` gives the view (no copy, no GPU)."""

    def __init__(self, value):
        self.value = value

    def to_device(self, retr, stream=0):
        return _DeviceView(self.value)


def numba_values(signature) -> list:
    """The kernel arguments Numba's launch builds for the sample arguments of ``signature``."""
    kernel = object.__new__(numba_dispatcher._Kernel)  # no compilation: only the method
    kernel.extensions = []
    values = []
    for ty, value in zip(raw_launch.argument_types(signature),
                         raw_launch.sample_arguments(signature)):
        kernel._prepare_args(ty, value, 0, [], values)
    return values


def described(value) -> tuple:
    """``(kind, bytes, number)`` of one kernel argument (ctypes, NumPy or Python)."""
    if isinstance(value, ctypes._SimpleCData):
        kind = "float" if isinstance(value, (ctypes.c_float, ctypes.c_double)) else "int"
        return kind, ctypes.sizeof(value), value.value
    if isinstance(value, bool):  # Numba passes a boolean as is; the kernel reads one byte
        return "int", 1, int(value)
    kind, width = raw_launch.value_layout(value)
    return kind, width, value.item() if isinstance(value, np.generic) else value


def main() -> int:
    """Compare both flattenings for every registered signature."""
    numba_dispatcher.wrap_arg = _Wrapped
    kernels, failures = ptx.registered_kernels()
    bad = [f.kernel for f in failures]
    checked = 0
    for name, _, signatures in kernels:
        for signature in signatures:
            ours = raw_launch.flattener(signature)(*raw_launch.sample_arguments(signature))
            theirs = numba_values(signature)
            if [described(v) for v in ours] != [described(v) for v in theirs]:
                bad.append(f"{name} {signature}")
                print(f"DIFFERS {name} {signature}\n  ours  {ours}\n  numba {theirs}")
            checked += 1
    print(f"checked {checked}")
    return 1 if bad or not checked else 0


if __name__ == "__main__":
    sys.exit(main())
