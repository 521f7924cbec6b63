"""The further activations compared with torch: values, gradients, grad_fn names, in-place
forms, module reprs, parameters and errors, on the CPU and on (simulated) CUDA."""

import warnings

import numpy as np
import pytest
import torch

import gputensor
from helpers import check_error, check_op, made_on, rand_array

F_OPS = {  # name: fn(lib, x), applied to float inputs that require grad
    "softplus": lambda lib, x: lib.nn.functional.softplus(x),
    "softplus_beta": lambda lib, x: lib.nn.functional.softplus(x, beta=2, threshold=1.5),
    "softplus_low_threshold": lambda lib, x: lib.nn.functional.softplus(x, 0.5, 0.3),
    "softsign": lambda lib, x: lib.nn.functional.softsign(x),
    "hardtanh": lambda lib, x: lib.nn.functional.hardtanh(x),
    "hardtanh_range": lambda lib, x: lib.nn.functional.hardtanh(x, -0.5, 1.5),
    "relu6": lambda lib, x: lib.nn.functional.relu6(x * 4),
    "hardswish": lambda lib, x: lib.nn.functional.hardswish(x * 3),
    "hardsigmoid": lambda lib, x: lib.nn.functional.hardsigmoid(x * 3),
    "mish": lambda lib, x: lib.nn.functional.mish(x * 3),
    "selu": lambda lib, x: lib.nn.functional.selu(x),
    "torch_selu": lambda lib, x: lib.selu(x),
    "celu": lambda lib, x: lib.nn.functional.celu(x),
    "celu_alpha": lambda lib, x: lib.nn.functional.celu(x, 0.5),
    "torch_celu": lambda lib, x: lib.celu(x, alpha=2.0),
    "glu_last": lambda lib, x: lib.nn.functional.glu(x),
    "glu_dim0": lambda lib, x: lib.nn.functional.glu(x, 0),
    "logsigmoid": lambda lib, x: lib.nn.functional.logsigmoid(x * 10),
    "threshold": lambda lib, x: lib.nn.functional.threshold(x, 0.1, 20.0),
    "torch_threshold": lambda lib, x: lib.threshold(x, -0.3, -2.0),
    "tanhshrink": lambda lib, x: lib.nn.functional.tanhshrink(x),
    "softshrink": lambda lib, x: lib.nn.functional.softshrink(x),
    "softshrink_lambd": lambda lib, x: lib.nn.functional.softshrink(x, 1.2),
    "hardshrink": lambda lib, x: lib.nn.functional.hardshrink(x),
    "hardshrink_method": lambda lib, x: x.hardshrink(1.0),
    "torch_hardshrink": lambda lib, x: lib.hardshrink(x, 0.2),
    "softmin": lambda lib, x: lib.nn.functional.softmin(x, 1),
    "softmin_dtype": lambda lib, x: lib.nn.functional.softmin(x, dim=0, dtype=lib.float64),
}

INPLACE_OPS = {  # in-place forms on a non-leaf copy of the input
    "hardtanh_": lambda lib, x: lib.nn.functional.hardtanh_(x * 1, -0.5, 0.5),
    "hardtanh_inplace": lambda lib, x: lib.nn.functional.hardtanh(x * 1, inplace=True),
    "relu6_inplace": lambda lib, x: lib.nn.functional.relu6(x * 4, inplace=True),
    "hardswish_inplace": lambda lib, x: lib.nn.functional.hardswish(x * 3, inplace=True),
    "hardsigmoid_inplace": lambda lib, x: lib.nn.functional.hardsigmoid(x * 3, True),
    "mish_inplace": lambda lib, x: lib.nn.functional.mish(x * 2, inplace=True),
    "selu_inplace": lambda lib, x: lib.nn.functional.selu(x * 1, inplace=True),
    "selu_": lambda lib, x: lib.selu_(x * 1),
    "celu_inplace": lambda lib, x: lib.nn.functional.celu(x * 1, 2.0, inplace=True),
    "celu_": lambda lib, x: lib.celu_(x * 1, 0.5),
    "threshold_": lambda lib, x: lib.threshold_(x * 1, 0.1, 3.0),
    "threshold_inplace": lambda lib, x: lib.nn.functional.threshold(x * 1, 0.2, -1.0, True),
}


@pytest.mark.parametrize("name", sorted(F_OPS) + sorted(INPLACE_OPS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_activation_matches_torch(name, dtype, device):
    fn = F_OPS.get(name) or INPLACE_OPS[name]
    check_op(fn, rand_array((4, 4), dtype), device=device)


@pytest.mark.parametrize("shape", [(), (0, 4), (2, 3, 2, 2)])
@pytest.mark.parametrize("name", ["softplus", "hardswish", "mish", "selu", "logsigmoid",
                                  "softshrink", "hardtanh"])
def test_activation_shapes(name, shape, device):
    check_op(F_OPS[name], rand_array(shape), device=device)


@pytest.mark.parametrize("weight_shape", [(1,), (), (3,)])
@pytest.mark.parametrize("input_shape", [(2, 3), (2, 3, 4), (2, 3, 2, 2)])
def test_prelu(input_shape, weight_shape, device):
    weight = rand_array(weight_shape, low=0.0, high=0.5)
    check_op(lambda lib, x, w: lib.nn.functional.prelu(x, w), rand_array(input_shape), weight,
             device=device)
    check_op(lambda lib, x, w: lib.prelu(x, w), rand_array(input_shape), weight, device=device)
    check_op(lambda lib, x, w: x.prelu(w), rand_array(input_shape), weight, device=device)


@pytest.mark.parametrize("fn", [
    lambda lib: lib.nn.functional.hardtanh(lib.arange(-3, 4), -2, 2),
    lambda lib: lib.nn.functional.relu6(lib.arange(-3, 9)),
    lambda lib: lib.nn.functional.threshold(lib.arange(5), 2, -1),
    lambda lib: lib.nn.functional.softsign(lib.arange(3)),
    lambda lib: lib.nn.functional.tanhshrink(lib.arange(3)),
], ids=["hardtanh", "relu6", "threshold", "softsign", "tanhshrink"])
def test_integer_inputs(fn, device):
    check_op(fn, device=device, grad=False)


ERRORS = {
    "softplus_int": lambda lib: lib.nn.functional.softplus(lib.arange(3)),
    "mish_int": lambda lib: lib.nn.functional.mish(lib.arange(3)),
    "logsigmoid_int": lambda lib: lib.nn.functional.logsigmoid(lib.arange(3)),
    "softshrink_int": lambda lib: lib.nn.functional.softshrink(lib.arange(3)),
    "hardshrink_int": lambda lib: lib.nn.functional.hardshrink(lib.arange(3)),
    "hardswish_int": lambda lib: lib.nn.functional.hardswish(lib.arange(3)),
    "hardsigmoid_int": lambda lib: lib.nn.functional.hardsigmoid(lib.arange(3)),
    "selu_int": lambda lib: lib.nn.functional.selu(lib.arange(3)),
    "celu_int": lambda lib: lib.nn.functional.celu(lib.arange(3)),
    "glu_int": lambda lib: lib.nn.functional.glu(lib.arange(4)),
    "glu_odd": lambda lib: lib.nn.functional.glu(lib.ones(2, 3), 1),
    "glu_scalar": lambda lib: lib.nn.functional.glu(lib.tensor(1.0)),
    "softshrink_negative": lambda lib: lib.nn.functional.softshrink(lib.ones(2), -1),
    "softshrink_negative_double": lambda lib: lib.nn.functional.softshrink(
        lib.ones(2, dtype=lib.float64), -0.5),
    "hardtanh_bounds": lambda lib: lib.nn.functional.hardtanh(lib.ones(2), 2, 1),
    "celu_zero_alpha": lambda lib: lib.nn.functional.celu(lib.ones(2), 0.0),
    "prelu_mismatch": lambda lib: lib.nn.functional.prelu(lib.ones(2, 4), lib.ones(3)),
    "prelu_1d": lambda lib: lib.nn.functional.prelu(lib.ones(4), lib.ones(4)),
    "prelu_2d_weight": lambda lib: lib.nn.functional.prelu(lib.ones(2, 4), lib.ones(2, 2)),
    "softmax2d_dim": lambda lib: lib.nn.Softmax2d()(lib.ones(2, 3)),
    "hardtanh_leaf": lambda lib: lib.nn.functional.hardtanh_(lib.ones(2, requires_grad=True)),
    "softplus_beta_type": lambda lib: lib.nn.functional.softplus(lib.ones(2), "a"),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors(name, device):
    check_error(ERRORS[name], device=device)


def test_hardtanh_module_bounds():
    for lib in (gputensor, torch):
        with pytest.raises(AssertionError):
            lib.nn.Hardtanh(1.0, 1.0)


def test_inplace_leaves_tensor_on_error(device):
    x = gputensor.tensor([1.0, -2.0], device=device)
    with pytest.raises(ValueError):
        gputensor.nn.functional.hardtanh_(x, 3, 1)
    assert x.tolist() == [1.0, -2.0]
    assert x._version.value == 0


MODULES = {  # constructor(lib); each is printed, run forward and backward
    "Softplus": lambda nn: nn.Softplus(),
    "Softplus_args": lambda nn: nn.Softplus(2, 10),
    "Softsign": lambda nn: nn.Softsign(),
    "Hardtanh": lambda nn: nn.Hardtanh(),
    "Hardtanh_args": lambda nn: nn.Hardtanh(-2, 2),
    "ReLU6": lambda nn: nn.ReLU6(),
    "Hardswish": lambda nn: nn.Hardswish(),
    "Hardsigmoid": lambda nn: nn.Hardsigmoid(),
    "Mish": lambda nn: nn.Mish(),
    "PReLU": lambda nn: nn.PReLU(),
    "PReLU_channels": lambda nn: nn.PReLU(4, 0.1),
    "SELU": lambda nn: nn.SELU(),
    "CELU": lambda nn: nn.CELU(),
    "CELU_alpha": lambda nn: nn.CELU(2.0),
    "GLU": lambda nn: nn.GLU(),
    "GLU_dim": lambda nn: nn.GLU(0),
    "LogSigmoid": lambda nn: nn.LogSigmoid(),
    "Threshold": lambda nn: nn.Threshold(0.1, 20),
    "Tanhshrink": lambda nn: nn.Tanhshrink(),
    "Softshrink": lambda nn: nn.Softshrink(),
    "Softshrink_lambd": lambda nn: nn.Softshrink(0.3),
    "Hardshrink": lambda nn: nn.Hardshrink(),
    "Softmin": lambda nn: nn.Softmin(1),
    "Softmax2d": lambda nn: nn.Softmax2d(),
}
INPLACE_MODULES = {
    "ReLU6": lambda nn: nn.ReLU6(True),
    "Hardtanh": lambda nn: nn.Hardtanh(-2, 2, True),
    "SELU": lambda nn: nn.SELU(True),
    "CELU": lambda nn: nn.CELU(2.0, True),
    "Threshold": lambda nn: nn.Threshold(0.1, 20, True),
    "Hardswish": lambda nn: nn.Hardswish(True),
    "Hardsigmoid": lambda nn: nn.Hardsigmoid(True),
    "Mish": lambda nn: nn.Mish(True),
}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module(name, device):
    make = MODULES[name]
    assert repr(make(gputensor.nn)) == repr(make(torch.nn))
    check_op(lambda lib, x: make(lib.nn)(x), rand_array((2, 4, 2, 2)), device=device)


@pytest.mark.parametrize("name", sorted(INPLACE_MODULES))
def test_inplace_module(name, device):
    make = INPLACE_MODULES[name]
    assert repr(make(gputensor.nn)) == repr(make(torch.nn))
    check_op(lambda lib, x: make(lib.nn)(x * 1), rand_array((2, 4)), device=device)


def test_prelu_parameter(device):
    ours, theirs = gputensor.nn.PReLU(3, 0.1, device=device), torch.nn.PReLU(3, 0.1)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    assert isinstance(ours.weight, gputensor.nn.Parameter)
    assert ours.weight.device.type == device
    np.testing.assert_allclose(ours.weight.detach().cpu().numpy(), theirs.weight.detach())
    x = rand_array((2, 3, 4))
    ours(gputensor.tensor(x, device=device)).sum().backward()
    theirs(torch.tensor(x)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.cpu().numpy(), theirs.weight.grad.numpy(),
                               rtol=1e-5)


def test_softmin_implicit_dim_warns(device):
    x = rand_array((2, 3))
    for lib in (gputensor, torch):
        with made_on(lib, device), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.nn.functional.softmin(lib.tensor(x))
        assert [str(w.message) for w in caught] == [
            "Implicit dimension choice for softmin has been deprecated. Change the call to "
            "include dim=X as an argument."]
