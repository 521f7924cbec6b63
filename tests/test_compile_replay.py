"""gputensor.compile's replays: fused elementwise chains, in-place ops and batch norm,
constants, whole training steps (CNN, GPT) on each device, guards on arguments."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
import torch
from compile_cases import data, mlp, replayed, same, weights

import gputensor
from benchmarks.cases_gpt import _gpt_step
from gputensor.compile import Unsupported
from gputensor.kernels.cpu import fused
from helpers import made_on, to_numpy, torch_text


def _chain(a, b, c):
    return (a * b + c) / 2.5 - a


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_elementwise_chain_is_fused_bit_for_bit(dtype):
    rng = np.random.default_rng(5)
    a, b, c = (gputensor.tensor(rng.standard_normal((3, 50)).astype(dtype)) for _ in range(3))
    compiled = gputensor.compile(_chain)
    kept = [compiled(a, b, c) for _ in range(4)]  # held: each call writes a new array
    for out in kept:
        same(out, _chain(a, b, c))
    assert len({id(out._data) for out in kept}) == 4
    assert compiled.compile_report()[0]["fused"] == 1
    (step,) = compiled._entries[0].program.steps  # one loop, its module kept on disk
    module = sys.modules[step.kernel.__module__]
    assert os.path.dirname(module.__file__) == fused.cache_folder()
    assert step.kernel._cache._cache_path  # (numba's cache=True: machine code on disk too)
    same(compiled(a.t().contiguous().t(), b, c), _chain(a, b, c))  # (not contiguous)
    ta, tb, tc = (torch.tensor(to_numpy(t)) for t in (a, b, c))
    np.testing.assert_array_equal(to_numpy(compiled(a, b, c)), _chain(ta, tb, tc).numpy())


def test_chain_with_grad_is_not_fused_and_keeps_its_graph():
    a = gputensor.ones(4, requires_grad=True)
    compiled = gputensor.compile(_chain)
    for _ in range(3):
        out = compiled(a, a, a)
    assert compiled.compile_report()[0]["fused"] == 0
    assert type(out.grad_fn).__name__ == "SubBackward0"


def _small_step(device):
    model = mlp(gputensor).to(device)
    optimizer = gputensor.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = (t.to(device) for t in data(gputensor, batch=3))

    def step():
        optimizer.zero_grad()
        loss = gputensor.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
    return model, step


def test_training_step_on_each_device(device):
    params = []
    for wrap in (lambda f: f, gputensor.compile):
        with made_on(gputensor, device):
            model, step = _small_step(device)
            run = wrap(step)
            for _ in range(4):
                run()
        params.append(list(model.parameters()))
    assert replayed(run) == ["replayed"]
    for ours, eager in zip(*params):
        same(ours.detach().cpu(), eager.detach().cpu())


def test_gpt_training_step_matches_eager():
    def parameters(step):
        model = next(c.cell_contents for c in step.__closure__
                     if isinstance(c.cell_contents, gputensor.nn.Module))
        return [p.detach() for p in model.parameters()]
    sizes = {"batch": 2, "block_size": 5, "n_layer": 1, "n_head": 2, "n_embd": 8, "vocab": 7}
    eager, traced = _gpt_step(gputensor, **sizes), _gpt_step(gputensor, **sizes)
    compiled = gputensor.compile(traced)
    for _ in range(6):
        eager()
        compiled()
    assert replayed(compiled) == ["replayed"]
    for ours, ref in zip(parameters(traced), parameters(eager)):
        same(ours, ref)


def _clipped_step(device, set_to_none):
    model = mlp(gputensor).to(device)
    optimizer = gputensor.optim.AdamW(model.parameters(), lr=0.05)
    x, y = (t.to(device) for t in data(gputensor, batch=5))

    def step():
        optimizer.zero_grad(set_to_none=set_to_none)
        loss = gputensor.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        norm = gputensor.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        optimizer.step()
        return norm
    return model, step


@pytest.mark.parametrize("set_to_none", [True, False])
def test_gradient_clipping_after_backward_is_replayed(set_to_none, device):
    """clip_grad_norm_ reads the .grad tensors the step's backward made, then scales them."""
    runs = []
    for wrap in (lambda f: f, gputensor.compile):
        with made_on(gputensor, device):
            model, step = _clipped_step(device, set_to_none)
            run = wrap(step)
            norms = [run().item() for _ in range(5)]
        grads = [p.grad for p in model.parameters()]
        runs.append((norms, list(model.parameters()), grads))
    assert replayed(run) == ["replayed"]
    (norms, params, grads), (norms2, params2, grads2) = runs
    assert norms == norms2 and norms[0] > 0.5  # (the clip did scale)
    for ours, eager in zip(params2 + grads2, params + grads):
        same(ours.detach().cpu(), eager.detach().cpu())
    # as eagerly, clipping wrote into each gradient once per step (mul_)
    assert [g._version.value for g in grads2] == [g._version.value for g in grads]


def test_arguments_structures_and_returned_inputs():
    @gputensor.compile
    def fn(x, scale, *, shift=0.0):
        return {"x": x, "y": [x * scale + shift, None, 3]}

    x = gputensor.tensor([1.0, 2.0])
    for scale, shift in ((2.0, 0.0), (2.0, 0.0), (2.0, 0.0), (3.0, 1.0), (3.0, 1.0),
                         (3.0, 1.0)):
        out = fn(x, scale, shift=shift)
        assert out["x"] is x and out["y"][1:] == [None, 3]
        same(out["y"][0], x * scale + shift)
    assert [e["replays"] for e in fn.compile_report()] == [1, 1]


def test_replaced_parameter_and_late_hooks_are_guarded():
    model = mlp(gputensor)
    compiled = gputensor.compile(model)
    x, _ = data(gputensor)
    for _ in range(3):
        compiled(x)
    with gputensor.no_grad():
        model[0].weight = gputensor.nn.Parameter(model[0].weight * 2)
    same(compiled(x), model(x))
    model[2].register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    same(compiled(x), model(x))
    report = compiled.compile_report()
    assert [e["state"] for e in report] == ["replayed", "tracing", "eager"]
    assert "Linear has forward hooks" in report[2]["reason"]


def test_autocast_and_inference_mode_are_guarded():
    model = mlp(gputensor)
    compiled = gputensor.compile(model)
    x, _ = data(gputensor)
    for _ in range(3):
        compiled(x)
    with gputensor.autocast("cpu"):
        same(compiled(x), model(x))
    with gputensor.inference_mode():
        out = compiled(x)
        assert out.is_inference() and compiled.compile_report()[-1]["state"] == "tracing"
    assert len(compiled.compile_report()) == 3


def test_batchnorm_training_updates_running_statistics_as_eager():
    nn = gputensor.nn
    models = [nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4), nn.ReLU(inplace=True))
              for _ in range(2)]
    models[1].load_state_dict(models[0].state_dict())
    compiled = gputensor.compile(models[0])
    counters = [m[1].num_batches_tracked._version for m in models]
    before = [c.value for c in counters]
    for mode in ("train", "eval"):
        for model in models:
            getattr(model, mode)()
        for seed in range(4):
            x, _ = data(gputensor, seed=seed)
            out, ref = compiled(x), models[1](x)
            same(out, ref)
            out.sum().backward()
            ref.sum().backward()
    for ours, theirs in zip(models[0].state_dict().values(),
                                    models[1].state_dict().values()):
        same(ours, theirs)
    for ours, theirs in zip(models[0].parameters(), models[1].parameters()):
        same(ours.grad, theirs.grad)
    assert replayed(compiled) == ["replayed", "replayed"]
    assert int(models[0][1].num_batches_tracked) == 4
    assert [c.value - b for c, b in zip(counters, before)] == [4, 4]


def test_inplace_opsreplayed():
    def step(x, model, optimizer):
        h = model(x)
        h.mul_(2).add_(1)
        loss = h.relu_().sum()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        x.add_(1)
        return x

    runs = []
    for wrap in (lambda f: f, gputensor.compile):
        model = mlp(gputensor)
        optimizer = gputensor.optim.SGD(model.parameters(), lr=0.01)
        x, _ = data(gputensor)
        run = wrap(step)
        for _ in range(4):
            out = run(x, model, optimizer)
            assert out is x
        runs.append((x, list(model.parameters())))
    (x, params), (x_compiled, params_compiled) = runs
    same(x_compiled, x)
    assert x_compiled._version.value == x._version.value == 4
    for ours, eager in zip(params_compiled, params):
        same(ours.detach(), eager.detach())
    assert replayed(run) == ["replayed"]


def test_constant_written_in_place_is_fresh_each_call():
    def fn(x):
        total = gputensor.zeros(3)
        total.add_(x)
        return total * 2

    compiled = gputensor.compile(fn)
    x = gputensor.tensor([1.0, 2.0, 3.0])
    for _ in range(4):
        same(compiled(x), fn(x))
    assert compiled.compile_report()[0]["replays"] == 2
    xs = [gputensor.tensor([1.0, 2.0, 3.0], requires_grad=True) for _ in range(2)]
    for _ in range(4):  # (a graph is kept: each op's apply, the write as eager's)
        out, ref = compiled(xs[0]), fn(xs[1])
        same(out, ref)
        out.sum().backward()
        ref.sum().backward()
    same(xs[0].grad, xs[1].grad)
    assert compiled.compile_report()[1]["replays"] == 2


def test_returned_constant_is_a_new_tensor_each_call():
    compiled = gputensor.compile(lambda x: (x + 1, gputensor.zeros(2)))
    x = gputensor.ones(2)
    for _ in range(4):
        total, zeros = compiled(x)
        same(zeros, gputensor.zeros(2))
        zeros.add_(5)
    assert compiled.compile_report()[0]["replays"] == 2


def _cnn_step(lib):
    nn = lib.nn
    model = weights(lib, nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(inplace=True),
        nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(), nn.Linear(4 * 4 * 4, 3)))
    optimizer = lib.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-3)
    scheduler = lib.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    rng = np.random.default_rng(4)
    x = lib.tensor(rng.standard_normal((5, 1, 8, 8)).astype(np.float32))
    y = lib.tensor(rng.integers(0, 3, 5))

    def step():
        optimizer.zero_grad()
        loss = lib.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
    return model, step


def test_cnn_training_step_with_scheduler_matches_eager_and_torch():
    states, runs = [], []
    for lib, wrap in ((gputensor, lambda f: f), (gputensor, gputensor.compile),
                      (torch, lambda f: f)):
        model, step = _cnn_step(lib)
        runs.append(wrap(step))
        lib.manual_seed(11)
        for _ in range(6):
            runs[-1]()
        states.append(model.state_dict())
    assert replayed(runs[1]) == ["replayed"]
    eager, compiled, ref = states
    for key in ref:
        same(compiled[key], eager[key])
        np.testing.assert_allclose(to_numpy(compiled[key]), ref[key].numpy(), rtol=1e-4,
                                   atol=1e-5)


def test_training_step_returns_the_spent_loss_as_eager():
    texts, errors = [], []
    for lib, wrap in ((gputensor, lambda f: f), (gputensor, gputensor.compile),
                      (torch, lambda f: f)):
        model = mlp(lib)
        x, y = data(lib)

        def step(model=model, x=x, y=y, lib=lib):
            loss = lib.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            return loss
        run = wrap(step)
        for _ in range(3):
            loss = run()
        texts.append(torch_text(str(loss)) if lib is gputensor else str(loss))
        with pytest.raises(RuntimeError) as info:
            loss.backward()
        errors.append(str(info.value).replace("gputensor.", "torch."))
    assert texts[0] == texts[1] == texts[2]
    assert errors[0] == errors[1] == errors[2]


def test_a_first_call_that_differs_is_compared_with_the_next():
    calls = []

    @gputensor.compile
    def lazy(x):
        calls.append(1)
        return x * 2 if len(calls) == 1 else x * 2 + 1  # (a first call's own path)

    x = gputensor.ones(2)
    outs = [lazy(x) for _ in range(5)]
    for out in outs[1:]:
        same(out, x * 2 + 1)
    assert lazy.compile_report()[0]["replays"] == 2 and len(calls) == 3


def test_unhashable_arguments_run_eagerly_or_raise_with_fullgraph():
    loose = gputensor.compile(lambda xs: xs[0] + xs[1])
    strict = gputensor.compile(lambda xs: xs[0] + xs[1], fullgraph=True)
    xs = [gputensor.ones(2), gputensor.ones(2)]
    for _ in range(3):
        same(loose(xs), xs[0] + xs[1])
    assert loose.compile_report() == []
    with pytest.raises(Unsupported, match="unhashable argument"):
        strict(xs)


def test_the_same_tensor_passed_twice_is_guarded():
    compiled = gputensor.compile(lambda a, b: a * b + a)
    x, y = gputensor.tensor([1.0, 2.0]), gputensor.tensor([3.0, 5.0])
    for _ in range(3):
        same(compiled(x, x), x * x + x)
    for _ in range(3):
        same(compiled(x, y), x * y + x)
    assert [e["replays"] for e in compiled.compile_report()] == [1, 1]


def test_detached_aliases_read_their_tensor():
    def fn(x, model):
        return x.detach() * 2 + model[0].weight.data.sum()

    compiled = gputensor.compile(fn)
    model = mlp(gputensor)
    for seed in range(4):
        x, _ = data(gputensor, seed=seed)
        with gputensor.no_grad():
            model[0].weight.add_(1)
        same(compiled(x, model), fn(x, model))
    assert compiled.compile_report()[0]["replays"] == 2
