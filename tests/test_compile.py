"""gputensor.compile: replayed programs give eager's numbers bit for bit; guards, fallbacks
with reasons, fullgraph errors, the decorator forms and OptimizedModule as torch's."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

import gputensor
from benchmarks.cases_gpt import _gpt_step
from gputensor.compile import Unsupported
from helpers import made_on, to_numpy, torch_text

LIBS = (gputensor, torch)


def _weights(lib, model, seed=0):
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.uniform(-0.5, 0.5, tuple(p.shape)).astype(np.float32)))
    return model


def _mlp(lib, dropout=0.0):
    nn = lib.nn
    layers = [nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return _weights(lib, nn.Sequential(*layers, nn.Linear(16, 4)))


def _data(lib, batch=8, seed=1):
    rng = np.random.default_rng(seed)
    x = lib.tensor(rng.standard_normal((batch, 6)).astype(np.float32))
    y = lib.tensor(rng.integers(0, 4, batch))
    return x, y


def _same(a, b):
    a, b = to_numpy(a), to_numpy(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)


def _replayed(compiled):
    return [e["state"] for e in compiled.compile_report()]


@pytest.mark.parametrize("grad_mode", [True, False])
def test_mlp_forward_replays_eager_bits(device, grad_mode):
    with made_on(gputensor, device):
        model = _mlp(gputensor).to(device)
        compiled = gputensor.compile(model)
        with gputensor.set_grad_enabled(grad_mode):
            for seed in range(5):
                x, _ = _data(gputensor, seed=seed)
                out, ref = compiled(x.to(device)), model(x.to(device))
                _same(out, ref)
                assert torch_text(str(out)) == torch_text(str(ref))
                assert out.requires_grad == ref.requires_grad
    assert _replayed(compiled) == ["replayed"]
    assert compiled.compile_report()[0]["replays"] == 3


def test_forward_in_grad_mode_keeps_the_graph():
    model = _mlp(gputensor)
    compiled = gputensor.compile(model)
    theirs = _mlp(torch)
    for seed in range(4):
        x, _ = _data(gputensor, seed=seed)
        out = compiled(x)
        out.sum().backward()
    tx, _ = _data(torch, seed=3)
    assert type(out.grad_fn).__name__ == "AddmmBackward0"
    for seed in range(4):
        tx, _ = _data(torch, seed=seed)
        theirs(tx).sum().backward()
    for ours, ref in zip(model.parameters(), theirs.parameters()):
        np.testing.assert_allclose(to_numpy(ours.grad), ref.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_dropout_draws_the_same_numbers_as_eager_and_torch():
    outs = {}
    for lib in LIBS:
        model = _mlp(lib, dropout=0.3)
        run = gputensor.compile(model) if lib is gputensor else model
        lib.manual_seed(7)
        outs[lib] = [run(_data(lib, seed=s)[0]) for s in range(5)]
        if lib is gputensor:
            assert run.compile_report()[0]["replays"] == 3
    for ours, ref in zip(outs[gputensor], outs[torch]):
        np.testing.assert_allclose(to_numpy(ours), ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    eager = _mlp(gputensor, dropout=0.3)
    gputensor.manual_seed(7)
    for s, ours in enumerate(outs[gputensor]):
        _same(ours, eager(_data(gputensor, seed=s)[0]))


def _training_step(lib, optimizer_name):
    model = _mlp(lib, dropout=0.2)
    if optimizer_name == "sgd":
        optimizer = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    else:
        optimizer = lib.optim.AdamW(model.parameters(), lr=1e-2)
    x, y = _data(lib)

    def step():
        loss = lib.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return model, step


@pytest.mark.parametrize("optimizer_name", ["sgd", "adamw"])
def test_training_step_twenty_times_matches_eager(optimizer_name):
    params = {}
    for name, lib, wrap in (("eager", gputensor, lambda f: f),
                            ("compiled", gputensor, gputensor.compile),
                            ("torch", torch, lambda f: f)):
        model, step = _training_step(lib, optimizer_name)
        run = wrap(step)
        lib.manual_seed(3)
        for _ in range(20):
            run()
        params[name] = [p.detach() for p in model.parameters()]
        if name == "compiled":
            assert _replayed(run) == ["replayed"] and run.compile_report()[0]["replays"] == 18
    for ours, eager, ref in zip(params["compiled"], params["eager"], params["torch"]):
        _same(ours, eager)
        np.testing.assert_allclose(to_numpy(ours), ref.numpy(), rtol=1e-4, atol=1e-5)


def test_guard_misses_trace_again():
    model = _mlp(gputensor, dropout=0.5)
    compiled = gputensor.compile(model)
    for batch in (4, 4, 4, 5, 5, 5):
        x, _ = _data(gputensor, batch)
        compiled(x)
    model.eval()
    for _ in range(3):
        _same(compiled(x), model(x))
    model.train()
    with gputensor.no_grad():
        for _ in range(3):
            gputensor.manual_seed(1)
            out = compiled(x)
            gputensor.manual_seed(1)
            _same(out, model(x))
    assert _replayed(compiled) == ["replayed"] * 4
    assert [e["replays"] for e in compiled.compile_report()] == [1, 1, 1, 1]


def _item(lib, x):
    return x * 2 if (x.sum() > 0).item() else x


def _on_view(lib, x):
    x[1:].mul_(2)
    return x * 2


def _randn(lib, x):
    return x + lib.randn(x.shape)


def _hooked(lib, x):
    x = x * 2
    x.register_hook(lambda g: g * 3)
    x.sum().backward()
    return x.detach()


@pytest.mark.parametrize("fn, reason", [
    (_item, "Tensor.item() reads a tensor's value on the host"),
    (_on_view, "an in-place op on a view"),
    (_randn, "a random draw other than dropout's"),
    (_hooked, "a tensor hook (register_hook or retain_grad) in the graph"),
])
def test_unsupported_runs_eagerly_with_the_reason(fn, reason):
    compiled = gputensor.compile(lambda x: fn(gputensor, x))
    for _ in range(3):
        gputensor.manual_seed(0)
        x = gputensor.tensor([1.0, -2.0, 3.0], requires_grad=fn is _hooked)
        out = compiled(x)
        gputensor.manual_seed(0)
        x2 = gputensor.tensor([1.0, -2.0, 3.0], requires_grad=fn is _hooked)
        _same(out, fn(gputensor, x2))
    (entry,) = compiled.compile_report()
    assert entry["state"] == "eager" and reason in entry["reason"]
    strict = gputensor.compile(lambda x: fn(gputensor, x), fullgraph=True)
    with pytest.raises(Unsupported, match="."):
        for _ in range(2):
            strict(gputensor.tensor([1.0, -2.0, 3.0], requires_grad=fn is _hooked))


def test_custom_function_and_forward_hooks_fall_back():
    class Double(gputensor.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    compiled = gputensor.compile(lambda x: Double.apply(x) + 1)
    compiled(gputensor.ones(2))
    assert "custom autograd.Function Double" in compiled.compile_report()[0]["reason"]
    model = _mlp(gputensor)
    model[0].register_forward_hook(lambda m, i, o: o * 2)
    compiled_model = gputensor.compile(model)
    x, _ = _data(gputensor)
    _same(compiled_model(x), model(x))
    assert "Linear has forward hooks" in compiled_model.compile_report()[0]["reason"]


def test_decorator_forms():
    @gputensor.compile
    def plain(x):
        return x * 2 + 1

    @gputensor.compile()
    def called(x):
        return x.exp()

    @gputensor.compile(fullgraph=True, dynamic=False, mode="max-autotune")
    def options(x):
        return x.sigmoid()

    x = gputensor.tensor([0.5, -1.0])
    for _ in range(3):
        _same(plain(x), x * 2 + 1)
        _same(called(x), x.exp())
        _same(options(x), x.sigmoid())
    assert plain.__name__ == "plain" and plain.__wrapped__ is not None
    assert all(_replayed(f) == ["replayed"] for f in (plain, called, options))


def test_compiled_module_is_torchs_optimized_module():
    compiled = {lib: lib.compile(_mlp(lib)) for lib in LIBS}
    ours, theirs = compiled[gputensor], compiled[torch]
    assert type(ours).__name__ == type(theirs).__name__ == "OptimizedModule"
    assert isinstance(ours, gputensor.nn.Module)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert torch_text(repr(ours)) == repr(theirs)
    assert ours._orig_mod[0].weight is ours._orig_mod.state_dict(keep_vars=True)["0.weight"]
    for c in (ours, theirs):  # other attributes are the original module's
        c._orig_mod.note = "kept"
        assert c.note == "kept"


def test_disable_returns_the_function_and_module():
    def fn(x):
        return x + 1
    model = _mlp(gputensor)
    assert gputensor.compile(fn, disable=True) is fn
    assert gputensor.compile(model, disable=True) is model


@pytest.mark.parametrize("kwargs", [{"mode": "fastest"}, {"mode": "default", "options": {}},
                                    {"backend": "nope"}])
def test_bad_arguments_raise_as_torch(kwargs):
    errors = []
    for lib in LIBS:
        with pytest.raises(RuntimeError) as info:
            lib.compile(lambda x: x, **kwargs)(lib.ones(1))
        errors.append(str(info.value))
    assert errors[0] == errors[1].replace("torch.", "gputensor.")
    for lib in LIBS:
        with pytest.raises(AssertionError) as info:
            lib.compile(3)
        errors.append(str(info.value))
    assert errors[2] == errors[3]


def test_recompile_limit_logs_once_and_runs_eagerly(caplog):
    compiled = gputensor.compile(lambda x: x * 2)
    with caplog.at_level(logging.WARNING, logger="gputensor._dynamo"):
        for n in range(1, 11):
            _same(compiled(gputensor.ones(n)), gputensor.ones(n) * 2)
    assert len(compiled.compile_report()) == 8 == torch._dynamo.config.recompile_limit
    assert [r.message.splitlines()[0] for r in caplog.records] == [
        "gputensor._dynamo hit config.recompile_limit (8)"]
    gputensor._dynamo.config.recompile_limit = 2
    try:
        other = gputensor.compile(lambda x: x * 2)
        for n in range(1, 5):
            other(gputensor.ones(n))
        assert len(other.compile_report()) == 2
    finally:
        gputensor._dynamo.config.recompile_limit = 8


def test_reset_and_compiler_namespace():
    compiled = gputensor.compile(lambda x: x * 2)
    seen = []

    @gputensor.compile
    def probe(x):
        seen.append(gputensor.compiler.is_compiling())
        return x + 1
    for _ in range(3):
        compiled(gputensor.ones(2))
        probe(gputensor.ones(2))
    assert seen == [True, True] and not gputensor.compiler.is_compiling()
    gputensor.compiler.reset()
    assert compiled.compile_report() == [] == probe.compile_report()
    gputensor._dynamo.reset()
    assert gputensor.compiler.disable(probe) is probe


def test_constants_made_inside_are_kept():
    def fn(x):
        return x + gputensor.arange(x.shape[0]) * 0.5

    compiled = gputensor.compile(fn)
    for n in (3, 3, 3, 3):
        x = gputensor.ones(n)
        _same(compiled(x), fn(x))
    assert compiled.compile_report()[0]["replays"] == 2


def _chain(a, b, c):
    return (a * b + c) / 2.5 - a


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_elementwise_chain_is_fused_bit_for_bit(dtype):
    rng = np.random.default_rng(5)
    a, b, c = (gputensor.tensor(rng.standard_normal((3, 50)).astype(dtype)) for _ in range(3))
    compiled = gputensor.compile(_chain)
    kept = [compiled(a, b, c) for _ in range(4)]  # held: each call writes a new array
    for out in kept:
        _same(out, _chain(a, b, c))
    assert len({id(out._data) for out in kept}) == 4
    assert compiled.compile_report()[0]["fused"] == 1
    _same(compiled(a.t().contiguous().t(), b, c), _chain(a, b, c))  # (not contiguous)
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
    model = _mlp(gputensor).to(device)
    optimizer = gputensor.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = (t.to(device) for t in _data(gputensor, batch=3))

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
    assert _replayed(run) == ["replayed"]
    for ours, eager in zip(*params):
        _same(ours.detach().cpu(), eager.detach().cpu())


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
    assert _replayed(compiled) == ["replayed"]
    for ours, ref in zip(parameters(traced), parameters(eager)):
        _same(ours, ref)


def test_arguments_structures_and_returned_inputs():
    @gputensor.compile
    def fn(x, scale, *, shift=0.0):
        return {"x": x, "y": [x * scale + shift, None, 3]}

    x = gputensor.tensor([1.0, 2.0])
    for scale, shift in ((2.0, 0.0), (2.0, 0.0), (2.0, 0.0), (3.0, 1.0), (3.0, 1.0),
                         (3.0, 1.0)):
        out = fn(x, scale, shift=shift)
        assert out["x"] is x and out["y"][1:] == [None, 3]
        _same(out["y"][0], x * scale + shift)
    assert [e["replays"] for e in fn.compile_report()] == [1, 1]


def test_replaced_parameter_and_late_hooks_are_guarded():
    model = _mlp(gputensor)
    compiled = gputensor.compile(model)
    x, _ = _data(gputensor)
    for _ in range(3):
        compiled(x)
    with gputensor.no_grad():
        model[0].weight = gputensor.nn.Parameter(model[0].weight * 2)
    _same(compiled(x), model(x))
    model[2].register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    _same(compiled(x), model(x))
    report = compiled.compile_report()
    assert [e["state"] for e in report] == ["replayed", "tracing", "eager"]
    assert "Linear has forward hooks" in report[2]["reason"]


def test_autocast_and_inference_mode_are_guarded():
    model = _mlp(gputensor)
    compiled = gputensor.compile(model)
    x, _ = _data(gputensor)
    for _ in range(3):
        compiled(x)
    with gputensor.autocast("cpu"):
        _same(compiled(x), model(x))
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
            x, _ = _data(gputensor, seed=seed)
            out, ref = compiled(x), models[1](x)
            _same(out, ref)
            out.sum().backward()
            ref.sum().backward()
    for ours, theirs in zip(models[0].state_dict().values(),
                                    models[1].state_dict().values()):
        _same(ours, theirs)
    for ours, theirs in zip(models[0].parameters(), models[1].parameters()):
        _same(ours.grad, theirs.grad)
    assert _replayed(compiled) == ["replayed", "replayed"]
    assert int(models[0][1].num_batches_tracked) == 4
    assert [c.value - b for c, b in zip(counters, before)] == [4, 4]


def test_inplace_ops_replayed():
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
        model = _mlp(gputensor)
        optimizer = gputensor.optim.SGD(model.parameters(), lr=0.01)
        x, _ = _data(gputensor)
        run = wrap(step)
        for _ in range(4):
            out = run(x, model, optimizer)
            assert out is x
        runs.append((x, list(model.parameters())))
    (x, params), (x_compiled, params_compiled) = runs
    _same(x_compiled, x)
    assert x_compiled._version.value == x._version.value == 4
    for ours, eager in zip(params_compiled, params):
        _same(ours.detach(), eager.detach())
    assert _replayed(run) == ["replayed"]


def test_constant_written_in_place_is_fresh_each_call():
    def fn(x):
        total = gputensor.zeros(3)
        total.add_(x)
        return total * 2

    compiled = gputensor.compile(fn)
    x = gputensor.tensor([1.0, 2.0, 3.0])
    for _ in range(4):
        _same(compiled(x), fn(x))
    assert compiled.compile_report()[0]["replays"] == 2
    xs = [gputensor.tensor([1.0, 2.0, 3.0], requires_grad=True) for _ in range(2)]
    for _ in range(4):  # (a graph is kept: each op's apply, the write as eager's)
        out, ref = compiled(xs[0]), fn(xs[1])
        _same(out, ref)
        out.sum().backward()
        ref.sum().backward()
    _same(xs[0].grad, xs[1].grad)
    assert compiled.compile_report()[1]["replays"] == 2


def test_returned_constant_is_a_new_tensor_each_call():
    compiled = gputensor.compile(lambda x: (x + 1, gputensor.zeros(2)))
    x = gputensor.ones(2)
    for _ in range(4):
        total, zeros = compiled(x)
        _same(zeros, gputensor.zeros(2))
        zeros.add_(5)
    assert compiled.compile_report()[0]["replays"] == 2


def _cnn_step(lib):
    nn = lib.nn
    model = _weights(lib, nn.Sequential(
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
    assert _replayed(runs[1]) == ["replayed"]
    eager, compiled, ref = states
    for key in ref:
        _same(compiled[key], eager[key])
        np.testing.assert_allclose(to_numpy(compiled[key]), ref[key].numpy(), rtol=1e-4,
                                   atol=1e-5)


def test_training_step_returns_the_spent_loss_as_eager():
    texts, errors = [], []
    for lib, wrap in ((gputensor, lambda f: f), (gputensor, gputensor.compile),
                      (torch, lambda f: f)):
        model = _mlp(lib)
        x, y = _data(lib)

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
        _same(out, x * 2 + 1)
    assert lazy.compile_report()[0]["replays"] == 2 and len(calls) == 3


def test_unhashable_arguments_run_eagerly_or_raise_with_fullgraph():
    loose = gputensor.compile(lambda xs: xs[0] + xs[1])
    strict = gputensor.compile(lambda xs: xs[0] + xs[1], fullgraph=True)
    xs = [gputensor.ones(2), gputensor.ones(2)]
    for _ in range(3):
        _same(loose(xs), xs[0] + xs[1])
    assert loose.compile_report() == []
    with pytest.raises(Unsupported, match="unhashable argument"):
        strict(xs)


def test_the_same_tensor_passed_twice_is_guarded():
    compiled = gputensor.compile(lambda a, b: a * b + a)
    x, y = gputensor.tensor([1.0, 2.0]), gputensor.tensor([3.0, 5.0])
    for _ in range(3):
        _same(compiled(x, x), x * x + x)
    for _ in range(3):
        _same(compiled(x, y), x * y + x)
    assert [e["replays"] for e in compiled.compile_report()] == [1, 1]
