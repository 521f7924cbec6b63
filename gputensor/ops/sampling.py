"""Sampling from categorical distributions: multinomial."""

from __future__ import annotations

import numpy as np

from .. import dtypes, random_draws
from ..random import as_generator
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
    """Indices drawn from the categorical distributions in the rows of ``input`` (weights).

    torch's CPU algorithm: without replacement (or for one sample) the ``num_samples``
    largest of ``p / q``, ``q`` drawn by ``exponential_(1)``; with replacement, for each row
    and sample a 53-bit uniform looked up in the row's normalised cumulative sums.
    """
    num_samples = int(num_samples)
    gen = as_generator(generator)
    with input._on_device():
        _check_weights(input, num_samples, replacement)
        xp, backend = input._backend.xp, input._backend
        p = input._data.reshape(-1, input.shape[-1])
        rows, categories = p.shape
        if not replacement or num_samples == 1:
            q = random_draws.exponential(gen, input.numel(), 1.0)
            q = random_draws.place(q, input.shape, input._data.strides).astype(p.dtype)
            keys = p / backend.asarray(q.reshape(rows, categories), index=input._device.index)
            if num_samples == 1:
                index = xp.argmax(keys, axis=-1)[:, None]
            else:
                index = sort_indices(xp, keys, 1, True)[:, :num_samples]
        else:  # the first category whose cumulative sum reaches the uniform draw
            uniform = random_draws.uniform_double(gen, rows * num_samples)
            uniform = backend.asarray(uniform.reshape(rows, num_samples),
                                      index=input._device.index)
            cdf = xp.cumsum(p, axis=-1, dtype=p.dtype)
            cdf = cdf / cdf[:, -1:]
            cdf[:, -1] = 1
            index = (cdf[:, None, :] < uniform[:, :, None]).sum(axis=-1)
        index = index.astype(np.int64, copy=False)
        if input.ndim == 1:
            index = index.reshape(-1)
        return write_out("multinomial", input._wrap(xp.ascontiguousarray(index)), out)
