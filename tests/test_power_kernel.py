"""Powers by 2, 3, -1, -2 and -0.5: the CPU's one-pass kernel (kernels/cpu/elementwise.py)
and every device's op bit-equal to torch, on values that test the rounding (negatives,
zeros of both signs, inf, NaN, subnormals, near-overflow), serial and threaded; gradients
and grad_fn names as torch's."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gputensor
from gputensor import backends
from gputensor.kernels.cpu import elementwise
from gputensor.kernels.cpu.thread_choice import thread_choice
from helpers import check_op, rand_array

EXPONENTS = [2.0, 3.0, -1.0, -2.0, -0.5]
DTYPES = ["float32", "float64"]


def special_values(dtype, size=4099):
    """Random values spread over the exponent range, with the IEEE corner cases."""
    rng = np.random.default_rng(7)
    info = np.finfo(dtype)
    spread = rng.standard_normal(size) * 10.0 ** rng.uniform(-45, 40, size)
    corners = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, float(info.max),
               -float(info.max), float(info.tiny), float(info.smallest_subnormal),
               -float(info.smallest_subnormal), float(info.tiny) / 3, 1e-20, -1e-20, 1e19,
               -1e19, 1e30, 3.0, 0.5]
    with np.errstate(over="ignore"):
        return np.concatenate([np.array(corners, dtype=dtype), spread.astype(dtype)])


def bits_equal(ours, theirs):
    """Same values bit for bit (one NaN pattern or another: a NaN matches a NaN)."""
    nan = np.isnan(theirs)
    np.testing.assert_array_equal(np.isnan(ours), nan)
    np.testing.assert_array_equal(ours[~nan].view(f"u{ours.itemsize}"),
                                  theirs[~nan].view(f"u{theirs.itemsize}"))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("exponent", EXPONENTS)
@pytest.mark.parametrize("threaded", [False, True], ids=["serial", "threaded"])
def test_kernel_bit_equal_to_torch(exponent, dtype, threaded, monkeypatch):
    monkeypatch.setattr(elementwise, "POWER_PARALLEL_FROM", 1)
    monkeypatch.setattr(thread_choice, "force", threaded)
    x = special_values(dtype)
    with np.errstate(all="ignore"):
        ours = elementwise.power(x, exponent)
    assert ours.dtype == x.dtype
    bits_equal(ours, (torch.from_numpy(x) ** exponent).numpy())


def test_kernel_declines_what_it_does_not_serve():
    x = np.arange(6.0).reshape(2, 3)
    assert elementwise.power(x.T, 3.0) is None  # not C-contiguous
    assert elementwise.power(x, 4.0) is None
    assert elementwise.power(x.astype(np.float16), 2.0) is None
    assert elementwise.power(np.arange(3), 2.0) is None


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("exponent", EXPONENTS)
def test_op_bit_equal_to_torch(exponent, dtype, device):
    x = special_values(dtype, 493).reshape(19, 27)
    with np.errstate(all="ignore"):
        ours = (gputensor.tensor(x, device=device) ** exponent).cpu().numpy()
    bits_equal(ours, (torch.from_numpy(x) ** exponent).numpy())


def test_op_runs_the_kernel_on_the_cpu(monkeypatch):
    calls = []
    original = elementwise.power
    monkeypatch.setattr(elementwise, "power", lambda *a: calls.append(a[1]) or original(*a))
    backend = backends.backend_for("cpu")
    backend.power(np.ones(3), 3.0)
    monkeypatch.setitem(backend.use_our_kernel, "power", False)
    assert backend.power(np.ones(3), 3.0) is None
    assert calls == [3.0]


@pytest.mark.parametrize("exponent", EXPONENTS)
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_op_values_and_gradients(exponent, layout, device):
    check_op(lambda lib, x: x ** exponent, rand_array((4, 5), "float32", 0.5, 2.0),
             device=device, layout=layout)
    check_op(lambda lib, x: lib.pow(x, exponent), rand_array((3, 2), "float64", 0.5, 2.0),
             device=device)
