"""gputensor.optim against torch.optim: 30-step trajectories, state_dict, errors."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import gputensor
from helpers import check_error

SHAPES = [(4, 3), (4,), (2, 4), ()]
STEPS = 30


def _data(dtype):
    rng = np.random.default_rng(0)
    init = [rng.uniform(-1, 1, s).astype(dtype) for s in SHAPES]
    x = rng.uniform(-1, 1, (8, 3)).astype(dtype)
    y = rng.uniform(-1, 1, (8, 2)).astype(dtype)
    return init, x, y


def make_params(lib, arrays, kind="parameter"):
    """Leaf tensors holding ``arrays``: nn.Parameters, or plain tensors requiring grad."""
    if kind == "parameter":
        return [lib.nn.Parameter(lib.tensor(a)) for a in arrays]
    return [lib.tensor(a, requires_grad=True) for a in arrays]


def loss_fn(lib, params, x, y, use_scale=True):
    """A small two-layer regression; the scalar parameter is left out when use_scale is off."""
    w1, b1, w2, scale = params
    out = lib.tanh(x @ w1.t() + b1) @ w2.t()
    if use_scale:
        out = out * scale
    return ((out - y) ** 2).mean()


def trajectory(lib, make_opt, dtype="float32", kind="parameter", skip_scale=False,
               steps=STEPS, params=None, opt=None, start=0):
    """Losses and final weights of ``steps`` optimizer steps."""
    init, x, y = _data(dtype)
    params = params if params is not None else make_params(lib, init, kind)
    opt = opt if opt is not None else make_opt(lib, params)
    x, y = lib.tensor(x), lib.tensor(y)
    losses = []
    for t in range(start, start + steps):
        opt.zero_grad()
        loss = loss_fn(lib, params, x, y, use_scale=not (skip_scale and t % 3 == 0))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [p.detach().numpy().copy() for p in params], opt


def assert_trajectories_match(make_opt, rtol=1e-4, atol=1e-6, **kwargs):
    ours = trajectory(gputensor, make_opt, **kwargs)
    theirs = trajectory(torch, make_opt, **kwargs)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=rtol, atol=atol)
    for a, b in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    return ours, theirs


def _groups(p, **second):
    """Two param groups: the first layer, and the rest with its own options."""
    return [{"params": p[:2]}, {"params": p[2:], **second}]


OPTIMIZERS = {
    "sgd": lambda lib, p: lib.optim.SGD(p, lr=0.1),
    "sgd_momentum": lambda lib, p: lib.optim.SGD(p, lr=0.05, momentum=0.9),
    "sgd_dampening_wd": lambda lib, p: lib.optim.SGD(p, lr=0.05, momentum=0.8, dampening=0.3,
                                                     weight_decay=0.01),
    "sgd_nesterov": lambda lib, p: lib.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True,
                                                 weight_decay=0.05),
    "sgd_maximize": lambda lib, p: lib.optim.SGD(p, lr=0.01, momentum=0.5, maximize=True),
    "sgd_groups": lambda lib, p: lib.optim.SGD(
        _groups(p, lr=0.02, nesterov=True, momentum=0.7), lr=0.1, momentum=0.3),
    "adam": lambda lib, p: lib.optim.Adam(p, lr=0.01),
    "adam_amsgrad_wd": lambda lib, p: lib.optim.Adam(p, lr=0.02, amsgrad=True,
                                                     weight_decay=0.1),
    "adam_maximize": lambda lib, p: lib.optim.Adam(p, lr=0.01, maximize=True,
                                                   betas=(0.8, 0.99)),
    "adam_groups": lambda lib, p: lib.optim.Adam(
        _groups(p, lr=0.03, weight_decay=0.1, amsgrad=True), lr=0.01),
    "adam_decoupled": lambda lib, p: lib.optim.Adam(p, lr=0.01, weight_decay=0.1,
                                                    decoupled_weight_decay=True),
    "adamw": lambda lib, p: lib.optim.AdamW(p, lr=0.01),
    "adamw_amsgrad_maximize": lambda lib, p: lib.optim.AdamW(p, lr=0.01, amsgrad=True,
                                                             maximize=True, weight_decay=0.1),
    "rmsprop": lambda lib, p: lib.optim.RMSprop(p, lr=0.01),
    "rmsprop_centered_momentum": lambda lib, p: lib.optim.RMSprop(
        p, lr=0.005, momentum=0.5, centered=True, weight_decay=0.01),
    "rmsprop_maximize": lambda lib, p: lib.optim.RMSprop(p, lr=0.001, alpha=0.9,
                                                         maximize=True),
    "adagrad": lambda lib, p: lib.optim.Adagrad(p, lr=0.05),
    "adagrad_options": lambda lib, p: lib.optim.Adagrad(
        p, lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1),
    "adagrad_groups": lambda lib, p: lib.optim.Adagrad(_groups(p, lr=0.05, maximize=True)),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_trajectory_matches_torch(name):
    assert_trajectories_match(OPTIMIZERS[name])


@pytest.mark.parametrize("name", ["sgd_nesterov", "adam_amsgrad_wd", "rmsprop_centered_momentum",
                                  "adagrad_options"])
def test_trajectory_float64(name):
    assert_trajectories_match(OPTIMIZERS[name], dtype="float64", rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["sgd_momentum", "adam_groups", "rmsprop_centered_momentum",
                                  "adagrad"])
def test_trajectory_with_parameters_missing_grads(name):
    # the scalar gets no grad every third step: torch skips it (its state and step too)
    assert_trajectories_match(OPTIMIZERS[name], skip_scale=True)


@pytest.mark.parametrize("name", ["sgd_momentum", "adam"])
def test_trajectory_with_plain_leaf_tensors(name):
    assert_trajectories_match(OPTIMIZERS[name], kind="tensor")


def _plain(value):
    if isinstance(value, (gputensor.Tensor, torch.Tensor)):
        return ("tensor", value.dtype.__repr__().split(".")[-1], tuple(value.shape),
                value.detach().numpy().tolist())
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def _close_plain(a, b):
    if isinstance(a, tuple) and a and a[0] == "tensor":
        assert a[:3] == b[:3]
        np.testing.assert_allclose(a[3], b[3], rtol=1e-4, atol=1e-6)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _close_plain(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            _close_plain(x, y)
    else:
        assert a == b


@pytest.mark.parametrize("name", ["sgd", "sgd_momentum", "adam_groups", "adamw",
                                  "rmsprop_centered_momentum", "adagrad_options"])
def test_state_dict_shaped_like_torch(name):
    for skip in (False, True):
        _, _, ours = trajectory(gputensor, OPTIMIZERS[name], steps=4, skip_scale=skip)
        _, _, theirs = trajectory(torch, OPTIMIZERS[name], steps=4, skip_scale=skip)
        _close_plain(_plain(ours.state_dict()), _plain(theirs.state_dict()))
        assert repr(ours) == repr(theirs)


def _cloned_state_dict(opt):
    sd = opt.state_dict()
    out = {"state": {k: {n: v.clone() if hasattr(v, "clone") else v for n, v in s.items()}
                     for k, s in sd["state"].items()},
           "param_groups": copy.deepcopy(sd["param_groups"])}
    if "lookahead" in sd:
        out["lookahead"] = {**sd["lookahead"], "slow_weights": {
            k: v.clone() for k, v in sd["lookahead"]["slow_weights"].items()}}
    return out


@pytest.mark.parametrize("name", ["sgd_nesterov", "adam_groups", "adamw_amsgrad_maximize",
                                  "rmsprop_centered_momentum", "adagrad_options"])
@pytest.mark.parametrize("lib", [gputensor, torch], ids=["gputensor", "torch"])
def test_state_dict_round_trip_continues_the_trajectory(name, lib):
    make_opt = OPTIMIZERS[name]
    full_losses, full_weights, _ = trajectory(lib, make_opt)
    losses, weights, opt = trajectory(lib, make_opt, steps=10)
    saved = _cloned_state_dict(opt)
    params = make_params(lib, weights)
    fresh = make_opt(lib, params)
    fresh.load_state_dict(saved)
    rest, final, _ = trajectory(lib, make_opt, steps=STEPS - 10, params=params, opt=fresh,
                                start=10)
    np.testing.assert_allclose(losses + rest, full_losses, rtol=1e-6, atol=1e-7)
    for a, b in zip(final, full_weights):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_load_state_dict_from_torch_continues_like_torch():
    make_opt = OPTIMIZERS["adam_groups"]
    _, weights, theirs = trajectory(torch, make_opt, steps=10)
    saved = theirs.state_dict()
    as_ours = {"state": {k: {n: gputensor.tensor(v.numpy()) for n, v in s.items()}
                         for k, s in saved["state"].items()},
               "param_groups": copy.deepcopy(saved["param_groups"])}
    params = make_params(gputensor, weights)
    ours = make_opt(gputensor, params)
    ours.load_state_dict(as_ours)
    rest, final, _ = trajectory(gputensor, make_opt, steps=20, params=params, opt=ours,
                                start=10)
    expected, expected_final, _ = trajectory(torch, make_opt, steps=20, opt=theirs,
                                             params=theirs.param_groups[0]["params"]
                                             + theirs.param_groups[1]["params"], start=10)
    np.testing.assert_allclose(rest, expected, rtol=1e-4, atol=1e-6)
    for a, b in zip(final, expected_final):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


# ---- errors --------------------------------------------------------------------------
def _params(lib):
    return make_params(lib, _data("float32")[0])


@pytest.mark.parametrize("build", [
    lambda lib: lib.optim.SGD([1, 2]),
    lambda lib: lib.optim.SGD([]),
    lambda lib: lib.optim.SGD(_params(lib)[0]),
    lambda lib: lib.optim.SGD(_params(lib), lr=-0.1),
    lambda lib: lib.optim.SGD(_params(lib), momentum=-1),
    lambda lib: lib.optim.SGD(_params(lib), weight_decay=-1),
    lambda lib: lib.optim.SGD(_params(lib), nesterov=True),
    lambda lib: lib.optim.SGD(_params(lib), momentum=0.9, dampening=0.1, nesterov=True),
    lambda lib: lib.optim.Adam(_params(lib), lr=-0.1),
    lambda lib: lib.optim.Adam(_params(lib), eps=-1.0),
    lambda lib: lib.optim.Adam(_params(lib), betas=(1.0, 0.999)),
    lambda lib: lib.optim.Adam(_params(lib), betas=(0.9, -0.1)),
    lambda lib: lib.optim.Adam(_params(lib), betas=(0, 0.9)),
    lambda lib: lib.optim.Adam(_params(lib), weight_decay=-1),
    lambda lib: lib.optim.AdamW(_params(lib), betas=(0.9, 1.5)),
    lambda lib: lib.optim.RMSprop(_params(lib), alpha=-0.5),
    lambda lib: lib.optim.RMSprop(_params(lib), momentum=-0.5),
    lambda lib: lib.optim.Adagrad(_params(lib), lr_decay=-1),
    lambda lib: lib.optim.Adagrad(_params(lib), initial_accumulator_value=-1),
    lambda lib: lib.optim.SGD([lib.ones(2, requires_grad=True) * 2]),
    lambda lib: lib.optim.SGD({"params": 1}),
    lambda lib: lib.optim.SGD([{"params": {_params(lib)[0]}}]),
    lambda lib: lib.optim.SGD([{"params": _params(lib)[:1]}, {"params": _params(lib)[1:]}]
                              * 2),
    lambda lib: lib.optim.SGD(_params(lib), fused=True, foreach=True),
], ids=lambda f: "")
def test_constructor_errors_match_torch(build):
    check_error(build)


def test_add_param_group_errors_change_nothing():
    def attempt(lib, group):
        p = _params(lib)
        opt = lib.optim.SGD(p[:2], lr=0.1)
        before = repr(opt)
        try:
            opt.add_param_group(group(p))
        finally:
            assert repr(opt) == before and len(opt.param_groups) == 1
    check_error(attempt, lambda p: {"params": p[:1]})
    check_error(attempt, lambda p: {"params": [p[2], 3]})
    check_error(attempt, lambda p: [p[2]])


def test_load_state_dict_errors_change_nothing():
    def attempt(lib, edit):
        _, _, opt = trajectory(lib, OPTIMIZERS["adam_groups"], steps=3)
        weights = [p.detach().numpy().copy() for g in opt.param_groups for p in g["params"]]
        before = _plain(opt.state_dict())
        saved = _cloned_state_dict(opt)
        edit(saved)
        try:
            opt.load_state_dict(saved)
        finally:
            _close_plain(_plain(opt.state_dict()), before)
            after = [p.detach().numpy() for g in opt.param_groups for p in g["params"]]
            for a, b in zip(after, weights):
                np.testing.assert_array_equal(a, b)
    check_error(attempt, lambda sd: sd["param_groups"].pop())
    check_error(attempt, lambda sd: sd["param_groups"][1]["params"].pop())


def test_add_param_group_then_step_matches_torch():
    def make(lib, p):
        opt = lib.optim.Adam(p[:2], lr=0.01)
        opt.add_param_group({"params": p[2:], "lr": 0.05, "amsgrad": True})
        return opt
    assert_trajectories_match(make)


def test_step_with_closure_returns_its_loss():
    def run(lib):
        init, x, y = _data("float32")
        params = make_params(lib, init)
        opt = lib.optim.SGD(params, lr=0.1)
        x, y = lib.tensor(x), lib.tensor(y)

        def closure():
            opt.zero_grad()
            loss = loss_fn(lib, params, x, y)
            loss.backward()
            return loss
        return [opt.step(closure).item() for _ in range(3)]
    np.testing.assert_allclose(run(gputensor), run(torch), rtol=1e-5)


def test_zero_grad_set_to_none_false_keeps_zeroed_grads():
    params = _params(gputensor)
    opt = gputensor.optim.SGD(params, lr=0.1)
    loss_fn(gputensor, params, gputensor.ones(8, 3), gputensor.zeros(8, 2)).backward()
    opt.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in params)
    opt.zero_grad()
    assert all(p.grad is None for p in params)


# ---- Lookahead -------------------------------------------------------------------------
def lookahead_reference(make_inner, k, alpha, steps=STEPS):
    """torch's inner optimizer, with the slow weights and the paper's sync in NumPy."""
    init, x, y = _data("float32")
    params = make_params(torch, init)
    inner = make_inner(torch, params)
    slow = [p.detach().numpy().copy() for p in params]
    x, y = torch.tensor(x), torch.tensor(y)
    losses = []
    for t in range(1, steps + 1):
        inner.zero_grad()
        loss = loss_fn(torch, params, x, y)
        loss.backward()
        inner.step()
        losses.append(loss.item())
        if t % k == 0:
            for p, s in zip(params, slow):
                s += alpha * (p.detach().numpy() - s)
                with torch.no_grad():
                    p.copy_(torch.from_numpy(s))
    return losses, [p.detach().numpy().copy() for p in params]


class PlainSGD(gputensor.optim.Optimizer):
    """A user-written optimizer (no flat buffers) for Lookahead to wrap."""

    def __init__(self, params, lr):
        super().__init__(params, {"lr": lr})

    def step(self, closure=None):
        with gputensor.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.sub_(p.grad * group["lr"])


@pytest.mark.parametrize("inner,k,alpha", [("sgd_momentum", 5, 0.5), ("adam", 3, 0.8),
                                           ("adamw_amsgrad_maximize", 1, 0.3),
                                           ("plain", 4, 0.5)])
def test_lookahead_follows_the_paper_rule(inner, k, alpha):
    make_inner = OPTIMIZERS["sgd" if inner == "plain" else inner]
    ours_inner = (lambda lib, p: PlainSGD(p, lr=0.1)) if inner == "plain" else make_inner
    losses, weights, _ = trajectory(
        gputensor, lambda lib, p: lib.optim.Lookahead(ours_inner(lib, p), k=k, alpha=alpha))
    expected_losses, expected_weights = lookahead_reference(make_inner, k, alpha)
    np.testing.assert_allclose(losses, expected_losses, rtol=1e-4, atol=1e-6)
    for a, b in zip(weights, expected_weights):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_lookahead_state_dict_round_trip():
    def make(lib, p):
        return gputensor.optim.Lookahead(gputensor.optim.Adam(_groups(p, lr=0.03), lr=0.01),
                                         k=5, alpha=0.6)
    full_losses, full_weights, _ = trajectory(gputensor, make)
    losses, weights, opt = trajectory(gputensor, make, steps=7)
    saved = _cloned_state_dict(opt)
    assert saved["lookahead"]["step_counter"] == 7 and len(saved["lookahead"]["slow_weights"]) == 4
    params = make_params(gputensor, weights)
    fresh = make(gputensor, params)
    fresh.load_state_dict(saved)
    rest, final, _ = trajectory(gputensor, make, steps=STEPS - 7, params=params, opt=fresh,
                                start=7)
    np.testing.assert_allclose(losses + rest, full_losses, rtol=1e-6, atol=1e-7)
    for a, b in zip(final, full_weights):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_lookahead_errors_and_delegation():
    params = _params(gputensor)
    inner = gputensor.optim.SGD(params, lr=0.1)
    with pytest.raises(ValueError, match="Invalid slow update rate: 1.5"):
        gputensor.optim.Lookahead(inner, alpha=1.5)
    with pytest.raises(ValueError, match="Invalid lookahead steps: 0"):
        gputensor.optim.Lookahead(inner, k=0)
    opt = gputensor.optim.Lookahead(inner)
    assert opt.param_groups is inner.param_groups and opt.state is inner.state
    assert isinstance(opt, gputensor.optim.Optimizer)
    with pytest.raises(ValueError, match="no 'lookahead' entry"):
        opt.load_state_dict(inner.state_dict())
