"""The rest of nn.init against torch: trunc_normal_, dirac_, orthogonal_, sparse_, eye_, the
deprecated spellings, on every device; deterministic fills exactly, random ones by their
bounds and statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import gputensor
from gputensor.nn import init
from helpers import LIBS, assert_same, check_error, lib_device, to_numpy


def _fill_both(device, fn, shape, dtype="float32"):
    """``fn(lib, t)`` on an empty parameter of each library; checks it fills in place."""
    out = {}
    for lib in LIBS:
        p = lib.nn.Parameter(lib.empty(shape, dtype=getattr(lib, dtype),
                                       device=lib_device(lib, device)))
        result = fn(lib, p)
        assert result is p and p.is_leaf and p.requires_grad and p.grad_fn is None
        out[lib] = p
    assert str(out[gputensor].device).startswith(device)
    return out[gputensor], out[torch]


def test_every_torch_init_function_is_here():
    theirs = {n for n in dir(torch.nn.init) if not n.startswith("_")
              and callable(getattr(torch.nn.init, n))
              and getattr(getattr(torch.nn.init, n), "__module__", "") == "torch.nn.init"}
    assert theirs <= set(init.__all__)
    private = {n for n in dir(torch.nn.init) if n.startswith(("_calculate", "_no_grad"))}
    assert private and all(callable(getattr(init, name)) for name in private)


def test_private_no_grad_helpers():
    ones = init._no_grad_fill_(gputensor.empty(2, 2, requires_grad=True), 1.0)
    assert ones.tolist() == [[1.0, 1.0], [1.0, 1.0]] and ones.is_leaf
    assert init._no_grad_zero_(gputensor.ones(3)).tolist() == [0.0, 0.0, 0.0]
    values = init._no_grad_trunc_normal_(gputensor.empty(500), 0.0, 1.0, -0.5, 0.5).numpy()
    assert values.min() >= -0.5 and values.max() <= 0.5
    values = init._no_grad_uniform_(gputensor.empty(500), 2.0, 3.0).numpy()
    assert values.min() >= 2.0 and values.max() < 3.0
    values = init._no_grad_normal_(gputensor.empty(5000), 4.0, 0.5).numpy()
    assert abs(values.mean() - 4.0) < 0.05 and abs(values.std() - 0.5) < 0.05


@pytest.mark.parametrize("shape, groups", [((4, 4, 3), 1), ((6, 3, 3, 2), 2), ((2, 5, 3, 3), 1),
                                           ((6, 2, 1, 3, 3), 3), ((4, 2, 2), 4)])
def test_dirac(shape, groups, device):
    ours, theirs = _fill_both(device, lambda lib, p: lib.nn.init.dirac_(p, groups), shape)
    assert_same(ours, theirs)


@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (5, 2)])
def test_eye(shape, device):
    ours, theirs = _fill_both(device, lambda lib, p: lib.nn.init.eye_(p), shape)
    assert_same(ours, theirs)


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 2, 3), (6, 6)])
@pytest.mark.parametrize("gain", [1, 2.5])
def test_orthogonal(shape, gain, device):
    ours, theirs = _fill_both(device, lambda lib, p: lib.nn.init.orthogonal_(p, gain), shape)
    for t in (ours, theirs):
        flat = to_numpy(t).astype(np.float64).reshape(shape[0], -1)
        gram = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
        np.testing.assert_allclose(gram, gain ** 2 * np.eye(len(gram)), atol=1e-5)
    assert not np.allclose(to_numpy(ours), to_numpy(theirs))  # random, not a fixed matrix


def test_orthogonal_of_an_empty_tensor_is_a_no_op():
    assert init.orthogonal_(gputensor.zeros(0, 3)).shape == (0, 3)


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (0.5, 2.0, -1.0, 1.5),
                                             (0.0, 1.0, 2.0, 3.0), (1.0, 0.1, 0.95, 1.2)])
def test_trunc_normal_bounds_and_statistics(mean, std, a, b, device):
    ours, theirs = _fill_both(
        device, lambda lib, p: lib.nn.init.trunc_normal_(p, mean, std, a, b), (200, 100))
    values, reference = to_numpy(ours).astype(np.float64), to_numpy(theirs).astype(np.float64)
    assert values.min() >= a and values.max() <= b
    assert abs(values.mean() - reference.mean()) < 0.03 * (b - a)
    assert abs(values.std() / reference.std() - 1) < 0.05


def test_trunc_normal_half_stays_within_the_bounds_it_can_hold():
    t = init.trunc_normal_(gputensor.empty(100, 100, dtype=gputensor.float16), 0, 1, -0.1, 0.1)
    assert t.dtype is gputensor.float16
    assert t.min().item() >= np.float16(-0.1) and t.max().item() <= np.float16(0.1)


def test_trunc_normal_warns_far_from_its_bounds():
    for lib in LIBS:
        with pytest.warns(UserWarning, match="mean is more than 2 std from"):
            lib.nn.init.trunc_normal_(lib.empty(3), mean=5.0, a=-1.0, b=1.0)


@pytest.mark.parametrize("fn", [
    lambda lib, t, g: lib.nn.init.trunc_normal_(t, generator=g),
    lambda lib, t, g: lib.nn.init.orthogonal_(t, generator=g),
    lambda lib, t, g: lib.nn.init.sparse_(t, 0.3, generator=g),
    lambda lib, t, g: lib.nn.init.uniform_(t, generator=g),
    lambda lib, t, g: lib.nn.init.xavier_normal_(t, generator=g),
    lambda lib, t, g: lib.nn.init.kaiming_uniform_(t, generator=g),
])
def test_a_generator_repeats_its_values(fn):
    # sparse_ draws its zeros' rows from the global generator (as torch): seed that too
    gen = gputensor.Generator().manual_seed(5)
    gputensor.manual_seed(0)
    first = fn(gputensor, gputensor.empty(6, 4), gen).tolist()
    gen.manual_seed(5)
    gputensor.manual_seed(0)
    assert fn(gputensor, gputensor.empty(6, 4), gen).tolist() == first
    assert fn(gputensor, gputensor.empty(6, 4), gen).tolist() != first


@pytest.mark.parametrize("rows, cols, sparsity", [(10, 40, 0.3), (7, 5, 0.1), (4, 3, 0.0)])
def test_sparse(rows, cols, sparsity, device):
    ours, theirs = _fill_both(
        device, lambda lib, p: lib.nn.init.sparse_(p, sparsity, std=0.5), (rows, cols))
    for t in (ours, theirs):
        zeros = (to_numpy(t) == 0).sum(axis=0)
        assert zeros.tolist() == [math.ceil(sparsity * rows)] * cols
    kept = to_numpy(ours)[to_numpy(ours) != 0]
    if kept.size >= 200:  # enough draws for their spread to be near std
        assert abs(kept.std() / 0.5 - 1) < 0.2


@pytest.mark.parametrize("case", [
    lambda lib: lib.nn.init.orthogonal_(lib.empty(3)),
    lambda lib: lib.nn.init.dirac_(lib.empty(3, 3)),
    lambda lib: lib.nn.init.dirac_(lib.empty(3, 3, 3, 3, 3, 3)),
    lambda lib: lib.nn.init.dirac_(lib.empty(4, 3, 3), groups=3),
    lambda lib: lib.nn.init.sparse_(lib.empty(3, 3, 3), 0.5),
    lambda lib: lib.nn.init.eye_(lib.empty(3, 3, 3)),
    lambda lib: lib.nn.init.xavier_normal_(lib.empty(3)),
    lambda lib: lib.nn.init.kaiming_normal_(lib.empty(3, 2), mode="fan"),
    lambda lib: lib.nn.init.calculate_gain("gelu"),
    lambda lib: lib.nn.init.calculate_gain("leaky_relu", "0.1"),
])
def test_errors(case, device):
    check_error(case, device=device)


@pytest.mark.parametrize("old, args", [
    ("uniform", ()), ("normal", ()), ("constant", (0.5,)), ("eye", ()), ("dirac", ()),
    ("xavier_uniform", ()), ("xavier_normal", ()), ("kaiming_uniform", ()),
    ("kaiming_normal", ()), ("orthogonal", ()), ("sparse", (0.5,)),
])
def test_deprecated_spellings_warn_and_fill(old, args):
    shape = (3, 3, 3) if old == "dirac" else (4, 3)
    messages = []
    for lib in LIBS:
        t = lib.zeros(shape)
        with pytest.warns(FutureWarning) as record:
            out = getattr(lib.nn.init, old)(t, *args)
        assert out is t
        messages.append(str(record[0].message))
    assert messages[0] == messages[1] == (
        f"`nn.init.{old}` is now deprecated in favor of `nn.init.{old}_`.")


@pytest.mark.parametrize("nonlinearity", ["linear", "conv1d", "conv2d", "conv3d",
                                          "conv_transpose1d", "conv_transpose2d",
                                          "conv_transpose3d", "sigmoid", "tanh", "relu", "selu"])
def test_every_gain(nonlinearity):
    assert init.calculate_gain(nonlinearity) == torch.nn.init.calculate_gain(nonlinearity)
    assert init.calculate_gain("leaky_relu", 0.3) == torch.nn.init.calculate_gain(
        "leaky_relu", 0.3)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "FAN_OUT"])
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2, 2)])
def test_correct_fan(mode, shape):
    assert init._calculate_correct_fan(gputensor.empty(shape), mode) == \
        torch.nn.init._calculate_correct_fan(torch.empty(shape), mode)
