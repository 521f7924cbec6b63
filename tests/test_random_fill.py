"""Random fills and samples: shapes, dtypes, in-place identity, statistics (fixed seed, loose
bounds), grad_fn names, gradients and errors compared with torch."""

import numpy as np
import pytest
import torch

import gputensor
from helpers import check_error, grad_fn_names, to_numpy

N = 4000  # draws per statistics check: the bounds below hold by many standard errors

FILLS = {  # name: (call, expected mean, expected std; None: not checked)
    "normal_": (lambda t, **kw: t.normal_(mean=2.0, std=0.5, **kw), 2.0, 0.5),
    "uniform_": (lambda t, **kw: t.uniform_(-1, 3, **kw), 1.0, 4 / 12 ** 0.5),
    "uniform_kw": (lambda t, **kw: t.uniform_(**{"from": 2, "to": 4}, **kw), 3.0,
                   2 / 12 ** 0.5),
    "bernoulli_": (lambda t, **kw: t.bernoulli_(0.25, **kw), 0.25, 0.75 ** 0.5 * 0.5),
    "bernoulli_tensor": (lambda t, **kw: t.bernoulli_(t.new_full(t.shape, 0.75), **kw),
                         0.75, None),
    "exponential_": (lambda t, **kw: t.exponential_(2.0, **kw), 0.5, 0.5),
    "random_to": (lambda t, **kw: t.random_(10, **kw), 4.5, (99 / 12) ** 0.5),
    "random_range": (lambda t, **kw: t.random_(-3, 3, **kw), -0.5, (35 / 12) ** 0.5),
    "geometric_": (lambda t, **kw: t.geometric_(0.5, **kw), 2.0, 2 ** 0.5),
    "log_normal_": (lambda t, **kw: t.log_normal_(0.0, 0.25, **kw), np.exp(0.25 ** 2 / 2),
                    None),
    "cauchy_": (lambda t, **kw: t.cauchy_(1.0, 0.5, **kw), None, None),
}


@pytest.mark.parametrize("name", FILLS)
def test_fill_statistics(name, device):
    fill, mean, std = FILLS[name]
    gputensor.manual_seed(0)
    t = gputensor.zeros(N, dtype=gputensor.float64, device=device)
    view = t[:10]
    assert fill(t) is t
    np.testing.assert_array_equal(to_numpy(view), to_numpy(t)[:10])  # the same storage
    assert t.dtype == gputensor.float64 and t.shape == (N,) and t.device.type == device
    values = to_numpy(t)
    if mean is not None:
        assert abs(values.mean() - mean) < 0.1 * max(1.0, std or 1.0)
    if std is not None:
        assert abs(values.std() - std) < 0.1 * std
    if name == "cauchy_":
        assert abs(np.median(values) - 1.0) < 0.1
    if name.startswith(("random", "geometric", "bernoulli")):
        assert np.all(values == np.round(values))


@pytest.mark.parametrize("name", FILLS)
def test_fill_generator_and_float32(name, device):
    """The same seeded generator gives the same numbers; the dtype is kept."""
    fill = FILLS[name][0]
    draws = []
    for _ in range(2):
        t = gputensor.zeros(2, 3, device=device)
        fill(t, generator=gputensor.Generator().manual_seed(7))
        assert t.dtype == gputensor.float32 and t.shape == (2, 3)
        draws.append(to_numpy(t))
    np.testing.assert_array_equal(draws[0], draws[1])


@pytest.mark.parametrize("name", FILLS)
def test_fill_grad_fn_and_gradient(name, device):
    """On a tensor in the graph: torch's grad_fn name, and a zero gradient to the input."""
    fill = FILLS[name][0]
    outs, leaves = {}, {}
    for lib in (gputensor, torch):
        leaf = lib.ones(2, 3, requires_grad=True,
                        device=device if lib is gputensor else "cpu")
        y = leaf * 2
        outs[lib] = fill(y)
        outs[lib].sum().backward()
        leaves[lib] = leaf
    assert grad_fn_names(outs[gputensor]) == grad_fn_names(outs[torch])
    np.testing.assert_array_equal(to_numpy(leaves[gputensor].grad), to_numpy(leaves[torch].grad))


def test_random_default_ranges(device):
    """random_() draws the integers each dtype holds exactly (the ranges torch uses)."""
    gputensor.manual_seed(1)
    for dt, top in [(gputensor.float32, 2 ** 24), (gputensor.int64, 2 ** 63 - 1),
                    (gputensor.uint8, 255), (gputensor.bool, 1), (gputensor.int8, 127)]:
        values = to_numpy(gputensor.zeros(500, dtype=dt, device=device).random_())
        assert values.min() >= 0 and values.max() <= top
        assert values.max() > top // 2
    t = gputensor.zeros(4, dtype=gputensor.int32, device=device).random_()
    assert t.dtype == gputensor.int32
    grad = gputensor.ones(3, requires_grad=True) * 1
    assert grad_fn_names(grad.random_()) == grad_fn_names((torch.ones(3, requires_grad=True)
                                                            * 1).random_())


def test_integer_fills_keep_dtype(device):
    for name in ("bernoulli_", "random_to", "geometric_"):
        t = gputensor.zeros(50, dtype=gputensor.int64, device=device)
        FILLS[name][0](t)
        assert t.dtype == gputensor.int64


def test_parameters_under_no_grad_and_data(device):
    """GPT-style initialisation: ``weight.data.normal_`` and fills under ``no_grad``."""
    layer = gputensor.nn.Linear(8, 4).to(device)
    layer.weight.data.normal_(mean=0.0, std=0.02)
    with gputensor.no_grad():
        layer.bias.uniform_(-0.5, 0.5)
        layer.bias.bernoulli_(0.5)
    assert layer.weight.requires_grad and layer.weight.grad_fn is None
    assert layer.weight.device.type == device
    assert np.abs(to_numpy(layer.weight)).max() < 0.2
    gputensor.nn.init.normal_(layer.weight, 0.0, 0.02)
    check_error(lambda lib: lib.nn.Parameter(lib.zeros(3)).normal_(), device=device)


ERRORS = {
    "normal_std": lambda lib: lib.zeros(3).normal_(0, -1),
    "normal_int": lambda lib: lib.zeros(3, dtype=lib.long).normal_(),
    "uniform_order": lambda lib: lib.zeros(3).uniform_(2, 1),
    "uniform_int": lambda lib: lib.zeros(3, dtype=lib.long).uniform_(),
    "bernoulli_p": lambda lib: lib.zeros(3).bernoulli_(1.5),
    "exponential_lambda": lambda lib: lib.zeros(3).exponential_(0),
    "exponential_int": lambda lib: lib.zeros(3, dtype=lib.long).exponential_(),
    "random_order": lambda lib: lib.zeros(3).random_(5, 2),
    "random_zero": lambda lib: lib.zeros(3).random_(0),
    "geometric_p": lambda lib: lib.zeros(3).geometric_(1.5),
    "log_normal_std": lambda lib: lib.zeros(3).log_normal_(0, -1),
    "log_normal_int": lambda lib: lib.zeros(3, dtype=lib.long).log_normal_(),
    "cauchy_sigma": lambda lib: lib.zeros(3).cauchy_(0, -1),
    "cauchy_int": lambda lib: lib.zeros(3, dtype=lib.long).cauchy_(),
    "normal_numbers_no_size": lambda lib: lib.normal(0.0, 1.0),
    "normal_negative_std": lambda lib: lib.normal(lib.zeros(3), -1.0),
    "normal_negative_std_tensor": lambda lib: lib.normal(lib.zeros(3), -lib.ones(3)),
    "poisson_negative": lambda lib: lib.poisson(-lib.ones(3)),
    "poisson_int": lambda lib: lib.poisson(lib.ones(3, dtype=lib.long)),
    "bernoulli_range": lambda lib: lib.bernoulli(lib.full((3,), 2.0)),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors(name, device):
    check_error(ERRORS[name], device=device)


def test_fill_error_leaves_tensor_unchanged(device):
    t = gputensor.arange(3.0, device=device)
    with pytest.raises(RuntimeError):
        t.uniform_(2, 1)
    np.testing.assert_array_equal(to_numpy(t), [0.0, 1.0, 2.0])


NORMAL_FORMS = {
    "tensor_mean": lambda lib, m, s: lib.normal(m, 0.5),
    "tensor_std": lambda lib, m, s: lib.normal(1.0, s),
    "both_tensors": lambda lib, m, s: lib.normal(m, s),
    "broadcast": lambda lib, m, s: lib.normal(m[:1], s),
}


@pytest.mark.parametrize("name", NORMAL_FORMS)
def test_normal_forms(name, device):
    outs, leaves = {}, {}
    for lib in (gputensor, torch):
        dev = device if lib is gputensor else "cpu"
        m = lib.full((2, 3), 1.0, device=dev, requires_grad=True)
        s = lib.full((2, 3), 0.5, device=dev, requires_grad=True)
        outs[lib] = NORMAL_FORMS[name](lib, m, s)
        outs[lib].sum().backward()
        leaves[lib] = (m, s)
    ours, theirs = outs[gputensor], outs[torch]
    assert ours.shape == theirs.shape and str(ours.dtype)[-7:] == str(theirs.dtype)[-7:]
    assert ours.device.type == device
    assert grad_fn_names(ours) == grad_fn_names(theirs)
    for o, t in zip(leaves[gputensor], leaves[torch]):
        assert (o.grad is None) == (t.grad is None)
        if t.grad is not None:
            np.testing.assert_array_equal(to_numpy(o.grad), to_numpy(t.grad))


def test_normal_numbers_and_statistics(device):
    gen = gputensor.Generator().manual_seed(3)
    t = gputensor.normal(2.0, 3.0, size=(N,), generator=gen, dtype=gputensor.float64,
                         device=device)
    assert t.shape == (N,) and t.dtype == gputensor.float64 and t.device.type == device
    assert abs(to_numpy(t).mean() - 2.0) < 0.3 and abs(to_numpy(t).std() - 3.0) < 0.3
    again = gputensor.normal(2.0, 3.0, (N,), generator=gputensor.Generator().manual_seed(3),
                             dtype=gputensor.float64, device=device)
    np.testing.assert_array_equal(to_numpy(t), to_numpy(again))
    out = gputensor.empty(5, device=device)
    assert gputensor.normal(gputensor.zeros(5, device=device), 1.0, out=out) is out


def test_poisson_and_bernoulli(device):
    gputensor.manual_seed(5)
    rates = gputensor.full((N,), 3.0, device=device, requires_grad=True)
    counts = gputensor.poisson(rates)
    assert counts.dtype == gputensor.float32 and counts.device.type == device
    values = to_numpy(counts)
    assert np.all(values == np.round(values)) and abs(values.mean() - 3.0) < 0.2
    theirs = torch.poisson(torch.full((3,), 3.0, requires_grad=True))
    assert grad_fn_names(counts) == grad_fn_names(theirs)
    p = gputensor.full((N,), 0.2, device=device, dtype=gputensor.float64, requires_grad=True)
    draws = gputensor.bernoulli(p)
    assert draws.dtype == gputensor.float64 and abs(to_numpy(draws).mean() - 0.2) < 0.05
    assert grad_fn_names(draws) == grad_fn_names(torch.bernoulli(torch.full((2,), 0.2,
                                                                  requires_grad=True)))
    draws.sum().backward()
    np.testing.assert_array_equal(to_numpy(p.grad), np.zeros(N))
    with_p = gputensor.bernoulli(gputensor.zeros(N, device=device), 0.5)
    assert abs(to_numpy(with_p).mean() - 0.5) < 0.05
    assert gputensor.zeros(3, device=device).bernoulli().shape == (3,)
    check_error(lambda lib: lib.bernoulli(lib.ones(3, dtype=lib.long)), device="cpu")
