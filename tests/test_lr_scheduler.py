"""gputensor.optim.lr_scheduler against torch: lr sequences, state_dict, warnings, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import gputensor
from helpers import check_error


def _optimizer(lib, kind="sgd"):
    params = [lib.nn.Parameter(lib.ones(2, 2)), lib.nn.Parameter(lib.zeros(3))]
    groups = [{"params": params[:1]}, {"params": params[1:], "lr": 0.5}]
    if kind == "adam":
        return lib.optim.Adam(groups, lr=0.1)
    return lib.optim.SGD(groups, lr=0.1, momentum=0.9)


SCHEDULERS = {
    "step": lambda s, o: s.StepLR(o, step_size=3, gamma=0.5),
    "multistep": lambda s, o: s.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3),
    "exponential": lambda s, o: s.ExponentialLR(o, gamma=0.9),
    "cosine": lambda s, o: s.CosineAnnealingLR(o, T_max=6, eta_min=0.01),
    "cosine_no_min": lambda s, o: s.CosineAnnealingLR(o, T_max=4),
    "lambda": lambda s, o: s.LambdaLR(o, lr_lambda=lambda e: 1 / (e + 1)),
    "lambda_per_group": lambda s, o: s.LambdaLR(o, [lambda e: 0.9 ** e, lambda e: e + 1]),
    "linear": lambda s, o: s.LinearLR(o, start_factor=0.25, total_iters=4),
    "linear_down": lambda s, o: s.LinearLR(o, start_factor=1.0, end_factor=0.1,
                                           total_iters=6),
}


def _sequence(lib, name, steps=15, kind="sgd"):
    opt = _optimizer(lib, kind)
    sched = SCHEDULERS[name](lib.optim.lr_scheduler, opt)
    seq = [(sched.last_epoch, sched.get_last_lr(), [g["lr"] for g in opt.param_groups])]
    for _ in range(steps):
        opt.step()
        sched.step()
        seq.append((sched.last_epoch, sched.get_last_lr(), [g["lr"] for g in opt.param_groups]))
    return seq, sched, opt


def _state(sched):
    return {k: v for k, v in sched.state_dict().items() if k != "lr_lambdas"}


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_lr_sequence_matches_torch(name):
    ours, our_sched, our_opt = _sequence(gputensor, name)
    theirs, their_sched, their_opt = _sequence(torch, name)
    assert [e for e, _, _ in ours] == [e for e, _, _ in theirs]
    np.testing.assert_allclose([lr for _, lr, _ in ours], [lr for _, lr, _ in theirs],
                               rtol=1e-12)
    np.testing.assert_allclose([g for _, _, g in ours], [g for _, _, g in theirs], rtol=1e-12)
    assert sorted(_state(our_sched)) == sorted(_state(their_sched))
    assert [g["initial_lr"] for g in our_opt.param_groups] == \
        [g["initial_lr"] for g in their_opt.param_groups]
    assert list(our_opt.state_dict()["param_groups"][0]) == \
        list(their_opt.state_dict()["param_groups"][0])


@pytest.mark.parametrize("name", ["step", "multistep", "exponential", "cosine", "linear"])
def test_step_with_epoch_uses_the_closed_form(name):
    results = []
    for lib in (gputensor, torch):
        opt = _optimizer(lib)
        sched = SCHEDULERS[name](lib.optim.lr_scheduler, opt)
        lrs = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for epoch in (3, 7, 2, 10):
                opt.step()
                sched.step(epoch)
                lrs.append(sched.get_last_lr())
        results.append((lrs, [str(w.message) for w in caught]))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    assert results[0][1] == results[1][1]


def test_state_dict_round_trip_resumes_the_schedule():
    for lib in (gputensor, torch):
        full, _, _ = _sequence(lib, "cosine", steps=12)
        _, sched, opt = _sequence(lib, "cosine", steps=5)
        saved_sched, saved_opt = sched.state_dict(), opt.state_dict()
        opt2 = _optimizer(lib)
        sched2 = SCHEDULERS["cosine"](lib.optim.lr_scheduler, opt2)
        opt2.load_state_dict(saved_opt)
        sched2.load_state_dict(saved_sched)
        lrs = []
        for _ in range(7):
            opt2.step()
            sched2.step()
            lrs.append(sched2.get_last_lr())
        np.testing.assert_allclose(lrs, [lr for _, lr, _ in full[6:]], rtol=1e-12)


def _plateau_run(lib, **options):
    opt = _optimizer(lib, "adam")
    sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **options)
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.89, 0.9, 0.9, 0.9, 0.9, 0.9, 0.2, 0.3, 0.3, 0.3]
    lrs = []
    for m in metrics:
        opt.step()
        sched.step(lib.tensor(m) if m == 0.2 else m)  # a 0-d tensor metric too
        lrs.append((sched.get_last_lr(), sched.num_bad_epochs, sched.best, sched.last_epoch))
    return lrs


@pytest.mark.parametrize("options", [
    dict(patience=2), dict(patience=1, factor=0.5, cooldown=2),
    dict(mode="max", patience=1, threshold=0.1, threshold_mode="abs"),
    dict(patience=0, min_lr=[0.05, 0.2], factor=0.2), dict(patience=1, eps=0.02, factor=0.9),
])
def test_reduce_lr_on_plateau_matches_torch(options):
    assert _plateau_run(gputensor, **options) == _plateau_run(torch, **options)


def test_scheduler_drives_lookahead():
    opt = _optimizer(gputensor)
    wrapped = gputensor.optim.Lookahead(opt, k=2)
    sched = gputensor.optim.lr_scheduler.StepLR(wrapped, step_size=1, gamma=0.5)
    wrapped.step()
    sched.step()
    assert [g["lr"] for g in opt.param_groups] == [0.05, 0.25]


def test_call_order_warning_matches_torch():
    messages = []
    for lib in (gputensor, torch):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.StepLR(opt, step_size=2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sched.step()
            sched.get_lr()
        messages.append([str(w.message) for w in caught])
    assert messages[0] == messages[1] and len(messages[0]) == 2


@pytest.mark.parametrize("build", [
    lambda lib: lib.optim.lr_scheduler.StepLR(object(), step_size=2),
    lambda lib: lib.optim.lr_scheduler.LinearLR(_optimizer(lib), start_factor=0),
    lambda lib: lib.optim.lr_scheduler.LinearLR(_optimizer(lib), end_factor=1.5),
    lambda lib: lib.optim.lr_scheduler.LambdaLR(_optimizer(lib), [lambda e: 1.0]),
    lambda lib: lib.optim.lr_scheduler.ExponentialLR(_optimizer(lib), 0.5, last_epoch=3),
    lambda lib: lib.optim.lr_scheduler.ReduceLROnPlateau(_optimizer(lib), factor=1.0),
    lambda lib: lib.optim.lr_scheduler.ReduceLROnPlateau(_optimizer(lib), mode="best"),
    lambda lib: lib.optim.lr_scheduler.ReduceLROnPlateau(_optimizer(lib), threshold_mode="x"),
    lambda lib: lib.optim.lr_scheduler.ReduceLROnPlateau(_optimizer(lib), min_lr=[0.1]),
], ids=["not-optimizer", "start-factor", "end-factor", "lambdas", "resume", "factor", "mode",
        "threshold-mode", "min-lrs"])
def test_errors_match_torch(build):
    check_error(build)
