"""Sampling from categorical distributions: multinomial."""

from __future__ import annotations

import numpy as np

from .. import dtypes
from ..random import as_numpy_generator
from .out import write_out
from .sorting import sort_indices

__all__ = ["multinomial"]


def _check_weights(input, num_samples, replacement):
    if input.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not input.dtype.is_floating_point:
        raise RuntimeError("multinomial only supports floating-point dtypes for input, got: "
                           f"{dtypes.SCALAR_TYPE_NAMES[input.dtype]}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > input.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    xp = input._backend.xp
    p = input._data
    if bool(xp.any(~xp.isfinite(p) | (p < 0))):  # one read back to the host
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if bool(xp.any(p.sum(axis=-1) <= 0)):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")


def multinomial(input, num_samples, replacement=False, *, generator=None,  # noqa: A002
                out=None):
    """Indices drawn from the categorical distributions in the rows of ``input`` (weights)."""
    num_samples = int(num_samples)
    with input._on_device():
        _check_weights(input, num_samples, replacement)
        xp, backend = input._backend.xp, input._backend
        p = input._data.astype(np.float64).reshape(-1, input.shape[-1])
        rows, categories = p.shape
        draws = (rows, num_samples) if replacement else (rows, categories)
        uniform = as_numpy_generator(generator).random(draws)  # in [0, 1)
        uniform = backend.asarray(uniform, index=input._device.index)
        if replacement:  # invert the cumulative distribution, normalised to end at 1
            cdf = xp.cumsum(p, axis=-1)
            cdf = cdf / cdf[:, -1:]
            if rows == 1:
                index = xp.searchsorted(cdf[0], uniform[0], side="right")[None]
            else:
                index = (cdf[:, None, :] <= uniform[:, :, None]).sum(axis=-1)
            index = xp.minimum(index, categories - 1)
        else:  # the num_samples largest of p / Exp(1) (zero weights come last)
            exponential = -xp.log1p(-uniform)
            keys = xp.where(p > 0, p / exponential, -1.0)
            index = sort_indices(xp, keys, 1, True)[:, :num_samples]
        index = index.astype(np.int64, copy=False)
        if input.ndim == 1:
            index = index.reshape(-1)
        return write_out("multinomial", input._wrap(xp.ascontiguousarray(index)), out)
