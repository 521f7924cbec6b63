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
    ctx = step.node_type()
    ctx.xp = xp
    ctx.backend = backend
    result = step.op.forward(ctx, *args)
    outs = step.outs
    if isinstance(result, tuple):
        for slot, array in zip(outs, result):
            env[slot] = array
    else:
        env[outs[0]] = result
    if step.static is not None:
        ctx.__dict__.update(step.static)
        ctxs[step.node_index] = ctx


def _backward(step: BackwardStep, env, ctxs, tensors, xp) -> None:
    """The engine's walk, in the order it ran when traced: the same sums in the same order."""
    root = env[step.root]
    first = step.order[0][1]
    buffers = {first: [None] * ctxs[first]._num_outputs}
    buffers[first][step.root_nr] = xp.ones(root.shape, root.dtype)
    for entry in step.order:
        if entry[0] == "leaf":
            grads = buffers.pop(-1 - entry[1], None)
            if grads is not None and grads[0] is not None:
                grad_node(tensors[entry[1]]).accumulate(grads[0])
            continue
        _, k, routes = entry
        grads = buffers.pop(k, None)
        if grads is None or all(g is None for g in grads):
            continue
        in_grads = ctxs[k]._run_backward(grads, False)
        for route, g in zip(routes, in_grads):
            if route is None or g is None:
                continue
            dest, nr = route
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
