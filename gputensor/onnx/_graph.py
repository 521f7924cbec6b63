"""The graph a trace builds: names for traced values, constants, and ONNX nodes."""

from __future__ import annotations

import importlib

import numpy as np

from .._tensor_core import TensorCore


class UnsupportedOperatorError(RuntimeError):
    """An op the model ran has no ONNX form in gputensor.onnx (the message names it)."""


def onnx_module():
    """The ``onnx`` package, imported on first use (it is the optional extra ``onnx``)."""
    try:
        return importlib.import_module("onnx")
    except ImportError:
        raise ImportError("gputensor.onnx.export needs the onnx package: pip install "
                          "'gputensor[onnx]' (or pip install onnx)") from None


class Graph:
    """Collects ONNX nodes and initializers while a model runs; values are named by the
    tensors (and arrays) that hold them."""

    def __init__(self, opset_version):
        self.opset = opset_version
        self.nodes, self.initializers = [], []
        self._names = {}   # id(tensor or array) -> value name
        self._keep = []    # what the names point at, alive so that no id is reused
        self._count = 0

    def fresh(self, hint):
        self._count += 1
        return f"/{hint}_{self._count}"

    def bind(self, obj, name):
        """Let ``obj`` (a tensor, with its array) stand for the value ``name`` from now on."""
        self._names[id(obj)] = name
        self._keep.append(obj)
        if isinstance(obj, TensorCore):
            self._names[id(obj._data)] = name
            self._keep.append(obj._data)

    def name_of(self, obj):
        """The traced value ``obj`` holds, or None for a constant (a parameter, a buffer)."""
        found = self._names.get(id(obj))
        if found is None and isinstance(obj, TensorCore):
            found = self._names.get(id(obj._data))
        return found

    def const(self, array, hint="const"):
        """An initializer holding ``array``; returns its name."""
        onnx = onnx_module()
        name = self.fresh(hint)
        array = np.array(array, order="C")  # (np.ascontiguousarray makes 0-d arrays 1-d)
        self.initializers.append(onnx.numpy_helper.from_array(array, name))
        return name

    def value(self, obj, dtype=None, hint="const"):
        """The name of a tensor, array or number as an input of a node, cast to ``dtype``."""
        name = self.name_of(obj) if isinstance(obj, (TensorCore, np.ndarray)) else None
        if isinstance(obj, TensorCore):
            source_dtype = obj._data.dtype
        else:
            source_dtype = np.asarray(obj).dtype
        if name is None:
            array = obj.numpy(force=True) if isinstance(obj, TensorCore) else np.asarray(obj)
            if dtype is not None:
                array = array.astype(dtype)
            return self.const(array, hint)
        if dtype is not None and np.dtype(dtype) != source_dtype:
            return self.node("Cast", [name], to=onnx_dtype(dtype))
        return name

    def node(self, op_type, inputs, out=None, **attributes):
        """Add one node; returns its output's name (``out`` or a fresh one)."""
        onnx = onnx_module()
        out = out or self.fresh(op_type)
        self.nodes.append(onnx.helper.make_node(op_type, list(inputs), [out],
                                                name=self.fresh(f"{op_type}_node"),
                                                **attributes))
        return out

    def node_multi(self, op_type, inputs, outs, **attributes):
        """Add one node with several named outputs."""
        onnx = onnx_module()
        self.nodes.append(onnx.helper.make_node(op_type, list(inputs), list(outs),
                                                name=self.fresh(f"{op_type}_node"),
                                                **attributes))

    def int64s(self, values, hint="shape"):
        """A 1-D int64 constant (shapes, axes)."""
        return self.const(np.asarray(list(values), dtype=np.int64), hint)


def onnx_dtype(dtype) -> int:
    """ONNX's element type number for a NumPy dtype."""
    return onnx_module().helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
