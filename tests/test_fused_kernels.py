"""The fused optimizer kernels against a pure-NumPy reference; flat buffers; one call per group."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import gputensor
from gputensor.backends.flat_step import BoundStep

SIZES = [(3, 5), (7,), (), (2, 2, 2)]


# ---- the NumPy reference of each rule (torch's formulas, vectorised) --------------------
def sgd_ref(p, g, st, t, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False,
            maximize=False):
    g = -g if maximize else g
    if weight_decay:
        g = g + weight_decay * p
    if momentum:
        st["buf"] = g.copy() if t == 1 else momentum * st["buf"] + (1 - dampening) * g
        g = g + momentum * st["buf"] if nesterov else st["buf"]
    return p - lr * g


def adam_ref(p, g, st, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
             maximize=False, decoupled=False):
    b1, b2 = betas
    g = -g if maximize else g
    if weight_decay and decoupled:
        p = p * (1 - lr * weight_decay)
    elif weight_decay:
        g = g + weight_decay * p
    st["m"] = b1 * st.get("m", 0) + (1 - b1) * g
    st["v"] = b2 * st.get("v", 0) + (1 - b2) * g * g
    v = st["v"]
    if amsgrad:
        v = st["vmax"] = np.maximum(st.get("vmax", 0), v)
    denom = np.sqrt(v) / np.sqrt(1 - b2 ** t) + eps
    return p - lr / (1 - b1 ** t) * st["m"] / denom


def rmsprop_ref(p, g, st, t, lr, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                centered=False, maximize=False):
    g = -g if maximize else g
    if weight_decay:
        g = g + weight_decay * p
    st["sq"] = alpha * st.get("sq", 0) + (1 - alpha) * g * g
    avg = st["sq"]
    if centered:
        st["ga"] = alpha * st.get("ga", 0) + (1 - alpha) * g
        avg = avg - st["ga"] ** 2
    avg = np.sqrt(avg) + eps
    if momentum:
        st["buf"] = momentum * st.get("buf", 0) + g / avg
        return p - lr * st["buf"]
    return p - lr * g / avg


def lion_ref(p, g, st, t, lr, betas=(0.9, 0.99), weight_decay=0):
    b1, b2 = betas
    m = st.get("m", 0)
    p = p * (1 - lr * weight_decay) - lr * np.sign(b1 * m + (1 - b1) * g)
    st["m"] = b2 * m + (1 - b2) * g
    return p


def adagrad_ref(p, g, st, t, lr, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                eps=1e-10, maximize=False):
    g = -g if maximize else g
    if weight_decay:
        g = g + weight_decay * p
    st["sum"] = st.get("sum", initial_accumulator_value) + g * g
    return p - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(st["sum"]) + eps)


def _combos(**options):
    names = list(options)
    return [dict(zip(names, values)) for values in itertools.product(*options.values())]


CASES = (
    [("SGD", sgd_ref, dict(lr=0.1, **c)) for c in _combos(
        momentum=[0, 0.9], dampening=[0, 0.2], weight_decay=[0, 0.1], nesterov=[False, True],
        maximize=[False, True]) if not c["nesterov"] or (c["momentum"] and not c["dampening"])]
    + [("Adam", adam_ref, dict(lr=0.05, **c)) for c in _combos(
        amsgrad=[False, True], weight_decay=[0, 0.1], maximize=[False, True],
        decoupled=[False, True])]
    + [("RMSprop", rmsprop_ref, dict(lr=0.01, **c)) for c in _combos(
        momentum=[0, 0.5], centered=[False, True], weight_decay=[0, 0.1],
        maximize=[False, True])]
    + [("Adagrad", adagrad_ref, dict(lr=0.1, **c)) for c in _combos(
        lr_decay=[0, 0.1], weight_decay=[0, 0.1], initial_accumulator_value=[0, 0.2],
        maximize=[False, True])]
    + [("Lion", lion_ref, dict(lr=0.05, **c)) for c in _combos(
        betas=[(0.9, 0.99), (0.5, 0.8)], weight_decay=[0, 0.1])]
)


def _build(name, options, params):
    options = dict(options)
    if name == "Adam" and options.pop("decoupled"):
        options["decoupled_weight_decay"] = True
    return getattr(gputensor.optim, name)(params, **options)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,ref,options", CASES,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)])
def test_fused_step_matches_numpy_reference(name, ref, options, dtype):
    rng = np.random.default_rng(1)
    values = [rng.uniform(-1, 1, s) for s in SIZES]
    params = [gputensor.nn.Parameter(gputensor.tensor(v.astype(dtype))) for v in values]
    opt = _build(name, options, params)
    ref_options = {k: v for k, v in options.items()}
    states = [{} for _ in values]
    for t in range(1, 6):
        grads = [rng.uniform(-1, 1, s) for s in SIZES]
        for p, g in zip(params, grads):
            p.grad = gputensor.tensor(g.astype(dtype))
        opt.step()
        values = [ref(v, g.astype(dtype).astype(np.float64), st, t, **ref_options)
                  for v, g, st in zip(values, grads, states)]
        tol = dict(rtol=1e-11, atol=1e-12) if dtype == "float64" else dict(rtol=2e-5, atol=2e-6)
        for p, v in zip(params, values):
            np.testing.assert_allclose(p.detach().numpy(), v, **tol)


FULL_OPTIONS = {
    "SGD": dict(lr=0.1, momentum=0.9, weight_decay=0.1, nesterov=True, maximize=True),
    "Adam": dict(lr=0.05, amsgrad=True, weight_decay=0.1, maximize=True, decoupled=True),
    "RMSprop": dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1),
    "Adagrad": dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.2),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(FULL_OPTIONS))
def test_parallel_build_matches_numpy_reference(name, dtype, monkeypatch):
    from gputensor.kernels.cpu import optim as kernels
    monkeypatch.setattr(kernels, "SERIAL_BELOW", 0)
    ref = {"SGD": sgd_ref, "Adam": adam_ref, "RMSprop": rmsprop_ref, "Adagrad": adagrad_ref}
    test_fused_step_matches_numpy_reference(name, ref[name], FULL_OPTIONS[name], dtype)


def test_float16_parameters_step_through_float32():
    p = gputensor.nn.Parameter(gputensor.tensor([0.5, -1.0, 2.0], dtype=gputensor.float16))
    opt = gputensor.optim.Adam([p], lr=0.1, amsgrad=True)
    p.grad = gputensor.tensor([1.0, -2.0, 0.5], dtype=gputensor.float16)
    opt.step()
    assert p.dtype is gputensor.float16
    np.testing.assert_allclose(p.detach().numpy().astype(np.float32), [0.4, -0.9, 1.9],
                               rtol=1e-3)
    np.testing.assert_allclose(opt.state[p]["max_exp_avg_sq"].numpy().astype(np.float32),
                               [0.001, 0.004, 0.00025], rtol=1e-2)


# ---- one kernel call per (group, dtype, device) --------------------------------------
@pytest.fixture
def calls(monkeypatch):
    """Record each fused kernel call as (rule, number of elements)."""
    seen = []
    real = BoundStep.__call__

    def counting(self, scalars):
        seen.append((self.name, self.lists[0].layout[2]))
        return real(self, scalars)
    monkeypatch.setattr(BoundStep, "__call__", counting)
    return seen


def _model(n_params=12, dtype="float32"):
    rng = np.random.default_rng(2)
    shapes = [tuple(rng.integers(1, 5, size=rng.integers(0, 3))) for _ in range(n_params)]
    return [gputensor.nn.Parameter(gputensor.tensor(rng.uniform(-1, 1, s).astype(dtype)))
            for s in shapes]


def _backward(params):
    loss = sum(((p * p).sum() for p in params), gputensor.tensor(0.0))
    loss.backward()


def _assert_packed(opt):
    """Every parameter's state lives in its group's flat buffers; its data stays its own."""
    for index, group in enumerate(opt.param_groups):
        packs = opt._group_packs(index, group).packs
        for pack in packs:
            assert all(a is p._data for a, p in zip(pack.param_list.arrays, pack.params))
            for p in pack.params:
                for value in opt.state.get(p, {}).values():
                    if value.dim() and value.numel():
                        assert any(np.shares_memory(value._data, b)
                                   for b in pack.buffers.values())
                        assert not np.shares_memory(value._data, p._data)


@pytest.mark.parametrize("make", [
    lambda p: gputensor.optim.SGD(p, lr=0.1, momentum=0.9),
    lambda p: gputensor.optim.Adam(p, lr=0.1),
    lambda p: gputensor.optim.AdamW(p, amsgrad=True),
    lambda p: gputensor.optim.RMSprop(p, centered=True, momentum=0.1),
    lambda p: gputensor.optim.Adagrad(p),
], ids=["sgd", "adam", "adamw", "rmsprop", "adagrad"])
def test_one_kernel_call_per_group_per_step(make, calls):
    params = _model()
    opt = make(params)
    total = sum(p.numel() for p in params)
    for _ in range(3):
        opt.zero_grad()
        _backward(params)
        calls.clear()
        opt.step()
        assert [n for _, n in calls] == [total]
        _assert_packed(opt)


def test_two_groups_two_calls_and_dtypes_split(calls):
    params = _model() + _model(3, "float64")
    opt = gputensor.optim.Adam([{"params": params[:5]}, {"params": params[5:], "lr": 0.1}])
    _backward(params)
    opt.step()
    sizes = [sum(p.numel() for p in params[:5]), sum(p.numel() for p in params[5:12]),
             sum(p.numel() for p in params[12:])]
    assert [n for _, n in calls] == sizes


def test_missing_grads_fall_back_to_runs_of_parameters(calls):
    params = _model(6)
    opt = gputensor.optim.Adam(params, lr=0.1)
    _backward(params[:2] + params[3:])
    opt.step()
    assert [n for _, n in calls] == [params[0].numel() + params[1].numel(),
                                     sum(p.numel() for p in params[3:])]
    assert params[2] not in opt.state
    calls.clear()
    opt.zero_grad()
    _backward(params)
    opt.step()  # params[2] is at step 1, the others at step 2: three runs
    assert len(calls) == 3
    opt.zero_grad()
    _backward(params)
    calls.clear()
    opt.step()
    assert len(calls) == 3  # still different step counts, as torch keeps them
    assert [float(opt.state[p]["step"]) for p in params] == [3, 3, 2, 3, 3, 3]


def test_still_one_call_after_load_state_dict_and_zero_grad(calls):
    params = _model()
    opt = gputensor.optim.Adam(params, lr=0.1)
    _backward(params)
    opt.step()
    saved = opt.state_dict()
    fresh_params = [gputensor.nn.Parameter(p.detach().clone()) for p in params]
    fresh = gputensor.optim.Adam(fresh_params, lr=0.1)
    fresh.load_state_dict(saved)
    _assert_packed(fresh)
    for p, q in zip(params, fresh_params):
        np.testing.assert_array_equal(fresh.state[q]["exp_avg"].numpy(),
                                      opt.state[p]["exp_avg"].numpy())
    for _ in range(2):
        fresh.zero_grad(set_to_none=True)
        _backward(fresh_params)
        calls.clear()
        fresh.step()
        assert len(calls) == 1
        _assert_packed(fresh)


def test_replaced_data_is_repacked_with_its_state(calls):
    params = _model()
    opt = gputensor.optim.Adam(params, lr=0.1)
    _backward(params)
    opt.step()
    exp_avg = [opt.state[p]["exp_avg"].numpy().copy() for p in params]
    for p in params:  # what Module.to(float64) does
        p.data = p.data.to(gputensor.float64)
    opt.zero_grad()
    _backward(params)
    calls.clear()
    opt.step()
    assert len(calls) == 1
    _assert_packed(opt)
    for p, old in zip(params, exp_avg):
        m = opt.state[p]["exp_avg"]
        assert m.dtype is gputensor.float64
        np.testing.assert_allclose(m.numpy(), 0.9 * old + 0.1 * p.grad.numpy(), rtol=1e-6)


def test_module_double_after_steps_repacks_like_torch_continues(calls):
    import torch
    weights, init = [], None
    for lib in (gputensor, torch):
        model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))
        if init is None:
            init = [p.detach().numpy().copy() for p in model.parameters()]
        else:  # the same starting weights
            for p, q in zip(model.parameters(), init):
                p.data = torch.tensor(q)
        opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        x = lib.tensor(np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3))
        model(x).sum().backward()
        opt.step()
        model.double()
        for _ in range(3):
            opt.zero_grad()
            model(x.double()).pow(2).sum().backward()
            calls.clear()
            opt.step()
        weights.append([p.detach().numpy().copy() for p in model.parameters()])
        if lib is gputensor:
            assert len(calls) == 1
            _assert_packed(opt)
            assert all(opt.state[p]["momentum_buffer"].dtype is gputensor.float64
                       for p in model.parameters())
    for a, b in zip(*weights):
        assert a.dtype == b.dtype == np.float64
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_plain_tensor_grads_are_copied_in(calls):
    params = [gputensor.tensor([1.0, 2.0], requires_grad=True), gputensor.ones(3, 2,
                                                                              requires_grad=True)]
    opt = gputensor.optim.SGD(params, lr=0.5)
    _backward(params)
    opt.step()
    assert len(calls) == 1
    np.testing.assert_allclose(params[0].detach().numpy(), [0.0, 0.0])


def test_lookahead_sync_is_one_call_per_buffer(calls):
    params = _model()
    opt = gputensor.optim.Lookahead(gputensor.optim.SGD(params, lr=0.1), k=2)
    for _ in range(4):
        opt.zero_grad()
        _backward(params)
        opt.step()
    total = sum(p.numel() for p in params)
    assert calls == [("sgd", total), ("sgd", total), ("lookahead", total)] * 2


def test_import_does_not_import_numba():
    import subprocess
    import sys
    code = "import sys, gputensor; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
