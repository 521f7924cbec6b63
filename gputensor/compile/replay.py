"""Run a recorded program on new inputs: each op's forward (and the recorded backward
walk) on arrays directly, or, when the result must carry a graph, each op's ``apply``."""

from __future__ import annotations

from .._tensor_core import TensorCore
from ..autograd.function import grad_node
from .fuse import FusedStep
from .program import BackwardStep, DrawStep, OpStep, Program
from .tracer import CallRecord


def _sources(program: Program, inputs) -> dict:
    """{slot: tensor} for the inputs, captured tensors and constants."""
    tensors = dict(enumerate(inputs))
    for slot, t in program.captured:
        tensors[slot] = t
    for slot, t in program.constants:
        tensors[slot] = t
    return tensors


def _result(template, value_of):
    kind = template[0]
    if kind == "slot":
        return value_of(template[1], template[2])
    if kind == "seq":
        items = [_result(t, value_of) for t in template[2]]
        return template[1](items)
    if kind == "dict":
        return template[1]((k, _result(t, value_of)) for k, t in template[2])
    return template[1]


def run_arrays(program: Program, inputs, backend, index):
    """Replay on arrays: no graph is built; a backward step runs the recorded walk."""
    tensors = _sources(program, inputs)
    env = [None] * program.n_slots
    for slot, t in tensors.items():
        env[slot] = t._data
    for slot, array in program.array_constants:
        env[slot] = array
    xp = backend.xp
    ctxs = {}
    for step in program.steps:
        kind = type(step)
        if kind is OpStep:
            _forward(step, env, xp, backend, ctxs)
        elif kind is FusedStep:
            if not step.run(env):
                for op_step in step.steps:
                    _forward(op_step, env, xp, backend, ctxs)
        elif kind is DrawStep:
            env[step.slot] = step.noise(backend, index)
        elif kind is CallRecord:
            getattr(step.owner, step.name)(*step.args, **step.kwargs)
            for slot, t in program.captured:  # (a step may have rebound a parameter's array)
                env[slot] = t._data
        else:
            _backward(step, env, ctxs, tensors, xp)

    def value_of(slot, device):
        t = tensors.get(slot)
        return t if t is not None else TensorCore._make(env[slot], device)
    return _result(program.output, value_of)


def _forward(step: OpStep, env, xp, backend, ctxs) -> None:
    """One op's forward on the slots' arrays; its node kept for the backward walk."""
    args = list(step.template)
    for pos, slot in step.fills:
        args[pos] = env[slot]
    ctx = step.ctx_type()
    result = step.op.forward(ctx, *args)
    outs = step.outs
    if isinstance(result, tuple):
        for slot, array in zip(outs, result):
            env[slot] = array
    else:
        env[outs[0]] = result
    if step.static is not None:
        ctxs[step.node_index] = ctx


def lower(program: Program) -> None:
    """Work out once what each replay would otherwise redo: a node type per op carrying the
    backend and the node's static fields, and for the backward walk each gradient's sum to
    its input's shape, cast and destination."""
    backend = program.backend
    for step in program.steps:
        if type(step) is OpStep:
            fields = {"xp": backend.xp, "backend": backend, **(step.static or {})}
            step.ctx_type = type(step.node_type.__name__, (step.node_type,), fields)
        elif type(step) is BackwardStep:
            step.plan = tuple(_plan_entry(program, step, entry) for entry in step.order)
    for step in program.steps:
        for op_step in getattr(step, "steps", ()):  # a fused chain's ops, when run one by one
            op_step.ctx_type = type(op_step.node_type.__name__, (op_step.node_type,),
                                    {"xp": backend.xp, "backend": backend})


def _plan_entry(program, step, entry):
    if entry[0] == "leaf":
        return (None, entry[1], None, None, 0)
    _, k, routes = entry
    node = next(s for s in program.steps if type(s) is OpStep and s.node_index == k).static
    sends = []  # (argument position, shape to sum to or None, dtype, destination, nr)
    for pos, meta, route in zip(node["_arg_index"], node["_input_meta"], routes):
        if meta is None or route is None:
            continue
        sends.append((pos, meta[0], meta[1], route[0], route[1]))
    outputs = node["_output_meta"]
    return (k, tuple(sends), outputs if len(outputs) > 1 else None, None, 0)


def _backward(step: BackwardStep, env, ctxs, tensors, xp) -> None:
    """The engine's walk in the order it ran when traced, each node's formula as
    ``Function._run_backward`` runs it: the same sums in the same order, eager's bits."""
    root = env[step.root]
    plan = step.plan
    first = plan[0][0]
    buffers = {first: [None] * ctxs[first]._num_outputs}
    buffers[first][step.root_nr] = xp.ones(root.shape, root.dtype)
    backend = None
    for k, sends, outputs, _, _ in plan:
        if k is None:  # a leaf: sends holds its slot
            grads = buffers.pop(-1 - sends, None)
            if grads is not None and grads[0] is not None:
                grad_node(tensors[sends]).accumulate(grads[0])
            continue
        grads = buffers.pop(k, None)
        if grads is None:
            continue
        ctx = ctxs[k]
        if outputs is not None and any(g is None for g in grads):
            if all(g is None for g in grads):
                continue
            grads = [xp.zeros(*meta) if g is None else g for g, meta in zip(grads, outputs)]
        result = type(ctx).backward(ctx, *grads)
        if type(result) is not tuple:
            result = (result,)
        n = len(result)
        for pos, shape, dtype, dest, nr in sends:
            g = result[pos] if pos < n else None
            if g is None:
                continue
            if g.shape != shape:
                if backend is None:
                    backend = ctx.backend
                g = backend.sum_to_shape(g, shape)
            if g.dtype != dtype:
                g = g.astype(dtype)
            buf = buffers.get(dest)
            if buf is None:
                buf = buffers[dest] = [None] * (1 if dest < 0 else ctxs[dest]._num_outputs)
            buf[nr] = g if buf[nr] is None else buf[nr] + g


def run_graph(program: Program, inputs, backend, index):
    """Replay through each op's ``apply``: the outputs carry grad_fn as in eager mode."""
    tensors = _sources(program, inputs)
    env = [None] * program.n_slots
    for slot, t in tensors.items():
        env[slot] = t
    for slot, array in program.array_constants:
        env[slot] = array
    for step in program.steps:
        kind = type(step)
        if kind is OpStep:
            args = list(step.template)
            for pos, slot in step.fills:
                args[pos] = env[slot]
            for pos in step.array_positions:  # (ops such as embedding take arrays)
                if isinstance(args[pos], TensorCore):
                    args[pos] = args[pos]._data
            result = step.op.apply(*args)
            if isinstance(result, tuple):
                for slot, out in zip(step.outs, result):
                    env[slot] = out
            else:
                env[step.outs[0]] = result
        elif kind is DrawStep:
            env[step.slot] = step.noise(backend, index)
        elif kind is CallRecord:
            getattr(step.owner, step.name)(*step.args, **step.kwargs)
    return _result(program.output, lambda slot, device: env[slot])
