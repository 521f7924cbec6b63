"""Optimizers update the parameters' own arrays, as torch does: a ``from_numpy`` array, a
view of another tensor (contiguous or not) and a view taken before the step all see every
step; two optimizers may share a parameter; ``p.data = ...`` hands the optimizer a new array.

Each scenario runs in gputensor (on the CPU and on "cuda") and in torch (on the CPU), and
the arrays the user holds must agree.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gputensor

OPTIMIZERS = {
    "sgd": lambda lib, ps: lib.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    "adam": lambda lib, ps: lib.optim.Adam(ps, lr=0.05, amsgrad=True),
    "adamw": lambda lib, ps: lib.optim.AdamW(ps, lr=0.05),
    "rmsprop": lambda lib, ps: lib.optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
    "adagrad": lambda lib, ps: lib.optim.Adagrad(ps, lr=0.1),
}
DEVICES = ["cpu", "cuda"]  # "cuda" is simulated unless the run is on a GPU (conftest.py)


def _values(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)


def _loss(lib, params, x):
    """A loss whose gradient differs per element: sum((p * x_p)^2) with x_p fixed."""
    total = 0
    for i, p in enumerate(params):
        weights = lib.tensor(_values(tuple(p.shape), seed=10 + i))
        if lib is gputensor:
            weights = weights.to(p.device)
        total = total + ((p * weights) ** 2).sum() * x
    return total


def _train(lib, opts, params, steps=3):
    for t in range(steps):
        for opt in opts:
            opt.zero_grad()
        _loss(lib, params, 1.0 + t).backward()
        for opt in opts:
            opt.step()


def _numpy(t):
    return t.detach().cpu().numpy() if isinstance(t, gputensor.Tensor) else t.detach().numpy()


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_from_numpy_array_sees_every_step(name):
    arrays = []
    for lib in (gputensor, torch):
        a = _values((3, 4))
        p = lib.nn.Parameter(lib.from_numpy(a))
        _train(lib, [OPTIMIZERS[name](lib, [p])], [p])
        assert np.shares_memory(_numpy(p), a)
        arrays.append(a)
    np.testing.assert_allclose(*arrays, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("gathered", [True, False], ids=["gathered", "listed"])
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_views_of_another_tensor_see_every_step(name, device, gathered, monkeypatch):
    # small packs gather their gradients into one buffer; larger ones list the arrays
    monkeypatch.setattr(gputensor.optim.flat, "GATHER_BELOW", 1 << 15 if gathered else 0)
    results = []
    for lib in (gputensor, torch):
        kwargs = {"device": device} if lib is gputensor else {}
        base = lib.tensor(_values((4, 3)), **kwargs)
        w = lib.tensor(_values((3, 5), seed=1), **kwargs)
        row = lib.nn.Parameter(base[1])  # a contiguous view of base
        column = lib.nn.Parameter(base[::2, 2])  # a strided view of base (rows 0 and 2)
        transposed = lib.nn.Parameter(w.t().data)  # a non-contiguous view of w
        before = transposed.detach()[1:3]  # a view taken before the steps
        params = [row, column, transposed]
        _train(lib, [OPTIMIZERS[name](lib, params)], params)
        assert not transposed.is_contiguous()
        results.append([_numpy(t) for t in (base, w, before, row, column, transposed)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("device", DEVICES)
def test_two_optimizers_share_a_parameter(device):
    results = []
    for lib in (gputensor, torch):
        kwargs = {"device": device} if lib is gputensor else {}
        shared = lib.nn.Parameter(lib.tensor(_values((2, 3)), **kwargs))
        own = lib.nn.Parameter(lib.tensor(_values((3,), seed=2), **kwargs))
        first = lib.optim.SGD([shared, own], lr=0.1, momentum=0.5)
        second = lib.optim.Adam([shared], lr=0.05)
        _train(lib, [first, second], [shared, own])
        results.append([_numpy(shared), _numpy(own), _numpy(second.state[shared]["exp_avg"])])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_replaced_data_is_updated_and_the_old_array_left(name, device):
    results = []
    for lib in (gputensor, torch):
        kwargs = {"device": device} if lib is gputensor else {}
        p = lib.nn.Parameter(lib.tensor(_values((2, 3)), **kwargs))
        opt = OPTIMIZERS[name](lib, [p])
        _train(lib, [opt], [p], steps=2)
        old = p.detach()
        old_values = _numpy(old).copy()
        p.data = lib.tensor(_values((2, 3), seed=5), **kwargs)
        new = p.detach()
        _train(lib, [opt], [p], steps=2)
        np.testing.assert_array_equal(_numpy(old), old_values)  # no longer the parameter
        results.append([_numpy(new), _numpy(p)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_lookahead_updates_from_numpy_arrays_in_place():
    a = _values((5,))
    p = gputensor.nn.Parameter(gputensor.from_numpy(a))
    opt = gputensor.optim.Lookahead(gputensor.optim.SGD([p], lr=0.1), k=2, alpha=0.5)
    start = a.copy()
    _train(gputensor, [opt], [p], steps=2)  # the second step syncs
    fast = start.copy()
    for t in range(2):
        weights = _values((5,), seed=10)
        fast = fast - 0.1 * 2 * fast * weights ** 2 * (1.0 + t)
    np.testing.assert_allclose(a, start + 0.5 * (fast - start), rtol=1e-5, atol=1e-6)
