"""OneCycleLR, CyclicLR, CosineAnnealingWarmRestarts, PolynomialLR, ConstantLR,
MultiplicativeLR, SequentialLR and ChainedScheduler against torch.optim.lr_scheduler."""

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


def _sequential(s, o):
    return s.SequentialLR(o, [s.ConstantLR(o, factor=0.5, total_iters=3),
                              s.ExponentialLR(o, gamma=0.8)], milestones=[4])


def _sequential_three(s, o):
    return s.SequentialLR(o, [s.LinearLR(o, start_factor=0.1, total_iters=3),
                              s.CosineAnnealingLR(o, T_max=5),
                              s.StepLR(o, step_size=2, gamma=0.5)], milestones=[3, 8])


def _chained(s, o):
    return s.ChainedScheduler([s.ConstantLR(o, factor=0.2, total_iters=4),
                               s.ExponentialLR(o, gamma=0.9)])


class Halving:
    """A callable object (its __dict__ goes into state_dict)."""

    def __init__(self):
        self.factor = 0.5

    def __call__(self, epoch):
        return self.factor if epoch % 3 == 0 else 1.0


SCHEDULERS = {
    "onecycle": lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=20),
    "onecycle_linear": lambda s, o: s.OneCycleLR(o, max_lr=[0.3, 0.6], epochs=4,
                                                 steps_per_epoch=5, anneal_strategy="linear",
                                                 pct_start=0.4),
    "onecycle_three_phase": lambda s, o: s.OneCycleLR(o, max_lr=0.5, total_steps=20,
                                                      three_phase=True, div_factor=10.0,
                                                      final_div_factor=100.0),
    "onecycle_no_momentum": lambda s, o: s.OneCycleLR(o, max_lr=0.5, total_steps=20,
                                                      cycle_momentum=False),
    "cyclic": lambda s, o: s.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=3),
    "cyclic_triangular2": lambda s, o: s.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.1,
                                                  step_size_up=2, step_size_down=4,
                                                  mode="triangular2"),
    "cyclic_exp_range": lambda s, o: s.CyclicLR(o, base_lr=0.01, max_lr=0.2, step_size_up=3,
                                                mode="exp_range", gamma=0.9,
                                                base_momentum=0.7, max_momentum=0.95),
    "cyclic_scale_fn": lambda s, o: s.CyclicLR(o, 0.01, 0.1, step_size_up=2,
                                               scale_fn=lambda x: 0.8 ** x,
                                               scale_mode="iterations",
                                               cycle_momentum=False),
    "warm_restarts": lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=3),
    "warm_restarts_mult": lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2,
                                                                     eta_min=0.01),
    "polynomial": lambda s, o: s.PolynomialLR(o, total_iters=6, power=2.0),
    "polynomial_linear": lambda s, o: s.PolynomialLR(o),
    "constant": lambda s, o: s.ConstantLR(o, factor=0.25, total_iters=4),
    "multiplicative": lambda s, o: s.MultiplicativeLR(o, lr_lambda=lambda e: 0.9),
    "multiplicative_per_group": lambda s, o: s.MultiplicativeLR(
        o, [Halving(), lambda e: 1.1]),
    "sequential": _sequential,
    "sequential_three": _sequential_three,
    "chained": _chained,
}


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


def _sequence(lib, name, steps=19, kind="sgd"):
    opt = _optimizer(lib, kind)
    sched = SCHEDULERS[name](lib.optim.lr_scheduler, opt)
    seq = [(sched.get_last_lr(), [g["lr"] for g in opt.param_groups], _momenta(opt))]
    for _ in range(steps):
        opt.step()
        sched.step()
        seq.append((sched.get_last_lr(), [g["lr"] for g in opt.param_groups], _momenta(opt)))
    return seq, sched, opt


def _plain_state(sched):
    """state_dict() with callables and nested schedulers' states made comparable."""
    def plain(value):
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items() if k != "_scale_fn_ref"}
        if isinstance(value, list):
            return [plain(v) for v in value]
        if callable(value):
            return "callable"
        return value
    return plain(sched.state_dict())


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_sequence_matches_torch(name, kind):
    ours, our_sched, our_opt = _sequence(gputensor, name, kind=kind)
    theirs, their_sched, their_opt = _sequence(torch, name, kind=kind)
    for column in range(3):
        np.testing.assert_allclose(np.array([row[column] for row in ours], dtype=float),
                                   np.array([row[column] for row in theirs], dtype=float),
                                   rtol=1e-12)
    assert _plain_state(our_sched) == _plain_state(their_sched)
    assert our_opt.state_dict()["param_groups"] == their_opt.state_dict()["param_groups"]


@pytest.mark.parametrize("name", ["onecycle_three_phase", "cyclic_exp_range", "warm_restarts",
                                  "polynomial", "multiplicative_per_group", "sequential",
                                  "chained"])
@pytest.mark.parametrize("lib", [gputensor, torch], ids=["gputensor", "torch"])
def test_state_dict_round_trip_resumes_the_schedule(name, lib):
    full, _, _ = _sequence(lib, name, steps=15)
    _, sched, opt = _sequence(lib, name, steps=6)
    saved_sched, saved_opt = sched.state_dict(), opt.state_dict()
    opt2 = _optimizer(lib)
    sched2 = SCHEDULERS[name](lib.optim.lr_scheduler, opt2)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    lrs = []
    for _ in range(9):
        opt2.step()
        sched2.step()
        lrs.append(sched2.get_last_lr())
    np.testing.assert_allclose(lrs, [row[0] for row in full[7:]], rtol=1e-12)


@pytest.mark.parametrize("name", ["constant", "polynomial"])
def test_step_with_epoch_uses_the_closed_form(name):
    results = []
    for lib in (gputensor, torch):
        opt = _optimizer(lib)
        sched = SCHEDULERS[name](lib.optim.lr_scheduler, opt)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lrs = []
            for epoch in (3, 7, 2, 10):
                opt.step()
                sched.step(epoch)
                lrs.append(sched.get_last_lr())
        results.append((lrs, [str(w.message) for w in caught]))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    assert results[0][1] == results[1][1]


def test_warm_restarts_with_fractional_epochs():
    results = []
    for lib in (gputensor, torch):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=3)
        lrs = []
        for epoch in (0.5, 1.25, 2.0, 3.7, 8.1, 9.0, 1.5):
            opt.step()
            sched.step(epoch)
            lrs.append((sched.get_last_lr(), sched.T_cur, sched.T_i, sched.last_epoch))
        results.append(lrs)
    np.testing.assert_allclose([r[0] for r in results[0]], [r[0] for r in results[1]],
                               rtol=1e-12)
    assert [r[1:] for r in results[0]] == [r[1:] for r in results[1]]


@pytest.mark.parametrize("name", ["onecycle", "cyclic", "polynomial", "multiplicative"])
def test_warnings_match_torch(name):
    texts = []
    for lib in (gputensor, torch):
        opt = _optimizer(lib)
        sched = SCHEDULERS[name](lib.optim.lr_scheduler, opt)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sched.step()  # before optimizer.step(): the call-order warning
            sched.get_lr()  # outside step(): the get_last_lr() hint
        texts.append([(w.category, str(w.message)) for w in caught])
    assert texts[0] == texts[1] and len(texts[0]) == 2


def test_one_cycle_past_total_steps_raises_like_torch():
    def run(lib):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=3)
        for _ in range(4):
            opt.step()
            sched.step()
    check_error(run)


BAD = [
    lambda s, o: s.OneCycleLR(o, max_lr=0.1),
    lambda s, o: s.OneCycleLR(o, max_lr=0.1, total_steps=0),
    lambda s, o: s.OneCycleLR(o, max_lr=0.1, epochs=-1, steps_per_epoch=2),
    lambda s, o: s.OneCycleLR(o, max_lr=0.1, epochs=2, steps_per_epoch=0),
    lambda s, o: s.OneCycleLR(o, max_lr=0.1, total_steps=5, pct_start=1.5),
    lambda s, o: s.OneCycleLR(o, max_lr=0.1, total_steps=5, anneal_strategy="exp"),
    lambda s, o: s.OneCycleLR(o, max_lr=[0.1], total_steps=5),
    lambda s, o: s.CyclicLR(o, 0.1, 1.0, mode="sawtooth"),
    lambda s, o: s.CyclicLR(o, [0.1, 0.2, 0.3], 1.0),
    lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=0),
    lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0),
    lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=2, eta_min="x"),
    lambda s, o: s.ConstantLR(o, factor=1.5),
    lambda s, o: s.MultiplicativeLR(o, [lambda e: 1.0]),
    lambda s, o: s.MultiplicativeLR(o, 3),
    lambda s, o: s.SequentialLR(o, [], milestones=[]),
    lambda s, o: s.SequentialLR(o, [s.ConstantLR(o)], milestones=[2]),
    lambda s, o: s.SequentialLR(o, [s.ConstantLR(o), s.ReduceLROnPlateau(o)], milestones=[2]),
    lambda s, o: s.ChainedScheduler([]),
    lambda s, o: s.ChainedScheduler([s.ConstantLR(o), 3]),
]


@pytest.mark.parametrize("index", range(len(BAD)))
def test_errors_match_torch(index):
    check_error(lambda lib: BAD[index](lib.optim.lr_scheduler, _optimizer(lib)))


def test_cycle_momentum_needs_a_momentum_like_torch():
    def build(lib):
        opt = lib.optim.Adagrad([lib.nn.Parameter(lib.ones(2))])
        lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=5)
    check_error(build)

    def build_warm_restarts_step(lib):
        opt = _optimizer(lib)
        lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2).step(-1)
    check_error(build_warm_restarts_step)
