"""Eager op throughput on the CPU: elementwise ops, activations and row ops on large inputs."""

from __future__ import annotations

import numpy as np

from .fused_rows import layer_norm_step, softmax_step
from .runner import Case

SIZE_256K = 1 << 18


def _floats(lib, n, seed=0, requires_grad=False):
    """``n`` float32 standard normal values (with negatives), the same in both libraries."""
    values = np.random.default_rng(seed).standard_normal(n).astype(np.float32)
    return lib.tensor(values, requires_grad=requires_grad)


def _pow3(lib):
    x = _floats(lib, SIZE_256K)
    return lambda: x ** 3.0


def _gelu(approximate):
    def make(lib):
        x = _floats(lib, SIZE_256K, requires_grad=True)
        g = _floats(lib, SIZE_256K, seed=1)

        def step():
            x.grad = None
            lib.nn.functional.gelu(x, approximate=approximate).backward(g)
        return step
    return make


def _mul_add(lib):
    a, b, c = (_floats(lib, 1 << 22, seed) for seed in range(3))
    return lambda: a * b + c


def _add(lib):
    a, b = _floats(lib, 100_000, 0), _floats(lib, 100_000, 1)
    return lambda: a + b


CASES = [
    Case("x ** 3.0, 256k float32", _pow3, inner=50, target=1.0),
    Case("gelu fwd+bwd, 256k float32", _gelu("none"), inner=20, target=1.0),
    Case("gelu tanh fwd+bwd, 256k float32", _gelu("tanh"), inner=20, target=1.0),
    Case("softmax fwd+bwd (256, 1024) float32",
         lambda lib: softmax_step(lib, (256, 1024)), inner=20, target=1.0),
    Case("layer_norm fwd+bwd (256, 1024) float32",
         lambda lib: layer_norm_step(lib, (256, 1024)), inner=20, target=1.0),
    Case("a * b + c, 4M float32", _mul_add, inner=5, target=1.0),
    Case("a + b, 100k float32", _add, inner=200, target=1.2),
]
