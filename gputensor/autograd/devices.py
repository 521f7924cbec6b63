"""Tensors of an op on several devices: torch's check, and 0-d CPU tensors joining the
others' device as torch treats CPU scalars."""

from __future__ import annotations

from .._tensor_core import TensorCore
from ..backends import backend_for

__all__ = ["check_same_device", "on_common_device"]


def check_same_device(*tensors) -> None:
    """torch's RuntimeError when the tensors given (None skipped) are on different devices."""
    tensors = [t for t in tensors if t is not None]
    device = tensors[0]._device
    for t in tensors:
        if t._device is not device and t._device != device:
            _raise_mixed_devices(tensors)


def on_common_device(args, tensors):
    """``(args, moves)``: 0-d CPU tensors copied to the others' device, as torch treats CPU
    scalars, and ``{position: the CPU device}`` for each copy.

    Any other mix of devices raises torch's error. A copy takes its tensor's place in the
    graph (so the op's node points at the scalar's own node, as in torch); the node sends
    the gradients at ``moves`` back to the CPU.
    """
    common = next((t._device for t in tensors if t._device.type != "cpu"), None)
    if common is None or any(t._device != common and (t._device.type != "cpu" or t.ndim)
                             for t in tensors):
        _raise_mixed_devices(tensors)
    moved, moves = [], {}
    for i, a in enumerate(args):
        if isinstance(a, TensorCore) and a._device != common:
            moved.append(_stand_in(a, common))
            moves[i] = a._device
        else:
            moved.append(a)
    return moved, moves


def _stand_in(t, device):
    """A copy of ``t`` on ``device`` with ``t``'s place in the graph and version counter."""
    copy = TensorCore._make(
        backend_for(device.type).asarray(t._data, index=device.index), device)
    copy._version = t._version
    if t._requires_grad:  # (a leaf's accumulator is made and kept alive by the caller)
        copy._requires_grad, copy.grad_fn = True, t.grad_fn
        copy._output_nr, copy._accumulator = t._output_nr, t._accumulator
    return copy


def _raise_mixed_devices(tensors):
    """torch's error for tensors on different devices: the first non-CPU one, the odd one."""
    devices = [t._device for t in tensors]
    common = next((d for d in devices if d.type != "cpu"), devices[0])
    other = next(d for d in devices if d != common)
    raise RuntimeError("Expected all tensors to be on the same device, but found at least two "
                       f"devices, {common} and {other}!")
