"""Module.state_dict and load_state_dict against torch: keys, storage, errors, atomicity."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch

import gputensor
import gputensor.nn
from helpers import LIBS, assert_same, check_error, copy_weights, make_net, rand_array, torch_text


# ---- state_dict / load_state_dict -----------------------------------------------------------
def test_state_dict_keys_order_values_and_storage():
    theirs, ours = make_net(torch), make_net(gputensor)
    copy_weights(ours, theirs)
    sd_o, sd_t = ours.state_dict(), theirs.state_dict()
    assert isinstance(sd_o, OrderedDict)
    assert list(sd_o) == list(sd_t)
    assert dict(sd_o._metadata) == dict(sd_t._metadata)
    for key in sd_t:
        assert_same(sd_o[key], sd_t[key])
        assert not sd_o[key].requires_grad and sd_o[key].grad_fn is None
    with gputensor.no_grad():
        ours.first.fc.weight.add_(1)  # the state dict shares storage with the parameters
    assert sd_o["first.fc.weight"].tolist() == ours.first.fc.weight.tolist()
    kept = ours.state_dict(keep_vars=True)
    assert kept["bias"] is ours.bias
    prefixed = ours.state_dict(prefix="net.")
    assert list(prefixed) == ["net." + k for k in sd_t]
    bn_o, bn_t = gputensor.nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    assert list(bn_o.state_dict()) == list(bn_t.state_dict())
    assert dict(bn_o.state_dict()._metadata) == dict(bn_t.state_dict()._metadata)
    assert_same(bn_o.state_dict()["num_batches_tracked"], bn_t.state_dict()["num_batches_tracked"])


def test_load_state_dict_copies_in_place():
    theirs, ours = make_net(torch), make_net(gputensor)
    params = {n: (p, p._data) for n, p in ours.named_parameters()}
    result = ours.load_state_dict({k: gputensor.tensor(v.numpy())
                                   for k, v in theirs.state_dict().items()})
    assert repr(result) == "<All keys matched successfully>"
    assert result.missing_keys == [] and result.unexpected_keys == []
    for name, p in ours.named_parameters():
        assert p is params[name][0] and p._data is params[name][1], name
        assert p.requires_grad and p.is_leaf
    x = rand_array((2, 3))
    assert_same(ours(gputensor.tensor(x)), theirs(torch.tensor(x)))
    # float64 values are cast into the float32 parameters
    ours.load_state_dict({k: v.double() if v.is_floating_point() else v
                          for k, v in ours.state_dict().items()})
    assert ours.bias.dtype is gputensor.float32
    ours.load_state_dict(ours.state_dict())  # loading a module's own state is a no-op


def test_load_state_dict_assign():
    lin = gputensor.nn.Linear(2, 2)
    new_w = gputensor.ones(2, 2)
    lin.load_state_dict({"weight": new_w, "bias": gputensor.zeros(2)}, assign=True)
    assert isinstance(lin.weight, gputensor.nn.Parameter) and lin.weight.requires_grad
    assert lin.weight._data is new_w._data


def _bad_state(lib):
    """(module, state dict): extra key, missing key and a shape mismatch."""
    net = make_net(lib)
    sd = {k: v.clone() + 1 for k, v in net.state_dict().items()}
    sd["first.fc.weight"] = lib.zeros(2, 3)
    del sd["body.0.bias"]
    sd["extra"] = lib.zeros(1)
    sd["heads.0.nope"] = lib.zeros(1)
    sd["nowhere.weight"] = lib.zeros(1)
    return net, sd


@pytest.mark.parametrize("strict", [True, False])
def test_load_state_dict_errors_match_torch_and_change_nothing(strict):
    check_error(lambda lib: _bad_load(lib, strict))
    net, sd = _bad_state(gputensor)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with pytest.raises(RuntimeError):
        net.load_state_dict(sd, strict=strict)
    for key, value in net.state_dict().items():  # torch would have copied the good keys
        assert value.tolist() == before[key].tolist(), key


def _bad_load(lib, strict):
    net, sd = _bad_state(lib)
    net.load_state_dict(sd, strict=strict)


def test_load_state_dict_missing_and_unexpected_keys():
    results = []
    for lib in LIBS:
        net, sd = _bad_state(lib)
        sd["first.fc.weight"] = lib.zeros(3, 3)
        results.append(net.load_state_dict(sd, strict=False))
        results.append(lib.nn.Linear(2, 2).load_state_dict({}, strict=False))
    assert [torch_text(repr(r)) for r in results[:2]] == [repr(r) for r in results[2:]]
    assert results[0].missing_keys == ["body.0.bias"]
    lin = gputensor.nn.Linear(2, 2)
    with gputensor.no_grad():
        lin.bias.zero_()
    keys = lin.load_state_dict({"bias": gputensor.ones(2)}, strict=False)
    assert keys.missing_keys == ["weight"] and lin.bias.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("case", ["size", "not_tensor", "not_mapping", "missing", "unexpected",
                                  "none_param"])
def test_load_state_dict_single_errors(case):
    def run(lib):
        lin = lib.nn.Linear(3, 2)
        sd = dict(lin.state_dict())
        if case == "size":
            sd["weight"] = lib.zeros(3, 3)
        elif case == "not_tensor":
            sd["bias"] = [1.0, 2.0]
        elif case == "not_mapping":
            sd = list(sd.items())
        elif case == "missing":
            del sd["weight"]
        elif case == "unexpected":
            sd["weights"] = lib.zeros(1)
        else:
            lin = lib.nn.Linear(3, 2, bias=False)
        lin.load_state_dict(sd)
    check_error(run)


def test_batchnorm_state_without_counter_loads():
    results = []
    for lib in LIBS:
        bn = lib.nn.BatchNorm1d(2)
        sd = {k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
        results.append(repr(bn.load_state_dict(sd)))
    assert results[0] == results[1]


def test_zero_dim_parameter_accepts_one_element_vector():
    for lib in LIBS:
        m = lib.nn.Module()
        m.scale = lib.nn.Parameter(lib.tensor(1.0))
        m.load_state_dict({"scale": lib.tensor([3.0])})
        assert m.scale.item() == 3.0 and m.scale.dim() == 0
