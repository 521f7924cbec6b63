"""What torch checks around a user's autograd.Function: its arguments and its gradients.

``bind_arguments`` maps ``Function.apply``'s keyword arguments onto ``forward``'s
parameters as torch's C++ ``apply`` does; ``checked_gradients`` validates what
``backward`` returns (count, type, shape, device) and turns it into arrays summed to each
input's shape and cast to its dtype; ``once_differentiable`` is torch's decorator.
"""

from __future__ import annotations

import functools
import inspect

from .._tensor_core import TensorCore
from .grad_mode import no_grad

__all__ = ["bind_arguments", "checked_gradients", "once_differentiable"]

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


def checked_gradients(node, result) -> tuple:
    """``backward``'s result (a tuple) as one array or None per input, checked as torch does.

    Extra trailing Nones are dropped; a gradient for an input that needs none is ignored;
    a gradient of a broadcast shape is summed to the input's shape; the dtype is cast.
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
    return wrapper
