"""gputensor.compile: replayed programs give eager's numbers bit for bit; guards, fallbacks
with reasons, fullgraph errors, the decorator forms and OptimizedModule as torch's."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from compile_cases import data, mlp, replayed, same

import gputensor
from gputensor.compile import Unsupported
from helpers import made_on, to_numpy, torch_text

LIBS = (gputensor, torch)


@pytest.mark.parametrize("grad_mode", [True, False])
def test_mlp_forward_replays_eager_bits(device, grad_mode):
    with made_on(gputensor, device):
        model = mlp(gputensor).to(device)
        compiled = gputensor.compile(model)
        with gputensor.set_grad_enabled(grad_mode):
            for seed in range(5):
                x, _ = data(gputensor, seed=seed)
                out, ref = compiled(x.to(device)), model(x.to(device))
                same(out, ref)
                assert torch_text(str(out)) == torch_text(str(ref))
                assert out.requires_grad == ref.requires_grad
    assert replayed(compiled) == ["replayed"]
    assert compiled.compile_report()[0]["replays"] == 3


def test_forward_in_grad_mode_keeps_the_graph():
    model = mlp(gputensor)
    compiled = gputensor.compile(model)
    theirs = mlp(torch)
    for seed in range(4):
        x, _ = data(gputensor, seed=seed)
        out = compiled(x)
        out.sum().backward()
    tx, _ = data(torch, seed=3)
    assert type(out.grad_fn).__name__ == "AddmmBackward0"
    for seed in range(4):
        tx, _ = data(torch, seed=seed)
        theirs(tx).sum().backward()
    for ours, ref in zip(model.parameters(), theirs.parameters()):
        np.testing.assert_allclose(to_numpy(ours.grad), ref.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_dropout_draws_the_same_numbers_as_eager_and_torch():
    outs = {}
    for lib in LIBS:
        model = mlp(lib, dropout=0.3)
        run = gputensor.compile(model) if lib is gputensor else model
        lib.manual_seed(7)
        outs[lib] = [run(data(lib, seed=s)[0]) for s in range(5)]
        if lib is gputensor:
            assert run.compile_report()[0]["replays"] == 3
    for ours, ref in zip(outs[gputensor], outs[torch]):
        np.testing.assert_allclose(to_numpy(ours), ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    eager = mlp(gputensor, dropout=0.3)
    gputensor.manual_seed(7)
    for s, ours in enumerate(outs[gputensor]):
        same(ours, eager(data(gputensor, seed=s)[0]))


def _training_step(lib, optimizer_name):
    model = mlp(lib, dropout=0.2)
    if optimizer_name == "sgd":
        optimizer = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    else:
        optimizer = lib.optim.AdamW(model.parameters(), lr=1e-2)
    x, y = data(lib)

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
            assert replayed(run) == ["replayed"] and run.compile_report()[0]["replays"] == 18
    for ours, eager, ref in zip(params["compiled"], params["eager"], params["torch"]):
        same(ours, eager)
        np.testing.assert_allclose(to_numpy(ours), ref.numpy(), rtol=1e-4, atol=1e-5)


def test_guard_misses_trace_again():
    model = mlp(gputensor, dropout=0.5)
    compiled = gputensor.compile(model)
    for batch in (4, 4, 4, 5, 5, 5):
        x, _ = data(gputensor, batch)
        compiled(x)
    model.eval()
    for _ in range(3):
        same(compiled(x), model(x))
    model.train()
    with gputensor.no_grad():
        for _ in range(3):
            gputensor.manual_seed(1)
            out = compiled(x)
            gputensor.manual_seed(1)
            same(out, model(x))
    assert replayed(compiled) == ["replayed"] * 4
    assert [e["replays"] for e in compiled.compile_report()] == [1, 1, 1, 1]


def _item(lib, x):
    return x * 2 if (x.sum() > 0).item() else x


def _on_view(lib, x):
    x[1:].mul_(2)
    return x * 2


def _randn(lib, x):
    return x + lib.randn(x.shape)


def _reseeded(lib, x):
    lib.manual_seed(3)
    return lib.nn.functional.dropout(x)


def _rebinds(lib, x):
    x.data = x * 2
    return x + 1


def _returns_grad(lib, x):
    (x * 2).sum().backward()
    return x.grad


def _alias_leaf(lib, x):
    leaf = x.detach().requires_grad_()
    (leaf * 2).sum().backward()
    return x + 1


def _hooked(lib, x):
    x = x * 2
    x.register_hook(lambda g: g * 3)
    x.sum().backward()
    return x.detach()


_LEAVES = (_hooked, _returns_grad)  # (their argument requires grad)


@pytest.mark.parametrize("fn, reason", [
    (_item, "Tensor.item() reads a tensor's value on the host"),
    (_on_view, "an in-place op on a view"),
    (_randn, "a random draw other than dropout's"),
    (_reseeded, "sets a random generator's state"),
    (_rebinds, "assigning a tensor's .data"),
    (_returns_grad, "reads a .grad its backward() made"),
    (_alias_leaf, "backward() reaches a leaf made inside the function"),
    (_hooked, "a tensor hook (register_hook or retain_grad) in the graph"),
])
def test_unsupported_runs_eagerly_with_the_reason(fn, reason):
    compiled = gputensor.compile(lambda x: fn(gputensor, x))
    for _ in range(3):
        gputensor.manual_seed(0)
        x = gputensor.tensor([1.0, -2.0, 3.0], requires_grad=fn in _LEAVES)
        out = compiled(x)
        gputensor.manual_seed(0)
        x2 = gputensor.tensor([1.0, -2.0, 3.0], requires_grad=fn in _LEAVES)
        same(out, fn(gputensor, x2))
    (entry,) = compiled.compile_report()
    assert entry["state"] == "eager" and reason in entry["reason"]
    strict = gputensor.compile(lambda x: fn(gputensor, x), fullgraph=True)
    with pytest.raises(Unsupported, match="."):
        for _ in range(3):  # (a difference between runs is confirmed on a third)
            strict(gputensor.tensor([1.0, -2.0, 3.0], requires_grad=fn in _LEAVES))


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
    model = mlp(gputensor)
    model[0].register_forward_hook(lambda m, i, o: o * 2)
    compiled_model = gputensor.compile(model)
    x, _ = data(gputensor)
    same(compiled_model(x), model(x))
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
        same(plain(x), x * 2 + 1)
        same(called(x), x.exp())
        same(options(x), x.sigmoid())
    assert plain.__name__ == "plain" and plain.__wrapped__ is not None
    assert all(replayed(f) == ["replayed"] for f in (plain, called, options))


def test_compiled_module_is_torchs_optimized_module():
    compiled = {lib: lib.compile(mlp(lib)) for lib in LIBS}
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
    model = mlp(gputensor)
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
            same(compiled(gputensor.ones(n)), gputensor.ones(n) * 2)
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
        same(compiled(x), fn(x))
    assert compiled.compile_report()[0]["replays"] == 2
