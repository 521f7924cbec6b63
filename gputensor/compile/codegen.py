"""A program as one generated Python function: straight-line calls of each op's forward, the
backward walk unrolled, slots as local variables.

The function does what ``Op.apply`` and the engine's ``Function._run_backward`` would do for
the recorded ops, in the same order with the same formulas, minus the per-op dispatch:
no Tensor objects, no graph, no buffers dictionary. ``program.source`` keeps its text.
"""

from __future__ import annotations

from ..ops.nn_ops import update_running_stats
from .fuse import FusedStep
from .outputs import output_slots
from .program import BackwardStep, DrawStep, OpStep, Program
from .tracer import CallRecord
from .writes import SnapshotStep, WriteStep


class _Writer:
    """Lines and the names they refer to (the generated function's globals)."""

    def __init__(self):
        self.lines = []
        self.names = {}

    def name(self, prefix: str, value) -> str:
        key = f"{prefix}{len(self.names)}"
        self.names[key] = value
        return key

    def emit(self, line: str, depth: int = 1) -> None:
        self.lines.append("    " * depth + line)


def _operand(w: _Writer, step: OpStep, pos: int, fills: dict) -> str:
    if pos in fills:
        return f"s{fills[pos]}"
    value = step.template[pos]
    if value is None or value is True or value is False or type(value) is int:
        return repr(value)
    return w.name("k", value)


def _forward(w: _Writer, step: OpStep, depth: int) -> None:
    fills = dict(step.fills)
    args = ", ".join(_operand(w, step, pos, fills) for pos in range(len(step.template)))
    forward = w.name("f", step.op.forward)
    ctx_type = w.name("t", step.ctx_type)
    if step.static is None:  # no node: the ctx (and what it saved) is dropped at once
        ctx = f"{ctx_type}()"
    else:
        ctx = f"c{step.node_index}"
        w.emit(f"{ctx} = {ctx_type}()", depth)
    if len(step.outs) == 1:
        out = f"s{step.outs[0]}"
        w.emit(f"{out} = {forward}({ctx}, {args})", depth)
        w.emit(f"if {out}.__class__ is tuple: {out} = {out}[0]", depth)
    else:
        w.emit(f"{', '.join(f's{o}' for o in step.outs)}, = {forward}({ctx}, {args})", depth)


def _fused(w: _Writer, step: FusedStep) -> None:
    fused = w.name("fused", step)
    w.emit(f"r = {fused}.call({', '.join(f's{s}' for s in step.inputs)})")
    w.emit("if r is None:")
    for op_step in step.steps:
        _forward(w, op_step, 2)
    w.emit("else:")
    w.emit(f"{', '.join(f's{s}' for s in step.outs)}, = r", 2)


def _backward(w: _Writer, program: Program, step: BackwardStep, leaf_source) -> None:
    nodes = {s.node_index: s for s in program.steps if type(s) is OpStep}
    buffers = set()
    for entry in step.order:
        if entry[0] == "op":
            for route in entry[2]:
                if route is not None:
                    buffers.add(route)
    first = step.order[0][1]
    buffers.add((first, step.root_nr))
    for k, nr in sorted(buffers):
        w.emit(f"b{-k if k < 0 else k}{'l' if k < 0 else ''}_{nr} = None")
    root = f"s{step.root}"
    w.emit(f"b{first}_{step.root_nr} = xp.ones({root}.shape, {root}.dtype)")

    def buffer(k, nr):
        return f"b{-k if k < 0 else k}{'l' if k < 0 else ''}_{nr}"

    for entry in step.order:
        if entry[0] == "leaf":
            slot = entry[1]
            name = buffer(-1 - slot, 0)
            if (-1 - slot, 0) in buffers:  # AccumulateGrad.accumulate (no hooks: guarded)
                leaf = leaf_source(slot)
                w.emit(f"if {name} is not None:")
                w.emit(f"old = {leaf}._grad", 2)
                w.emit("if old is None:", 2)
                w.emit(f"{leaf}._grad = {leaf}._wrap(xp.array({name}, "
                       f"dtype={leaf}._data.dtype, copy=True))", 3)
                w.emit("elif getattr(old._data.flags, 'writeable', True):", 2)
                w.emit(f"old._data += {name}", 3)
                w.emit("else:", 2)
                w.emit(f"old._data = old._data + {name}", 3)
            continue
        _, k, routes = entry
        static = nodes[k].static
        outputs = static["_output_meta"]
        names = [buffer(k, nr) for nr in range(len(outputs))]
        present = [n for nr, n in enumerate(names) if (k, nr) in buffers]
        if not present:
            continue
        w.emit(f"if {' or '.join(f'{n} is not None' for n in present)}:")
        grads = []
        for nr, n in enumerate(names):
            if len(outputs) == 1:
                grads.append(n)
            else:
                zeros = w.name("meta", outputs[nr])
                grads.append(f"({n} if {n} is not None else xp.zeros(*{zeros}))"
                             if (k, nr) in buffers else f"xp.zeros(*{zeros})")
        backward = w.name("b", nodes[k].ctx_type.backward)
        w.emit(f"r = {backward}(c{k}, {', '.join(grads)})", 2)
        w.emit("if r.__class__ is not tuple: r = (r,)", 2)
        for pos, meta, route in zip(static["_arg_index"], static["_input_meta"], routes):
            if meta is None or route is None:
                continue
            shape, dtype = w.name("shape", meta[0]), w.name("dtype", meta[1])
            dest = buffer(*route)
            w.emit(f"g = r[{pos}] if len(r) > {pos} else None", 2)
            w.emit("if g is not None:", 2)
            w.emit(f"if g.shape != {shape}: g = sum_to_shape(g, {shape})", 3)
            w.emit(f"if g.dtype != {dtype}: g = g.astype({dtype})", 3)
            w.emit(f"{dest} = g if {dest} is None else {dest} + g", 3)
        # as the engine frees a node's gradients and saved arrays once it ran
        w.emit(f"{' = '.join(present)} = c{k} = r = g = None")


def _write(w: _Writer, step, leaf_source, n_inputs: int, tensors: dict,
           grad_reads: dict) -> None:
    """An in-place op's snapshot or write, or batch norm's running statistics; a tensor the
    caller can see (an argument, parameter, buffer or a leaf's .grad) gets its version
    bumped, as eagerly."""
    if type(step) is SnapshotStep:
        w.emit(f"s{step.copy} = s{step.source}.copy()")
        return
    if type(step) is WriteStep:
        w.emit(f"s{step.target}[...] = s{step.result}")
        targets = (step.target,)
    else:
        update = w.name("update", update_running_stats)
        w.emit(f"{update}(s{step.running_mean}, s{step.running_var}, s{step.mean}, "
               f"s{step.var}, {step.n!r}, {step.momentum!r})")
        targets = (step.running_mean, step.running_var)
    for slot in targets:
        if slot < n_inputs or slot in tensors:
            w.emit(f"{leaf_source(slot)}._version.value += 1")
        elif slot in grad_reads:
            w.emit(f"{leaf_source(grad_reads[slot])}._grad._version.value += 1")


def _last_uses(program: Program) -> dict:
    """{step index: the slots no later step reads}: values made by a step (not inputs,
    parameters, constants or results) are dropped after their last reader, as eagerly."""
    made, last = set(), {}
    for index, step in enumerate(program.steps):
        kind = type(step)
        if kind is OpStep:
            made.update(step.outs)
        elif kind is FusedStep:
            made.update(step.outs)
        elif kind is DrawStep:
            made.add(step.slot)
        elif kind is SnapshotStep:
            made.add(step.copy)
        reads = [slot for _, slot in getattr(step, "fills", ())]
        reads += getattr(step, "inputs", ())
        if kind is BackwardStep:
            reads.append(step.root)
        for slot in reads:
            last[slot] = index
        for slot in getattr(step, "outs", ()):
            last.setdefault(slot, index)
        for slot in (step.slot,) if kind is DrawStep else ():
            last.setdefault(slot, index)
    kept = set(output_slots(program.output))
    done = {}
    for slot, index in last.items():
        if slot in made and slot not in kept:
            done.setdefault(index, []).append(slot)
    return {index: sorted(slots) for index, slots in done.items()}


def _node_types(program: Program) -> None:
    """Each op's node type, subclassed once to carry the backend and the node's static
    fields (what ``Op.apply`` and ``_wire`` would set on every call)."""
    backend = program.backend
    for step in program.steps:
        for op_step in getattr(step, "steps", (step,)):
            if type(op_step) is OpStep:
                fields = {"xp": backend.xp, "backend": backend, **(op_step.static or {})}
                op_step.ctx_type = type(op_step.node_type.__name__, (op_step.node_type,),
                                        fields)


def generate(program: Program) -> None:
    """Set ``program.code(inputs)``, returning the arrays of ``program.code_outputs``."""
    _node_types(program)
    w = _Writer()
    backend = program.backend
    w.names.update(xp=backend.xp, sum_to_shape=backend.sum_to_shape, backend=backend)
    n_inputs = program.n_inputs
    for i in range(n_inputs):
        w.emit(f"s{i} = inputs[{i}]._data")
    tensors = {}
    for slot, t in program.captured:
        tensors[slot] = w.name("tensor", t)
        w.emit(f"s{slot} = {tensors[slot]}._data")
    for slot, array in program.constant_arrays.items():
        copy = ".copy()" if slot in program.written_constants else ""
        w.emit(f"s{slot} = {w.name('constant', array)}{copy}")
    for slot, array in program.array_constants:
        w.emit(f"s{slot} = {w.name('array', array)}")

    def leaf_source(slot):
        return f"inputs[{slot}]" if slot < n_inputs else tensors[slot]

    last_use = _last_uses(program)
    call_names = []  # the names of the host calls, in order (cuda_graphs.py wraps them)
    for index, step in enumerate(program.steps):
        kind = type(step)
        if kind is OpStep:
            _forward(w, step, 1)
        elif kind is FusedStep:
            _fused(w, step)
        elif kind is DrawStep:
            w.emit(f"s{step.slot} = {w.name('draw', step)}.noise(backend, "
                   f"{program.index!r})")
        elif kind is CallRecord:
            method = getattr(step.owner, step.name)
            args = ", ".join([w.name("k", a) for a in step.args]
                             + [f"{key}={w.name('k', v)}" for key, v in step.kwargs.items()])
            call_names.append(w.name("call", method))
            w.emit(f"{call_names[-1]}({args})")
            for slot, _ in program.captured:  # (a step may rebind a parameter's array)
                w.emit(f"s{slot} = {tensors[slot]}._data")
        elif kind is BackwardStep:
            _backward(w, program, step, leaf_source)
            for slot, leaf in program.grad_reads.items():  # (e.g. gradient clipping's)
                w.emit(f"g = {leaf_source(leaf)}._grad")
                w.emit(f"s{slot} = None if g is None else g._data")
        else:
            _write(w, step, leaf_source, n_inputs, tensors, program.grad_reads)
        done = last_use.get(index)
        if done:
            w.emit(f"del {', '.join(f's{slot}' for slot in done)}")
    outputs = sorted(set(output_slots(program.output)) - set(tensors) - set(range(n_inputs)))
    w.emit(f"return ({''.join(f's{s}, ' for s in outputs)})")
    source = "def program(inputs):\n" + "\n".join(w.lines) + "\n"
    namespace = dict(w.names)
    exec(compile(source, "<gputensor.compile program>", "exec"), namespace)  # noqa: S102
    program.code, program.code_outputs, program.source = namespace["program"], outputs, source
    program.call_names = tuple(call_names)
