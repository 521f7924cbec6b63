"""RandomSampler with replacement draws lazily, 32 indices at a time, as torch's."""

from __future__ import annotations

import itertools

import pytest

import gputensor
from helpers import LIBS

HUGE = 10 ** 10  # an index array this long would need 80 GB


@pytest.mark.parametrize("lib", LIBS, ids=["gputensor", "torch"])
def test_a_huge_num_samples_yields_its_first_indices_at_once(lib):
    sampler = lib.utils.data.RandomSampler(range(7), replacement=True, num_samples=HUGE)
    assert len(sampler) == HUGE
    first = list(itertools.islice(iter(sampler), 100))
    assert len(first) == 100 and all(0 <= i < 7 for i in first)


def test_draws_are_chunks_of_32(monkeypatch):
    sizes = []
    draw = gputensor.utils.data.sampler.randint

    def counting_randint(low, high, size, **kwargs):
        sizes.append(size)
        return draw(low, high, size, **kwargs)

    monkeypatch.setattr(gputensor.utils.data.sampler, "randint", counting_randint)
    sampler = gputensor.utils.data.RandomSampler(range(5), replacement=True, num_samples=70)
    indices = list(sampler)
    assert len(indices) == 70 and set(indices) <= set(range(5))
    assert sizes == [(32,), (32,), (6,)]


def test_lengths_as_torch_for_every_remainder():
    for n in (1, 31, 32, 33, 64, 65):
        ours, theirs = (len(list(lib.utils.data.RandomSampler(range(3), replacement=True,
                                                                  num_samples=n))) for lib in LIBS)
        assert ours == theirs == n
