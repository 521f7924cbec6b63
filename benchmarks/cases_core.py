"""Core benchmarks: per-op Python overhead."""

from __future__ import annotations

from .runner import Case


def _small_add(lib):
    x = lib.ones(10, requires_grad=True)
    y = lib.ones(10)
    return lambda: x + y


def _small_add_no_grad(lib):
    x, y = lib.ones(10), lib.ones(10)
    return lambda: x + y


def _small_mul_backward(lib):
    x = lib.ones(10, requires_grad=True)

    def step():
        (x * 2).sum().backward()
    return step


CASES = [
    Case("add, 10 elements, autograd on", _small_add, inner=2000, target=2.0),
    Case("add, 10 elements, no autograd", _small_add_no_grad, inner=2000),
    Case("(x*2).sum().backward(), 10 elements", _small_mul_backward, inner=500),
]
