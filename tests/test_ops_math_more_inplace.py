"""More elementwise math against torch: the in-place forms, out= and errors (the values,
dtypes and gradients of the ops are in test_ops_math_more.py)."""

from __future__ import annotations

import numpy as np
import pytest
from test_ops_math_more import arr, check_error_on, torch_raises

import gputensor
from helpers import check_error, check_op, to_numpy

# ---- in place --------------------------------------------------------------------
# name -> (fn(lib, y, other) changing y in place, (low, high) of y)
INPLACE = {
    "square_": (lambda lib, y, o: y.square_(), None),
    "tan_": (lambda lib, y, o: y.tan_(), (-1.2, 1.2)),
    "sinh_": (lambda lib, y, o: y.sinh_(), None),
    "cosh_": (lambda lib, y, o: y.cosh_(), None),
    "asin_": (lambda lib, y, o: y.asin_(), (-0.9, 0.9)),
    "arcsin_": (lambda lib, y, o: y.arcsin_(), (-0.9, 0.9)),
    "acos_": (lambda lib, y, o: y.acos_(), (-0.9, 0.9)),
    "arccos_": (lambda lib, y, o: y.arccos_(), (-0.9, 0.9)),
    "atan_": (lambda lib, y, o: y.atan_(), None),
    "arctan_": (lambda lib, y, o: y.arctan_(), None),
    "asinh_": (lambda lib, y, o: y.asinh_(), None),
    "arcsinh_": (lambda lib, y, o: y.arcsinh_(), None),
    "acosh_": (lambda lib, y, o: y.acosh_(), (1.1, 3.0)),
    "arccosh_": (lambda lib, y, o: y.arccosh_(), (1.1, 3.0)),
    "atanh_": (lambda lib, y, o: y.atanh_(), (-0.9, 0.9)),
    "arctanh_": (lambda lib, y, o: y.arctanh_(), (-0.9, 0.9)),
    "log2_": (lambda lib, y, o: y.log2_(), (0.5, 3.0)),
    "log10_": (lambda lib, y, o: y.log10_(), (0.5, 3.0)),
    "exp2_": (lambda lib, y, o: y.exp2_(), None),
    "expm1_": (lambda lib, y, o: y.expm1_(), None),
    "trunc_": (lambda lib, y, o: y.trunc_(), None),
    "fix_": (lambda lib, y, o: y.fix_(), None),
    "frac_": (lambda lib, y, o: y.frac_(), None),
    "sgn_": (lambda lib, y, o: y.sgn_(), None),
    "deg2rad_": (lambda lib, y, o: y.deg2rad_(), None),
    "rad2deg_": (lambda lib, y, o: y.rad2deg_(), None),
    "atan2_": (lambda lib, y, o: y.atan2_(o), None),
    "arctan2_": (lambda lib, y, o: y.arctan2_(o), None),
    "fmod_": (lambda lib, y, o: y.fmod_(o.abs() + 0.5), None),
    "fmod_number": (lambda lib, y, o: y.fmod_(0.75), None),
    "hypot_": (lambda lib, y, o: y.hypot_(o), None),
    "copysign_": (lambda lib, y, o: y.copysign_(o), None),
    "copysign_number": (lambda lib, y, o: y.copysign_(-1.0), None),
    "xlogy_": (lambda lib, y, o: y.xlogy_(o.abs() + 0.1), None),
    "xlogy_number": (lambda lib, y, o: y.xlogy_(3), None),
    "heaviside_": (lambda lib, y, o: y.heaviside_(o), None),
    "true_divide_": (lambda lib, y, o: y.true_divide_(o.abs() + 0.5), None),
    "addcmul_": (lambda lib, y, o: y.addcmul_(o, o, value=-0.5), None),
    "addcdiv_": (lambda lib, y, o: y.addcdiv_(o, o.abs() + 0.5, value=2), None),
}


@pytest.mark.parametrize("name", INPLACE)
def test_inplace(name, device):
    fn, domain = INPLACE[name]
    x = arr((3, 4), "float32", *(domain or (-2.0, 2.0)))
    other = arr((4,))
    # no gradient to compare: heaviside has none, sgn's is a ZeroTensor, and torch's
    # asinh_, acosh_ and atanh_ have none (see test_inverse_hyperbolic_in_place_backward)
    grad = not name.startswith(("heaviside", "sgn", "asinh", "arcsinh", "acosh", "arccosh",
                                "atanh", "arctanh"))

    def run(lib, x, o):
        y = x * 1  # a non-leaf, so it may change in place under autograd
        out = fn(lib, y, o)
        assert out is y
        return y

    check_op(run, x, other, grad=grad, device=device)


@pytest.mark.parametrize("name", ["asinh_", "arccosh_", "atanh_"])
def test_inverse_hyperbolic_in_place_backward(name, device):
    x = np.array([1.5, 1.2], "float32") if "cosh" in name else np.array([0.5, -0.2], "float32")

    def run(lib, x):
        leaf = lib.tensor(x, requires_grad=True)
        out = getattr(leaf * 1, name)()
        assert out.grad_fn.name().endswith(("AsinhBackward1", "AcoshBackward1",
                                            "AtanhBackward1"))
        out.sum().backward()

    check_error(run, x, device=device)


def test_float_power_in_place(device):
    x = arr((3, 4), "float64", 0.5, 2.0)
    check_op(lambda lib, x, o: (x * 1).float_power_(o), x, arr((4,)), device=device)
    check_op(lambda lib, x: (x * 1).float_power_(2), x, device=device)


# name -> (the tensor to change, made from x; the in-place call torch refuses)
INPLACE_ERRORS = {
    "tan_ on int": (lambda x: x.long(), lambda t, x: t.tan_()),
    "log2_ on int": (lambda x: x.long(), lambda t, x: t.log2_()),
    "atan2_ on int": (lambda x: x.long(), lambda t, x: t.atan2_(t)),
    "xlogy_ on int": (lambda x: x.long(), lambda t, x: t.xlogy_(2)),
    "square_ on bool": (lambda x: x > 0, lambda t, x: t.square_()),
    "float_power_ on float32": (lambda x: x.clone(), lambda t, x: t.float_power_(2)),
    "frac_ on int": (lambda x: x.long(), lambda t, x: t.frac_()),
    "addcmul_ float into int": (lambda x: x.long(), lambda t, x: t.addcmul_(x, x)),
    "hypot_ broadcast": (lambda x: x[:1].clone(), lambda t, x: t.hypot_(x)),
    "addcdiv_ broadcast": (lambda x: x[:1].clone(), lambda t, x: t.addcdiv_(x, x)),
}


@pytest.mark.parametrize("name", INPLACE_ERRORS)
def test_inplace_errors_leave_the_tensor_unchanged(name, device):
    make, act = INPLACE_ERRORS[name]
    x = arr((3, 4), "float32", -3.0, 3.0)
    check_error(lambda lib, x: act(make(lib.tensor(x)), lib.tensor(x)), x, device=device)
    ours = gputensor.tensor(x, device=device)
    target = make(ours)
    before = to_numpy(target).copy()
    with pytest.raises(RuntimeError):
        act(target, ours)
    np.testing.assert_array_equal(to_numpy(target), before)


def test_inplace_integers_where_torch_keeps_them(device):
    x = arr((3, 4), "int64")
    check_op(lambda lib, x: (x * 1).trunc_(), x, device=device)
    check_op(lambda lib, x: (x * 1).square_(), x, device=device)
    check_op(lambda lib, x: (x * 1).addcmul_(x, x, value=2), x, device=device)
    check_op(lambda lib, x: (x * 1).fmod_(3), x, device=device)


# ---- out= ------------------------------------------------------------------------
OUT_CALLS = {
    "tan": lambda lib, x, out: lib.tan(x, out=out),
    "log2": lambda lib, x, out: lib.log2(x.abs() + 1, out=out),
    "square": lambda lib, x, out: lib.square(x, out=out),
    "trunc": lambda lib, x, out: lib.trunc(x, out=out),
    "signbit": lambda lib, x, out: lib.signbit(x, out=out),
    "isposinf": lambda lib, x, out: lib.isposinf(x, out=out),
    "atan2": lambda lib, x, out: lib.atan2(x, x + 1, out=out),
    "fmod": lambda lib, x, out: lib.fmod(x, 0.5, out=out),
    "hypot": lambda lib, x, out: lib.hypot(x, x, out=out),
    "copysign": lambda lib, x, out: lib.copysign(x, -1, out=out),
    "logaddexp": lambda lib, x, out: lib.logaddexp(x, x, out=out),
    "xlogy": lambda lib, x, out: lib.xlogy(x, 2, out=out),
    "float_power": lambda lib, x, out: lib.float_power(x, 2, out=out),
    "heaviside": lambda lib, x, out: lib.heaviside(x, x, out=out),
    "addcmul": lambda lib, x, out: lib.addcmul(x, x, x, value=2, out=out),
    "addcdiv": lambda lib, x, out: lib.addcdiv(x, x, x + 5, out=out),
}


@pytest.mark.parametrize("out_dtype", ["float32", "float64", "bool"])
@pytest.mark.parametrize("name", OUT_CALLS)
def test_out(name, out_dtype, device):
    x = arr((2, 3))

    def run(lib, x):
        out = lib.zeros(2, 3, dtype=getattr(lib, out_dtype))
        result = OUT_CALLS[name](lib, x, out)
        assert result is out
        return out

    if torch_raises(run, x):
        check_error(lambda lib, x: run(lib, lib.tensor(x)), x, device=device)
    else:
        check_op(run, x, grad=False, device=device)


def test_out_refuses_autograd(device):
    x = arr((2, 3))
    check_error(lambda lib, x: lib.tan(lib.tensor(x, requires_grad=True), out=lib.empty(2, 3)),
                x, device=device)
    check_error(lambda lib, x: lib.addcmul(lib.tensor(x, requires_grad=True), lib.tensor(x),
                                           lib.tensor(x), out=lib.empty(2, 3)), x,
                device=device)


# ---- errors ----------------------------------------------------------------------
ERRORS = {
    "atan2 number": lambda lib, x: lib.atan2(x, 2),
    "atan2 number first": lambda lib, x: lib.atan2(2.0, x),
    "hypot number": lambda lib, x: lib.hypot(x, 1.5),
    "hypot ints": lambda lib, x: lib.hypot(x.long(), x.long()),
    "logaddexp ints": lambda lib, x: lib.logaddexp(x.int(), x.int()),
    "logaddexp2 bool": lambda lib, x: lib.logaddexp2(x > 0, x > 0),
    "logaddexp number": lambda lib, x: lib.logaddexp(x, 1.0),
    "fmod number first": lambda lib, x: lib.fmod(2, x),
    "fmod bools": lambda lib, x: lib.fmod(x > 0, x > 1),
    "fmod int by zero": lambda lib, x: lib.fmod(x.long(), 0),
    "fmod int by zero tensor": lambda lib, x: lib.fmod(x.long(), lib.zeros(4, dtype=lib.long)),
    "copysign number first": lambda lib, x: lib.copysign(-1.0, x),
    "xlogy numbers": lambda lib, x: lib.xlogy(2, 3.5),
    "float_power numbers": lambda lib, x: lib.float_power(2, 3.5),
    "frac int": lambda lib, x: lib.frac(x.long()),
    "frac bool": lambda lib, x: lib.frac(x > 0),
    "trunc bool": lambda lib, x: lib.trunc(x > 0),
    "heaviside dtypes": lambda lib, x: lib.heaviside(x, x.double()),
    "heaviside 0-d dtype": lambda lib, x: lib.heaviside(x, lib.tensor(0.5, dtype=lib.float64)),
    "heaviside number": lambda lib, x: lib.heaviside(x, 0.5),
    "addcdiv ints": lambda lib, x: lib.addcdiv(x, x.long(), x.long()),
    "addcdiv int and bool": lambda lib, x: lib.addcdiv(x, x.long(), x > 0),
    "addcmul bools": lambda lib, x: lib.addcmul(x > 0, x > 0, x > 0),
    "addcmul number": lambda lib, x: lib.addcmul(x, x, 2),
    "addcmul broadcast": lambda lib, x: lib.addcmul(x, lib.ones(3), x),
    "addcdiv broadcast": lambda lib, x: lib.addcdiv(x, x, lib.ones(5)),
    "atan2 broadcast": lambda lib, x: lib.atan2(x, lib.ones(5)),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors(name, device):
    x = arr((4,))
    check_error_on(lambda lib, x: ERRORS[name](lib, lib.tensor(x)), x, device=device)


def test_square_of_bool_is_int64(device):
    x = np.array([True, False])
    check_op(lambda lib, x: lib.square(x), x, device=device)
    ours = gputensor.square(gputensor.tensor(x, device=device))
    assert to_numpy(ours).dtype == np.int64
