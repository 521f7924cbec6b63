"""Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop and LBFGS against torch.optim."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_optim import (
    _cloned_state_dict,
    _close_plain,
    _data,
    _groups,
    _plain,
    assert_trajectories_match,
    loss_fn,
    make_params,
    trajectory,
)

import gputensor
from helpers import check_error

STEPS = 30

OPTIMIZERS = {
    "adadelta": lambda lib, p: lib.optim.Adadelta(p),
    "adadelta_wd_maximize": lambda lib, p: lib.optim.Adadelta(
        p, lr=0.5, rho=0.8, weight_decay=0.1, maximize=True),
    "adadelta_groups": lambda lib, p: lib.optim.Adadelta(_groups(p, lr=2.0, eps=1e-4)),
    "adamax": lambda lib, p: lib.optim.Adamax(p, lr=0.01),
    "adamax_wd": lambda lib, p: lib.optim.Adamax(p, lr=0.02, betas=(0.8, 0.99),
                                                 weight_decay=0.1),
    "adamax_maximize": lambda lib, p: lib.optim.Adamax(p, lr=0.01, maximize=True),
    "nadam": lambda lib, p: lib.optim.NAdam(p, lr=0.01),
    "nadam_wd": lambda lib, p: lib.optim.NAdam(p, lr=0.01, weight_decay=0.1,
                                               momentum_decay=0.01),
    "nadam_decoupled": lambda lib, p: lib.optim.NAdam(p, lr=0.01, weight_decay=0.1,
                                                      decoupled_weight_decay=True),
    "nadam_maximize_groups": lambda lib, p: lib.optim.NAdam(
        _groups(p, lr=0.02, betas=(0.8, 0.9)), lr=0.01, maximize=True),
    "radam": lambda lib, p: lib.optim.RAdam(p, lr=0.01),
    "radam_wd": lambda lib, p: lib.optim.RAdam(p, lr=0.01, weight_decay=0.1,
                                               betas=(0.8, 0.9)),
    "radam_decoupled_maximize": lambda lib, p: lib.optim.RAdam(
        p, lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True),
    "asgd": lambda lib, p: lib.optim.ASGD(p, lr=0.05),
    "asgd_averaging": lambda lib, p: lib.optim.ASGD(p, lr=0.05, lambd=0.01, alpha=0.5,
                                                    t0=5, weight_decay=0.01),
    "asgd_maximize": lambda lib, p: lib.optim.ASGD(p, lr=0.01, t0=3, maximize=True),
    "rprop": lambda lib, p: lib.optim.Rprop(p, lr=0.01),
    "rprop_options": lambda lib, p: lib.optim.Rprop(p, lr=0.02, etas=(0.3, 1.5),
                                                    step_sizes=(1e-3, 0.05)),
    "rprop_maximize_groups": lambda lib, p: lib.optim.Rprop(
        _groups(p, lr=0.001), lr=0.01, maximize=True),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_trajectory_matches_torch(name):
    assert_trajectories_match(OPTIMIZERS[name])


@pytest.mark.parametrize("name", ["adadelta_wd_maximize", "adamax_wd", "nadam_wd",
                                  "radam_wd", "asgd_averaging", "rprop_options"])
def test_trajectory_float64(name):
    assert_trajectories_match(OPTIMIZERS[name], dtype="float64", rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["adadelta", "adamax", "nadam", "radam", "asgd_averaging",
                                  "rprop"])
def test_trajectory_with_parameters_missing_grads(name):
    assert_trajectories_match(OPTIMIZERS[name], skip_scale=True)


@pytest.mark.parametrize("name", ["adadelta_groups", "adamax_wd", "nadam_maximize_groups",
                                  "radam", "asgd_averaging", "rprop_options"])
def test_state_dict_shaped_like_torch(name):
    for skip in (False, True):
        _, _, ours = trajectory(gputensor, OPTIMIZERS[name], steps=4, skip_scale=skip)
        _, _, theirs = trajectory(torch, OPTIMIZERS[name], steps=4, skip_scale=skip)
        _close_plain(_plain(ours.state_dict()), _plain(theirs.state_dict()))
        assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("name", ["adadelta", "adamax_wd", "nadam_wd", "radam_wd",
                                  "asgd_averaging", "rprop_options"])
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


@pytest.mark.parametrize("name", ["nadam_wd", "asgd_averaging", "rprop_options"])
def test_load_state_dict_from_torch_continues_like_torch(name):
    make_opt = OPTIMIZERS[name]
    _, weights, theirs = trajectory(torch, make_opt, steps=10)
    saved = theirs.state_dict()
    as_ours = {"state": {k: {n: gputensor.tensor(v.numpy()) for n, v in s.items()}
                         for k, s in saved["state"].items()},
               "param_groups": saved["param_groups"]}
    params = make_params(gputensor, weights)
    ours = make_opt(gputensor, params)
    ours.load_state_dict(as_ours)
    rest_ours = trajectory(gputensor, make_opt, steps=10, params=params, opt=ours, start=10)
    tparams = make_params(torch, weights)
    topt = make_opt(torch, tparams)
    topt.load_state_dict(saved)
    rest_theirs = trajectory(torch, make_opt, steps=10, params=tparams, opt=topt, start=10)
    np.testing.assert_allclose(rest_ours[0], rest_theirs[0], rtol=1e-4, atol=1e-6)


# ---- on "cuda" (simulated here, a real GPU in the gpu variant) ------------------------
CUDA_CASES = [
    ("Adadelta", dict(lr=0.5, weight_decay=0.1)), ("Adadelta", dict(maximize=True)),
    ("Adamax", dict(lr=0.05, weight_decay=0.1)), ("Adamax", dict(maximize=True)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.05, weight_decay=0.1, betas=(0.5, 0.6))),
    ("RAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("ASGD", dict(lr=0.05, t0=1, lambd=0.01)), ("ASGD", dict(maximize=True, weight_decay=0.1)),
    ("Rprop", dict(lr=0.05)), ("Rprop", dict(etas=(0.2, 1.9), maximize=True)),
]
CUDA_SHAPES = [(5,), (2, 3), ()]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,options", CUDA_CASES,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(CUDA_CASES)])
def test_steps_on_cuda_match_cpu_and_torch(name, options, dtype, cuda_device):
    rng = np.random.default_rng(5)
    values = [rng.uniform(-1, 1, s).astype(dtype) for s in CUDA_SHAPES]
    ours = {device: [gputensor.nn.Parameter(gputensor.tensor(v, device=device))
                     for v in values] for device in (cuda_device, "cpu")}
    theirs = [torch.nn.Parameter(torch.tensor(v)) for v in values]
    optimizers = [getattr(lib.optim, name)(params, **options) for lib, params in
                  ((gputensor, ours[cuda_device]), (gputensor, ours["cpu"]), (torch, theirs))]
    for _ in range(4):
        grads = [rng.uniform(-1, 1, s).astype(dtype) for s in CUDA_SHAPES]
        for params, opt in zip((ours[cuda_device], ours["cpu"], theirs), optimizers):
            for p, g in zip(params, grads):
                p.grad = torch.tensor(g) if params is theirs else gputensor.tensor(
                    g, device=p.device)
            opt.step()
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == "float64" else dict(rtol=1e-5, atol=1e-6)
    for a, b, c in zip(ours[cuda_device], ours["cpu"], theirs):
        assert a.device.type == "cuda"
        np.testing.assert_allclose(a.detach().cpu().numpy(), b.detach().numpy(), **tol)
        np.testing.assert_allclose(a.detach().cpu().numpy(), c.detach().numpy(), **tol)


# ---- one kernel launch per step -------------------------------------------------------
@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"])
def test_one_kernel_call_per_step(name, monkeypatch):
    from gputensor.backends.flat_step import BoundStep
    seen = []
    real = BoundStep.__call__

    def counting(self, scalars):
        seen.append(self.name)
        return real(self, scalars)
    monkeypatch.setattr(BoundStep, "__call__", counting)
    params = [gputensor.nn.Parameter(gputensor.randn(*s)) for s in [(3, 2), (4,), (), (2, 2)]]
    opt = getattr(gputensor.optim, name)(params)
    for _ in range(3):
        opt.zero_grad()
        sum(((p * p).sum() for p in params), gputensor.tensor(0.0)).backward()
        seen.clear()
        opt.step()
        assert seen == [name.lower()]


# ---- argument validation ---------------------------------------------------------------
def _param(lib):
    return [lib.nn.Parameter(lib.ones(2))]


BAD_ARGUMENTS = [
    ("Adadelta", dict(lr=-1.0)), ("Adadelta", dict(rho=1.5)), ("Adadelta", dict(eps=-1.0)),
    ("Adadelta", dict(weight_decay=-0.1)),
    ("Adamax", dict(lr=-0.5)), ("Adamax", dict(betas=(1.0, 0.9))),
    ("Adamax", dict(betas=(0.9, -0.1))), ("Adamax", dict(eps=-1e-3)),
    ("Adamax", dict(weight_decay=-1)),
    ("NAdam", dict(lr=-1.0)), ("NAdam", dict(momentum_decay=-0.1)),
    ("NAdam", dict(betas=(0.9, 1.0))), ("NAdam", dict(weight_decay=-2.0)),
    ("RAdam", dict(lr=-1.0)), ("RAdam", dict(betas=(-0.1, 0.9))), ("RAdam", dict(eps=-1.0)),
    ("ASGD", dict(lr=-1.0)), ("ASGD", dict(weight_decay=-0.5)),
    ("Rprop", dict(lr=-1.0)), ("Rprop", dict(etas=(1.5, 2.0))),
    ("Rprop", dict(etas=(0.5, 0.9))),
    ("Adamax", dict(fused=True)), ("Rprop", dict(foo=1)),
]


@pytest.mark.parametrize("name,options", BAD_ARGUMENTS,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(BAD_ARGUMENTS)])
def test_constructor_errors_match_torch(name, options):
    check_error(lambda lib: getattr(lib.optim, name)(_param(lib), **options))


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"])
def test_empty_and_tensor_params_errors_match_torch(name):
    check_error(lambda lib: getattr(lib.optim, name)([]))
    check_error(lambda lib: getattr(lib.optim, name)(lib.ones(2, requires_grad=True)))


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop"])
def test_flags_defaults_and_add_param_group_like_torch(name):
    def build(lib):
        params = [lib.nn.Parameter(lib.ones(2)), lib.nn.Parameter(lib.zeros(3))]
        opt = getattr(lib.optim, name)(params[:1], lr=0.1, foreach=False, maximize=True,
                                       capturable=False)
        opt.add_param_group({"params": params[1:], "lr": 0.2})
        for p in params:
            p.grad = lib.ones_like(p)
        opt.step()
        opt.zero_grad(set_to_none=False)
        zeros = [p.grad.tolist() for p in params]
        opt.zero_grad()
        return opt, zeros, [p.grad for p in params], [p.tolist() for p in params]
    ours, theirs = build(gputensor), build(torch)
    assert repr(ours[0]) == repr(theirs[0])
    assert ours[1:3] == theirs[1:3]
    np.testing.assert_allclose(np.concatenate(ours[3]), np.concatenate(theirs[3]), rtol=1e-6)
    _close_plain(_plain(ours[0].state_dict()), _plain(theirs[0].state_dict()))


# ---- LBFGS --------------------------------------------------------------------------------
def _lbfgs_run(lib, dtype, steps=4, **options):
    init, x, y = _data(dtype)
    params = make_params(lib, init)
    x, y = lib.tensor(x), lib.tensor(y)
    opt = lib.optim.LBFGS(params, **options)

    def closure():
        opt.zero_grad()
        loss = loss_fn(lib, params, x, y)
        loss.backward()
        return loss
    losses = [opt.step(closure).item() for _ in range(steps)]
    return losses, [p.detach().numpy().copy() for p in params], opt


LBFGS_OPTIONS = [{}, dict(line_search_fn="strong_wolfe"),
                 dict(lr=0.5, history_size=3, max_iter=7),
                 dict(line_search_fn="strong_wolfe", max_iter=5, max_eval=6, history_size=2),
                 dict(tolerance_grad=1e-2, tolerance_change=1e-3)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("index", range(len(LBFGS_OPTIONS)))
def test_lbfgs_matches_torch(index, dtype):
    options = LBFGS_OPTIONS[index]
    steps = 4
    if dtype == "float32":  # rounding differences grow over many iterations: fewer of them
        options = {"max_iter": 5, **options}
        steps = 2
    ours = _lbfgs_run(gputensor, dtype, steps, **options)
    theirs = _lbfgs_run(torch, dtype, steps, **options)
    tol = dict(rtol=1e-5, atol=1e-7) if dtype == "float64" else dict(rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(ours[0], theirs[0], **tol)
    for a, b in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(a, b, **tol)
    ours_state, theirs_state = ours[2].state_dict(), theirs[2].state_dict()
    assert ours_state["param_groups"] == theirs_state["param_groups"]
    ours_entry, theirs_entry = ours_state["state"][0], theirs_state["state"][0]
    assert list(ours_entry) == list(theirs_entry)
    for key in ("func_evals", "n_iter"):
        assert ours_entry[key] == theirs_entry[key]
    assert len(ours_entry["old_dirs"]) == len(theirs_entry["old_dirs"])


def test_lbfgs_errors_match_torch():
    check_error(lambda lib: lib.optim.LBFGS(_param(lib), lr=-1.0))
    check_error(lambda lib: lib.optim.LBFGS([{"params": _param(lib)},
                                             {"params": _param(lib)}]))

    def bad_line_search(lib):
        p = _param(lib)
        opt = lib.optim.LBFGS(p, line_search_fn="armijo")

        def closure():
            opt.zero_grad()
            loss = (p[0] ** 2).sum()
            loss.backward()
            return loss
        opt.step(closure)
    check_error(bad_line_search)


# ---- fused / foreach / capturable / differentiable, as torch takes them ---------------------
FLAG_OPTIMIZERS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam",
                   "RAdam", "ASGD", "Rprop"]
FLAG_COMBINATIONS = [
    dict(differentiable=True), dict(foreach=True), dict(foreach=False), dict(fused=True),
    dict(capturable=True), dict(fused=True, foreach=True), dict(fused=True, differentiable=True),
    dict(capturable=True, foreach=True), dict(maximize=True, foreach=True),
    dict(capturable=True, differentiable=True),
]


def _step_with_flags(lib, name, flags, requires_grad=True):
    p = lib.tensor([1.0, -2.0], requires_grad=requires_grad)
    try:
        opt = getattr(lib.optim, name)([p], lr=0.1, **flags)
        p.grad = lib.tensor([0.5, 1.0])
        opt.step()
    except Exception as e:  # noqa: BLE001 - comparing whatever torch raises
        return type(e).__name__, str(e)
    return "ok", p.detach().numpy().tolist()


@pytest.mark.parametrize("flags", FLAG_COMBINATIONS,
                         ids=["-".join(sorted(f)) for f in FLAG_COMBINATIONS])
@pytest.mark.parametrize("name", FLAG_OPTIMIZERS)
def test_flags_accepted_and_refused_like_torch(name, flags):
    ours = _step_with_flags(gputensor, name, flags)
    theirs = _step_with_flags(torch, name, flags)
    assert ours[0] == theirs[0]
    if ours[0] == "ok":
        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6, atol=1e-6)
    else:
        assert ours[1] == theirs[1]


@pytest.mark.parametrize("name", FLAG_OPTIMIZERS)
def test_differentiable_step_of_tensors_without_grad_steps_like_torch(name):
    ours = _step_with_flags(gputensor, name, dict(differentiable=True), requires_grad=False)
    theirs = _step_with_flags(torch, name, dict(differentiable=True), requires_grad=False)
    assert ours[0] == theirs[0] == "ok"
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("options", [{}, dict(line_search_fn="strong_wolfe")])
def test_lbfgs_on_cuda_matches_torch(options, cuda_device):
    rng = np.random.default_rng(9)
    start = rng.uniform(-1, 1, (3,))
    target = rng.uniform(-1, 1, (3,))

    def run(lib, device):
        w = lib.tensor(start, device=device, requires_grad=True)
        goal = lib.tensor(target, device=device)
        opt = lib.optim.LBFGS([w], max_iter=6, history_size=3, **options)

        def closure():
            opt.zero_grad()
            loss = ((w - goal) ** 4).sum() + (w * w).sum()
            loss.backward()
            return loss
        losses = [opt.step(closure).item() for _ in range(2)]
        return losses, w.detach().cpu().numpy()
    ours, theirs = run(gputensor, cuda_device), run(torch, "cpu")
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-10)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-8, atol=1e-10)


SPARSE_ADAM_ERRORS = [dict(lr=0.0), dict(eps=0.0), dict(betas=(1.0, 0.9)),
                      dict(betas=(0.9, -1.0))]


@pytest.mark.parametrize("options", SPARSE_ADAM_ERRORS)
def test_sparse_adam_checks_like_torch(options):
    check_error(lambda lib: lib.optim.SparseAdam(_param(lib), **options))


def test_sparse_adam_refuses_dense_gradients_like_torch():
    def step(lib):
        params = _param(lib)
        opt = lib.optim.SparseAdam(params, lr=0.1, maximize=True)
        assert opt.step() is None  # no gradient yet: nothing to do
        params[0].grad = lib.ones(2)
        opt.step()
    check_error(step)
    ours = gputensor.optim.SparseAdam(_param(gputensor), lr=0.1)
    theirs = torch.optim.SparseAdam(_param(torch), lr=0.1)
    assert repr(ours) == repr(theirs)
