"""Gradient clipping: ``clip_grad_norm_``, ``clip_grad_value_`` and their two halves.

The total norm is reduced on the gradients' device with no value read back to the host
(one dot per gradient for the 2-norm, summed there), and the clip coefficient is applied
as torch applies it, ``min(max_norm / (norm + 1e-6), 1)`` clamped on the device, so a
training step on a GPU never waits for it.
"""

from __future__ import annotations

import math
import types
import warnings

import numpy as np

from ..._tensor_core import TensorCore
from ...autograd.function import Op
from ...autograd.grad_mode import no_grad

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_",
           "get_total_norm"]

_NONFINITE_ERROR = (
    "The total norm of order {} for gradients from `parameters` is non-finite, so it cannot "
    "be clipped. To disable this error and scale the gradients by the non-finite norm anyway, "
    "set `error_if_nonfinite=False`")
_EMPTY_INF_ERROR = ("_foreach_norm cannot compute the infinity norm on an empty tensor because "
                    "the operation does not have an identity")


def _as_list(tensors) -> list:
    return [tensors] if isinstance(tensors, TensorCore) else list(tensors)


def _group_by_device_and_dtype(tensors) -> dict:
    """{(device, numpy dtype): [tensors]} in first-seen order."""
    groups: dict = {}
    for t in tensors:
        groups.setdefault((t._device, t._data.dtype), []).append(t)
    return groups


def _norm_of_arrays(xp, arrays, norm_type: float, dtype):
    """The p-norm of the arrays seen as one vector: a 0-d array of ``dtype`` on their device."""
    wide = np.float32 if dtype == np.float16 else dtype  # half sums in float, as torch's
    if math.isinf(norm_type):
        if any(a.size == 0 for a in arrays):
            raise RuntimeError(_EMPTY_INF_ERROR)
        pick = xp.max if norm_type > 0 else xp.min
        total = pick(xp.stack([pick(xp.abs(a)) for a in arrays]))
    elif norm_type == 0:  # torch's 0-norm of the tensors' norms: how many are not all zero
        total = xp.stack([xp.count_nonzero(a) != 0 for a in arrays]).sum()
    elif norm_type == 2:
        flat = [a.reshape(-1).astype(wide, copy=False) for a in arrays]
        total = xp.sqrt(xp.stack([xp.dot(f, f) for f in flat]).sum())
    elif norm_type == 1:
        total = xp.stack([xp.abs(a).sum(dtype=wide) for a in arrays]).sum()
    else:
        powers = [(xp.abs(a.astype(wide, copy=False)) ** norm_type).sum() for a in arrays]
        total = xp.stack(powers).sum() ** (1.0 / norm_type)
    return xp.asarray(total).astype(dtype)


class _GroupNorm(Op):
    """The p-norm of its tensor arguments taken together (no gradient: run under no_grad).

    One op, so that ``gputensor.compile`` records it like any other.
    """

    @staticmethod
    def forward(ctx, *args):
        *arrays, norm_type, dtype = args
        return _norm_of_arrays(ctx.xp, arrays, norm_type, dtype)


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach=None):
    """The p-norm of all ``tensors`` taken together as one vector (a 0-d tensor)."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return TensorCore._make(np.zeros((), np.float32))
    first_device = tensors[0]._device
    with no_grad():
        partial = []
        for (_, dtype), group in _group_by_device_and_dtype(tensors).items():
            partial.append(_GroupNorm.apply(*group, norm_type, dtype).to(first_device))
        total = partial[0]
        if len(partial) > 1:  # the groups' norms as one vector, in the widest dtype
            dtype = np.result_type(*[p._data.dtype for p in partial])
            with total._on_device():
                xp = total._backend.xp
                arrays = [p._data.astype(dtype) for p in partial]
                total = total._wrap(xp.stack(arrays).sum() if norm_type == 0 else
                                    _norm_of_arrays(xp, arrays, norm_type, dtype))
        if error_if_nonfinite and not bool(total.isfinite()):
            raise RuntimeError(_NONFINITE_ERROR.format(norm_type))
    return total


def clip_grads_with_norm_(parameters, max_norm: float, total_norm, foreach=None) -> None:
    """Scale the gradients by ``min(max_norm / (total_norm + 1e-6), 1)`` in place."""
    parameters = _as_list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    max_norm = float(max_norm)
    if not grads:
        return
    with no_grad():
        clip_coef = (max_norm / (total_norm + 1e-6)).clamp(max=1.0)  # no host sync, as torch
        for (device, _), group in _group_by_device_and_dtype(grads).items():
            coef = clip_coef.to(device)
            for g in group:
                g.mul_(coef)


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None):
    """Clip the gradients' total norm to ``max_norm`` in place; returns the total norm."""
    if isinstance(parameters, TensorCore):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)  # a generator is read once
        if is_generator and not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                          stacklevel=2)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach=None):
    """Deprecated spelling of ``clip_grad_norm_``."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient into ``[-clip_value, clip_value]`` in place."""
    parameters = _as_list(parameters)
    clip_value = float(clip_value)
    with no_grad():
        for p in parameters:
            if p.grad is not None:
                p.grad.clamp_(min=-clip_value, max=clip_value)
