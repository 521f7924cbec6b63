"""In-place ops against torch: storage and views, autograd, version counter, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gputensor
from helpers import (
    LAYOUTS,
    LIBS,
    assert_on,
    assert_same,
    check_error,
    check_op,
    grad_fn_names,
    lib_device,
    make_input,
    rand_array,
    run_on,
)

RNG = np.random.default_rng(11)
VERSION_ERROR = ("one of the variables needed for gradient computation has been modified by an "
                 "inplace operation")


def arr(shape, dtype="float32", low=-2.0, high=2.0):
    return np.asarray(rand_array(shape, dtype, low, high, rng=RNG))


def iadd(y, o):
    y += o
    return y


def isub(y, o):
    y -= o
    return y


def imul(y, o):
    y *= o
    return y


def idiv(y, o):
    y /= o
    return y


# name -> (fn(lib, y, other) changing y in place, (low, high) of y, (low, high) of other)
INPLACE = {
    "add_": (lambda lib, y, o: y.add_(o), None, None),
    "add_alpha": (lambda lib, y, o: y.add_(o, alpha=2.0), None, None),
    "add_number": (lambda lib, y, o: y.add_(1.5), None, None),
    "sub_": (lambda lib, y, o: y.sub_(o), None, None),
    "sub_alpha": (lambda lib, y, o: y.sub_(o, alpha=-0.5), None, None),
    "mul_": (lambda lib, y, o: y.mul_(o), None, None),
    "mul_number": (lambda lib, y, o: y.mul_(3), None, None),
    "div_": (lambda lib, y, o: y.div_(o), None, (0.5, 2.0)),
    "div_number": (lambda lib, y, o: y.div_(4), None, None),
    "div_floor": (lambda lib, y, o: y.div_(o, rounding_mode="floor"), None, (0.5, 2.0)),
    "pow_": (lambda lib, y, o: y.pow_(o), (0.5, 2.0), None),
    "pow_number": (lambda lib, y, o: y.pow_(2), None, None),
    "clamp_": (lambda lib, y, o: y.clamp_(-0.5, 0.5), None, None),
    "clamp_min": (lambda lib, y, o: y.clamp_(min=0.0), None, None),
    "clamp_tensor": (lambda lib, y, o: y.clamp_(o - 0.5, o + 0.5), None, None),
    "clip_": (lambda lib, y, o: y.clip_(max=o), None, None),
    "neg_": (lambda lib, y, o: y.neg_(), None, None),
    "zero_": (lambda lib, y, o: y.zero_(), None, None),
    "fill_": (lambda lib, y, o: y.fill_(2.5), None, None),
    "fill_tensor": (lambda lib, y, o: y.fill_(o.sum()), None, None),
    "copy_": (lambda lib, y, o: y.copy_(o), None, None),
    "copy_double": (lambda lib, y, o: y.copy_(o.double()), None, None),
    "+=": (lambda lib, y, o: iadd(y, o), None, None),
    "-=": (lambda lib, y, o: isub(y, o), None, None),
    "*=": (lambda lib, y, o: imul(y, o), None, None),
    "/=": (lambda lib, y, o: idiv(y, o), None, (0.5, 2.0)),
    "+= number": (lambda lib, y, o: iadd(y, 2), None, None),
    "/= number": (lambda lib, y, o: idiv(y, 2), None, None),
}
SHAPE_PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 3, 4), (3, 1)), ((3,), ()), ((), ()),
               ((0, 3), (3,))]


def inputs(name, shape_y, shape_o):
    _, y_domain, o_domain = INPLACE[name]
    return arr(shape_y, "float32", *(y_domain or (-2, 2))), \
        arr(shape_o, "float32", *(o_domain or (-2, 2)))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
@pytest.mark.parametrize("name", INPLACE)
def test_inplace_autograd(name, shapes, layout, device):
    """``y = x * 1; y.op_(other)``: values and the gradients of x and other."""
    fn = INPLACE[name][0]
    check_op(lambda lib, x, o: fn(lib, x * 1, o), *inputs(name, *shapes), layout=layout,
             device=device)


@pytest.mark.parametrize("layout", ["transposed", "strided"])
@pytest.mark.parametrize("name", INPLACE)
def test_inplace_writes_through_views(name, layout, device):
    """Changing a view changes its base; the version counter is shared and bumped."""
    y_array, o_array = inputs(name, (3, 4), (4,))
    results = {}
    for lib in LIBS:
        base, view = make_input(lib, y_array, layout, device=device)
        version = view._version if lib is torch else view._version.value
        out = INPLACE[name][0](lib, view, lib.tensor(o_array, device=lib_device(lib, device)))
        assert out is view
        bumped = (view._version if lib is torch else view._version.value) - version
        base_bumped = base._version if lib is torch else base._version.value
        results[lib] = (base, view, bumped, base_bumped)
    (ours, theirs) = results[gputensor], results[torch]
    assert_on(ours[:2], device)
    assert_same(ours[0], theirs[0])
    assert_same(ours[1], theirs[1])
    assert ours[2] == theirs[2] and ours[3] == theirs[3]


@pytest.mark.parametrize("name", [n for n in INPLACE if n not in ("zero_", "fill_")])
def test_inplace_on_expanded_tensor_raises(name, device):
    y, o = inputs(name, (3, 4), (4,))
    check_error(lambda lib, y, o: INPLACE[name][0](
        lib, lib.tensor(y[:1]).expand(3, 4), lib.tensor(o)), y, o, device=device)


GRAD_FN_CASES = {
    "add_": lambda y, z: y.add_(z), "sub_": lambda y, z: y.sub_(z),
    "mul_": lambda y, z: y.mul_(z), "div_": lambda y, z: y.div_(z),
    "pow_": lambda y, z: y.pow_(2), "pow_ tensor": lambda y, z: y.pow_(z),
    "clamp_": lambda y, z: y.clamp_(0, 1), "clamp_ tensor": lambda y, z: y.clamp_(z),
    "neg_": lambda y, z: y.neg_(), "zero_": lambda y, z: y.zero_(),
    "fill_": lambda y, z: y.fill_(2), "fill_ tensor": lambda y, z: y.fill_(z[0]),
    "copy_": lambda y, z: y.copy_(z), "+=": lambda y, z: iadd(y, z),
    "view mul_ (base)": lambda y, z: (y[:2].mul_(z[:2]), y)[1],
    "view mul_ (view)": lambda y, z: y[:2].mul_(z[:2]),
}


@pytest.mark.parametrize("case", GRAD_FN_CASES)
def test_inplace_grad_fn_names(case, device):
    def fn(lib):
        x = lib.tensor([0.5, 1.5, 2.0], requires_grad=True)
        return GRAD_FN_CASES[case](x * 1, lib.tensor([1.0, 0.5, 3.0], requires_grad=True))
    ours, theirs = (run_on(lib, device, fn) for lib in LIBS)
    assert_on(ours, device)
    assert grad_fn_names(ours) == grad_fn_names(theirs) != [None]


def test_mul_inplace_gradients(device):
    """The promised case: ``y = x * 1; y.mul_(z)`` gives the right gradients for x and z."""
    def fn(lib, x, z):
        y = x * 1
        y.mul_(z)
        return y
    check_op(fn, arr((3, 4)), arr((3, 4)), device=device)
    check_op(fn, arr((3, 4)), arr((4,)), device=device)


def test_no_grad_inplace_on_leaf(device):
    def fn(lib, x):
        with lib.no_grad():
            x.mul_(2)
            x[0].add_(1)
        return x * x
    check_op(fn, arr((3,)), device=device)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_untracked_arithmetic_in_place_is_torch_bit_for_bit(dtype, device):
    """add_/sub_/mul_/div_ with nothing recording them, as an optimizer or clipping writes."""
    def fn(lib, *arrays):
        x, y, row = (lib.tensor(a) for a in arrays)
        leaf = x.clone().requires_grad_()
        versions = []
        with lib.no_grad():
            t = x.clone()
            view = t[1:]  # shares t's storage
            t.mul_(0.37)
            t.add_(y)
            t.sub_(row)  # broadcast
            t.div_(lib.tensor(3.3, dtype=t.dtype))
            t.add_(7)
            t.mul_(t)  # the tensor with itself
            view.sub_(0.5)
            versions.append(getattr(t._version, "value", t._version))  # (torch's: an int)
            leaf.mul_(y)
            leaf.div_(1.75)
            t.add_(y, alpha=2)  # (the general path)
            t.mul_(lib.ones(5, dtype=lib.float64))  # another dtype: the general path
        return t, view, leaf.detach(), versions
    x, y, row = arr((4, 5), dtype), arr((4, 5), dtype), arr((5,), dtype)
    ours = run_on(gputensor, device, fn, x, y, row)
    theirs = fn(torch, x, y, row)
    for mine, reference in zip(ours[:3], theirs[:3]):
        assert_same(mine, reference, rtol=0, atol=0)
    assert ours[3] == theirs[3]


def test_leaf_checks(device):
    x = arr((3,))
    for fn in (lambda t: t.add_(1), lambda t: t.zero_(), lambda t: t.fill_(1.0),
               lambda t: t.copy_(t.detach() * 2), lambda t: iadd(t, 1), lambda t: t.neg_()):
        check_error(lambda lib, x, fn=fn: fn(lib.tensor(x, requires_grad=True)), x, device=device)
        check_error(lambda lib, x, fn=fn: fn(lib.tensor(x, requires_grad=True)[1:]), x,
                    device=device)


def version_cases():
    def sin_then_change_input(lib, x):
        y = x * 1
        z = y.sin()
        y.mul_(2)
        z.sum().backward()

    def exp_then_change_output(lib, x):
        z = (x * 1).exp()
        z.add_(1)
        z.sum().backward()

    def square_then_add(lib, x):
        y = x * 1
        z = y * y
        y.add_(1)
        z.sum().backward()

    def view_saved_base_changed(lib, x):
        y = x * 1
        v = y[:2]
        z = v * v
        y.add_(1)
        z.sum().backward()

    def mul_by_itself(lib, x):
        y = x * 1
        y.mul_(y)
        y.sum().backward()
    return [sin_then_change_input, exp_then_change_output, square_then_add,
            view_saved_base_changed, mul_by_itself]


@pytest.mark.parametrize("fn", version_cases(), ids=lambda f: f.__name__)
def test_version_counter_detects_saved_tensor_changes(fn, device):
    errors = []
    for lib in LIBS:
        x = lib.tensor(arr((3,)), device=lib_device(lib, device), requires_grad=True)
        with pytest.raises(RuntimeError) as info:
            run_on(lib, device, fn, x)
        errors.append(info.value)
    assert str(errors[0]).startswith(VERSION_ERROR)
    assert str(errors[1]).startswith(VERSION_ERROR)


def test_inplace_not_needing_saved_values_is_fine(device):
    def fn(lib, x):
        y = x * 1
        z = y + y
        y.add_(1)
        return z + y
    check_op(fn, arr((3,)), device=device)


CAST_ERRORS = {
    "int += 1.5": lambda lib: iadd(lib.tensor([1, 2]), 1.5),
    "int add_ 0-d double": lambda lib: lib.zeros(3, dtype=lib.int32).add_(
        lib.tensor(1.5, dtype=lib.float64)),
    "bool add_ 1": lambda lib: lib.zeros(3, dtype=lib.bool).add_(1),
    "int mul_ half": lambda lib: lib.zeros(3, dtype=lib.int32).mul_(lib.ones(1).half()),
    "int /= 2": lambda lib: idiv(lib.tensor([1, 2]), 2),
    "int pow_ 0.5": lambda lib: lib.tensor([1, 2]).pow_(0.5),
    "int64 clamp_ 0.5": lambda lib: lib.tensor([1, 2]).clamp_(0.5),
    "int32 clamp_ 0.5": lambda lib: lib.tensor([1, 2], dtype=lib.int32).clamp_(0.5),
    "int16 clamp_ 0.5": lambda lib: lib.tensor([1, 2], dtype=lib.int16).clamp_(0.5),
    "int8 clamp_ 0.5": lambda lib: lib.tensor([1, 2], dtype=lib.int8).clamp_(0.5),
    "uint8 clamp_ 0.5": lambda lib: lib.tensor([1, 2], dtype=lib.uint8).clamp_(0.5),
    "bool clamp_ 2": lambda lib: lib.tensor([True]).clamp_(2),
    "int clamp_ tensor": lambda lib: lib.tensor([1, 2]).clamp_(lib.tensor(0.5)),
    "bool neg_": lambda lib: lib.tensor([True]).neg_(),
    "bool -= 1": lambda lib: isub(lib.tensor([True]), 1),
    "int -= True": lambda lib: isub(lib.tensor([1, 2]), True),
    "int pow_ -1": lambda lib: lib.tensor([1, 2]).pow_(-1),
    "int //0": lambda lib: lib.tensor([1, 2]).div_(0, rounding_mode="floor"),
}


@pytest.mark.parametrize("case", CAST_ERRORS)
def test_dtype_errors(case, device):
    check_error(lambda lib: CAST_ERRORS[case](lib), device=device)


SHAPE_ERRORS = {
    "broadcast grows": lambda lib: lib.zeros(3).add_(lib.zeros(2, 3)),
    "broadcast both": lambda lib: lib.zeros(3, 1).mul_(lib.zeros(1, 3)),
    "0-d grows": lambda lib: iadd(lib.zeros(()), lib.ones(3)),
    "mismatch": lambda lib: lib.zeros(3).add_(lib.zeros(4)),
    "mismatch 2-d": lambda lib: isub(lib.zeros(2, 3), lib.zeros(2, 4)),
    "pow_ grows": lambda lib: lib.zeros(3).pow_(lib.ones(2, 3)),
    "clamp_ grows": lambda lib: lib.zeros(3).clamp_(lib.zeros(2, 3)),
    "copy_ grows": lambda lib: lib.zeros(3).copy_(lib.ones(2, 3)),
    "copy_ mismatch": lambda lib: lib.zeros(2, 3).copy_(lib.ones(2, 4)),
    "fill_ 1-d tensor": lambda lib: lib.zeros(3).fill_(lib.ones(3)),
    "expanded add_": lambda lib: lib.zeros(3).expand(2, 3).add_(1),
}


@pytest.mark.parametrize("case", SHAPE_ERRORS)
def test_shape_errors(case, device):
    check_error(lambda lib: SHAPE_ERRORS[case](lib), device=device)


def test_errors_leave_the_tensor_unchanged(device):
    for fn in (lambda t: t.add_(gputensor.zeros(2, 3, device=device)), lambda t: t.add_(1.5),
               lambda t: t.div_(0, rounding_mode="floor")):
        t = gputensor.tensor([1, 2, 3], device=device)
        with pytest.raises(RuntimeError):
            fn(t)
        assert t.tolist() == [1, 2, 3] and t._version.value == 0


DTYPE_CASES = {
    "uint8 add_ 300": lambda lib: lib.tensor([1, 2, 250], dtype=lib.uint8).add_(300),
    "uint8 neg_": lambda lib: lib.tensor([0, 1, 5], dtype=lib.uint8).neg_(),
    "int8 *= 100": lambda lib: imul(lib.tensor([3, -2], dtype=lib.int8), 100),
    "int32 += int64": lambda lib: iadd(lib.tensor([1, 2], dtype=lib.int32), lib.tensor([5, 6])),
    "half += float": lambda lib: iadd(lib.ones(2, dtype=lib.float16), lib.ones(2) / 3),
    "float += double": lambda lib: iadd(lib.ones(2), lib.ones(2, dtype=lib.float64) / 3),
    "int div_ floor": lambda lib: lib.tensor([-7, 7]).div_(2, rounding_mode="floor"),
    "int div_ trunc": lambda lib: lib.tensor([-7, 7]).div_(2, rounding_mode="trunc"),
    "int pow_ 2": lambda lib: lib.tensor([-3, 2]).pow_(2),
    "int clamp_": lambda lib: lib.tensor([-3, 2, 9]).clamp_(0, 5),
    "copy_ float to int": lambda lib: lib.zeros(3, dtype=lib.int64).copy_(
        lib.tensor([1.7, -1.7, 2.5])),
    "copy_ int64 to int8": lambda lib: lib.zeros(2, dtype=lib.int8).copy_(lib.tensor([300, -1])),
    "copy_ broadcast": lambda lib: lib.zeros(2, 3).copy_(lib.tensor([1.0, 2.0, 3.0])),
    "copy_ number": lambda lib: lib.zeros(3).copy_(2),
    "copy_ bool": lambda lib: lib.zeros(3).copy_(lib.tensor([True, False, True])),
    "fill_ int 1.7": lambda lib: lib.zeros(3, dtype=lib.int64).fill_(1.7),
    "fill_ uint8 -1": lambda lib: lib.zeros(3, dtype=lib.uint8).fill_(-1),
    "fill_ bool 2": lambda lib: lib.zeros(3, dtype=lib.bool).fill_(2),
    "fill_ 0-d": lambda lib: lib.zeros(3).fill_(lib.tensor(4)),
    "zero_ int": lambda lib: lib.tensor([1, 2]).zero_(),
    "fill_ expanded": lambda lib: lib.zeros(3).expand(2, 3).fill_(1.5),
    "zero_ expanded": lambda lib: lib.ones(3).expand(2, 3).zero_(),
    "0-d add_": lambda lib: lib.tensor(1.5).add_(lib.tensor(2.0)),
    "empty add_": lambda lib: lib.zeros(0, 3).add_(lib.ones(3)),
}


@pytest.mark.parametrize("case", DTYPE_CASES)
def test_inplace_dtypes(case, device):
    check_op(lambda lib: DTYPE_CASES[case](lib), device=device)


def test_copy_gradients(device):
    def to_double(lib, x, s):
        y = lib.zeros(3, 4, dtype=lib.float64)
        return y.copy_(s * 2)

    def broadcast_src(lib, x, s):
        y = x * 1
        y.copy_(s[0])
        return y * x

    def fill_tensor(lib, x, s):
        y = x * 2
        y[1:].fill_(s.sum())
        return y
    for fn in (to_double, broadcast_src, fill_tensor):
        check_op(fn, arr((3, 4)), arr((3, 4)), device=device)


def test_inplace_returns_self_and_keeps_storage(device):
    for lib in LIBS:
        t = lib.ones(3, device=lib_device(lib, device))
        data_before = t.data_ptr() if lib is torch else t._data
        assert t.add_(1) is t and t.mul_(2) is t and t.zero_() is t and t.fill_(1) is t
        same = t.data_ptr() == data_before if lib is torch else t._data is data_before
        assert same


UNARY_INPLACE = {"abs_": None, "exp_": None, "log_": (0.5, 2.0), "log1p_": (0.0, 2.0),
                 "sqrt_": (0.5, 2.0), "rsqrt_": (0.5, 2.0), "sin_": None, "cos_": None,
                 "tanh_": None, "sigmoid_": None, "relu_": None, "reciprocal_": (0.5, 2.0),
                 "sign_": None, "floor_": None, "ceil_": None, "round_": None}


def call_inplace(lib, name, t, *args):
    """``t.<name>(*args)``."""
    return getattr(t, name)(*args)


@pytest.mark.parametrize("name", UNARY_INPLACE)
def test_unary_inplace(name, device):
    x = arr((3, 4), "float32", *(UNARY_INPLACE[name] or (-2, 2)))
    check_op(lambda lib, x: call_inplace(lib, name, x * 1), x, device=device)
    check_op(lambda lib, x: call_inplace(lib, name, x.t()[1:] * 1), x, device=device)
    check_op_or_error(lambda lib: call_inplace(lib, name, lib.tensor([1, 2, 3])), device=device)


def test_other_inplace_functions(device):
    x, o = arr((3, 4)), arr((4,), "float32", 0.5, 2)
    check_op(lambda lib, x: (x * 1).round_(decimals=1) if lib is torch else
             gputensor.ops.inplace.round_(x * 1, decimals=1), x, device=device)
    check_op(lambda lib, x, o: call_inplace(lib, "remainder_", x * 1, o), x, o, device=device)
    check_op(lambda lib, x, o: call_inplace(lib, "floor_divide_", x.detach() * 1, o), x, o,
             grad=False, device=device)
    check_op_or_error(lambda lib: call_inplace(lib, "remainder_", lib.tensor([5, -3]), 2),
                      device=device)


def check_op_or_error(fn, device):
    """The same result as torch, or torch's error."""
    try:
        fn(torch)
    except Exception:  # noqa: BLE001 - compared below
        check_error(fn, device=device)
    else:
        check_op(fn, device=device)
