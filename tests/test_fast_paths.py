"""The fast paths of eager ops compute torch's values bit for bit: pow by a number exponent
as products, gelu and the special functions by compiled kernels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gputensor

EXPONENTS = (2.0, 3.0, -1.0, -2.0, -0.5, 0.0, 1.0, 2, 3, -1)


def edge_values(dtype, size=4000, seed=0):
    """Normal values over several scales plus zeros of both signs, infinities, NaN and
    subnormals, in ``dtype``."""
    rng = np.random.default_rng(seed)
    tiny = np.finfo(dtype).tiny
    specials = [0.0, -0.0, np.inf, -np.inf, np.nan, tiny / 4, -tiny / 4, 1e-20, 1e20, 1.0, -1.0]
    values = np.concatenate([rng.standard_normal(size) * scale for scale in (1e-3, 1, 30)]
                            + [np.array(specials)])
    return values.astype(dtype)


def assert_bits_equal(ours, theirs):
    """Equal bit patterns, any NaN matching any NaN."""
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    both_nan = np.isnan(ours) & np.isnan(theirs)
    same = (ours == theirs) & (np.signbit(ours) == np.signbit(theirs))
    bad = ~(same | both_nan)
    assert not bad.any(), (ours[bad][:5], theirs[bad][:5])


def _run(lib, values, grad, fn, device):
    x = lib.tensor(values, requires_grad=True,
                   device=device if lib is gputensor else "cpu")
    y = fn(lib, x)
    y.backward(lib.tensor(grad, device=x.device))
    return y.detach().cpu().numpy(), x.grad.cpu().numpy()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("exponent", EXPONENTS)
def test_pow_by_number_bit_equal(device, dtype, exponent):
    values = edge_values(dtype, size=200 if device == "cuda" else 4000)
    grad = np.random.default_rng(1).standard_normal(values.size).astype(dtype)
    with np.errstate(all="ignore"):
        ours = _run(gputensor, values, grad, lambda lib, x: x ** exponent, device)
        theirs = _run(torch, values, grad, lambda lib, x: x ** exponent, "cpu")
    assert_bits_equal(ours[0], theirs[0])
    if exponent not in (-2.0, -0.5):  # torch's gradient here is a general pow
        assert_bits_equal(ours[1], theirs[1])
