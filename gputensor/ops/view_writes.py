"""Writes through views: torch's rebase of the graph after a view of a base changes in place.

The tensor written takes the node of the op that computed its new value. When it is a view,
its base gets a ``CopySlices`` node wrapping that node (the base's gradient at the view's
elements goes through it) and the view an ``AsStridedBackward0`` node that reads the base.
Both nodes find the view's elements in the base by ``positions``, which works for any memory
layout of the base (transposed, strided, expanded).
"""

from __future__ import annotations

import numpy as np

from .._tensor_core import NO_GRAD_VIEW, TensorCore, set_view_refresher
from ..autograd import graph_backward
from ..autograd.function import VIEW_WRITES, Function
from ..autograd.nodes import grad_node
from ..dtypes import from_numpy_dtype
from .views import has_internal_overlap

OVERLAP_ERROR = ("unsupported operation: more than one element of the written-to tensor "
                 "refers to a single memory location. Please clone() the tensor before "
                 "performing the operation.")


def address(array) -> int:
    """The address of an array's first element (NumPy or CuPy)."""
    if isinstance(array, np.ndarray):
        return array.__array_interface__["data"][0]
    return array.data.ptr  # CuPy's device pointer


def positions(owner, view, xp):
    """The row-major index into ``owner`` of each element of ``view`` (an array over its memory).

    A view that repeats memory (an expanded one) repeats positions.
    """
    if owner.size == 0 or view.size == 0:
        return xp.zeros(view.shape, dtype=np.int64)
    # pos[k] = the index of the owner element stored k elements after the owner's first one
    item, word, strided = owner.itemsize, 8, xp.lib.stride_tricks.as_strided  # 8: int64 bytes
    owner_strides = [s // item for s in owner.strides]
    pos = xp.zeros(1 + sum((n - 1) * s for n, s in zip(owner.shape, owner_strides)), np.int64)
    strided(pos, owner.shape, [s * word for s in owner_strides])[...] = \
        xp.arange(owner.size, dtype=np.int64).reshape(owner.shape)
    start = (address(view) - address(owner)) // item
    return strided(pos[start:], view.shape, [s // item * word for s in view.strides])


class _ViewWriteNode(Function):
    """A node built by ``rebase`` (not by ``apply``) around a view's positions in its base."""

    @classmethod
    def _build(cls, base, at, next_functions):
        node = cls._node_type(cls.variant)()
        node._device, node.backend = base._device, base._backend
        node.next_functions, node.at = next_functions, at
        node.base_shape, node.base_dtype = base._data.shape, base._data.dtype
        return node


class CopySlices(_ViewWriteNode):
    """The grad_fn of a base after its view (at ``at``) took the new value ``fn`` computed.

    Off the view the gradient passes to the base's old value unchanged; on it, it goes
    through ``fn``'s backward: the view's old value gets the first gradient, written back at
    the view's positions, and ``fn``'s other inputs get the rest.
    """

    node_name = "CopySlices"

    @classmethod
    def wrap(cls, base, view, fn):
        """The node for ``base`` after its ``view`` took the output of ``fn`` (whose first
        input, as torch takes it, was the view's old value)."""
        old = (base.grad_fn, base._output_nr) if base._requires_grad else (None, 0)
        at = positions(base._data, view._data, base._backend.xp)
        node = cls._build(base, at, (old,) + tuple(fn.next_functions[1:]))
        node.fn, node.overlap = fn, has_internal_overlap(view._data)
        return node

    def name(self) -> str:
        """torch's name for this node (with gputensor for torch)."""
        return "gputensor::autograd::CopySlices"

    def _run_backward(self, grads, retain_graph):
        if self.overlap and self.fn.next_functions[0][0] is not None:
            raise RuntimeError(OVERLAP_ERROR)  # torch cannot write d view into expanded memory
        xp = self.backend.xp
        result = xp.array(grads[0], dtype=self.base_dtype, copy=True, order="C")
        flat = result.reshape(-1)
        fn_grads = self.fn._run_backward([flat[self.at]], retain_graph)
        flat[self.at] = 0 if fn_grads[0] is None else fn_grads[0]  # d base: g, fn's inside
        return [result] + list(fn_grads[1:])

    def run_backward_graph(self, grads, retain_graph):
        """The same gradients as tensors with their own graph (``create_graph=True``)."""
        if self.overlap and self.fn.next_functions[0][0] is not None:
            raise RuntimeError(OVERLAP_ERROR)
        result = grads[0].to(from_numpy_dtype(self.base_dtype)).clone()
        at = TensorCore._make(self.at, self._device)
        fn_grads = graph_backward.run_node(self.fn, [result.reshape(-1)[at]], retain_graph)
        flat = result.reshape(-1)  # a view: writing into it writes into result
        flat[at] = 0 if fn_grads[0] is None else fn_grads[0]
        return [result] + list(fn_grads[1:])


class AsStrided(_ViewWriteNode):
    """The grad_fn of a view after an in-place change: it reads its base at ``at``."""

    variant = 0

    def _run_backward(self, grads, retain_graph):
        xp = self.backend.xp
        grad = xp.zeros(int(np.prod(self.base_shape)), dtype=self.base_dtype)
        # d as_strided = scatter-add into zeros (elements sharing memory add up)
        xp.add.at(grad, self.at.reshape(-1), xp.asarray(grads[0]).reshape(-1))
        return [grad.reshape(self.base_shape)]

    def run_backward_graph(self, grads, retain_graph):
        """The same gradient as a tensor with its own graph (``create_graph=True``)."""
        g = grads[0]
        grad = g.new_zeros((int(np.prod(self.base_shape)),), dtype=from_numpy_dtype(
            self.base_dtype))
        at = TensorCore._make(self.at.reshape(-1), self._device)
        grad = grad.index_put((at,), g.reshape(-1).to(grad.dtype), accumulate=True)
        return [grad.reshape(self.base_shape)]


def rebase(tensor, node) -> None:
    """Record that ``node`` computed the new value written into ``tensor``, as torch does.

    ``node`` is the grad_fn of the out-of-place op whose first input was tensor's old value
    (None: nothing to record); the storage's version was bumped already. A view's base gets
    a CopySlices node wrapping it and the view an AsStridedBackward0 node reading the base;
    a view made where its base was tracked and it was not (under no_grad) keeps ``node`` as
    its own history. Other views of the storage read the base again when next used
    (``refresh_view``).
    """
    if node is None:
        return
    tracked = tensor._requires_grad
    tensor.grad_fn, tensor._output_nr, tensor._requires_grad = node, 0, True
    base = tensor._base
    if base is None or (base._requires_grad and not tracked):
        return
    base.grad_fn = CopySlices.wrap(base, tensor, node)
    base._output_nr, base._requires_grad = 0, True
    reread(tensor, base.grad_fn.at)


def reread(view, at=None) -> None:
    """Give ``view`` an AsStridedBackward0 node reading its base (at positions ``at``)."""
    base = view._base
    if at is None:
        at = positions(base._data, view._data, base._backend.xp)
    view.grad_fn = AsStrided._build(base, at, ((grad_node(base), base._output_nr),))
    view._output_nr, view._requires_grad = 0, True
    view._view_version = view._version.value


def refresh_view(view) -> None:
    """torch's update of a view's grad_fn when read after its storage changed in place.

    The view then reads its base's current value (AsStridedBackward0), unless neither it nor
    its base is tracked, or it was made under no_grad.
    """
    if view._view_version == NO_GRAD_VIEW:
        return
    if view._grad_fn is None and not view._base._requires_grad:
        return  # nothing to track (yet): look again at the next read
    reread(view)


set_view_refresher(refresh_view)
VIEW_WRITES.rebase = rebase
