"""torch.autograd.functional: Jacobians, Hessians and their products with vectors.

Each function differentiates ``func`` at ``inputs`` (a tensor or a tuple of tensors) with
the reverse-mode engine; ``jvp`` and ``hvp`` use the double-backward trick, as torch does.
Results are detached unless ``create_graph``; an input the output does not depend on gets
zeros (or, with ``strict``, torch's error).
"""

from __future__ import annotations

from .._tensor_core import TensorCore
from .engine import grad as _grad
from .grad_mode import enable_grad

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


def _as_tuple(value, arg_name, fn_name):
    """(tuple of tensors, whether ``value`` was a tuple), with torch's type errors."""
    is_tuple = isinstance(value, tuple)
    items = tuple(value) if is_tuple else (value,)
    for i, item in enumerate(items):
        if not isinstance(item, TensorCore):
            if is_tuple:
                raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or "
                                f"a tuple of Tensors but the value at index {i} has type "
                                f"{type(item)}.")
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a "
                            f"tuple of Tensors but the given {arg_name} has type "
                            f"{type(item)}.")
    return items, is_tuple


def _prepare(inputs, create_graph):
    """Inputs that require grad: views keeping the graph (create_graph), else detached."""
    return tuple(x.view_as(x) if create_graph and x.requires_grad
                 else x.detach().requires_grad_(True) for x in inputs)


def _finish(values, create_graph):
    """Results detached unless ``create_graph``."""
    return tuple(v if v is None or create_graph else v.detach() for v in values)


def _grads(outputs, inputs, grad_outputs, create_graph, strict, fn_name, stage="output"):
    """d outputs / d inputs times ``grad_outputs``; zeros (or torch's error) where unused."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if not pairs:
        found = (None,) * len(inputs)
    else:
        found = _grad([o for o, _ in pairs], inputs, [g for _, g in pairs],
                      create_graph=create_graph, retain_graph=True, allow_unused=True)
    result = []
    for i, (g, x) in enumerate(zip(found, inputs)):
        if g is None:
            if strict:
                raise RuntimeError(f"The {stage} of the user-provided function is independent "
                                   f"of input {i}. This is not allowed in strict mode.")
            g = x.new_zeros(tuple(x.shape))
        result.append(g)
    return tuple(result)


def _check_v(v, outputs, fn_name, other_is_tuple=True):
    if v is None:
        if len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function "
                               "returns a single Tensor with a single element.")
        return (outputs[0].new_ones(tuple(outputs[0].shape)),)
    v, _ = _as_tuple(v, "v", fn_name)
    if len(v) != len(outputs):
        raise RuntimeError(f"v is a tuple of invalid length: should be {len(outputs)} but got "
                           f"{len(v)}.")
    for i, (a, b) in enumerate(zip(v, outputs)):
        if tuple(a.shape) != tuple(b.shape):
            prefix = f"Entry {i} in " if other_is_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {b.shape} but got "
                               f"{a.shape}.")
    return v


def _v_for_inputs(v, inputs, fn_name, in_tuple):
    """The vector(s) v for products with the inputs: ones for one one-element input."""
    if v is not None:
        return _check_v(v, inputs, fn_name, in_tuple)
    if len(inputs) != 1 or inputs[0].numel() != 1:
        raise RuntimeError("The vector v can only be None if the input to the user-provided "
                           "function is a single Tensor with a single element.")
    return (inputs[0].new_ones(tuple(inputs[0].shape)),)


def _call(func, inputs, is_tuple, fn_name):
    outputs = func(*inputs) if is_tuple else func(inputs[0])
    return _as_tuple(outputs, "outputs of the user-provided function", fn_name)


def _unpack(values, is_tuple):
    return values if is_tuple else values[0]


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product at ``inputs``."""
    with enable_grad():
        inputs, in_tuple = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prepare(inputs, create_graph)
        outputs, out_tuple = _call(func, inputs, in_tuple, "vjp")
        v = _check_v(v, outputs, "vjp", out_tuple)
        grads = _grads(outputs, inputs, v, create_graph, strict, "vjp")
    return (_unpack(_finish(outputs, create_graph), out_tuple),
            _unpack(_finish(grads, create_graph), in_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product, by the double-backward trick."""
    with enable_grad():
        inputs, in_tuple = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prepare(inputs, create_graph)
        v = _v_for_inputs(v, inputs, "jvp", in_tuple)
        outputs, out_tuple = _call(func, inputs, in_tuple, "jvp")
        dummies = tuple(o.new_zeros(tuple(o.shape)).requires_grad_(True) for o in outputs)
        grads = _grads(outputs, inputs, dummies, True, strict, "jvp")
        result = _grads(grads, dummies, v, create_graph, strict, "jvp")
    return (_unpack(_finish(outputs, create_graph), out_tuple),
            _unpack(_finish(result, create_graph), out_tuple))


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: out.shape + in.shape for each pair."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode". '
                         "Hint: If your function has more outputs than inputs, "
                         '"forward-mode" tends to be more performant. Otherwise, prefer to '
                         'use "reverse-mode".')
    with enable_grad():
        inputs, in_tuple = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prepare(inputs, create_graph)
        outputs, out_tuple = _call(func, inputs, in_tuple, "jacobian")
        table = []
        for out in outputs:
            flat = out.reshape(-1)
            blocks = [x.new_zeros((flat.numel(),) + tuple(x.shape)) for x in inputs]
            for j in range(flat.numel()):
                row = _grads((flat[j],), inputs, (flat[j].new_ones(()),), create_graph,
                             strict, "jacobian")
                for block, g in zip(blocks, row):
                    block[j] = g
            table.append(tuple(b.reshape(tuple(out.shape) + tuple(x.shape))
                               for b, x in zip(blocks, inputs)))
    table = [_finish(row, create_graph) for row in table]
    if out_tuple:
        return tuple(_unpack(row, in_tuple) for row in table)
    return _unpack(table[0], in_tuple)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of scalar ``func`` at ``inputs`` (in.shape + in.shape for each pair)."""
    inputs_t, in_tuple = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*xs):
        out = func(*xs) if in_tuple else func(xs[0])
        outs, _ = _as_tuple(out, "outputs of the user-provided function", "hessian")
        if len(outs) != 1 or outs[0].numel() != 1:
            raise RuntimeError("The function given to hessian should return a single Tensor")
        grads = _grads(outs, xs, (outs[0].new_ones(tuple(outs[0].shape)),), True, strict,
                       "hessian")
        return grads if in_tuple else grads[0]

    return jacobian(gradient, inputs_t if in_tuple else inputs_t[0], create_graph, strict)


def _hessian_product(name, func, inputs, v, create_graph, strict):
    with enable_grad():
        inputs, in_tuple = _as_tuple(inputs, "inputs", name)
        inputs = _prepare(inputs, create_graph)
        outputs, _ = _call(func, inputs, in_tuple, name)
        if len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError("The function given to hvp should return a single Tensor" if
                               name == "hvp" else "The Tensor returned by the function given "
                               "to vhp should contain a single element")
        v = _v_for_inputs(v, inputs, name, in_tuple)
        grads = _grads(outputs, inputs, (outputs[0].new_ones(()).reshape(
            tuple(outputs[0].shape)),), True, strict, name)
        result = _grads(grads, inputs, v, create_graph, strict, name, "jacobian")
    return _finish(outputs, create_graph)[0], _unpack(_finish(result, create_graph), in_tuple)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H): the vector-Hessian product of scalar ``func``."""
    return _hessian_product("vhp", func, inputs, v, create_graph, strict)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v): the Hessian-vector product (H is symmetric: the same as vhp)."""
    return _hessian_product("hvp", func, inputs, v, create_graph, strict)
