"""How each traced op becomes ONNX nodes: ``CONVERTERS["module.OpClass"](graph, args, outs)``.

An op is looked up by its class and then its base classes (``nn_ops.LinearView`` finds
``nn_ops.Addmm``). Shapes that views and reshapes take are the ones seen in the trace.
"""

from __future__ import annotations

import math

import numpy as np

from ._graph import UnsupportedOperatorError

CONVERTERS = {}


def converts(*keys):
    """Register the decorated function as the converter of these op classes."""
    def register(fn):
        for key in keys:
            CONVERTERS[key] = fn
        return fn
    return register


def op_key(cls) -> str:
    return f"{cls.__module__.rsplit('.', 1)[-1]}.{cls.__name__}"


def find_converter(op_class):
    for cls in op_class.__mro__:
        fn = CONVERTERS.get(op_key(cls))
        if fn is not None:
            return fn
    return None


def _ndim(t):
    return len(t.shape)


def _axis(dim, ndim):
    return dim + ndim if dim < 0 else dim


# ---- layers ---------------------------------------------------------------------------------
@converts("nn_ops.Addmm")
def _linear(g, args, outs):
    x, w, b = args  # x @ w.T + b
    dtype = outs[0].dtype
    wt = g.node("Transpose", [g.value(w, dtype, "weight")], perm=[1, 0])
    if b is None:
        g.node("MatMul", [g.value(x, dtype), wt], out=outs[0].name)
        return
    product = g.node("MatMul", [g.value(x, dtype), wt])
    g.node("Add", [product, g.value(b, dtype, "bias")], out=outs[0].name)


@converts("blas.Addmm")
def _addmm(g, args, outs):
    bias, mat1, mat2, beta, alpha = args  # beta * bias + alpha * mat1 @ mat2
    dtype = outs[0].dtype
    g.node("Gemm", [g.value(mat1, dtype), g.value(mat2, dtype), g.value(bias, dtype)],
           out=outs[0].name, alpha=float(alpha), beta=float(beta))


@converts("linalg.Matmul")
def _matmul(g, args, outs):
    g.node("MatMul", [g.value(a, outs[0].dtype) for a in args[:2]], out=outs[0].name)


@converts("nn_ops.Embedding")
def _embedding(g, args, outs):
    weight, indices = args[:2]
    g.node("Gather", [g.value(weight, hint="weight"), g.value(indices, np.int64)],
           out=outs[0].name, axis=0)


@converts("nn_ops.NativeLayerNorm")
def _layer_norm(g, args, outs):
    x, w, b, norm_shape, eps = args
    if g.opset < 17:
        raise_unsupported("NativeLayerNorm", g.opset, "LayerNormalization needs opset 17")
    dtype = outs[0].dtype
    scale = g.value(w if w is not None else np.ones(norm_shape, dtype), dtype, "weight")
    inputs = [g.value(x, dtype), scale] + ([g.value(b, dtype, "bias")] if b is not None else [])
    g.node("LayerNormalization", inputs, out=outs[0].name, axis=-len(norm_shape),
           epsilon=float(eps))


# ---- activations ------------------------------------------------------------------------------
_UNARY = {"Relu": "Relu", "Tanh": "Tanh", "Sigmoid": "Sigmoid", "Neg": "Neg", "Exp": "Exp",
          "Log": "Log", "Sqrt": "Sqrt", "Abs": "Abs", "Erf": "Erf", "Sin": "Sin", "Cos": "Cos",
          "Reciprocal": "Reciprocal"}


def _unary(onnx_op):
    def convert(g, args, outs):
        g.node(onnx_op, [g.value(args[0], outs[0].dtype)], out=outs[0].name)
    return convert


for _name, _onnx_op in _UNARY.items():
    CONVERTERS[f"unary.{_name}"] = _unary(_onnx_op)


@converts("activations.Gelu")
def _gelu(g, args, outs):
    x, approximate = g.value(args[0], outs[0].dtype), args[1]
    dtype = outs[0].dtype
    if g.opset >= 20:
        g.node("Gelu", [x], out=outs[0].name, approximate=approximate)
        return
    half, one = g.const(np.array(0.5, dtype)), g.const(np.array(1.0, dtype))
    if approximate == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = g.node("Mul", [g.node("Mul", [x, x]), x])
        inner = g.node("Add", [x, g.node("Mul", [cube, g.const(np.array(0.044715, dtype))])])
        scaled = g.node("Mul", [inner, g.const(np.array(math.sqrt(2 / math.pi), dtype))])
        cdf2 = g.node("Add", [one, g.node("Tanh", [scaled])])
    else:  # 0.5 x (1 + erf(x / sqrt 2))
        scaled = g.node("Div", [x, g.const(np.array(math.sqrt(2.0), dtype))])
        cdf2 = g.node("Add", [one, g.node("Erf", [scaled])])
    g.node("Mul", [g.node("Mul", [x, half]), cdf2], out=outs[0].name)


@converts("activations.Silu")
def _silu(g, args, outs):
    x = g.value(args[0], outs[0].dtype)
    g.node("Mul", [x, g.node("Sigmoid", [x])], out=outs[0].name)


@converts("activations.LeakyRelu")
def _leaky_relu(g, args, outs):
    g.node("LeakyRelu", [g.value(args[0], outs[0].dtype)], out=outs[0].name,
           alpha=float(args[1]))


@converts("softmaxes.Softmax", "softmaxes.LogSoftmax")
def _softmax(g, args, outs):
    x, axis = args[:2]
    op_type = "LogSoftmax" if outs[0].op_key == "softmaxes.LogSoftmax" else "Softmax"
    g.node(op_type, [g.value(x, outs[0].dtype)], out=outs[0].name, axis=int(axis))


# ---- arithmetic ------------------------------------------------------------------------------
def _binary(onnx_op):
    def convert(g, args, outs):
        a, b, *options = args
        dtype = outs[0].dtype
        b_name = g.value(b, dtype)
        alpha = options[0] if options and onnx_op in ("Add", "Sub") else 1
        if alpha != 1:
            b_name = g.node("Mul", [b_name, g.const(np.array(alpha, dtype))])
        g.node(onnx_op, [g.value(a, dtype), b_name], out=outs[0].name)
    return convert


for _name in ("Add", "Sub", "Mul", "Div"):
    CONVERTERS[f"elementwise.{_name}"] = _binary(_name)


# ---- views and shapes ------------------------------------------------------------------------
@converts("views.View", "views.UnsafeView")
def _reshape(g, args, outs):
    g.node("Reshape", [g.value(args[0]), g.int64s(outs[0].shape)], out=outs[0].name)


@converts("views.Expand")
def _expand(g, args, outs):
    g.node("Expand", [g.value(args[0]), g.int64s(outs[0].shape)], out=outs[0].name)


@converts("views.Contiguous", "views.Alias", "unary.Clone")
def _identity(g, args, outs):
    g.node("Identity", [g.value(args[0])], out=outs[0].name)


@converts("views.Transpose")
def _transpose(g, args, outs):
    x, d0, d1 = args
    perm = list(range(_ndim(x)))
    if perm:
        d0, d1 = _axis(d0, len(perm)), _axis(d1, len(perm))
        perm[d0], perm[d1] = perm[d1], perm[d0]
    g.node("Transpose", [g.value(x)], out=outs[0].name, perm=perm)


@converts("views.Permute")
def _permute(g, args, outs):
    x, dims = args
    g.node("Transpose", [g.value(x)], out=outs[0].name,
           perm=[_axis(d, _ndim(x)) for d in dims])


@converts("views.Select")
def _select(g, args, outs):
    x, dim, index = args
    dim = _axis(dim, _ndim(x))
    index = index % x.shape[dim]
    g.node("Gather", [g.value(x), g.const(np.array(index, np.int64), "index")],
           out=outs[0].name, axis=dim)


@converts("views.Slice")
def _slice(g, args, outs):
    x, dim, start, stop, step = args
    dim = _axis(dim, _ndim(x))
    start, stop, step = slice(start, stop, step).indices(x.shape[dim])
    g.node("Slice", [g.value(x), g.int64s([start]), g.int64s([stop]), g.int64s([dim]),
                     g.int64s([step])], out=outs[0].name)


@converts("views.Squeeze")
def _squeeze(g, args, outs):
    x, dims = args
    axes = [d for d in dims if d < _ndim(x) and x.shape[d] == 1]
    if not axes:
        g.node("Identity", [g.value(x)], out=outs[0].name)
        return
    g.node("Squeeze", [g.value(x), g.int64s(axes, "axes")], out=outs[0].name)


@converts("views.Unsqueeze")
def _unsqueeze(g, args, outs):
    g.node("Unsqueeze", [g.value(args[0]), g.int64s([args[1]], "axes")], out=outs[0].name)


@converts("shape.Cat")
def _cat(g, args, outs):
    dim, dtype, skip, *xs = args
    kept = [g.value(x, outs[0].dtype) for x, s in zip(xs, skip) if not s]
    g.node("Concat", kept, out=outs[0].name, axis=int(dim))


@converts("shape.Stack")
def _stack(g, args, outs):
    dim, dtype, *xs = args
    axes = g.int64s([dim], "axes")
    pieces = [g.node("Unsqueeze", [g.value(x, outs[0].dtype), axes]) for x in xs]
    g.node("Concat", pieces, out=outs[0].name, axis=int(dim))


@converts("shape.SplitWithSizes")
def _split(g, args, outs):
    x, dim, sizes = args
    g.node_multi("Split", [g.value(x), g.int64s([o.shape[dim] for o in outs], "split")],
                 [o.name for o in outs], axis=int(dim))


@converts("shape.Unbind")
def _unbind(g, args, outs):
    x, dim = args
    pieces = [g.fresh("piece") for _ in outs]
    g.node_multi("Split", [g.value(x), g.int64s([1] * len(outs), "split")], pieces,
                 axis=int(dim))
    axes = g.int64s([dim], "axes")
    for piece, out in zip(pieces, outs):
        g.node("Squeeze", [piece, axes], out=out.name)


# ---- reductions ------------------------------------------------------------------------------
def _reduce(onnx_op):
    def convert(g, args, outs):
        x, axes, keepdim, dtype = args
        name = g.value(x, outs[0].dtype)
        axes = list(range(_ndim(x))) if axes is None else [_axis(a, _ndim(x)) for a in (
            axes if isinstance(axes, (tuple, list)) else (axes,))]
        attributes = {"keepdims": int(bool(keepdim))}
        if onnx_op == "ReduceSum" and g.opset >= 13 or g.opset >= 18:
            g.node(onnx_op, [name, g.int64s(axes, "axes")], out=outs[0].name, **attributes)
        else:
            g.node(onnx_op, [name], out=outs[0].name, axes=axes, **attributes)
    return convert


CONVERTERS["reduce.Sum"] = _reduce("ReduceSum")
CONVERTERS["reduce.Mean"] = _reduce("ReduceMean")


def raise_unsupported(name, opset, why=""):
    """torch.onnx's error for an op it cannot export, naming the op."""
    raise UnsupportedOperatorError(
        f"Exporting the operator '{name}' to ONNX opset version {opset} is not supported"
        + (f" ({why})" if why else "") + " by gputensor.onnx.")
