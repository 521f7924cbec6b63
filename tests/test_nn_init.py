"""nn.init against torch: gains, fans, bounds and spreads, in place under no_grad."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import gputensor
import gputensor.nn
from gputensor.nn import init
from helpers import check_error

SHAPES = [(300, 200), (64, 16, 3, 3)]


@pytest.mark.parametrize("nonlinearity, param", [
    ("linear", None), ("conv2d", None), ("conv_transpose3d", None), ("sigmoid", None),
    ("tanh", None), ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
    ("leaky_relu", 1), ("selu", None),
])
def test_calculate_gain(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(
        nonlinearity, param)


@pytest.mark.parametrize("args", [("softplus", None), ("leaky_relu", True),
                                  ("leaky_relu", "x")])
def test_calculate_gain_errors(args):
    check_error(lambda lib: lib.nn.init.calculate_gain(*args))


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2), (6, 2, 3, 5)])
def test_fans(shape):
    ours = init._calculate_fan_in_and_fan_out(gputensor.zeros(shape))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))


@pytest.mark.parametrize("case", [
    lambda lib: lib.nn.init.xavier_uniform_(lib.zeros(3)),
    lambda lib: lib.nn.init.kaiming_normal_(lib.zeros(3)),
    lambda lib: lib.nn.init.kaiming_uniform_(lib.zeros(3, 2), mode="fan_avg"),
    lambda lib: lib.nn.init.kaiming_uniform_(lib.zeros(3, 2), nonlinearity="softplus"),
])
def test_init_errors(case):
    check_error(case)


def _run_inplace(fn, shape):
    """Apply ``fn`` to a leaf parameter; check in place, no graph, storage kept."""
    p = gputensor.nn.Parameter(gputensor.zeros(shape))
    data, version = p._data, p._version_value
    out = fn(p)
    assert out is p and p._data is data and p.is_leaf and p.grad_fn is None
    assert p.requires_grad and p._version_value > version
    return p.detach().numpy().astype(np.float64)


def _torch_bound(name, shape, **kwargs):
    """The bound torch's formula gives, from torch's own fan and gain helpers."""
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
    if name == "xavier":
        return kwargs.get("gain", 1.0) * math.sqrt(6.0 / (fan_in + fan_out))
    fan = fan_in if kwargs.get("mode", "fan_in") == "fan_in" else fan_out
    gain = torch.nn.init.calculate_gain(kwargs.get("nonlinearity", "leaky_relu"),
                                        kwargs.get("a", 0))
    return gain * math.sqrt(3.0 / fan)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name, fn, kwargs", [
    ("xavier", init.xavier_uniform_, {}),
    ("xavier", init.xavier_uniform_, {"gain": 2.0}),
    ("kaiming", init.kaiming_uniform_, {}),
    ("kaiming", init.kaiming_uniform_, {"a": math.sqrt(5)}),
    ("kaiming", init.kaiming_uniform_, {"mode": "fan_out", "nonlinearity": "relu"}),
])
def test_uniform_schemes_bounds(name, fn, kwargs, shape):
    values = _run_inplace(lambda p: fn(p, **kwargs), shape)
    bound = _torch_bound(name, shape, **kwargs)
    theirs = getattr(torch.nn.init, fn.__name__)(torch.empty(shape), **kwargs)
    assert theirs.abs().max().item() <= bound * (1 + 1e-6)
    assert np.abs(values).max() <= bound * (1 + 1e-6)
    assert np.abs(values).max() > 0.95 * bound
    assert abs(values.std() / (bound / math.sqrt(3)) - 1) < 0.05


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("fn, kwargs", [
    (init.xavier_normal_, {}),
    (init.xavier_normal_, {"gain": 0.5}),
    (init.kaiming_normal_, {}),
    (init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"}),
    (init.normal_, {"mean": 1.5, "std": 0.3}),
])
def test_normal_schemes_spread(fn, kwargs, shape):
    values = _run_inplace(lambda p: fn(p, **kwargs), shape)
    theirs = getattr(torch.nn.init, fn.__name__)(torch.empty(shape), **kwargs).double()
    assert abs(values.std() / theirs.std().item() - 1) < 0.05
    assert abs(values.mean() - theirs.mean().item()) < 0.05 * theirs.std().item() + 1e-3


def test_uniform_and_constants():
    values = _run_inplace(lambda p: init.uniform_(p, -0.5, 2.0), (100, 100))
    assert values.min() >= -0.5 and values.max() < 2.0
    assert abs(values.mean() - 0.75) < 0.03
    for fn, args in ((init.constant_, (0.25,)), (init.ones_, ()), (init.zeros_, ())):
        ours = _run_inplace(lambda p, fn=fn, args=args: fn(p, *args), (3, 4))
        theirs = getattr(torch.nn.init, fn.__name__)(torch.empty(3, 4), *args)
        assert ours.tolist() == theirs.double().tolist()
    eye = gputensor.zeros(3, 4)
    assert init.eye_(eye).tolist() == torch.nn.init.eye_(torch.empty(3, 4)).tolist()


def test_dtypes_are_kept():
    for dtype in (gputensor.float64, gputensor.float16):
        t = gputensor.zeros(10, 10, dtype=dtype)
        init.kaiming_uniform_(t)
        assert t.dtype is dtype


def test_global_generator_and_explicit_generator():
    gputensor.manual_seed(11)
    first = init.normal_(gputensor.zeros(20)).tolist()
    gputensor.manual_seed(11)
    assert init.normal_(gputensor.zeros(20)).tolist() == first
    gen = gputensor.Generator().manual_seed(4)
    a = init.uniform_(gputensor.zeros(20), generator=gen).tolist()
    gen.manual_seed(4)
    assert init.uniform_(gputensor.zeros(20), generator=gen).tolist() == a


def test_zero_element_tensor_warns():
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        init.kaiming_uniform_(gputensor.zeros(0, 3))
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        torch.nn.init.kaiming_uniform_(torch.zeros(0, 3))
