"""Shared pieces of the gputensor.compile tests: small models, data and comparisons."""

from __future__ import annotations

import numpy as np

from helpers import to_numpy


def weights(lib, model, seed=0):
    """Deterministic weights, the same in both libraries."""
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.uniform(-0.5, 0.5, tuple(p.shape)).astype(np.float32)))
    return model


def mlp(lib, dropout=0.0):
    """A small MLP, with dropout before its last layer when ``dropout``."""
    nn = lib.nn
    layers = [nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return weights(lib, nn.Sequential(*layers, nn.Linear(16, 4)))


def data(lib, batch=8, seed=1):
    """(inputs, class targets) for ``mlp``."""
    rng = np.random.default_rng(seed)
    x = lib.tensor(rng.standard_normal((batch, 6)).astype(np.float32))
    y = lib.tensor(rng.integers(0, 4, batch))
    return x, y


def same(a, b):
    """The same dtype, shape and bits."""
    a, b = to_numpy(a), to_numpy(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)


def replayed(compiled):
    """The state of each guard set of a compiled function."""
    return [e["state"] for e in compiled.compile_report()]
