"""Random number benchmarks: torch's CPU streams reproduced, against torch's own kernels."""

from __future__ import annotations

from .runner import Case

_BIG = 10_000_000
_PERM = 1_000_000


def _randn(lib):
    lib.manual_seed(0)
    return lambda: lib.randn(_BIG)


def _rand(lib):
    lib.manual_seed(0)
    return lambda: lib.rand(_BIG)


def _randperm(lib):
    lib.manual_seed(0)
    return lambda: lib.randperm(_PERM)


def _small_randn(lib):
    lib.manual_seed(0)
    return lambda: lib.randn(3, 4)


CASES = [
    Case("randn, 10M float32", _randn, inner=2, target=2.0),
    Case("rand, 10M float32", _rand, inner=2, target=1.5),
    Case("randperm(1M)", _randperm, inner=5, target=2.0),
    Case("randn(3, 4)", _small_randn, inner=2000),
]
