"""Layers and containers against torch with copied weights: outputs, gradients, buffers, reprs."""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import pytest
import torch

import gputensor
import gputensor.nn
from helpers import assert_same, check_error, rand_array

LIBS = (gputensor, torch)


def copy_weights(ours, theirs):
    """Load torch module ``theirs``'s state into our module ``ours``."""
    ours.load_state_dict({k: gputensor.tensor(v.detach().numpy())
                          for k, v in theirs.state_dict().items()})


def check_layer(make, x, train=True, steps=1, rtol=1e-5, atol=1e-6):
    """Same weights in both libraries: repr, outputs, grad_fn, input/parameter grads, buffers."""
    theirs, ours = make(torch), make(gputensor)
    assert repr(ours).replace("gputensor", "torch") == repr(theirs)
    copy_weights(ours, theirs)
    theirs.train(train)
    ours.train(train)
    floating = x.dtype.kind == "f"
    for _ in range(steps):
        leaves = {lib: lib.tensor(x, requires_grad=floating) for lib in LIBS}
        inputs = {lib: leaves[lib] * 1 if floating else leaves[lib] for lib in LIBS}
        out_t, out_o = theirs(inputs[torch]), ours(inputs[gputensor])
        assert_same(out_o, out_t, rtol, atol)
        if not out_t.requires_grad:
            assert not out_o.requires_grad
            continue
        assert out_o.grad_fn.name() == out_t.grad_fn.name()
        seed = rand_array(tuple(out_t.shape))
        out_t.backward(torch.tensor(seed))
        out_o.backward(gputensor.tensor(seed))
        if floating:
            assert_same(leaves[gputensor].grad, leaves[torch].grad, 1e-4, 1e-5)
    named_t = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        if named_t[name].grad is None:
            assert p.grad is None, name
        else:
            assert_same(p.grad, named_t[name].grad, 1e-4, 1e-5)
    named_t = dict(theirs.named_buffers())
    for name, b in ours.named_buffers():
        assert_same(b, named_t[name], 1e-5, 1e-6)
    return ours, theirs


X2 = rand_array((5, 3))
X3 = rand_array((2, 4, 3))


@pytest.mark.parametrize("make, x", [
    (lambda lib: lib.nn.Linear(3, 4), X2),
    (lambda lib: lib.nn.Linear(3, 4), X2[0]),
    (lambda lib: lib.nn.Linear(3, 4), X3),
    (lambda lib: lib.nn.Linear(3, 4, bias=False), X2),
    (lambda lib: lib.nn.Linear(3, 4, dtype=lib.float64), X2.astype(np.float64)),
    (lambda lib: lib.nn.Identity(54, unused=1), X2),
    (lambda lib: lib.nn.ReLU(), X3),
    (lambda lib: lib.nn.ReLU(inplace=True), X2),
    (lambda lib: lib.nn.LeakyReLU(), X2),
    (lambda lib: lib.nn.LeakyReLU(0.2, inplace=True), X2),
    (lambda lib: lib.nn.ELU(), X2),
    (lambda lib: lib.nn.ELU(alpha=0.5), X3),
    (lambda lib: lib.nn.GELU(), X2),
    (lambda lib: lib.nn.GELU(approximate="tanh"), X3),
    (lambda lib: lib.nn.SiLU(), X2),
    (lambda lib: lib.nn.Sigmoid(), X2),
    (lambda lib: lib.nn.Tanh(), X3),
    (lambda lib: lib.nn.Softmax(dim=1), X2),
    (lambda lib: lib.nn.Softmax(dim=0), X3),
    (lambda lib: lib.nn.LogSoftmax(dim=-1), X3),
    (lambda lib: lib.nn.Flatten(), X3),
    (lambda lib: lib.nn.Flatten(0, 1), X3),
    (lambda lib: lib.nn.Dropout(0.0), X2),
    (lambda lib: lib.nn.LayerNorm(3), X3),
    (lambda lib: lib.nn.LayerNorm((4, 3)), X3),
    (lambda lib: lib.nn.LayerNorm(3, eps=1e-3, elementwise_affine=False), X2),
    (lambda lib: lib.nn.LayerNorm([3], bias=False), X2),
    (lambda lib: lib.nn.BatchNorm1d(3), X2),
    (lambda lib: lib.nn.BatchNorm1d(4, momentum=0.3), X3),
    (lambda lib: lib.nn.BatchNorm1d(3, affine=False), X2),
    (lambda lib: lib.nn.BatchNorm1d(3, track_running_stats=False), X2),
    (lambda lib: lib.nn.Sequential(lib.nn.Linear(3, 6), lib.nn.Tanh(), lib.nn.Linear(6, 2)),
     X2),
])
def test_layer_matches_torch(make, x):
    check_layer(make, x)


def _perturbed(make):
    """``make`` with its parameters moved away from their ones/zeros initial values."""
    def build(lib):
        module = make(lib)
        with lib.no_grad():
            for p in module.parameters():
                p.add_(lib.tensor(rand_array(tuple(p.shape))))
        return module
    return build


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.LayerNorm(3),
    lambda lib: lib.nn.BatchNorm1d(3),
])
def test_normalization_with_nontrivial_affine(make):
    check_layer(_perturbed(make), X2)


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("make, x", [
    (lambda lib: lib.nn.BatchNorm1d(3), X2),
    (lambda lib: lib.nn.BatchNorm1d(4), X3),
    (lambda lib: lib.nn.BatchNorm1d(3, momentum=None), X2),
])
def test_batchnorm_running_statistics(make, x, train):
    # several steps: running mean/var and num_batches_tracked follow torch's updates
    check_layer(make, x, train=train, steps=3)


def test_batchnorm_eval_after_training_uses_running_stats():
    ours, theirs = check_layer(lambda lib: lib.nn.BatchNorm1d(3), X2 * 3 + 1, steps=2)
    ours.eval()
    theirs.eval()
    assert_same(ours(gputensor.tensor(X2)), theirs(torch.tensor(X2)))


def test_batchnorm_untracked_eval_uses_batch_stats():
    check_layer(lambda lib: lib.nn.BatchNorm1d(3, track_running_stats=False), X2, train=False)


@pytest.mark.parametrize("case", [
    lambda lib: lib.nn.BatchNorm1d(3)(lib.zeros(3)),
    lambda lib: lib.nn.BatchNorm1d(3)(lib.zeros(2, 3, 4, 5)),
    lambda lib: lib.nn.Dropout(1.5),
    lambda lib: lib.nn.Dropout(-0.1),
    lambda lib: lib.nn.Embedding(5, 2, padding_idx=5),
    lambda lib: lib.nn.Embedding(5, 2, padding_idx=-6),
    lambda lib: lib.nn.Embedding(5, 2, _weight=lib.zeros(4, 2)),
    lambda lib: lib.nn.Embedding.from_pretrained(lib.zeros(4)),
])
def test_layer_errors(case):
    check_error(case)


# ---- Embedding ------------------------------------------------------------------------------
@pytest.mark.parametrize("padding_idx", [None, 1, -1])
def test_embedding_matches_torch(padding_idx):
    idx = np.array([[0, 1, 2], [4, 1, 1]], dtype=np.int64)
    check_layer(lambda lib: lib.nn.Embedding(5, 3, padding_idx=padding_idx), idx)


def test_embedding_init_and_padding_row():
    gputensor.manual_seed(0)
    emb = gputensor.nn.Embedding(2000, 8, padding_idx=3)
    w = emb.weight.detach().numpy()
    assert np.all(w[3] == 0)
    rest = np.delete(w, 3, axis=0)
    assert abs(rest.mean()) < 0.03 and abs(rest.std() - 1) < 0.03
    assert emb.weight.requires_grad and emb.weight.is_leaf
    pre = gputensor.nn.Embedding.from_pretrained(gputensor.ones(3, 2))
    assert not pre.weight.requires_grad
    assert repr(pre) == "Embedding(3, 2)"


def test_embedding_repr_options():
    for make in (lambda lib: lib.nn.Embedding(10, 3, max_norm=1.0, norm_type=1.0,
                                              scale_grad_by_freq=True, sparse=True),
                 lambda lib: lib.nn.Embedding(10, 3, padding_idx=-2)):
        assert repr(make(gputensor)) == repr(make(torch))


# ---- Dropout ---------------------------------------------------------------------------------
def test_dropout_train_and_eval():
    drop = gputensor.nn.Dropout(p=0.25)
    x = gputensor.ones(200, 100, requires_grad=True)
    out = drop(x)
    values = out.detach().numpy()
    kept = values != 0
    assert abs(kept.mean() - 0.75) < 0.02
    assert np.allclose(values[kept], 1 / 0.75)
    out.sum().backward()
    assert np.array_equal(x.grad.numpy() != 0, kept)
    drop.eval()
    assert drop(x).tolist() == x.tolist()
    gputensor.manual_seed(5)
    a = gputensor.nn.Dropout()(gputensor.ones(50))
    gputensor.manual_seed(5)
    assert a.tolist() == gputensor.nn.Dropout()(gputensor.ones(50)).tolist()


# ---- Linear initialisation ---------------------------------------------------------------------
@pytest.mark.parametrize("fan_in, fan_out", [(50, 40), (7, 300)])
def test_linear_init_bounds(fan_in, fan_out):
    lin = gputensor.nn.Linear(fan_in, fan_out)
    bound = 1 / math.sqrt(fan_in)
    theirs = torch.nn.Linear(fan_in, fan_out)
    assert theirs.weight.abs().max().item() <= bound  # the bound torch itself keeps
    for p in (lin.weight, lin.bias):
        values = p.detach().numpy().astype(np.float64)
        assert values.dtype == np.float64 and np.all(np.abs(values) <= bound)
    w = lin.weight.detach().numpy().astype(np.float64)
    assert np.abs(w).max() > 0.9 * bound
    assert abs(w.mean()) < 0.1 * bound
    assert abs(w.var() / (bound ** 2 / 3) - 1) < 0.15
    gputensor.manual_seed(3)
    first = gputensor.nn.Linear(fan_in, fan_out).weight.tolist()
    gputensor.manual_seed(3)
    assert gputensor.nn.Linear(fan_in, fan_out).weight.tolist() == first


def test_layer_reprs():
    makers = [
        lambda lib: lib.nn.ReLU(), lambda lib: lib.nn.ReLU(True),
        lambda lib: lib.nn.LeakyReLU(), lambda lib: lib.nn.LeakyReLU(0.2, True),
        lambda lib: lib.nn.ELU(), lambda lib: lib.nn.ELU(0.5, True),
        lambda lib: lib.nn.GELU(), lambda lib: lib.nn.GELU("tanh"),
        lambda lib: lib.nn.SiLU(), lambda lib: lib.nn.SiLU(inplace=True),
        lambda lib: lib.nn.Sigmoid(), lambda lib: lib.nn.Tanh(), lambda lib: lib.nn.Identity(),
        lambda lib: lib.nn.Softmax(), lambda lib: lib.nn.Softmax(dim=1),
        lambda lib: lib.nn.LogSoftmax(dim=0),
        lambda lib: lib.nn.Dropout(), lambda lib: lib.nn.Dropout(0.1, inplace=True),
        lambda lib: lib.nn.Flatten(), lambda lib: lib.nn.Flatten(0, 2),
        lambda lib: lib.nn.Embedding(10, 3),
        lambda lib: lib.nn.LayerNorm(4), lambda lib: lib.nn.LayerNorm([2, 3], 1e-3, False),
        lambda lib: lib.nn.BatchNorm1d(4),
        lambda lib: lib.nn.BatchNorm1d(4, momentum=None, affine=False,
                                       track_running_stats=False),
        lambda lib: lib.nn.Linear(3, 5), lambda lib: lib.nn.Linear(3, 5, bias=False),
    ]
    for make in makers:
        assert repr(make(gputensor)) == repr(make(torch))


# ---- containers ---------------------------------------------------------------------------------
def _names(module):
    return [n for n, _ in module.named_children()], [n for n, _ in module.named_parameters()]


def _sequential_ops(lib):
    nn = lib.nn
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 4), nn.Tanh())
    record = [len(seq), type(seq[0]).__name__, type(seq[-1]).__name__, _names(seq)]
    part = seq[1:3]
    record += [type(part).__name__, _names(part), repr(part), repr(seq[::2])]
    seq.append(nn.Sigmoid())
    seq.insert(1, nn.Identity())
    seq.insert(-1, nn.ELU())
    seq[0] = nn.Linear(2, 3, bias=False)
    record += [repr(seq), [type(m).__name__ for m in seq]]
    del seq[1]
    popped = seq.pop(0)
    del seq[1:3]
    record += [repr(seq), type(popped).__name__, _names(seq)]
    seq.extend([nn.ReLU(), nn.ReLU()])
    record += [repr(seq + nn.Sequential(nn.SiLU())), repr(seq * 2), len(2 * seq)]
    seq += nn.Sequential(nn.GELU())
    tripled = nn.Sequential(nn.ReLU(), nn.Tanh())
    same = tripled
    tripled *= 3
    record += [repr(tripled), same is tripled]
    named = nn.Sequential(OrderedDict([("enc", nn.Linear(1, 2)), ("act", nn.ReLU())]))
    record += [repr(seq), repr(named), _names(named), repr(named[1:]), type(named.act).__name__]
    return record


def test_sequential_operations_match_torch():
    ours = [str(r).replace("gputensor", "torch") for r in _sequential_ops(gputensor)]
    assert ours == [str(r) for r in _sequential_ops(torch)]


def _module_list_ops(lib):
    nn = lib.nn
    ml = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    ml.append(nn.ReLU())
    ml.extend([nn.Tanh(), nn.Tanh()])
    ml.insert(1, nn.Sigmoid())
    record = [len(ml), repr(ml), type(ml[-1]).__name__, repr(ml[1:4]), _names(ml)]
    ml[0] = nn.Identity()
    del ml[2]
    record += [repr(ml), type(ml.pop(-1)).__name__, [type(m).__name__ for m in ml]]
    ml += [nn.ELU()]
    record += [repr(ml + nn.ModuleList([nn.GELU()])), repr(nn.ModuleList())]
    md = nn.ModuleDict({"b": nn.Linear(1, 1), "a": nn.ReLU()})
    md["c"] = nn.Tanh()
    md.update([("d", nn.SiLU())])
    record += [list(md), list(md.keys()), [type(v).__name__ for v in md.values()],
               len(md), "a" in md, repr(md), _names(md)]
    del md["a"]
    record += [type(md.pop("b")).__name__, list(md.items())[0][0], repr(md)]
    md.clear()
    record.append(len(md))
    return record


def test_module_list_and_dict_match_torch():
    ours = [str(r).replace("gputensor", "torch") for r in _module_list_ops(gputensor)]
    assert ours == [str(r) for r in _module_list_ops(torch)]


@pytest.mark.parametrize("case", [
    lambda lib: lib.nn.Sequential(lib.nn.ReLU())[1],
    lambda lib: lib.nn.Sequential(lib.nn.ReLU())[-2],
    lambda lib: lib.nn.Sequential(lib.nn.ReLU()) + lib.nn.ModuleList(),
    lambda lib: lib.nn.Sequential(lib.nn.ReLU()) * 0,
    lambda lib: lib.nn.Sequential(lib.nn.ReLU()).insert(3, lib.nn.ReLU()),
    lambda lib: lib.nn.Sequential(3),
    lambda lib: lib.nn.ModuleList([lib.nn.ReLU()])[1],
    lambda lib: lib.nn.ModuleList([lib.nn.ReLU()]).extend(3),
    lambda lib: lib.nn.ModuleList([3]),
    lambda lib: lib.nn.ModuleDict({"a": lib.nn.ReLU()})["b"],
    lambda lib: lib.nn.ModuleDict(3),
    lambda lib: lib.nn.ModuleDict([("a", lib.nn.ReLU(), 1)]),
    lambda lib: lib.nn.ModuleDict([3]),
])
def test_container_errors(case):
    check_error(case)


def test_container_parameters_and_state_dict():
    for build in (lambda lib: lib.nn.ModuleList([lib.nn.Linear(2, 2), lib.nn.Linear(2, 1)]),
                  lambda lib: lib.nn.ModuleDict({"x": lib.nn.Linear(2, 2),
                                                 "y": lib.nn.LayerNorm(2)})):
        ours, theirs = build(gputensor), build(torch)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert len(list(ours.parameters())) == len(list(theirs.parameters()))
