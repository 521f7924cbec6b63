"""Moving tensors between devices: a differentiable copy, and the default device."""

from __future__ import annotations

from ..autograd.function import Op
from ..backends import backend_for
from ..device import as_device
from . import creation


def copy_array(array, source, target):
    """A copy of backend array ``array`` from device ``source`` on device ``target``."""
    if target.type == "cpu":
        return backend_for(source.type).to_numpy(array)
    return backend_for(target.type).asarray(array, index=target.index)


class ToDevice(Op):
    """The tensor copied to another device; its gradient is copied back."""

    opname = "ToCopy"

    @staticmethod
    def forward(ctx, x, source, target):
        ctx.source, ctx.out_device = source, target
        return copy_array(x, source, target)

    @staticmethod
    def backward(ctx, g):
        # d copy = 1: the gradient, back on the input's device
        return copy_array(g, ctx.out_device, ctx.source), None, None


def to_device(t, device):
    """``t`` copied to ``device`` (a normalised gputensor.device), recorded for autograd."""
    backend_for(device.type)  # a clear error when the device cannot be used, nothing changed
    return ToDevice.apply(t, t._device, device)


def get_default_device():
    """The device new tensors are made on when none is given (``set_default_device``)."""
    return as_device(creation._default_device)
