"""New tensors of random numbers: rand, randn, randint, randperm and their ``*_like`` forms.

The numbers are torch's CPU numbers (``random_draws``), drawn on the host in the order torch
fills the result and copied to the requested device.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .. import dtypes, random_draws
from ..random import as_generator
from .creation import _into_out, _np_dtype, _place, new_shape

if TYPE_CHECKING:
    from .._tensor import Tensor

__all__ = ["rand", "rand_like", "randint", "randint_like", "randn", "randn_like", "randperm"]


def _float_draw_dtype(dtype, caller):
    """The dtype a float draw makes (the default dtype for None), refusing other dtypes."""
    dt = dtypes.from_numpy_dtype(_np_dtype(dtype))
    if not dt.is_floating_point:
        raise NotImplementedError(f'"{caller}" not implemented for '
                                  f"'{dtypes.SCALAR_TYPE_NAMES[dt]}'")
    return dt


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None) -> Tensor:
    """Uniform samples from [0, 1) (torch's stream: the same numbers on every device)."""
    if out is not None:
        return _into_out(rand, out, dtype, device, *size, generator=generator)
    shape = new_shape(size)
    dt = _float_draw_dtype(dtype, "check_uniform_bounds")
    values = random_draws.uniform(as_generator(generator), math.prod(shape), dt)
    return _place(values.astype(dt.numpy, copy=False).reshape(shape), device, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, out=None) -> Tensor:
    """Standard normal samples (torch's stream: the same numbers on every device)."""
    if out is not None:
        return _into_out(randn, out, dtype, device, *size, generator=generator)
    shape = new_shape(size)
    dt = _float_draw_dtype(dtype, "normal_kernel_cpu")
    values = random_draws.normal(as_generator(generator), math.prod(shape), dt)
    return _place(values.astype(dt.numpy, copy=False).reshape(shape), device, requires_grad)


def randint(low, high=None, size=None, generator=None, dtype=None, device=None,
            requires_grad=False, *, out=None) -> Tensor:
    """Integers uniform in [low, high)."""
    if out is not None:
        return _into_out(randint, out, dtype, device, low, high, size, generator)
    if size is None and isinstance(high, (tuple, list)):
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing 1 required positional argument: 'size'")
    shape = new_shape((size,))
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                           f"from={low} >= to={high}")
    dt = dtypes.from_numpy_dtype(_np_dtype(dtype, dtypes.int64))
    values = random_draws.integers(as_generator(generator), math.prod(shape), int(low),
                                   int(high), dt)
    return _place(values.astype(dt.numpy, copy=False).reshape(shape), device, requires_grad)


def randperm(n, generator=None, dtype=None, device=None, *, out=None) -> Tensor:
    """A random permutation of 0..n-1 (torch's CPU shuffle)."""
    if out is not None:
        return _into_out(randperm, out, dtype, device, n, generator)
    new_shape((n,))
    values = random_draws.randperm(as_generator(generator), n)
    return _place(values.astype(_np_dtype(dtype, dtypes.int64), copy=False), device)


def _drawn_like(t, values, dt, device, requires_grad) -> Tensor:
    """Values drawn in the fill order of a result laid out like ``t`` (torch's
    preserve_format), as a new tensor of ``t``'s shape."""
    arranged = random_draws.place(values, tuple(t.shape), t._data.strides)
    return _place(arranged.astype(dt.numpy, copy=False), device or t.device, requires_grad)


def _like_dtype(t, dtype, caller):
    dt = dtype or t.dtype
    return _float_draw_dtype(dt, caller) if caller else dt


def rand_like(input, *, generator=None, dtype=None, device=None,  # noqa: A002
              requires_grad=False, memory_format=None) -> Tensor:
    """Uniform samples shaped (and laid out) like ``input``."""
    dt = _like_dtype(input, dtype, "check_uniform_bounds")
    values = random_draws.uniform(as_generator(generator), input.numel(), dt)
    return _drawn_like(input, values, dt, device, requires_grad)


def randn_like(input, *, generator=None, dtype=None, device=None,  # noqa: A002
               requires_grad=False, memory_format=None) -> Tensor:
    """Normal samples shaped (and laid out) like ``input``: a result with ``input``'s
    non-contiguous layout takes torch's value-by-value path."""
    dt = _like_dtype(input, dtype, "normal_kernel_cpu")
    order = [axis for axis in random_draws.fill_order(input._data.strides)
             if input.shape[axis] > 1]
    contiguous = order == sorted(order)  # the result's layout is C order
    values = random_draws.normal(as_generator(generator), input.numel(), dt,
                                 contiguous=contiguous)
    return _drawn_like(input, values, dt, device, requires_grad)


def randint_like(input, low=0, high=None, *, generator=None, dtype=None,  # noqa: A002
                 device=None, requires_grad=False, memory_format=None) -> Tensor:
    """Random integers in [low, high) (``randint_like(input, high)``: [0, high)) shaped like
    ``input``."""
    if high is None:
        low, high = 0, low
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                           f"from={low} >= to={high}")
    dt = _like_dtype(input, dtype, None)
    values = random_draws.integers(as_generator(generator), input.numel(), int(low), int(high),
                                   dt)
    return _drawn_like(input, values, dt, device, requires_grad)
