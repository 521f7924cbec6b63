"""multinomial: draws checked against their distribution (fixed seeds, loose bounds), the
draws without replacement, and torch's errors."""

import numpy as np
import pytest

import gputensor
from helpers import check_error

WEIGHTS = [1.0, 2.0, 0.0, 5.0]


def _frequencies(samples, categories):
    counts = np.bincount(samples.cpu().numpy().reshape(-1), minlength=categories)
    return counts / counts.sum()


def test_with_replacement_follows_the_weights(device):
    gen = gputensor.Generator().manual_seed(0)
    weights = gputensor.tensor(WEIGHTS, device=device)
    samples = gputensor.multinomial(weights, 4000, replacement=True, generator=gen)
    assert samples.shape == (4000,) and samples.dtype is gputensor.int64
    assert samples.device.type == device
    expected = np.array(WEIGHTS) / sum(WEIGHTS)
    assert np.abs(_frequencies(samples, 4) - expected).max() < 0.03
    assert _frequencies(samples, 4)[2] == 0  # a zero weight is never drawn


def test_rows_are_sampled_separately(device):
    gputensor.manual_seed(1)
    weights = gputensor.tensor([[0.0, 1.0, 0.0], [3.0, 0.0, 1.0]], device=device,
                               dtype=gputensor.float64)
    samples = weights.multinomial(2000, True)
    assert samples.shape == (2, 2000)
    assert (samples[0] == 1).all().item()
    assert abs(_frequencies(samples[1], 3)[0] - 0.75) < 0.04


def test_without_replacement_draws_distinct_categories(device):
    gen = gputensor.Generator().manual_seed(2)
    weights = gputensor.tensor([[1.0, 2.0, 0.0, 5.0], [1.0, 1.0, 1.0, 1.0]], device=device)
    for _ in range(20):
        samples = gputensor.multinomial(weights, 3, generator=gen).cpu().numpy()
        assert samples.shape == (2, 3)
        assert all(len(set(row)) == 3 for row in samples)
        assert 2 not in samples[0]  # the zero weight comes after all the others
    every = gputensor.multinomial(weights[0], 4, generator=gen).cpu().numpy()
    assert sorted(every) == [0, 1, 2, 3] and every[3] == 2


def test_first_draw_without_replacement_follows_the_weights(device):
    gen = gputensor.Generator().manual_seed(3)
    weights = gputensor.tensor(WEIGHTS, device=device).expand(3000, 4)
    first = gputensor.multinomial(weights, 2, generator=gen)[:, 0]
    expected = np.array(WEIGHTS) / sum(WEIGHTS)
    assert np.abs(_frequencies(first, 4) - expected).max() < 0.03


def test_same_seed_same_draws(device):
    weights = gputensor.tensor(WEIGHTS, device=device)
    a = gputensor.multinomial(weights, 10, True, generator=gputensor.Generator().manual_seed(5))
    b = gputensor.multinomial(weights, 10, True, generator=gputensor.Generator().manual_seed(5))
    assert a.tolist() == b.tolist()


def test_out(device):
    out = gputensor.empty(0, dtype=gputensor.int64, device=device)
    result = gputensor.multinomial(gputensor.tensor(WEIGHTS, device=device), 3, out=out)
    assert result is out and out.shape == (3,)


ERRORS = {
    "negative": lambda lib: lib.multinomial(lib.tensor([1.0, -1.0]), 1),
    "nan": lambda lib: lib.multinomial(lib.tensor([1.0, float("nan")]), 1),
    "inf": lambda lib: lib.multinomial(lib.tensor([1.0, float("inf")]), 1, True),
    "all_zero": lambda lib: lib.multinomial(lib.tensor([0.0, 0.0]), 1),
    "a_zero_row": lambda lib: lib.multinomial(lib.tensor([[0.0, 0.0], [1.0, 1.0]]), 1, True),
    "too_many": lambda lib: lib.multinomial(lib.tensor([1.0, 2.0, 3.0]), 4),
    "empty_rows": lambda lib: lib.multinomial(lib.ones(2, 0), 1),
    "zero_samples": lambda lib: lib.multinomial(lib.ones(3), 0),
    "negative_samples": lambda lib: lib.multinomial(lib.ones(3), -1, True),
    "0d": lambda lib: lib.multinomial(lib.tensor(1.0), 1),
    "3d": lambda lib: lib.multinomial(lib.ones(2, 2, 2), 1),
    "integers": lambda lib: lib.multinomial(lib.tensor([1, 2]), 1),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors(device, name):
    check_error(ERRORS[name], device=device)
