"""Run a recorded program on new inputs: its generated function on arrays, or, when the
result must carry a graph, each op's ``apply``."""

from __future__ import annotations

from .._tensor_core import TensorCore
from ..ops import inplace
from ..ops.nn_ops import update_running_stats
from .program import DrawStep, OpStep, Program
from .tracer import CallRecord
from .writes import RunningStatsStep, SnapshotStep, WriteStep


def _sources(program: Program, inputs) -> dict:
    """{slot: tensor} for the inputs and captured tensors."""
    tensors = dict(enumerate(inputs))
    for slot, t in program.captured:
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
    """Replay on arrays through the generated function (codegen.py): no graph is built."""
    return results(program, inputs, program.code(inputs))


def results(program: Program, inputs, output_arrays):
    """The function's result from the generated function's output arrays."""
    arrays = dict(zip(program.code_outputs, output_arrays))
    tensors = _sources(program, inputs)

    def value_of(slot, device):
        t = tensors.get(slot)
        if t is not None:
            return t
        t = TensorCore._make(arrays[slot], device)
        node_type = program.freed_outputs.get(slot)
        if node_type is not None:  # its graph was spent by the function's backward()
            node = node_type()
            node._freed, node._device, node.backend = True, device, program.backend
            t._requires_grad, t._grad_fn = True, node
        return t
    return _result(program.output, value_of)


def run_graph(program: Program, inputs, backend, index):
    """Replay through each op's ``apply``: the outputs carry grad_fn as in eager mode."""
    tensors = _sources(program, inputs)
    env = [None] * program.n_slots
    for slot, t in tensors.items():
        env[slot] = t
    for slot, t in program.constants:  # (written in place or returned: a fresh copy)
        env[slot] = TensorCore._make(program.constant_arrays[slot].copy(), t._device) \
            if slot in program.written_constants else t
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
        elif kind is SnapshotStep:
            env[step.copy] = inplace._snapshot(env[step.source])
        elif kind is WriteStep:
            inplace._write(env[step.target], env[step.result])
        elif kind is RunningStatsStep:
            running_mean, running_var = env[step.running_mean], env[step.running_var]
            mean, var = (env[s]._data if isinstance(env[s], TensorCore) else env[s]
                         for s in (step.mean, step.var))
            update_running_stats(running_mean._data, running_var._data, mean, var, step.n,
                                 step.momentum)
            running_mean._version.value += 1
            running_var._version.value += 1
    return _result(program.output, lambda slot, device: env[slot])
