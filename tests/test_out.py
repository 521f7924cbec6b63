"""The out= keyword on the covered ops, compared with torch: the values written, the object
returned, dtype casts, the resize warning and the autograd refusal."""

import math
import warnings

import numpy as np
import pytest
import torch

import gputensor
from helpers import (
    assert_same,
    check_error,
    grad_fn_names,
    made_on,
    rand_array,
    to_numpy,
)

A = rand_array((3, 4))
B = rand_array((3, 4))
V = rand_array((4,))
POS = rand_array((3, 4), low=0.1, high=0.9)
C3 = rand_array((2, 3, 4))
S = np.array([1.0, math.nan, math.inf, -2.0], dtype=np.float32)


def _t(lib, array):
    return lib.tensor(array)


OPS = {  # name: (fn(lib, out), out dtype)
    "add": (lambda lib, out: lib.add(_t(lib, A), _t(lib, B), alpha=2, out=out), "float32"),
    "add_number": (lambda lib, out: lib.add(_t(lib, A), 1.5, out=out), "float32"),
    "sub": (lambda lib, out: lib.sub(_t(lib, A), _t(lib, V), out=out), "float32"),
    "subtract": (lambda lib, out: lib.subtract(_t(lib, A), 2, out=out), "float64"),
    "mul": (lambda lib, out: lib.mul(_t(lib, A), _t(lib, B), out=out), "float32"),
    "div": (lambda lib, out: lib.div(_t(lib, A), _t(lib, B), out=out), "float32"),
    "div_floor": (lambda lib, out: lib.div(_t(lib, A), 0.3, rounding_mode="floor", out=out),
                  "float32"),
    "true_divide": (lambda lib, out: lib.true_divide(lib.arange(4), 3, out=out), "float32"),
    "pow": (lambda lib, out: lib.pow(_t(lib, POS), 2.5, out=out), "float32"),
    "pow_base": (lambda lib, out: lib.pow(2, _t(lib, A), out=out), "float32"),
    "maximum": (lambda lib, out: lib.maximum(_t(lib, A), _t(lib, B), out=out), "float32"),
    "minimum": (lambda lib, out: lib.minimum(_t(lib, A), _t(lib, V), out=out), "float32"),
    "clamp": (lambda lib, out: lib.clamp(_t(lib, A), -0.5, 0.5, out=out), "float32"),
    "clip_tensor": (lambda lib, out: lib.clip(_t(lib, A), min=_t(lib, V), out=out), "float32"),
    "exp": (lambda lib, out: lib.exp(_t(lib, A), out=out), "float32"),
    "log": (lambda lib, out: lib.log(_t(lib, POS), out=out), "float64"),
    "sqrt": (lambda lib, out: lib.sqrt(_t(lib, POS), out=out), "float32"),
    "abs": (lambda lib, out: lib.abs(_t(lib, A), out=out), "float32"),
    "neg_int": (lambda lib, out: lib.neg(lib.arange(5), out=out), "int64"),
    "sigmoid": (lambda lib, out: lib.sigmoid(_t(lib, A), out=out), "float32"),
    "round": (lambda lib, out: lib.round(_t(lib, A), decimals=1, out=out), "float32"),
    "eq": (lambda lib, out: lib.eq(_t(lib, A), _t(lib, A), out=out), "bool"),
    "gt_into_float": (lambda lib, out: lib.gt(_t(lib, A), 0, out=out), "float32"),
    "sum": (lambda lib, out: lib.sum(_t(lib, A), 1, out=out), "float32"),
    "sum_into_bool": (lambda lib, out: lib.sum(lib.arange(3), 0, out=out), "bool"),
    "sum_into_int": (lambda lib, out: lib.sum(_t(lib, A) * 3, 1, out=out), "int64"),
    "prod_into_double": (lambda lib, out: lib.prod(_t(lib, A), 0, out=out), "float64"),
    "sum_keepdim": (lambda lib, out: lib.sum(_t(lib, C3), (0, 2), True, out=out), "float32"),
    "mean": (lambda lib, out: lib.mean(_t(lib, A), 0, out=out), "float32"),
    "prod": (lambda lib, out: lib.prod(_t(lib, A), 1, out=out), "float32"),
    "std": (lambda lib, out: lib.std(_t(lib, A), 1, out=out), "float32"),
    "var": (lambda lib, out: lib.var(_t(lib, C3), (0, 1), correction=0, out=out), "float32"),
    "all": (lambda lib, out: lib.all(_t(lib, A) > -1, 1, out=out), "bool"),
    "any": (lambda lib, out: lib.any(_t(lib, A) > 1, 0, out=out), "bool"),
    "max": (lambda lib, out: lib.max(_t(lib, A), out=out), "float32"),
    "amax": (lambda lib, out: lib.amax(_t(lib, C3), (0, 2), out=out), "float32"),
    "amin": (lambda lib, out: lib.amin(_t(lib, A), 1, keepdim=True, out=out), "float32"),
    "argmax": (lambda lib, out: lib.argmax(_t(lib, A), 1, out=out), "int64"),
    "argmin": (lambda lib, out: lib.argmin(_t(lib, A), out=out), "int64"),
    "cat": (lambda lib, out: lib.cat([_t(lib, A), _t(lib, B)], 1, out=out), "float32"),
    "concat": (lambda lib, out: lib.concat([_t(lib, A), _t(lib, B)], out=out), "float32"),
    "stack": (lambda lib, out: lib.stack([_t(lib, A), _t(lib, B)], -1, out=out), "float32"),
    "matmul": (lambda lib, out: lib.matmul(_t(lib, C3), _t(lib, A).T, out=out), "float32"),
    "mm": (lambda lib, out: lib.mm(_t(lib, A), _t(lib, B).T, out=out), "float32"),
    "bmm": (lambda lib, out: lib.bmm(_t(lib, C3), _t(lib, C3).mT, out=out), "float32"),
    "mv": (lambda lib, out: lib.mv(_t(lib, A), _t(lib, V), out=out), "float32"),
    "dot": (lambda lib, out: lib.dot(_t(lib, V), _t(lib, V), out=out), "float32"),
    "logsumexp": (lambda lib, out: lib.logsumexp(_t(lib, A), 1, out=out), "float32"),
    "erf": (lambda lib, out: lib.erf(_t(lib, A), out=out), "float32"),
    "special.erfinv": (lambda lib, out: lib.special.erfinv(_t(lib, POS), out=out), "float32"),
    "special.expit": (lambda lib, out: lib.special.expit(_t(lib, A), out=out), "float32"),
    "logit": (lambda lib, out: lib.logit(_t(lib, POS), 0.2, out=out), "float32"),
    "lerp": (lambda lib, out: lib.lerp(_t(lib, A), _t(lib, B), 0.3, out=out), "float32"),
    "nan_to_num": (lambda lib, out: lib.nan_to_num(_t(lib, S), out=out), "float32"),
    "clamp_min": (lambda lib, out: lib.clamp_min(_t(lib, A), 0.0, out=out), "float32"),
    "clamp_max": (lambda lib, out: lib.clamp_max(_t(lib, A), _t(lib, V), out=out), "float32"),
    "norm": (lambda lib, out: lib.norm(_t(lib, A), 1, 1, out=out), "float32"),
    "vector_norm": (lambda lib, out: lib.linalg.vector_norm(_t(lib, C3), 3, (1, 2), out=out),
                    "float32"),
    "matrix_norm": (lambda lib, out: lib.linalg.matrix_norm(_t(lib, C3), 1, out=out), "float32"),
    "linalg.norm": (lambda lib, out: lib.linalg.norm(_t(lib, A), out=out), "float32"),
    "vecdot": (lambda lib, out: lib.linalg.vecdot(_t(lib, A), _t(lib, V), out=out), "float32"),
    "zeros": (lambda lib, out: lib.zeros(2, 3, out=out), "int64"),
    "ones": (lambda lib, out: lib.ones((2, 3), out=out), "float64"),
    "full": (lambda lib, out: lib.full((2,), 7, out=out), "int32"),
    "arange": (lambda lib, out: lib.arange(1, 4, 0.5, out=out), "float64"),
    "arange_float_out": (lambda lib, out: lib.arange(5, out=out), "float32"),
    "linspace": (lambda lib, out: lib.linspace(0, 1, 5, out=out), "float32"),
    "eye": (lambda lib, out: lib.eye(3, 2, out=out), "float32"),
}


def _run(lib, device, fn, out_dtype, out_shape):
    with made_on(lib, device):
        out = lib.empty(out_shape, dtype=getattr(lib, out_dtype))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (the resize warning has its own test)
            result = fn(lib, out)
    assert result is out
    return out


@pytest.mark.parametrize("name", sorted(OPS))
def test_out_receives_the_result(name, device):
    fn, out_dtype = OPS[name]
    theirs = _run(torch, "cpu", fn, out_dtype, (0,))
    ours = _run(gputensor, device, fn, out_dtype, (0,))
    assert_same(ours, theirs)
    assert ours.device.type == device
    # an out of the right shape is written in place (its storage kept)
    same_shape = _run(gputensor, device, fn, out_dtype, tuple(theirs.shape))
    assert_same(same_shape, theirs)


def test_out_of_the_right_shape_keeps_its_storage(device):
    out = gputensor.zeros(3, 4, device=device)
    view = out[0]
    gputensor.add(gputensor.tensor(A, device=device), 1, out=out)
    assert_same(view, torch.from_numpy(A[0] + 1))
    assert out._version.value == 1


@pytest.mark.parametrize("keepdim", [False, True])
def test_out_tuples_for_values_and_indices(keepdim, device):
    results = {}
    for lib, dev in ((torch, "cpu"), (gputensor, device)):
        with made_on(lib, dev):
            out = (lib.empty(0), lib.empty(0, dtype=lib.long))
            for name in ("max", "min"):
                result = getattr(lib, name)(lib.tensor(A), 1, keepdim, out=out)
                assert result[0] is out[0] and result[1] is out[1]
                assert type(result).__name__ == f"{name}_out"
                results.setdefault(name, []).append(
                    (result.values.clone(), result.indices.clone()))
    for theirs, ours in results.values():  # torch ran first
        assert_same(ours, theirs)


def test_random_ops_fill_out(device):
    """The values of the call without out (our streams are not torch's); torch's dtype and
    shape."""
    for name, call in (("randn", lambda lib, out=None: lib.randn(3, 2, out=out)),
                       ("rand", lambda lib, out=None: lib.rand(4, out=out)),
                       ("randint", lambda lib, out=None: lib.randint(0, 9, (5,), out=out)),
                       ("randperm", lambda lib, out=None: lib.randperm(6, out=out))):
        out_dtype = "int64" if name in ("randint", "randperm") else "float32"
        theirs = _run(torch, "cpu", call, out_dtype, (0,))
        gputensor.manual_seed(7)
        ours = _run(gputensor, device, call, out_dtype, (0,))
        gputensor.manual_seed(7)
        with made_on(gputensor, device):
            expected = call(gputensor)
        np.testing.assert_array_equal(to_numpy(ours), to_numpy(expected))
        assert tuple(ours.shape) == tuple(theirs.shape) and ours.dtype == expected.dtype
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]


def test_resize_warning_as_torch(device):
    messages = []
    for lib, dev in ((torch, "cpu"), (gputensor, device)):
        with made_on(lib, dev):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                lib.add(lib.tensor(A), 1, out=lib.zeros(5))
                lib.add(lib.tensor(A), 1, out=lib.zeros(0))  # empty: resized silently
                lib.add(lib.tensor(A), 1, out=lib.zeros(3, 4))  # the right shape: no warning
        # torch's message ends with its C++ source location, " (Triggered internally at ...)"
        messages.append([str(w.message).split(" (Triggered internally")[0] for w in caught
                         if w.category is UserWarning])
    ours, theirs = messages
    assert len(theirs) == 1 and ours == theirs


ERRORS = {
    "float into int": lambda lib: lib.add(lib.tensor(A), 1, out=lib.empty(0, dtype=lib.long)),
    "float into bool": lambda lib: lib.exp(lib.tensor(A), out=lib.empty(0, dtype=lib.bool)),
    "requires grad": lambda lib: lib.mul(lib.tensor(A, requires_grad=True), 2,
                                         out=lib.empty(0)),
    "out requires grad": lambda lib: lib.sum(lib.tensor(A), 0,
                                             out=lib.zeros(4, requires_grad=True)),
    "max dim grad": lambda lib: lib.max(lib.tensor(A, requires_grad=True), 0,
                                        out=(lib.empty(0), lib.empty(0, dtype=lib.long))),
    "matrix_norm dtype": lambda lib: lib.linalg.matrix_norm(lib.tensor(A), out=lib.empty(
        0, dtype=lib.float64)),
    "linalg.norm dtype": lambda lib: lib.linalg.norm(lib.tensor(A), out=lib.empty(
        0, dtype=lib.long)),
    "nuc dtype": lambda lib: lib.norm(lib.tensor(A), "nuc", out=lib.empty(0, dtype=lib.long)),
    "norm grad": lambda lib: lib.norm(lib.tensor(A, requires_grad=True), out=lib.empty(0)),
    "expit grad": lambda lib: lib.special.expit(lib.tensor(A, requires_grad=True),
                                                out=lib.empty(0)),
    "erf grad": lambda lib: lib.erf(lib.tensor(A, requires_grad=True), out=lib.empty(0)),
    "cat grad": lambda lib: lib.cat([lib.tensor(A, requires_grad=True)], out=lib.empty(0)),
    "matmul grad": lambda lib: lib.matmul(lib.tensor(A, requires_grad=True),
                                          lib.tensor(B).T, out=lib.empty(0)),
    "mean into int": lambda lib: lib.mean(lib.tensor(A), 0, out=lib.empty(0, dtype=lib.long)),
    "amax dtype": lambda lib: lib.amax(lib.tensor(A), 0, out=lib.empty(0, dtype=lib.float64)),
    "amin dtype": lambda lib: lib.amin(lib.tensor(A), out=lib.empty(0, dtype=lib.long)),
    "logsumexp into int": lambda lib: lib.logsumexp(lib.tensor(A), 0,
                                                    out=lib.empty(0, dtype=lib.long)),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_out_errors(name, device):
    check_error(ERRORS[name], device=device)


def test_out_error_leaves_out_unchanged(device):
    out = gputensor.ones(2, dtype=gputensor.long, device=device)
    with pytest.raises(RuntimeError):
        gputensor.add(gputensor.tensor([0.5, 1.5], device=device), 1, out=out)
    assert out.tolist() == [1, 1] and out._version.value == 0


@pytest.mark.parametrize("call", [
    lambda lib, x, out: lib.linalg.matrix_norm(x, out=out),
    lambda lib, x, out: lib.linalg.norm(x, 1, dim=1, out=out),
    lambda lib, x, out: lib.norm(x, "nuc", out=out),
])
def test_composite_norms_copy_into_out_with_autograd(call, device):
    """torch's composite norms record the copy into out (CopyBackwards) instead of refusing."""
    outs, grads, names = [], [], []
    for lib, dev in ((torch, "cpu"), (gputensor, device)):
        x = lib.tensor(A, requires_grad=True, device=dev)
        with made_on(lib, dev):
            out = lib.ones(2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the resize warning
            assert call(lib, x, out) is out
        names.append(grad_fn_names(out))
        out.sum().backward()
        outs.append(out.detach())
        grads.append(x.grad)
    assert names[1] == names[0] and "CopyBackwards" in names[0][0]
    assert_same(outs[1], outs[0])
    assert_same(grads[1], grads[0], rtol=1e-4, atol=1e-5)


def test_out_under_no_grad_is_allowed(device):
    with gputensor.no_grad():
        out = gputensor.empty(0, device=device)
        gputensor.mul(gputensor.tensor(A, requires_grad=True, device=device), 2, out=out)
    with torch.no_grad():
        theirs = torch.mul(torch.tensor(A, requires_grad=True), 2, out=torch.empty(0))
    assert_same(out, theirs)
    assert not out.requires_grad


def test_tensor_methods_run_without_out(device):
    x = gputensor.tensor(A, device=device)
    assert_same(x.sum(1), torch.from_numpy(A).sum(1))
    assert_same(x.max(1).values, torch.from_numpy(A).max(1).values)
    assert_same(x.clamp(-0.5, 0.5), torch.from_numpy(A).clamp(-0.5, 0.5))
