"""Normalisation and dropout layers of a convolutional network compared with torch: values,
gradients, grad_fn names, reprs, state_dict keys, running statistics, train/eval behaviour
and errors, on the CPU and on (simulated) CUDA; dropout masks checked by their properties."""

import warnings

import numpy as np
import pytest
import torch

import gputensor
from helpers import assert_same, check_error, check_op, rand_array, to_numpy


def compare_module(make, arrays, device, steps=2, modes=("train", "eval")):
    """The same module in both libraries (torch's state copied), run ``steps`` times per mode:
    outputs, grad_fn names, input and parameter gradients, and every buffer equal."""
    theirs = make(torch)
    ours = make(gputensor).to(device)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: gputensor.tensor(v.detach().numpy(), device=device)
                          for k, v in theirs.state_dict().items()})
    for mode in modes:
        ours.train(mode == "train")
        theirs.train(mode == "train")
        for step in range(steps):
            array = arrays[step % len(arrays)]
            x_ours = gputensor.tensor(array, device=device, requires_grad=True)
            x_theirs = torch.tensor(array, requires_grad=True)
            out_ours, out_theirs = ours(x_ours), theirs(x_theirs)
            assert_same(out_ours, out_theirs, rtol=1e-4, atol=1e-5)
            assert out_ours.grad_fn.name() == out_theirs.grad_fn.name()
            seed = rand_array(tuple(out_theirs.shape))
            out_ours.backward(gputensor.tensor(seed, device=device))
            out_theirs.backward(torch.tensor(seed))
            assert_same(x_ours.grad, x_theirs.grad, rtol=1e-4, atol=1e-4)
            for (name, p_ours), (_, p_theirs) in zip(ours.named_parameters(),
                                                     theirs.named_parameters()):
                assert_same(p_ours.grad, p_theirs.grad, rtol=1e-4, atol=1e-4), name
                p_ours.grad = p_theirs.grad = None
            for (name, b_ours), (_, b_theirs) in zip(ours.named_buffers(),
                                                     theirs.named_buffers()):
                assert b_ours.device.type == device
                assert_same(b_ours, b_theirs, rtol=1e-5, atol=1e-6), name


BATCH_NORMS = {
    "2d": (lambda lib: lib.nn.BatchNorm2d(3), (4, 3, 2, 2)),
    "2d_momentum_none": (lambda lib: lib.nn.BatchNorm2d(3, momentum=None), (2, 3, 2, 3)),
    "2d_no_affine": (lambda lib: lib.nn.BatchNorm2d(3, affine=False, eps=1e-3), (2, 3, 2, 2)),
    "2d_untracked": (lambda lib: lib.nn.BatchNorm2d(3, track_running_stats=False),
                     (2, 3, 2, 2)),
    "2d_no_bias": (lambda lib: lib.nn.BatchNorm2d(3, bias=False, momentum=0.3), (2, 3, 2, 2)),
    "3d": (lambda lib: lib.nn.BatchNorm3d(2), (2, 2, 2, 2, 2)),
    "1d": (lambda lib: lib.nn.BatchNorm1d(3), (4, 3)),
    "instance1d": (lambda lib: lib.nn.InstanceNorm1d(3), (2, 3, 5)),
    "instance1d_affine_tracked": (
        lambda lib: lib.nn.InstanceNorm1d(3, affine=True, track_running_stats=True), (2, 3, 5)),
    "instance1d_unbatched": (lambda lib: lib.nn.InstanceNorm1d(3, affine=True), (3, 5)),
    "instance2d": (lambda lib: lib.nn.InstanceNorm2d(3, affine=True), (2, 3, 2, 3)),
    "instance2d_tracked": (
        lambda lib: lib.nn.InstanceNorm2d(3, momentum=0.2, track_running_stats=True),
        (2, 3, 2, 2)),
    "instance3d": (lambda lib: lib.nn.InstanceNorm3d(2, affine=True), (2, 2, 2, 2, 2)),
    "group": (lambda lib: lib.nn.GroupNorm(2, 4), (2, 4, 2, 3)),
    "group_one": (lambda lib: lib.nn.GroupNorm(1, 4, eps=1e-3), (2, 4, 3)),
    "group_no_affine": (lambda lib: lib.nn.GroupNorm(4, 4, affine=False), (3, 4, 2, 2)),
    "group_no_bias": (lambda lib: lib.nn.GroupNorm(2, 4, bias=False), (2, 4, 5)),
    "local_response": (lambda lib: lib.nn.LocalResponseNorm(2), (2, 5, 3)),
    "local_response_args": (lambda lib: lib.nn.LocalResponseNorm(3, 0.5, 0.5, 2.0),
                            (2, 4, 2, 2)),
    "local_response_wide": (lambda lib: lib.nn.LocalResponseNorm(7, 0.1), (1, 3, 2, 2, 2)),
}


@pytest.mark.parametrize("name", sorted(BATCH_NORMS))
def test_norm_module(name, device):
    make, shape = BATCH_NORMS[name]
    arrays = [rand_array(shape, low=-3, high=1), rand_array(shape, low=0, high=4)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning expected where torch gives none
        compare_module(make, arrays, device, steps=3)


def test_affine_parameters_learn(device):
    """A trained batch-norm layer's non-default weight and bias are used as torch uses them."""
    def make(lib):
        layer = lib.nn.BatchNorm2d(3)
        with lib.no_grad():
            layer.weight.copy_(lib.tensor([0.5, 2.0, -1.0]))
            layer.bias.copy_(lib.tensor([0.1, -0.2, 0.3]))
        return layer
    compare_module(make, [rand_array((2, 3, 2, 2))], device)


FUNCTIONAL = {  # fn(lib, x, *params): the functional forms, values and gradients
    "batch_norm_4d_train": lambda lib, x, w, b: lib.nn.functional.batch_norm(
        x, None, None, w, b, training=True),
    "batch_norm_5d_eval": lambda lib, x, w, b: lib.nn.functional.batch_norm(
        x, lib.zeros(3) + 0.5, lib.ones(3) * 2, w, b),
    "group_norm": lambda lib, x, w, b: lib.nn.functional.group_norm(x, 3, w, b),
    "group_norm_torch": lambda lib, x, w, b: lib.group_norm(x, 1, w, b, 1e-3),
    "instance_norm": lambda lib, x, w, b: lib.nn.functional.instance_norm(x, weight=w, bias=b),
    "instance_norm_eval": lambda lib, x, w, b: lib.nn.functional.instance_norm(
        x, lib.zeros(3) + 0.5, lib.ones(3) * 2, w, b, use_input_stats=False),
    "local_response_norm": lambda lib, x, w, b: lib.nn.functional.local_response_norm(x, 2),
    "instance_norm_torch": lambda lib, x, w, b: lib.instance_norm(x, w, b, None, None, True,
                                                                  0.1, 1e-5, False),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONAL))
def test_functional_norm(name, device):
    shape = (2, 3, 2, 2, 2) if "5d" in name else (2, 3, 2, 3)
    check_op(FUNCTIONAL[name], rand_array(shape), rand_array((3,)), rand_array((3,)),
             device=device, rtol=1e-4, atol=1e-5)


def test_instance_norm_updates_running_stats(device):
    x = rand_array((3, 2, 4))
    stats = {}
    for lib in (gputensor, torch):
        dev = device if lib is gputensor else "cpu"
        mean = lib.tensor([0.5, -0.5], device=dev)
        var = lib.tensor([2.0, 3.0], device=dev)
        lib.nn.functional.instance_norm(lib.tensor(x, device=dev), mean, var, momentum=0.3)
        stats[lib] = (mean, var)
    assert_same(stats[gputensor], stats[torch])


NORM_ERRORS = {
    "bn2d_3d_input": lambda lib: lib.nn.BatchNorm2d(3)(lib.ones(2, 3, 4)),
    "bn3d_4d_input": lambda lib: lib.nn.BatchNorm3d(3)(lib.ones(2, 3, 4, 4)),
    "bn2d_one_value": lambda lib: lib.nn.BatchNorm2d(3)(lib.ones(1, 3, 1, 1)),
    "bn2d_channels": lambda lib: lib.nn.BatchNorm2d(3)(lib.ones(2, 4, 2, 2)),
    "instance2d_rank": lambda lib: lib.nn.InstanceNorm2d(3)(lib.ones(2, 3)),
    "instance1d_rank": lambda lib: lib.nn.InstanceNorm1d(3)(lib.ones(2, 3, 4, 5)),
    "instance_affine_channels": lambda lib: lib.nn.InstanceNorm1d(4, affine=True)(
        lib.ones(2, 3, 5)),
    "instance_spatial": lambda lib: lib.nn.functional.instance_norm(lib.ones(2, 3, 1)),
    "group_divisible_module": lambda lib: lib.nn.GroupNorm(3, 4),
    "group_divisible": lambda lib: lib.nn.functional.group_norm(lib.ones(2, 4, 3), 3),
    "group_weight": lambda lib: lib.nn.functional.group_norm(lib.ones(2, 4, 3), 2,
                                                             lib.ones(3)),
    "group_rank": lambda lib: lib.nn.functional.group_norm(lib.ones(4), 2),
    "group_int": lambda lib: lib.nn.functional.group_norm(lib.ones(2, 4, 3).long(), 2),
    "local_response_rank": lambda lib: lib.nn.functional.local_response_norm(lib.ones(2, 3), 2),
}


@pytest.mark.parametrize("name", sorted(NORM_ERRORS))
def test_norm_errors(name, device):
    check_error(NORM_ERRORS[name], device=device)


def test_instance_norm_channel_warning():
    for lib in (gputensor, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.nn.InstanceNorm1d(4)(lib.ones(2, 3, 5))
        assert [str(w.message) for w in caught] == [
            "input's size at dim=1 does not match num_features. You can silence this warning by "
            "not passing in num_features, which is not used because affine=False"]


@pytest.mark.parametrize("shape,error", [((2, 3, 4), ValueError), ((2, 4, 2, 2), RuntimeError),
                                         ((1, 3, 1, 1), ValueError)])
def test_batch_norm_error_changes_nothing(shape, error, device):
    layer = gputensor.nn.BatchNorm2d(3, device=device)
    with pytest.raises(error):
        layer(gputensor.ones(*shape, device=device))
    assert int(layer.num_batches_tracked) == 0
    assert layer.running_mean.tolist() == [0.0, 0.0, 0.0]
    assert layer.running_var.tolist() == [1.0, 1.0, 1.0]


# ---- dropout: masks are random, so their properties are checked ------------------------------
def _channels_all_or_none(out, x, scale):
    """Every (sample, channel) slice is either all zero or the input times ``scale``."""
    o, i = to_numpy(out), to_numpy(x)
    flat_o = o.reshape(o.shape[0], o.shape[1], -1)
    flat_i = i.reshape(i.shape[0], i.shape[1], -1)
    kept = np.all(np.isclose(flat_o, flat_i * scale, rtol=1e-6), axis=2)
    dropped = np.all(flat_o == 0, axis=2)
    assert np.all(kept | dropped)
    return kept


@pytest.mark.parametrize("name,shape", [("dropout1d", (40, 25, 3)), ("dropout2d", (40, 25, 2, 2)),
                                         ("dropout3d", (40, 25, 1, 2, 2))])
def test_channel_dropout(name, shape, device):
    fn = getattr(gputensor.nn.functional, name)
    x = gputensor.tensor(rand_array(shape, low=0.5, high=1.5), device=device,
                         requires_grad=True)
    out = fn(x, 0.3)
    assert out.device.type == device and out.grad_fn.name() == "MulBackward0"
    kept = _channels_all_or_none(out, x, 1 / 0.7)
    # 1000 channels kept with probability 0.7: 3.6 standard deviations either side is 0.65..0.75
    assert 0.65 < kept.mean() < 0.75
    out.sum().backward()
    grad = to_numpy(x.grad).reshape(shape[0], shape[1], -1)
    expected = np.broadcast_to(np.where(kept[..., None], 1 / 0.7, 0.0), grad.shape)
    np.testing.assert_allclose(grad, expected, rtol=1e-6)


@pytest.mark.parametrize("cls,shape", [("Dropout1d", (2, 3, 4)), ("Dropout1d", (3, 4)),
                                       ("Dropout2d", (2, 3, 2, 2)), ("Dropout3d", (3, 2, 2, 2)),
                                       ("AlphaDropout", (2, 3)),
                                       ("FeatureAlphaDropout", (2, 3, 2))])
def test_dropout_modules(cls, shape, device):
    ours, theirs = getattr(gputensor.nn, cls)(0.2), getattr(torch.nn, cls)(0.2)
    assert repr(ours) == repr(theirs)
    x = gputensor.tensor(rand_array(shape), device=device)
    out = ours(x)
    assert out.shape == x.shape
    ours.eval()
    assert np.array_equal(to_numpy(ours(x)), to_numpy(x))  # identity in eval
    assert repr(getattr(gputensor.nn, cls)(0.4, True)) == repr(getattr(torch.nn, cls)(0.4, True))


def test_unbatched_dropout1d_drops_rows(device):
    x = gputensor.tensor(rand_array((200, 3), low=1, high=2), device=device)
    out = gputensor.nn.functional.dropout1d(x, 0.5)
    kept = _channels_all_or_none(out[None], x[None], 2.0)[0]
    assert 0.35 < kept.mean() < 0.65  # 200 rows at 0.5: 4.2 standard deviations


def test_dropout_inplace(device):
    x = gputensor.tensor(rand_array((30, 20, 2), low=1, high=2), device=device)
    original = x.clone()
    out = gputensor.nn.functional.dropout1d(x, 0.5, inplace=True)
    assert out is x
    kept = _channels_all_or_none(x, original, 2.0)
    assert 0.4 < kept.mean() < 0.6


def test_alpha_dropout_statistics(device):
    """selu's fixed point: zero mean and unit variance survive alpha dropout."""
    rng = np.random.default_rng(5)
    x = gputensor.tensor(rng.standard_normal((200, 250)).astype(np.float32), device=device,
                         requires_grad=True)
    out = gputensor.nn.functional.alpha_dropout(x, 0.2, training=True)
    assert out.grad_fn.name() == "AddBackward0"
    values = to_numpy(out)
    # 50000 values: the sample mean's deviation is about 0.0045, the variance's about 0.007
    assert abs(values.mean()) < 0.03 and abs(values.var() - 1) < 0.05
    a = 1 / np.sqrt((1.7580993408473766 ** 2 * 0.2 + 1) * 0.8)
    dropped = np.isclose(values, -1.7580993408473766 * a * 0.8, atol=1e-6)
    assert 0.18 < dropped.mean() < 0.22
    out.sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), np.where(dropped, 0.0, a), rtol=1e-5)


@pytest.mark.parametrize("name", ["alpha_dropout_", "feature_alpha_dropout_"])
def test_alpha_dropout_in_place(name, device):
    x = gputensor.tensor(rand_array((40, 30, 2), low=3, high=4), device=device)
    assert getattr(gputensor, name)(x, 0.5, False) is x
    assert getattr(gputensor, name)(x, 0.5, True) is x
    values = to_numpy(x)
    a = 1 / np.sqrt((1.7580993408473766 ** 2 * 0.5 + 1) * 0.5)
    dropped = np.isclose(values, -1.7580993408473766 * a * 0.5, atol=1e-6)
    assert 0.4 < dropped.mean() < 0.6 and np.all(values[~dropped] > 0)


def test_feature_alpha_dropout_channels(device):
    x = gputensor.tensor(rand_array((50, 40, 3)), device=device)
    out = to_numpy(gputensor.feature_alpha_dropout(x, 0.5, True))
    a = 1 / np.sqrt((1.7580993408473766 ** 2 * 0.5 + 1) * 0.5)
    dropped = np.all(np.isclose(out, -1.7580993408473766 * a * 0.5, atol=1e-6), axis=2)
    assert 0.4 < dropped.mean() < 0.6


@pytest.mark.parametrize("name", ["dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
                                  "feature_alpha_dropout"])
def test_dropout_identity_and_p_edges(name, device):
    fn = getattr(gputensor.nn.functional, name)
    rank = {"dropout1d": 3, "dropout2d": 4}.get(name, 5)
    x = gputensor.tensor(rand_array((2, 3, 2, 2, 2)[:rank]), device=device)
    assert fn(x, 0.5, training=False) is x
    assert fn(x, 0.0, training=True) is x
    zero = fn(x, 1.0, training=True)
    if "alpha" not in name:
        assert not np.any(to_numpy(zero))


DROPOUT_ERRORS = {
    "dropout1d_rank": lambda lib: lib.nn.functional.dropout1d(lib.ones(2, 3, 4, 5)),
    "dropout2d_p": lambda lib: lib.nn.functional.dropout2d(lib.ones(2, 3, 4), 1.5),
    "alpha_p": lambda lib: lib.nn.functional.alpha_dropout(lib.ones(3), -0.5),
    "module_p": lambda lib: lib.nn.Dropout2d(2),
    "feature_rank": lambda lib: lib.feature_alpha_dropout(lib.ones(3), 0.5, True),
    "int_input": lambda lib: lib.nn.functional.dropout2d(lib.ones(2, 3, 4, 4).long()),
}


@pytest.mark.parametrize("name", sorted(DROPOUT_ERRORS))
def test_dropout_errors(name, device):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_error(DROPOUT_ERRORS[name], device=device)


@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 4)])
def test_dropout2d_warnings(shape):
    messages = {}
    for lib in (gputensor, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.nn.functional.dropout2d(lib.ones(*shape))
        messages[lib] = [str(w.message) for w in caught]
    assert messages[gputensor] == messages[torch] and messages[torch]
