"""What torch checks around a user's autograd.Function: its arguments and its gradients.

``bind_arguments`` maps ``Function.apply``'s keyword arguments onto ``forward``'s
parameters as torch's C++ ``apply`` does; ``checked_gradients`` validates what
``backward`` returns (count, type, shape, device) and turns it into arrays summed to each
input's shape and cast to its dtype; ``check_dirty`` and ``alias_unmarked_inputs`` treat
inputs returned by forward; ``modified_saved_message`` is torch's text for a saved tensor
changed in place; ``once_differentiable`` is torch's decorator.
"""

from __future__ import annotations

import functools
import inspect

from .._tensor_core import TensorCore
from .grad_mode import no_grad

__all__ = ["alias_unmarked_inputs", "bind_arguments", "check_dirty", "checked_gradients",
           "once_differentiable", "spread_outputs"]

_BINDABLE = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_MISSING = object()


def bind_arguments(function_class, args, kwargs, setup_style: bool) -> tuple:
    """``forward``'s arguments as one positional tuple, keywords bound as torch binds them.

    With ``setup_context`` (``forward`` without ctx) missing arguments take their defaults
    first, as ``inspect.Signature.bind`` reports them; then, as in torch's C++ ``apply``,
    each keyword fills the positional parameter of its name, and nothing may be left out.
    """
    signature = inspect.signature(function_class.forward)
    if setup_style:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        args, kwargs = bound.args, bound.kwargs
        if not kwargs:
            return tuple(args)
    params = list(signature.parameters.values())[0 if setup_style else 1:]
    names = [p.name for p in params if p.kind in _BINDABLE]
    slots = list(args)
    for name, value in kwargs.items():
        if name not in names:
            raise TypeError(f"forward() got an unexpected keyword argument '{name}'")
        pos = names.index(name)
        if pos < len(slots) and slots[pos] is not _MISSING:
            raise TypeError(f"forward() got multiple values for argument '{name}'")
        slots.extend([_MISSING] * (pos + 1 - len(slots)))
        slots[pos] = value
    for pos, value in enumerate(slots):
        if value is _MISSING:
            raise TypeError(f"forward() missing required argument: '{names[pos]}' "
                            f"(position {pos})")
    return tuple(slots)


def _broadcasts_to(shape, target) -> bool:
    """Whether ``shape`` expands to ``target`` (torch's ``is_expandable_to``)."""
    if len(shape) > len(target):
        return False
    return all(s == t or s == 1 for s, t in zip(reversed(shape), reversed(target)))


def checked_gradients(node, result, keep_tensors=False) -> tuple:
    """``backward``'s result (a tuple) as one array or None per input, checked as torch does.

    Extra trailing Nones are dropped; a gradient for an input that needs none is ignored;
    a gradient of a broadcast shape is summed to the input's shape; the dtype is cast.
    With ``keep_tensors`` (a backward that builds a graph) the tensors come back as they are,
    for the engine to sum and cast with differentiable ops.
    """
    name = node.name()
    count = len(node.needs_input_grad)
    if len(result) > count and all(g is None for g in result[count:]):
        result = result[:count]
    if len(result) != count:
        raise RuntimeError(f"function {name} returned an incorrect number of gradients "
                           f"(expected {count}, got {len(result)})")
    grads = [None] * count
    meta_of = dict(zip(node._arg_index, node._input_meta))
    for i, g in enumerate(result):
        if g is None:
            continue
        if not isinstance(g, TensorCore):
            raise RuntimeError(f"expected Variable or None (got {type(g).__name__})")
        if i not in meta_of:
            raise RuntimeError(f"function {name} returned a gradient different than None at "
                               f"position {i + 1}, but the corresponding forward input was "
                               "not a Variable")
        if not node.needs_input_grad[i]:
            continue
        shape, dtype = meta_of[i]
        data = g._data
        if data.shape != shape:
            if not _broadcasts_to(shape, data.shape):
                got = ", ".join(str(n) for n in data.shape)
                expected = ", ".join(str(n) for n in shape)
                raise RuntimeError(f"Function {name} returned an invalid gradient at index {i} "
                                   f"- got [{got}] but expected shape compatible with "
                                   f"[{expected}]")
        if g._device != node._device:
            raise RuntimeError(f"Function {name} returned an invalid gradient at index {i} - "
                               f"expected device {node._device} but got {g._device}")
        if keep_tensors:
            grads[i] = g
            continue
        if data.shape != shape:
            data = node.backend.sum_to_shape(data, shape)
        grads[i] = data if data.dtype == dtype else data.astype(dtype)
    return tuple(grads)


def once_differentiable(fn):
    """Decorate a Function's ``backward`` so that it runs without recording a graph."""
    @functools.wraps(fn)
    def wrapper(ctx, *args, **kwargs):
        with no_grad():
            return fn(ctx, *args, **kwargs)
    wrapper.once_differentiable = True
    return wrapper


def check_dirty(node, outs, record: bool) -> None:
    """torch's checks of the inputs marked dirty; each counts one more in-place change."""
    for t in node._dirty:
        if not any(o is t for o in outs):
            raise RuntimeError(
                "Some elements marked as dirty during the forward method were not returned "
                "as output. The inputs that are modified inplace must all be outputs of the "
                "Function.")
        if record and t._requires_grad and t.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad has been used in an "
                               "in-place operation.")
    for t in node._dirty:
        t._version.value += 1


def alias_unmarked_inputs(node, args, outs):
    """The outputs, each input returned as it is (not marked dirty) replaced by an alias,
    so that the input keeps its own place in the graph."""
    for out in outs:
        returned_input = isinstance(out, TensorCore) and any(out is a for a in args)
        if returned_input and not any(out is d for d in node._dirty):
            alias = out._wrap(out._data)
            alias._version = out._version
            out = alias
        yield out


def spread_outputs(node, tensor_outs, positions, count: int) -> None:
    """Number a node's tensor outputs by their places among all ``count`` outputs of forward,
    so that backward receives None at the places of the others (numbers, strings)."""
    for out, position in zip(tensor_outs, positions):
        if out.grad_fn is node:
            out._output_nr = position
    meta = [None] * count
    for k, position in enumerate(positions):
        meta[position] = node._output_meta[k]
    node._output_meta = tuple(meta)
    node._num_outputs = count
