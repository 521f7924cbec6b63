"""Tensors in memory through pickle and copy, as torch's: ``__reduce_ex__``, ``__copy__`` and
``__deepcopy__``.

A tensor pickles as its host data (the NumPy array holding its storage, with its offset and
strides, so a view keeps its layout as torch's does) plus its device, ``requires_grad`` and
the attributes of a subclass (a Parameter's); with pickle protocol 5 the array travels as an
out-of-band buffer. As torch's, tensors pickled together come back with memory of their own,
a view among them too. Unpickled, a CUDA tensor's data is copied back to its device. The graph,
``.grad`` and backward hooks are not pickled (torch warns about hooks, as here): the result is
a leaf. Files on disk never hold pickles: ``gputensor.save`` writes safetensors.
"""

from __future__ import annotations

import copy as copy_module
import warnings

import numpy as np

from ..autograd.grad_mode import no_grad
from ..backends import backend_for
from ..device import as_device
from . import pointwise

__all__: list[str] = []

DEEPCOPY_NON_LEAF_ERROR = (
    "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at "
    "the moment.  If you were attempting to deepcopy a module, this may be because of a "
    "torch.nn.utils.weight_norm usage, see https://github.com/pytorch/pytorch/pull/103001")
HOOK_WARNING = ("backward hook {!r} on tensor will not be serialized.  If this is expected, you "
                "can decorate the function with @gputensor.utils.hooks.unserializable_hook to "
                "suppress this warning")


def _storage_of(array: np.ndarray):
    """(the C-contiguous array whose memory ``array`` views, element offset, byte strides); a
    contiguous copy of ``array`` when its memory is no such array's of the same dtype."""
    root = array
    while isinstance(root.base, np.ndarray):
        root = root.base
    if root is not array and root.flags.c_contiguous and root.dtype == array.dtype:
        start = root.__array_interface__["data"][0] if root.size else 0
        offset = array.__array_interface__["data"][0] - start if array.size else 0
        if offset % array.itemsize == 0 and 0 <= offset // array.itemsize <= root.size:
            return root, offset // array.itemsize, array.strides
    if not array.flags.c_contiguous:
        array = array.copy(order="C")
    return array, 0, array.strides


def _warn_about_hooks(tensor) -> None:
    """torch's warning for each backward hook that pickling leaves out."""
    for hook in tensor._hooks or ():
        if not getattr(hook, "__torch_unserializable__", False):
            warnings.warn(HOOK_WARNING.format(hook), UserWarning, stacklevel=3)


def reduce_ex(input, protocol) -> tuple:  # noqa: A002
    """How pickle rebuilds this tensor: ``rebuild_tensor`` and its arguments."""
    _warn_about_hooks(input)
    host = input._data if input._device.type == "cpu" else input._to_numpy()
    storage, offset, strides = _storage_of(host)
    storage = storage.view()  # a new object each time: tensors pickled together share no memory
    state = dict(vars(input)) if hasattr(input, "__dict__") else None
    return (rebuild_tensor, (type(input), storage, offset, host.shape, strides,
                             str(input._device), input.requires_grad, state))


def rebuild_tensor(cls, storage, offset, shape, strides, device, requires_grad, state):
    """A tensor of class ``cls`` over ``storage`` from ``offset`` with ``shape`` and byte
    ``strides``, on ``device`` (CUDA: copied there), as ``reduce_ex`` described it."""
    host = np.lib.stride_tricks.as_strided(storage.reshape(-1)[offset:], shape, strides)
    target = as_device(device)
    data = host if target.type == "cpu" else backend_for(target.type).asarray(
        host.copy(order="C"), index=target.index)
    out = object.__new__(cls)
    out._init(data, target)
    out._requires_grad = bool(requires_grad)
    if state:
        out.__dict__.update(state)
    return out


def shallow_copy(input):  # noqa: A002
    """``copy.copy``: a new leaf sharing this tensor's memory, with its ``requires_grad`` and
    attributes (torch's)."""
    out = object.__new__(type(input))
    out._init(input._data, input._device)
    out._version = input._version
    out._requires_grad = input.requires_grad
    if hasattr(input, "__dict__"):
        out.__dict__.update(vars(input))
    return out


def deep_copy(input, memo):  # noqa: A002
    """``copy.deepcopy``: a leaf's copy with its own memory, ``requires_grad``, a copy of its
    ``.grad`` and of its attributes; torch's RuntimeError for a non-leaf."""
    if not input.is_leaf:
        raise RuntimeError(DEEPCOPY_NON_LEAF_ERROR)
    if id(input) in memo:
        return memo[id(input)]
    with no_grad():
        data = pointwise.clone(input)._data
    out = object.__new__(type(input))
    out._init(data, input._device)
    out._requires_grad = input._requires_grad
    memo[id(input)] = out
    if input._grad is not None:
        out._grad = copy_module.deepcopy(input._grad, memo)
    if hasattr(input, "__dict__"):
        out.__dict__.update(copy_module.deepcopy(vars(input), memo))
    return out

