"""``export``: run the model once with every built-in op recorded, then write the ONNX file."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import numpy as np

from .._tensor_core import TensorCore
from ..autograd.function import set_op_observer
from ..autograd.grad_mode import no_grad
from ._converters import find_converter, op_key, raise_unsupported
from ._graph import Graph, onnx_dtype, onnx_module

DEFAULT_OPSET = 18


@dataclass
class TracedOutput:
    """One output of a traced op: its value name, dtype, shape and the op that made it."""

    name: str
    dtype: np.dtype
    shape: tuple
    op_key: str


class _Recorder:
    """The op observer: turns each op into nodes as the model runs."""

    def __init__(self, graph):
        self.graph = graph
        self.error = None

    def __call__(self, op_class, args, outs):
        if self.error is not None:
            return
        converter = find_converter(op_class)
        try:
            if converter is None:
                raise_unsupported(op_class.__name__, self.graph.opset)
            traced = [TracedOutput(self.graph.fresh(op_class.__name__), out._data.dtype,
                                   tuple(out.shape), op_key(op_class)) for out in outs]
            converter(self.graph, args, traced)
        except Exception as err:  # noqa: BLE001 - raised after the model's call returns
            self.error = err
            return
        for out, record in zip(outs, traced):
            self.graph.bind(out, record.name)


def _flat_tensors(value, what):
    """The tensors of a tensor or of nested tuples and lists of them, in order (as torch)."""
    if isinstance(value, TensorCore):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _flat_tensors(v, what)]
    raise TypeError(f"gputensor.onnx.export: the model's {what} must be tensors or (nested) "
                    f"tuples of tensors, not {type(value).__name__}")


def _names(given, count, prefix):
    given = list(given or [])
    return given[:count] + [f"{prefix}_{i}" for i in range(len(given), count)]


def _value_info(name, t, dynamic_axes):
    axes = dynamic_axes.get(name, {})
    if isinstance(axes, (list, tuple)):
        axes = {a: f"{name}_dynamic_axes_{k + 1}" for k, a in enumerate(axes)}
    shape = [axes.get(i, size) for i, size in enumerate(t.shape)]
    return onnx_module().helper.make_tensor_value_info(name, onnx_dtype(t._data.dtype), shape)


@contextlib.contextmanager
def _eval_mode(model):
    """torch.onnx.export's default ``training=TrainingMode.EVAL``: restored afterwards."""
    modes = [(m, m.training) for m in model.modules()] if hasattr(model, "modules") else []
    for m, _ in modes:
        m.training = False
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training


def export(model, args, f, *, input_names=None, output_names=None, dynamic_axes=None,
           opset_version=None, **unused_options):
    """Trace ``model(*args)`` and write it to ``f`` (a path or a binary file) as ONNX."""
    del unused_options  # torch's other options (verbose, do_constant_folding...) change nothing
    onnx = onnx_module()
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    args = args if isinstance(args, tuple) else (args,)
    inputs = [a for a in args if isinstance(a, TensorCore)]
    input_names = _names(input_names, len(inputs), "input")
    graph = Graph(opset)
    for t, name in zip(inputs, input_names):
        graph.bind(t, name)
    recorder = _Recorder(graph)
    previous = set_op_observer(recorder)
    try:
        with no_grad(), _eval_mode(model):
            result = model(*args)
    finally:
        set_op_observer(previous)
    if recorder.error is not None:
        raise recorder.error
    outputs = _flat_tensors(result, "outputs")
    output_names = _names(output_names, len(outputs), "output")
    for t, name in zip(outputs, output_names):
        graph.node("Identity", [graph.value(t)], out=name)
    dynamic_axes = dynamic_axes or {}
    onnx_graph = onnx.helper.make_graph(
        graph.nodes, getattr(model, "__class__", type(model)).__name__,
        [_value_info(n, t, dynamic_axes) for t, n in zip(inputs, input_names)],
        [_value_info(n, t, dynamic_axes) for t, n in zip(outputs, output_names)],
        graph.initializers)
    proto = onnx.helper.make_model(onnx_graph, producer_name="gputensor",
                                   opset_imports=[onnx.helper.make_opsetid("", opset)])
    proto.ir_version = min(proto.ir_version, 10)  # readable by onnxruntime releases of 2025
    onnx.checker.check_model(proto)
    if isinstance(f, (str, bytes, os.PathLike)):
        onnx.save_model(proto, os.fsdecode(f))
    else:
        f.write(proto.SerializeToString())
    return proto
