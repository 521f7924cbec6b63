"""A recorded program: slots for arrays, and the steps that fill them when replayed.

Two eager runs are compared step by step (``build``): what is the same in both is the
program; a tensor made inside the function (``arange``, ``tensor``) with the same values
both times is a constant; anything that differs (a random factory, a Python number that
changes) makes the function run eagerly, with the reason.
"""

from __future__ import annotations

import sys

import numpy as np

from .. import random_draws
from .._tensor_core import TensorCore
from ..autograd.nodes import AccumulateGrad, grad_node
from ..ops.creation import default_generator
from .outputs import freed_outputs, output_slots, output_template
from .tracer import (
    BackwardRecord,
    CallRecord,
    DrawRecord,
    OpRecord,
    RunningStatsRecord,
    SnapshotRecord,
    Unsupported,
    WriteRecord,
)
from .writes import build_running_stats, build_snapshot, build_write

_WRITE_BUILDERS = {SnapshotRecord: build_snapshot, WriteRecord: build_write,
                   RunningStatsRecord: build_running_stats}


def _same_value(a, b) -> bool:
    if a is b:
        return True
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(
            _same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, TensorCore) or isinstance(b, TensorCore) or type(a) is not type(b):
        return False
    if hasattr(a, "shape") and hasattr(a, "dtype") and not isinstance(a, (int, float)):
        return False  # arrays: only the draws' (handled apart) are replayed
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _xp_of(array):
    """The array namespace of a host or device array."""
    return np if isinstance(array, np.ndarray) else sys.modules[type(array).__module__
                                                                  .split(".")[0]]


def _same_array(a, b, xp) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and bool(xp.array_equal(a, b))


class _Builder:
    """Slot bookkeeping while two traces are walked together."""

    def __init__(self, inputs1, inputs2, trace1, trace2):
        self.before1, self.before2 = trace1.before_writes, trace2.before_writes
        # the .grad tensors each run's backward made: {id: (grad, leaf)}
        self.grads1, self.grads2 = trace1.grads, trace2.grads
        self.grad_reads = {}  # slot -> the slot of the leaf whose .grad it reads
        self.initial = {}  # slot -> a constant's array as the function first read it
        self.slots1 = {id(t): i for i, t in enumerate(inputs1)}
        self.slots2 = {id(t): i for i, t in enumerate(inputs2)}
        self.inputs1, self.inputs2 = inputs1, inputs2
        # the same by array: ops such as embedding receive a tensor's array, not the tensor
        self.arrays1 = {id(t._data): i for i, t in enumerate(inputs1)}
        self.arrays2 = {id(t._data): i for i, t in enumerate(inputs2)}
        self.array_constants = []  # (slot, array) of arrays made inside the function
        self.meta = {i: (t._data.shape, t._data.dtype) for i, t in enumerate(inputs1)}
        self.count = len(inputs1)
        self.captured = []  # (slot, tensor): tensors from outside the function, read each call
        self.constants = []  # (slot, tensor): tensors made inside it, the same each time
        self.written_constants = set()  # constants written in place: copied on each call
        self.keep = []  # the traced tensors, alive until the program is built (ids stay unique)

    def new_slot(self, t1, t2) -> int:
        slot = self.count
        self.count += 1
        self.slots1[id(t1)] = slot
        self.slots2[id(t2)] = slot
        self.meta[slot] = (t1._data.shape, t1._data.dtype)
        self.arrays1.setdefault(id(t1._data), slot)
        self.arrays2.setdefault(id(t2._data), slot)
        self.keep += (t1, t2)
        return slot

    def array_slot(self, a1, a2):
        """The slot of an array argument (a tensor's array, or a constant), or None when
        ``a1`` and ``a2`` are not arrays."""
        if not (hasattr(a1, "shape") and hasattr(a1, "dtype") and hasattr(a1, "__array__")
                or type(a1).__module__.startswith("cupy")):
            return None
        s1, s2 = self.arrays1.get(id(a1)), self.arrays2.get(id(a2))
        if s1 is not None or s2 is not None:
            if s1 != s2:
                raise Unsupported("the function uses different tensors on each call")
            return s1
        if a1 is not a2 and (type(a1) is not type(a2) or not _same_array(a1, a2, _xp_of(a1))):
            raise Unsupported("an array made inside the function (not by a traced op) has "
                              "other values on each call")
        slot = self.count
        self.count += 1
        self.arrays1[id(a1)], self.arrays2[id(a2)] = slot, slot
        self.keep += (a1, a2)
        self.array_constants.append((slot, a1))
        return slot

    def slot_of(self, t1, t2) -> int:
        s1, s2 = self.slots1.get(id(t1)), self.slots2.get(id(t2))
        if s1 is not None or s2 is not None:
            if s1 != s2:
                raise Unsupported("the function uses different tensors on each call")
            return s1
        if t1 is t2:
            slot = self.new_slot(t1, t2)
            self.captured.append((slot, t1))
            return slot
        s1, s2 = self.arrays1.get(id(t1._data)), self.arrays2.get(id(t2._data))
        if s1 is not None and s1 == s2:  # another tensor on a slot's array (detach())
            self.slots1[id(t1)], self.slots2[id(t2)] = s1, s2
            self.keep += (t1, t2)
            return s1
        if id(t1) in self.grads1:  # read from the leaf's .grad after each backward
            leaf1, leaf2 = self.grads1[id(t1)][1], self.grads2.get(id(t2), (None, None))[1]
            leaf_slot = self.slots1.get(id(leaf1))
            if leaf1 is not leaf2 or leaf_slot is None or self.slots2.get(id(leaf2)) \
                    != leaf_slot:
                raise Unsupported("the function reads a .grad its backward() made of "
                                  "another leaf on each call")
            slot = self.new_slot(t1, t2)
            self.grad_reads[slot] = leaf_slot
            return slot
        a1 = self.before1.get(id(t1), (None, t1._data))[1]
        a2 = self.before2.get(id(t2), (None, t2._data))[1]
        if t1._device != t2._device or not _same_array(a1, a2, t1._backend.xp):
            raise Unsupported("a tensor made inside the function (not by a traced op) has "
                              "other values on each call (a random factory such as randn?)")
        if t1._requires_grad and t1._grad_fn is None:  # (one written in place has a node)
            raise Unsupported("a tensor that requires grad is made inside the function")
        slot = self.new_slot(t1, t2)
        self.constants.append((slot, t1))
        self.initial[slot] = a1
        return slot


class OpStep:
    """Replays one op: forward on the slots' arrays, the node's static fields kept."""

    __slots__ = ("op", "node_type", "template", "fills", "outs", "node_index", "static",
                 "array_positions", "ctx_type")

    def __init__(self, op, node, template, fills, outs, node_index, array_positions):
        self.op, self.template, self.fills, self.outs = op, template, fills, outs
        self.array_positions = array_positions
        self.node_type = op._node_type(op.variant)
        self.node_index = node_index
        self.ctx_type = None  # (set by replay.lower) the node type with the static fields
        self.static = None
        if node is not None:
            self.static = {"_arg_index": node._arg_index, "_input_meta": node._input_meta,
                           "_output_meta": node._output_meta, "_num_outputs": node._num_outputs,
                           "needs_input_grad": node.needs_input_grad, "_device": node._device}


class DrawStep:
    """Draws a dropout mask from the default generator, as eager dropout does."""

    __slots__ = ("shape", "keep", "scale", "strides", "slot", "size", "dtype")

    def __init__(self, record: DrawRecord, slot):
        self.shape, self.keep, self.scale, self.slot = record.shape, record.keep, \
            record.scale, slot
        self.strides = record.strides
        self.size = 1
        for n in record.shape:
            self.size *= n
        self.dtype = record.array.dtype

    def noise(self, backend, index):
        """The mask times 1/(1-p), on the device (torch's bernoulli_(1 - p) then div_), as
        ``dropout`` (laid out in the input's strides) or the channel forms draw it."""
        draws = random_draws.uniform_double(default_generator, self.size)
        if self.strides is None:
            keep = (draws < self.keep).reshape(self.shape).astype(self.dtype)
            return backend.asarray(keep * self.scale, index=index)
        kept = random_draws.place(draws < self.keep, self.shape, self.strides)
        mask = np.multiply(kept, self.scale, dtype=self.dtype)
        return backend.asarray(mask, index=index)


class BackwardStep:
    """Replays the engine's walk: ``order`` of ("op", op index, routes) or ("leaf", slot)."""

    __slots__ = ("root", "root_nr", "order", "plan")

    def __init__(self, root, root_nr, order):
        self.root, self.root_nr, self.order = root, root_nr, order
        self.plan = None  # (set by replay.lower) the walk with its casts and sums worked out


class Program:
    """Steps, slots, guards and how to read the result back."""

    def __init__(self):
        self.steps = []
        self.n_slots = 0
        self.n_inputs = 0
        self.captured = []
        self.constants = []
        self.array_constants = []
        self.written_constants = set()
        self.freed_outputs = {}  # slot -> node type of a returned tensor whose graph is spent
        self.constant_arrays = {}  # slot -> a constant's first value
        self.meta = {}  # slot -> (shape, dtype) of the tensors when traced
        self.output = None
        self.graph_mode = False
        self.modules = ()
        self.n_nodes = 0
        self.backend = None  # the backend and CUDA device index the ops ran on
        self.index = None
        self.call_names = ()  # (set by codegen) the generated function's host call names
        self.grad_reads = {}  # slot -> leaf slot: a .grad the backward made, read after it


def build(trace1, trace2, inputs1, inputs2, result1, result2) -> Program:
    """The program two eager runs agree on; raises Unsupported with the reason otherwise."""
    for trace in (trace1, trace2):
        if trace.break_reason is not None:
            raise Unsupported(trace.break_reason)
    if len(trace1.steps) != len(trace2.steps):
        raise Unsupported("the function runs different ops on each call")
    b = _Builder(inputs1, inputs2, trace1, trace2)
    program = Program()
    program.n_inputs = len(inputs1)
    node_index = {}  # id(node) of trace 1 -> op step position; the same for trace 2
    node_index2 = {}
    draws = {}
    has_backward = False
    for s1, s2 in zip(trace1.steps, trace2.steps):
        if type(s1) is not type(s2):
            raise Unsupported("the function runs different ops on each call")
        if isinstance(s1, OpRecord):
            program.steps.append(_op_step(b, s1, s2, draws, node_index, node_index2, program))
        elif isinstance(s1, DrawRecord):
            if (s1.shape, s1.keep, s1.scale, s1.strides) != (s2.shape, s2.keep, s2.scale,
                                                              s2.strides):
                raise Unsupported("dropout draws differ between calls")
            slot = b.count
            b.count += 1
            draws[id(s1.array)] = (slot, id(s2.array))
            b.keep += (s1.array, s2.array)
            program.steps.append(DrawStep(s1, slot))
        elif type(s1) in _WRITE_BUILDERS:
            program.steps.append(_WRITE_BUILDERS[type(s1)](b, s1, s2))
        elif isinstance(s1, CallRecord):
            if s1.owner is not s2.owner or s1.name != s2.name \
                    or not _same_value(s1.args, s2.args) \
                    or not _same_value(tuple(s1.kwargs.items()), tuple(s2.kwargs.items())):
                raise Unsupported(f"{type(s1.owner).__name__}.{s1.name}() is called with "
                                  "other arguments on each call")
            program.steps.append(s1)
        else:
            has_backward = True
            program.steps.append(_backward_step(b, s1, s2, node_index, node_index2))
    program.output = output_template(b, result1, result2)
    if has_backward:
        program.freed_outputs = freed_outputs(trace1, result1, b)
    program.n_slots = b.count
    program.captured, program.constants = b.captured, b.constants
    program.array_constants = b.array_constants
    program.grad_reads = b.grad_reads
    program.constant_arrays = b.initial
    # a returned constant is copied too: the caller may write into it
    program.written_constants = b.written_constants | (
        set(b.initial) & set(output_slots(program.output)))
    program.meta = b.meta
    program.modules = tuple(dict.fromkeys(trace1.modules))
    program.n_nodes = len(program.steps)
    first = next((r for r in trace1.steps if isinstance(r, OpRecord)), None)
    if first is not None:
        t = next(a for a in first.args if isinstance(a, TensorCore))
        program.backend, program.index = t._backend, t._device.index
    # outputs with a graph need each op's apply; so does a program with no op (calls only)
    program.graph_mode = not has_backward and bool(node_index) or program.backend is None
    return program


def _op_step(b, r1, r2, draws, node_index, node_index2, program):
    if r1.op is not r2.op or len(r1.args) != len(r2.args) or len(r1.outs) != len(r2.outs):
        raise Unsupported("the function runs different ops on each call")
    template, fills, array_positions = [], [], []
    for pos, (a1, a2) in enumerate(zip(r1.args, r2.args)):
        if isinstance(a1, TensorCore) and isinstance(a2, TensorCore):
            fills.append((pos, b.slot_of(a1, a2)))
            template.append(None)
        elif id(a1) in draws:
            slot, id2 = draws[id(a1)]
            if id(a2) != id2:
                raise Unsupported("dropout draws differ between calls")
            fills.append((pos, slot))
            template.append(None)
        elif _same_value(a1, a2):
            template.append(a1)
        elif b.array_slot(a1, a2) is not None:
            fills.append((pos, b.array_slot(a1, a2)))
            array_positions.append(pos)
            template.append(None)
        else:
            raise Unsupported(f"an argument of {r1.op.__name__} changes between calls "
                              "(a Python number read from a changing value?)")
    first = next(a for a in r1.args if isinstance(a, TensorCore))
    if any(o._device != first._device for o in r1.outs):
        raise Unsupported("an op moves tensors between devices")
    outs = tuple(b.new_slot(o1, o2) for o1, o2 in zip(r1.outs, r2.outs))
    if (r1.node is None) != (r2.node is None):
        raise Unsupported("grad recording differs between calls")
    index = len(program.steps)
    if r1.node is not None:
        if r1.node._moves:
            raise Unsupported("an op moves tensors between devices")
        node_index[id(r1.node)] = index
        node_index2[id(r2.node)] = index
        b.keep += (r1.node, r2.node)
    return OpStep(r1.op, r1.node, template, tuple(fills), outs, index,
                  tuple(array_positions))


def _backward_step(b, r1: BackwardRecord, r2: BackwardRecord, node_index, node_index2):
    root = b.slot_of(r1.root, r2.root)
    if not r1.order or grad_node(r1.root) is not r1.order[0]:
        raise Unsupported("backward() from a tensor the compiled ops did not make")
    order1 = [_walk_entry(b, n, node_index, b.slots1, b.inputs1) for n in r1.order]
    order2 = [_walk_entry(b, n, node_index2, b.slots2, b.inputs2) for n in r2.order]
    if order1 != order2:
        raise Unsupported("the backward walk differs between calls")
    return BackwardStep(root, r1.root._output_nr, tuple(order1))


def _walk_entry(b, node, node_index, slots, inputs):
    if isinstance(node, AccumulateGrad):
        slot = slots.get(id(node.variable))
        # the leaf must be the argument or captured tensor itself (not an alias of it)
        owner = inputs[slot] if slot is not None and slot < len(inputs) else next(
            (t for s, t in b.captured if s == slot), None)
        if owner is not node.variable:
            raise Unsupported("backward() reaches a leaf made inside the function")
        return ("leaf", slot)
    index = node_index.get(id(node))
    if index is None:
        raise Unsupported("backward() reaches ops run outside the compiled function")
    routes = []
    for nxt, nr in node.next_functions:
        if nxt is None:
            routes.append(None)
        elif isinstance(nxt, AccumulateGrad):
            slot = slots.get(id(nxt.variable))
            if slot is None:
                raise Unsupported("backward() reaches a leaf the function does not use")
            routes.append((-1 - slot, 0))
        else:
            k = node_index.get(id(nxt))
            if k is None:
                raise Unsupported("backward() reaches ops run outside the compiled function")
            routes.append((k, nr))
    return ("op", index, tuple(routes))
