"""Backward passes that build a graph of their own (``create_graph=True``).

The engine calls ``run_node`` instead of a node's ``_run_backward``: the gradients are
tensors, grad mode is on, and what a node computes is recorded, so the gradients can be
differentiated again. A user's Function runs its backward on those tensors; a built-in op
runs its one backward formula on the ops layer's lifted arrays (``ops/lifted.py``; the ops
layer installs its part here as ``LIFTED``). A backward with no differentiable form still
gives its gradients, and a node that raises torch's error if a gradient flows back into it.
"""

from __future__ import annotations

from .._tensor_core import TensorCore
from .function import _INPUT, SECOND_BACKWARD_ERROR, Function
from .function_checks import checked_gradients
from .grad_mode import no_grad
from .nodes import AccumulateGrad, grad_node

__all__ = ["LIFTED", "run_node", "saved_tensors_in_graph"]


class _Lifted:
    """The ops layer's part (set by ``gputensor.ops.lifted_namespace`` on import)."""

    op_backward = None  # (node, grads) -> one tensor or None per argument; NotLiftableError
    not_liftable = ()  # the exception types that mean "no differentiable form"
    sum_to_shape = None  # (tensor, shape) -> tensor, differentiable
    cast = None  # (tensor, numpy dtype) -> tensor, differentiable
    to_device = None  # (tensor, device) -> tensor, differentiable


LIFTED = _Lifted()


class NoDoubleBackward(Function):
    """The grad_fn of gradients whose backward has no differentiable form."""

    node_name = "NotImplemented"
    message = ""

    def name(self) -> str:
        """torch's name for this node (with gputensor for torch)."""
        return "gputensor::autograd::NotImplemented"

    def _run_backward(self, grads, retain_graph):
        raise RuntimeError(self.message)

    _run_backward_graph = _run_backward


def _blocked(node, tensors, message, sources=None):
    """``tensors`` (gradients) with a grad_fn that raises ``message`` when reached: they
    depend on ``sources`` (tensors) and, when None, on the node's own inputs too."""
    edges = tuple((grad_node(t), t._output_nr) for t in (sources or tensors)
                  if t is not None and t._requires_grad)
    if sources is None:
        edges += tuple(e for e in node.next_functions if e[0] is not None)
    if not edges:
        return tensors
    block = NoDoubleBackward._node_type(None)()
    block.message = message
    block._device, block.backend = node._device, node.backend
    block.next_functions = edges
    block._num_outputs = len(tensors)
    for nr, t in enumerate(tensors):
        if t is not None and t.dtype.is_floating_point:
            t._requires_grad, t._grad_fn, t._output_nr = True, block, nr
    return tensors


def saved_tensors_in_graph(node) -> tuple:
    """A built-in op's saved arrays as tensors in the graph: an input's array as that input
    (its node and output number), an output's as the node's own output; None where a saved
    float array is neither (then the formula cannot be differentiated)."""
    saved = node.saved_tensors  # checked against in-place changes
    roles = node._saved_roles
    recomputed = type(node).recomputed_when_lifted
    tensor_edges = [edge for edge, meta in zip(node.next_functions, node._input_meta)
                    if meta is not None]
    cast_from = type(node).saved_casts
    out = []
    for index, (item, role) in enumerate(zip(saved, roles)):
        if role is None and index < len(cast_from) and cast_from[index] is not None:
            out.append(_cast_input(node, item, cast_from[index]))
            if out[-1] is None:
                return None
            continue
        if role is None:
            if getattr(getattr(item, "dtype", None), "kind", "") in ("f", "c") and \
                    index not in recomputed:
                return None
            out.append(item)
            continue
        t = TensorCore._make(item, node._device)
        if role >= _INPUT:
            owner, nr = tensor_edges[role - _INPUT]
            if type(owner) is AccumulateGrad:
                t = owner.variable
            elif owner is not None:
                t._requires_grad, t._grad_fn, t._output_nr = True, owner, nr
        else:
            t._requires_grad, t._grad_fn, t._output_nr = True, node, role
        out.append(t)
    return tuple(out)


def _in_graph(t, edge):
    """``t`` placed in the graph at ``edge`` (a leaf's edge gives the leaf itself)."""
    owner, nr = edge
    if type(owner) is AccumulateGrad:
        return owner.variable
    if owner is not None:
        t._requires_grad, t._grad_fn, t._output_nr = True, owner, nr
    return t


def _cast_input(node, item, position):
    """A saved cast of argument ``position`` as that argument, cast in the graph; the item
    itself when the argument was a number; None when it cannot be placed."""
    if position not in node._arg_index:
        return item if not hasattr(item, "dtype") or item.ndim == 0 else None
    k = node._arg_index.index(position)
    meta = node._input_meta[k]
    if meta is None:  # a number operand
        return item
    original = TensorCore._make(item.astype(meta[1]), node._device)
    return LIFTED.cast(_in_graph(original, node.next_functions[k]), item.dtype)


def _zeros(node, meta):
    xp = node.backend.xp
    return TensorCore._make(xp.zeros(*meta), node._device)


def run_node(node, grads, retain_graph: bool):
    """``node``'s input gradients as tensors with their own graph (one per edge)."""
    if node._freed:
        raise RuntimeError(SECOND_BACKWARD_ERROR)
    if node._materialize_grads and any(g is None for g in grads):
        grads = [_zeros(node, meta) if g is None and meta is not None else g
                 for g, meta in zip(grads, node._output_meta)]
    own = getattr(node, "run_backward_graph", None)
    if own is not None:  # a node built outside apply (CopySlices, AsStridedBackward0)
        return own(grads, retain_graph)
    custom = type(node)._run_backward is not Function._run_backward
    if node._public and not custom:
        backward = type(node).backward
        result = backward(node, *grads)
        result = checked_gradients(node, result if isinstance(result, tuple) else (result,),
                                   keep_tensors=True)
        if getattr(backward, "once_differentiable", False):
            result = _blocked(node, list(result), "trying to differentiate twice a function "
                              "that was marked with @once_differentiable", grads)
    else:
        try:
            if custom:
                raise LIFTED.not_liftable[0](node.name())
            result = LIFTED.op_backward(node, grads)
        except LIFTED.not_liftable:
            with no_grad():
                arrays = node._run_backward([None if g is None else g._data for g in grads],
                                            True)
            tensors = [None if a is None else TensorCore._make(a, node._device)
                       for a in arrays]
            result = _blocked(node, tensors, f"derivative for {node.name()} is not "
                              "implemented (its backward cannot be differentiated)")
            return _release(node, retain_graph, result)
    in_grads = []
    for pos, meta in zip(node._arg_index, node._input_meta):
        g = result[pos] if pos < len(result) and meta is not None else None
        if g is not None:
            shape, dtype = meta
            if tuple(g.shape) != shape:
                g = LIFTED.sum_to_shape(g, shape)
            if g._data.dtype != dtype:
                g = LIFTED.cast(g, dtype)
            if node._moves and pos in node._moves:
                g = LIFTED.to_device(g, node._moves[pos])
        in_grads.append(g)
    return _release(node, retain_graph, in_grads)


def _release(node, retain_graph, in_grads):
    if not retain_graph:
        node._saved = None
        node._freed = node._freed or bool(node._saved_versions) or node._saved_any
    return in_grads
