"""Padding layers: ConstantPad, ZeroPad, ReflectionPad, ReplicationPad and CircularPad in 1, 2
and 3 spatial dims (``F.pad`` with the layer's padding, last dim first)."""

from __future__ import annotations

import numbers

from .. import functional as F  # noqa: N812 - torch's spelling
from .module import Module

__all__ = ["CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d",
           "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
           "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d",
           "ZeroPad3d"]


def _widths(padding, dims):
    """One int for every side, or a tuple of 2 * dims ints."""
    if isinstance(padding, numbers.Integral):
        return (int(padding),) * (2 * dims)
    return tuple(padding)


class _PadNd(Module):
    """Pads the last ``dims`` dims by ``padding`` in ``mode``."""

    dims = 1
    mode = "constant"

    def __init__(self, padding):
        super().__init__()
        self.padding = _widths(padding, self.dims)

    def _check_input_dim(self, input) -> None:
        pass

    def forward(self, input):
        """``F.pad`` with this layer's padding and mode."""
        self._check_input_dim(input)
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        """What torch prints inside this layer's parentheses."""
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    """Pads with a constant ``value``."""

    def __init__(self, padding, value: float):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        """``F.pad(input, padding, 'constant', value)``."""
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        """What torch prints inside this layer's parentheses."""
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dim with a constant."""


class ConstantPad2d(_ConstantPadNd):
    """Pads the last 2 dims with a constant."""

    dims = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last 3 dims with a constant."""

    dims = 3


class _ZeroPadNd(_ConstantPadNd):
    """Pads with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        """What torch prints inside this layer's parentheses."""
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pads the last dim with zeros."""


class ZeroPad2d(_ZeroPadNd):
    """Pads the last 2 dims with zeros."""

    dims = 2


class ZeroPad3d(_ZeroPadNd):
    """Pads the last 3 dims with zeros."""

    dims = 3


class ReflectionPad1d(_PadNd):
    """Pads the last dim with its reflection (the edge not repeated)."""

    mode = "reflect"


class ReflectionPad2d(_PadNd):
    """Pads the last 2 dims with their reflection."""

    dims, mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    """Pads the last 3 dims with their reflection."""

    dims, mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Pads the last dim by repeating its edge values."""

    mode = "replicate"


class ReplicationPad2d(_PadNd):
    """Pads the last 2 dims by repeating their edge values."""

    dims, mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    """Pads the last 3 dims by repeating their edge values."""

    dims, mode = 3, "replicate"


class _CircularPadNd(_PadNd):
    """Pads by wrapping around; the input must have dims + 1 or dims + 2 dims."""

    mode = "circular"

    def _check_input_dim(self, input) -> None:
        low = self.dims + 1
        if input.dim() not in (low, low + 1):
            raise ValueError(f"expected {low}D or {low + 1}D input (got {input.dim()}D input)")


class CircularPad1d(_CircularPadNd):
    """Pads the last dim circularly."""


class CircularPad2d(_CircularPadNd):
    """Pads the last 2 dims circularly."""

    dims = 2


class CircularPad3d(_CircularPadNd):
    """Pads the last 3 dims circularly."""

    dims = 3
