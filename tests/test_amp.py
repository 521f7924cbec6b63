"""GradScaler against torch's GradScaler("cpu") on a small model: scale, unscale_, steps
skipped on inf/NaN, update (backoff and growth), get_scale, state_dict/load_state_dict."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import gputensor
from helpers import LIBS, assert_same, check_error, copy_weights, torch_text

# one batch per step; a non-finite input makes every gradient non-finite that step
BATCHES = [1.0, 2.0, math.inf, 0.5, 1.5, math.nan, 1.0, 3.0, 2.0]


def _models(device):
    """A torch model and ours with the same weights, ours on ``device``."""
    theirs, ours = torch.nn.Linear(3, 2), gputensor.nn.Linear(3, 2)
    copy_weights(ours, theirs)
    return ours.to(device), theirs


def _train(lib, model, device, unscale_first):
    rng = np.random.default_rng(3)
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scaler = lib.amp.GradScaler(device if lib is gputensor else "cpu", init_scale=2.0 ** 10,
                                growth_interval=2)
    history = []
    for factor in BATCHES:
        x = lib.tensor(rng.standard_normal((4, 3)).astype(np.float32) * factor)
        if lib is gputensor:
            x = x.to(device)
        opt.zero_grad()
        scaled = scaler.scale(model(x).pow(2).mean())
        scaled.backward()
        if unscale_first:
            scaler.unscale_(opt)
        result = scaler.step(opt)
        scaler.update()
        history.append((scaled.grad_fn.name(), scaler.get_scale(), result,
                        dict(scaler.state_dict())))
    return history


@pytest.mark.parametrize("unscale_first", [False, True])
def test_training_with_skipped_steps_as_torch(device, unscale_first):
    ours, theirs = _models(device)
    their_history = _train(torch, theirs, "cpu", unscale_first)
    our_history = _train(gputensor, ours, device, unscale_first)
    for (name, scale, result, state), (t_name, t_scale, t_result, t_state) in zip(
            our_history, their_history):
        assert torch_text(name) == t_name
        assert scale == t_scale and result == t_result and state == t_state
    for p, t in zip(ours.parameters(), theirs.parameters()):
        assert_same(p.cpu(), t, rtol=1e-5, atol=1e-6)
        assert_same(p.grad.cpu(), t.grad, rtol=1e-4, atol=1e-6)


def test_scale_of_several_outputs_and_unscaled_gradients_as_torch():
    results = []
    for lib in LIBS:
        scaler = lib.amp.GradScaler("cpu", init_scale=8.0)
        w = lib.tensor([1.0, -2.0], requires_grad=True)
        a, (b, c) = scaler.scale([w * 2, (w * 3, w.sum())])
        (a.sum() + b.sum() + c).backward()
        opt = lib.optim.SGD([w], lr=1.0)
        scaler.unscale_(opt)
        results.append((a, b, c, w.grad.clone()))
    for ours, theirs in zip(*results):
        assert_same(ours, theirs)
        assert torch_text(repr(ours)) == repr(theirs)


def test_state_dict_round_trip_as_torch():
    states = []
    for lib in LIBS:
        scaler = lib.amp.GradScaler("cpu", init_scale=4.0, growth_factor=3.0,
                                    backoff_factor=0.25, growth_interval=7)
        fresh = lib.amp.GradScaler("cpu")
        fresh.load_state_dict(scaler.state_dict())
        fresh.scale(lib.ones(1))
        states.append((fresh.state_dict(), fresh.get_scale(), fresh.get_growth_factor(),
                       fresh.get_backoff_factor(), fresh.get_growth_interval()))
    assert states[0] == states[1]


def test_misuse_errors_as_torch():
    def twice_unscaled(lib):
        scaler = lib.amp.GradScaler("cpu")
        w = lib.ones(2, requires_grad=True)
        scaler.scale(w.sum()).backward()
        opt = lib.optim.SGD([w], lr=0.1)
        scaler.unscale_(opt)
        scaler.unscale_(opt)

    def after_step(lib):
        scaler = lib.amp.GradScaler("cpu")
        w = lib.ones(2, requires_grad=True)
        scaler.scale(w.sum()).backward()
        opt = lib.optim.SGD([w], lr=0.1)
        scaler.step(opt)
        scaler.unscale_(opt)

    def step_twice(lib):
        scaler = lib.amp.GradScaler("cpu")
        w = lib.ones(2, requires_grad=True)
        scaler.scale(w.sum()).backward()
        opt = lib.optim.SGD([w], lr=0.1)
        scaler.step(opt)
        scaler.step(opt)

    check_error(twice_unscaled)
    check_error(after_step)
    check_error(step_twice)
    check_error(lambda lib: lib.amp.GradScaler("cpu").step(lib.optim.SGD([lib.ones(1)])))
    check_error(lambda lib: lib.amp.GradScaler("cpu").update())
    check_error(lambda lib: lib.amp.GradScaler("cpu", growth_factor=1.0))
    check_error(lambda lib: lib.amp.GradScaler("cpu", backoff_factor=1.0))
    check_error(lambda lib: lib.amp.GradScaler("cpu").scale(3))


def _warnings_of(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn()
    return out, [(w.category, str(w.message)) for w in caught]


def test_disabled_without_cuda_as_torch(cuda_unavailable):
    made = [_warnings_of(lambda lib=lib: lib.amp.GradScaler("cuda")) for lib in LIBS]
    legacy = [_warnings_of(lambda lib=lib: lib.cuda.amp.GradScaler()) for lib in LIBS]
    for (ours, our_warnings), (theirs, their_warnings) in (made, legacy):
        assert our_warnings == their_warnings and our_warnings
        assert ours.is_enabled() is theirs.is_enabled() is False
        assert ours.get_scale() == theirs.get_scale() == 1.0
        assert ours.state_dict() == theirs.state_dict() == {}
        loss = gputensor.ones(1)
        assert ours.scale(loss) is loss


def test_enabled_on_cuda(cuda_device):
    scaler = gputensor.amp.GradScaler("cuda", init_scale=16.0)
    assert scaler.is_enabled()
    out = scaler.scale(gputensor.ones(2, device=cuda_device))
    assert out.device.type == "cuda"
    assert out.tolist() == [16.0, 16.0]
