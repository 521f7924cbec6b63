"""nn.RNN, nn.LSTM, nn.GRU and their cells against torch with copied weights: outputs, final
states, gradients of the input, the initial states and every parameter; reprs, parameter
names, initialisation and torch's errors. Every comparison runs on each device."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import gputensor
from helpers import assert_on, assert_same, check_error, copy_weights, rand_array

LIBS = (gputensor, torch)


def _flat(result):
    """The tensors of (output, h) or (output, (h, c)) or (h, c), in order."""
    if isinstance(result, (tuple, list)):
        return [t for item in result for t in _flat(item)]
    return [result]


def check_recurrent(make, x_shape, state_shapes=(), device="cpu", train=False, rtol=1e-5,
                    atol=1e-6, grad_fn=False, dtype="float32"):
    """Same weights in both libraries; ``make(lib)`` builds the layer; the call gets the input
    and, when ``state_shapes`` is given, the initial state (a tuple of two for LSTMs)."""
    theirs, ours = make(torch), make(gputensor)
    assert repr(ours).replace("gputensor", "torch") == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    copy_weights(ours, theirs)
    ours.to(device)
    ours.train(train)
    theirs.train(train)
    arrays = [rand_array(x_shape, dtype)] + [rand_array(s, dtype) for s in state_shapes]
    leaves = {torch: [torch.tensor(a, requires_grad=True) for a in arrays],
              gputensor: [gputensor.tensor(a, device=device, requires_grad=True)
                          for a in arrays]}
    results = {}
    for lib in LIBS:
        x, *states = leaves[lib]
        module = theirs if lib is torch else ours
        if not states:
            results[lib] = module(x)
        else:
            results[lib] = module(x, states[0] if len(states) == 1 else tuple(states))
    outs_t, outs_o = _flat(results[torch]), _flat(results[gputensor])
    assert_on(outs_o, device)
    assert_same(outs_o, outs_t, rtol, atol)
    if grad_fn:
        assert [o.grad_fn.name().replace("gputensor", "torch") for o in outs_o] == \
            [t.grad_fn.name() for t in outs_t]
    seeds = [rand_array(tuple(t.shape), dtype) for t in outs_t]
    torch.autograd.backward(outs_t, [torch.tensor(s) for s in seeds])
    gputensor.autograd.backward(outs_o, [gputensor.tensor(s, device=device) for s in seeds])
    for o, t in zip(leaves[gputensor], leaves[torch]):
        assert_on(o.grad, device)
        assert_same(o.grad, t.grad, 1e-4, 1e-5)
    named_t = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert p.grad is not None, name
        assert_on(p.grad, device)
        assert_same(p.grad, named_t[name].grad, 1e-4, 1e-5)


T, B, IN, H = 4, 2, 3, 5


@pytest.mark.parametrize("make, x_shape, state_shapes", [
    (lambda lib: lib.nn.RNN(IN, H), (T, B, IN), ()),
    (lambda lib: lib.nn.RNN(IN, H, nonlinearity="relu"), (T, B, IN), ((1, B, H),)),
    (lambda lib: lib.nn.RNN(IN, H, num_layers=2, bias=False), (T, B, IN), ((2, B, H),)),
    (lambda lib: lib.nn.RNN(IN, H, batch_first=True, bidirectional=True), (B, T, IN), ()),
    (lambda lib: lib.nn.RNN(IN, H, num_layers=2, bidirectional=True), (T, IN), ((4, H),)),
    (lambda lib: lib.nn.LSTM(IN, H), (T, B, IN), ()),
    (lambda lib: lib.nn.LSTM(IN, H, num_layers=2, batch_first=True), (B, T, IN),
     ((2, B, H), (2, B, H))),
    (lambda lib: lib.nn.LSTM(IN, H, bidirectional=True, bias=False), (T, B, IN),
     ((2, B, H), (2, B, H))),
    (lambda lib: lib.nn.LSTM(IN, H, proj_size=2), (T, B, IN), ((1, B, 2), (1, B, H))),
    (lambda lib: lib.nn.LSTM(IN, H, num_layers=2, proj_size=3, bidirectional=True),
     (T, B, IN), ()),
    (lambda lib: lib.nn.LSTM(IN, H, proj_size=2, batch_first=True), (T, IN),
     ((1, 2), (1, H))),
    (lambda lib: lib.nn.LSTM(IN, H, num_layers=2), (T, IN), ()),
    (lambda lib: lib.nn.GRU(IN, H), (T, B, IN), ()),
    (lambda lib: lib.nn.GRU(IN, H, num_layers=3, batch_first=True), (B, T, IN),
     ((3, B, H),)),
    (lambda lib: lib.nn.GRU(IN, H, bidirectional=True, bias=False), (T, B, IN), ((2, B, H),)),
    (lambda lib: lib.nn.GRU(IN, H, batch_first=True), (T, IN), ((1, H),)),
])
def test_layers_match_torch(make, x_shape, state_shapes, device):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: "LSTM with projections is not supported ..."
        check_recurrent(make, x_shape, state_shapes, device)


def test_float64_layer(device):
    check_recurrent(lambda lib: lib.nn.GRU(IN, H, dtype=lib.float64), (T, B, IN), ((1, B, H),),
                    device, dtype="float64")


@pytest.mark.parametrize("train", [False, True])
def test_dropout_between_layers(train, device):
    # in eval mode dropout is off; in training p=1 zeroes the second layer's input, which
    # makes the result deterministic
    p = 1.0 if train else 0.5
    check_recurrent(lambda lib: lib.nn.LSTM(IN, H, num_layers=2, dropout=p), (T, B, IN), (),
                    device, train=train)


@pytest.mark.parametrize("make, x_shape, state_shapes", [
    (lambda lib: lib.nn.RNNCell(IN, H), (B, IN), ()),
    (lambda lib: lib.nn.RNNCell(IN, H, nonlinearity="relu"), (B, IN), ((B, H),)),
    (lambda lib: lib.nn.RNNCell(IN, H, bias=False), (IN,), ((H,),)),
    (lambda lib: lib.nn.LSTMCell(IN, H), (B, IN), ()),
    (lambda lib: lib.nn.LSTMCell(IN, H, bias=False), (B, IN), ((B, H), (B, H))),
    (lambda lib: lib.nn.LSTMCell(IN, H), (IN,), ((H,), (H,))),
    (lambda lib: lib.nn.GRUCell(IN, H), (B, IN), ((B, H),)),
    (lambda lib: lib.nn.GRUCell(IN, H, bias=False), (B, IN), ()),
    (lambda lib: lib.nn.GRUCell(IN, H), (IN,), ()),
])
def test_cells_match_torch(make, x_shape, state_shapes, device):
    check_recurrent(make, x_shape, state_shapes, device, grad_fn=True)


def test_reprs_and_parameters():
    makers = [
        lambda lib: lib.nn.LSTM(10, 20, num_layers=2, batch_first=True),
        lambda lib: lib.nn.LSTM(4, 3, proj_size=2, bidirectional=True, bias=False),
        lambda lib: lib.nn.GRU(4, 3, dropout=0.25, num_layers=2),
        lambda lib: lib.nn.RNN(4, 3, nonlinearity="relu"),
        lambda lib: lib.nn.RNNCell(4, 3, nonlinearity="relu", bias=False),
        lambda lib: lib.nn.LSTMCell(4, 3), lambda lib: lib.nn.GRUCell(4, 3, bias=False),
    ]
    for make in makers:
        ours, theirs = make(gputensor), make(torch)
        assert repr(ours).replace("gputensor", "torch") == repr(theirs)
        shapes = {k: tuple(v.shape) for k, v in ours.state_dict().items()}
        assert shapes == {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
        assert [n for n, _ in ours.named_parameters()] == \
            [n for n, _ in theirs.named_parameters()]
        if hasattr(theirs, "all_weights"):
            assert [[tuple(w.shape) for w in ws] for ws in ours.all_weights] == \
                [[tuple(w.shape) for w in ws] for ws in theirs.all_weights]
            assert ours.all_weights[0][0] is ours.weight_ih_l0
            assert ours.flatten_parameters() is None


@pytest.mark.parametrize("make", [lambda: gputensor.nn.LSTM(6, 40, num_layers=2),
                                  lambda: gputensor.nn.GRUCell(30, 40)])
def test_initialisation_bounds(make):
    bound = 1 / math.sqrt(40)
    module = make()
    values = np.concatenate([p.detach().numpy().ravel() for p in module.parameters()])
    assert np.all(np.abs(values) <= bound)
    assert np.abs(values).max() > 0.95 * bound
    assert abs(values.var() / (bound ** 2 / 3) - 1) < 0.15
    gputensor.manual_seed(7)
    first = [p.tolist() for p in make().parameters()]
    gputensor.manual_seed(7)
    assert [p.tolist() for p in make().parameters()] == first


def test_dropout_warning_with_one_layer():
    messages = []
    for lib in LIBS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.nn.GRU(4, 3, dropout=0.5)
        messages.append([(w.category, str(w.message)) for w in caught])
    assert messages[0] == messages[1] and len(messages[0]) == 1


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.RNN(3, 4, nonlinearity="foo"),
    lambda lib: lib.nn.RNN(3, 4, proj_size=2),
    lambda lib: lib.nn.GRU(3, 4, proj_size=2),
    lambda lib: lib.nn.LSTM(3, 4, proj_size=4),
    lambda lib: lib.nn.LSTM(3, 4, proj_size=-1),
    lambda lib: lib.nn.LSTM(3, 0),
    lambda lib: lib.nn.LSTM(0, 3),
    lambda lib: lib.nn.LSTM(3, 4, num_layers=0),
    lambda lib: lib.nn.LSTM(3, 4, dropout=1.5),
    lambda lib: lib.nn.LSTM(3, 4, dropout=True),
    lambda lib: lib.nn.LSTM(3, 4.0),
    lambda lib: lib.nn.GRU(3, 4, num_layers=1.0),
    lambda lib: lib.nn.GRU(3, 4, bias=1),
    lambda lib: lib.nn.GRU(3, 4, batch_first=None),
])
def test_constructor_errors(make):
    check_error(make)


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.LSTM(10, 20)(lib.randn(2, 3, 5)),
    lambda lib: lib.nn.LSTM(10, 20)(lib.randn(2, 3, 4, 10)),
    lambda lib: lib.nn.GRU(10, 20)(lib.randn(2, 3, 4, 10)),
    lambda lib: lib.nn.RNN(10, 20)(lib.randn(2)),
    lambda lib: lib.nn.GRU(10, 20)(lib.randn(2, 3, 10), lib.randn(2, 3, 20)),
    lambda lib: lib.nn.RNN(10, 20, batch_first=True)(lib.randn(3, 2, 10), lib.randn(1, 2, 20)),
    lambda lib: lib.nn.LSTM(10, 20)(lib.randn(2, 3, 10), (lib.randn(2, 3, 20),
                                                           lib.randn(1, 3, 20))),
    lambda lib: lib.nn.LSTM(10, 20)(lib.randn(2, 3, 10), (lib.randn(1, 3, 20),
                                                           lib.randn(2, 3, 20))),
    lambda lib: lib.nn.LSTM(4, 3, proj_size=2)(lib.randn(2, 3, 4), (lib.randn(1, 3, 3),
                                                                    lib.randn(1, 3, 3))),
    lambda lib: lib.nn.LSTM(10, 20)(lib.randn(2, 10), (lib.randn(1, 3, 20),
                                                       lib.randn(2, 3, 20))),
    lambda lib: lib.nn.LSTM(10, 20)(lib.randn(2, 3, 10), (lib.randn(1, 20), lib.randn(1, 20))),
    lambda lib: lib.nn.GRU(10, 20)(lib.randn(2, 10), lib.randn(1, 3, 20)),
    lambda lib: lib.nn.GRU(10, 20)(lib.randn(2, 3, 10), lib.randn(1, 20)),
    lambda lib: lib.nn.GRU(10, 20)(lib.randn(2, 10), lib.randn(2, 20)),
    lambda lib: lib.nn.LSTM(3, 4)(lib.randn(2, 3, 3, dtype=lib.float64)),
    lambda lib: lib.nn.LSTMCell(4, 3)(lib.randn(2, 5)),
    lambda lib: lib.nn.LSTMCell(4, 3)(lib.randn(2, 2, 4)),
    lambda lib: lib.nn.LSTMCell(4, 3)(lib.randn(2, 4), (lib.randn(3, 3), lib.randn(2, 3))),
    lambda lib: lib.nn.LSTMCell(4, 3)(lib.randn(2, 4), (lib.randn(2, 3),)),
    lambda lib: lib.nn.LSTMCell(4, 3)(lib.randn(4), (lib.randn(2, 3), lib.randn(2, 3))),
    lambda lib: lib.nn.LSTMCell(3, 4)(lib.randn(2, 3), (lib.randn(2, 3, 4), lib.randn(2, 4))),
    lambda lib: lib.nn.GRUCell(4, 3)(lib.randn(2, 5)),
    lambda lib: lib.nn.GRUCell(4, 3)(lib.randn(2, 2, 4)),
    lambda lib: lib.nn.GRUCell(4, 3)(lib.randn(2, 4), lib.randn(3, 3)),
    lambda lib: lib.nn.GRUCell(4, 3)(lib.randn(2, 4), lib.randn(2, 4)),
    lambda lib: lib.nn.RNNCell(3, 4)(lib.randn(2, 3), lib.randn(2, 3, 4)),
    lambda lib: lib.nn.RNNCell(3, 4)(lib.randn(2, 2, 3)),
    lambda lib: lib.nn.RNNCell(4, 3)(lib.randn(2, 4), lib.randn(3, 3)),
    lambda lib: lib.nn.RNNCell(4, 3)(lib.randn(2, 4), lib.randn(2, 4)),
    lambda lib: lib.nn.RNNCell(3, 4, nonlinearity="sigmoid")(lib.randn(2, 3)),
])
def test_forward_errors(call, device):
    check_error(call, device=device)
