"""Elementwise ops against torch: values, dtypes, gradients, grad_fn names and errors."""

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
    rand_array,
    run_on,
)

RNG = np.random.default_rng(7)
FLOAT = "float32"
INT_DTYPES = ("int64", "int32", "int16", "int8", "uint8")
SHAPES = [(3, 4), (2, 3, 4), (), (0, 3)]
SHAPE_PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 3), (4, 1)), ((), (3,)), ((3,), ()),
               ((0, 3), (3,))]


def arr(shape, dtype=FLOAT, low=-2.0, high=2.0):
    """Random test data (floats in [low, high), small ints, bools)."""
    return np.asarray(rand_array(shape, dtype, low, high, rng=RNG))


def nonzero(shape, dtype=FLOAT, low=0.5, high=2.0):
    """Data away from zero: magnitudes in [low, high) with random signs."""
    sign = np.where(RNG.random(size=shape) < 0.5, -1, 1)
    if np.dtype(dtype).kind == "u":
        sign = 1
    magnitude = arr(shape, dtype, low, high)
    if np.dtype(dtype).kind in "iu":
        magnitude = RNG.integers(1, 5, size=shape)
    return np.asarray(sign * magnitude).astype(dtype)


def torch_raises(fn, *arrays):
    """Whether torch raises for fn on these arrays (no grad)."""
    try:
        fn(torch, *[torch.from_numpy(np.array(a)) for a in arrays])
    except Exception:  # noqa: BLE001 - any error torch raises is compared
        return True
    return False


def check_op_or_error(fn, *arrays, device):
    """The same value and dtype as torch, or torch's error where torch refuses."""
    if torch_raises(fn, *arrays):
        check_error(lambda lib, *ops: fn(lib, *[lib.tensor(o) for o in ops]), *arrays,
                    device=device)
    else:
        check_op(fn, *arrays, grad=False, device=device)


# ---- unary ops -------------------------------------------------------------------
# name -> (fn, (low, high) of the float domain)
UNARY = {
    "neg": (lambda lib, x: lib.neg(x), None),
    "neg_op": (lambda lib, x: -x, None),
    "abs": (lambda lib, x: lib.abs(x), None),
    "abs_op": (lambda lib, x: abs(x), None),
    "exp": (lambda lib, x: lib.exp(x), None),
    "log": (lambda lib, x: lib.log(x), (0.5, 3.0)),
    "log1p": (lambda lib, x: x.log1p(), (-0.5, 2.0)),
    "sqrt": (lambda lib, x: lib.sqrt(x), (0.5, 3.0)),
    "rsqrt": (lambda lib, x: x.rsqrt(), (0.5, 3.0)),
    "sin": (lambda lib, x: lib.sin(x), None),
    "cos": (lambda lib, x: x.cos(), None),
    "tanh": (lambda lib, x: lib.tanh(x), None),
    "sigmoid": (lambda lib, x: x.sigmoid(), (-8.0, 8.0)),
    "relu": (lambda lib, x: lib.relu(x), None),
    "sign": (lambda lib, x: x.sign(), None),
    "floor": (lambda lib, x: lib.floor(x), None),
    "ceil": (lambda lib, x: x.ceil(), None),
    "round": (lambda lib, x: lib.round(x), None),
    "round_decimals": (lambda lib, x: lib.round(x, decimals=2), None),
    "round_negative_decimals": (lambda lib, x: x.round(decimals=-1), (-200.0, 200.0)),
    "reciprocal": (lambda lib, x: lib.reciprocal(x), "nonzero"),
    "square_by_pow": (lambda lib, x: x ** 2, None),
    "clamp": (lambda lib, x: lib.clamp(x, -0.5, 0.5), None),
    "clamp_min": (lambda lib, x: x.clamp(min=-0.5), None),
    "clamp_max": (lambda lib, x: lib.clamp(x, max=0.5), None),
    "clip": (lambda lib, x: lib.clip(x, -1, 1), None),
}


def unary_input(name, shape, dtype=FLOAT):
    domain = UNARY[name][1]
    if domain == "nonzero":
        return nonzero(shape, dtype)
    low, high = domain or (-2.0, 2.0)
    return arr(shape, dtype, low, high)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", UNARY)
def test_unary_float(name, shape, layout, device):
    check_op(UNARY[name][0], unary_input(name, shape), layout=layout, device=device)


@pytest.mark.parametrize("dtype", INT_DTYPES + ("bool", "float16", "float64"))
@pytest.mark.parametrize("name", UNARY)
def test_unary_dtypes(name, dtype, device):
    fn = UNARY[name][0]
    x = unary_input(name, (2, 3), dtype) if dtype != "bool" else arr((2, 3), "bool")
    if dtype in ("float16",):
        check_op(fn, x, grad=False, rtol=2e-3, atol=2e-3, device=device)
    else:
        check_op_or_error(fn, x, device=device)


def test_sign_of_nan_and_zeros(device):
    check_op(lambda lib, x: x.sign(), np.array([np.nan, -0.0, 0.0, -3.0, 2.0], "float32"),
             device=device)


def test_round_half_to_even(device):
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 0.125, 0.375, 1250.0, 1350.0], "float32")
    check_op(lambda lib, x: lib.round(x), x, device=device)
    check_op(lambda lib, x: lib.round(x, decimals=2), x, device=device)
    check_op(lambda lib, x: lib.round(x, decimals=-2), x, device=device)


def test_sigmoid_extremes(device):
    check_op(lambda lib, x: x.sigmoid(), np.array([-100.0, -20.0, 0.0, 20.0, 100.0], "float32"),
             device=device)


# ---- binary ops ------------------------------------------------------------------
# name -> (fn, kind of the second operand's domain, whether torch gives a gradient)
BINARY = {
    "add": (lambda lib, a, b: a + b, None, True),
    "add_fn_alpha": (lambda lib, a, b: lib.add(a, b, alpha=2.5), None, True),
    "sub": (lambda lib, a, b: a - b, None, True),
    "sub_method_alpha": (lambda lib, a, b: a.sub(b, alpha=-1.5), None, True),
    "rsub": (lambda lib, a, b: lib.rsub(a, b), None, True),
    "mul": (lambda lib, a, b: a * b, None, True),
    "div": (lambda lib, a, b: a / b, "nonzero", True),
    "true_divide": (lambda lib, a, b: lib.true_divide(a, b), "nonzero", True),
    "div_trunc": (lambda lib, a, b: lib.div(a, b, rounding_mode="trunc"), "nonzero", True),
    "div_floor": (lambda lib, a, b: a.div(b, rounding_mode="floor"), "nonzero", True),
    "floor_divide": (lambda lib, a, b: a // b, "nonzero", False),
    "remainder": (lambda lib, a, b: a % b, "nonzero", True),
    "pow": (lambda lib, a, b: a ** b, "pow", True),
    "maximum": (lambda lib, a, b: lib.maximum(a, b), None, True),
    "minimum": (lambda lib, a, b: a.minimum(b), None, True),
    "where": (lambda lib, a, b: lib.where(a > b, a, b), None, True),
    "where_method": (lambda lib, a, b: a.where(b > 0, b), None, True),
    "clamp_tensor_min": (lambda lib, a, b: lib.clamp(a, min=b), None, True),
    "clamp_tensor_max": (lambda lib, a, b: a.clamp(max=b), None, True),
    "clamp_tensors": (lambda lib, a, b: lib.clamp(a, b - 0.5, b + 0.5), None, True),
    "eq": (lambda lib, a, b: a == b, None, True),
    "ne": (lambda lib, a, b: a != b, None, True),
    "lt": (lambda lib, a, b: a < b, None, True),
    "le": (lambda lib, a, b: lib.le(a, b), None, True),
    "gt": (lambda lib, a, b: a.gt(b), None, True),
    "ge": (lambda lib, a, b: a >= b, None, True),
}


def binary_inputs(name, shape_a, shape_b, dtype=FLOAT):
    kind = BINARY[name][1]
    if kind == "pow":
        if np.dtype(dtype).kind == "f":
            return arr(shape_a, dtype, 0.5, 2.0), arr(shape_b, dtype, -2.0, 2.0)
        return arr(shape_a, dtype), arr(shape_b, dtype, 0, 3)
    a = arr(shape_a, dtype)
    b = nonzero(shape_b, dtype) if kind == "nonzero" else arr(shape_b, dtype)
    if name.startswith(("eq", "ne", "le", "ge")) and a.size and b.size and a.ndim <= b.ndim:
        b.flat[0] = a.flat[0]  # a tie somewhere
    return a, b


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_binary_float(name, shapes, layout, device):
    fn, _, grad = BINARY[name]
    check_op(fn, *binary_inputs(name, *shapes), layout=layout, grad=grad, device=device)


@pytest.mark.parametrize("shapes", SHAPE_PAIRS[:3], ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_binary_swapped_shapes(name, shapes, device):
    fn, _, grad = BINARY[name]
    check_op(fn, *binary_inputs(name, shapes[1], shapes[0]), grad=grad, device=device)


DTYPE_PAIRS = [("int64", "int64"), ("int32", "int8"), ("uint8", "int8"), ("uint8", "uint8"),
               ("int16", "bool"), ("bool", "bool"), ("bool", "int64"), ("int32", "float32"),
               ("float16", "float16"), ("float16", "int64"), ("float64", "float32")]


# clamp with tensor bounds builds its bounds as b - 0.5: bool pairs would not test bools
BINARY_DTYPE_CASES = [(name, pair) for name in BINARY for pair in DTYPE_PAIRS
                      if not (name.startswith("clamp_tensors") and "bool" in pair)]


@pytest.mark.parametrize(("name", "dtypes"), BINARY_DTYPE_CASES, ids=str)
def test_binary_dtypes(name, dtypes, device):
    fn = BINARY[name][0]
    a, b = (arr((2, 3), dtypes[0]), arr((3,), dtypes[1]))
    if BINARY[name][1] == "nonzero":
        b = nonzero((3,), dtypes[1]) if dtypes[1] != "bool" else np.ones(3, bool)
    if BINARY[name][1] == "pow" and dtypes[1] != "bool":
        b = np.abs(b).astype(dtypes[1]) % 3 if np.dtype(dtypes[1]).kind != "f" else b
    if "float16" in dtypes:
        if torch_raises(fn, a, b):
            check_op_or_error(fn, a, b, device=device)
        else:
            check_op(fn, a, b, grad=False, rtol=2e-3, atol=2e-3, device=device)
    else:
        check_op_or_error(fn, a, b, device=device)


def test_maximum_minimum_ties_share_the_gradient(device):
    a = np.array([1.0, 2.0, 3.0, np.nan], "float32")
    b = np.array([1.0, 0.0, 3.0, 1.0], "float32")
    check_op(lambda lib, a, b: lib.maximum(a, b), a, b, device=device)
    check_op(lambda lib, a, b: lib.minimum(a, b), a, b, device=device)


def test_maximum_needs_tensors(device):
    x = np.ones(3, "float32")
    check_error(lambda lib, x: lib.maximum(lib.tensor(x), 2), x, device=device)
    check_error(lambda lib, x: lib.minimum(2.0, lib.tensor(x)), x, device=device)


def test_where_with_number_branches(device):
    c = arr((3, 4), "bool")
    x = arr((3, 4))
    check_op(lambda lib, c, x: lib.where(c, x, 0.0), c, x, device=device)
    check_op(lambda lib, c, x: lib.where(c, 1.5, x), c, x, device=device)
    check_op(lambda lib, c: lib.where(c, 1.0, 0.0), c, device=device)
    check_op(lambda lib, c: lib.where(c, 1, 0), c, device=device)
    check_op(lambda lib, c: lib.where(c, 1, 2.5), c, device=device)
    check_op(lambda lib, c, i: lib.where(c, i, 2.5), c, arr((4,), "int32"), device=device)
    check_op(lambda lib, c, u: lib.where(c, u, -1), c, arr((4,), "uint8"), device=device)
    check_op(lambda lib, c, x: lib.where(c, x, lib.tensor(2.0, dtype=lib.float64)), c, x,
             device=device)
    check_op(lambda lib, c: lib.where(c), c, device=device)


def test_where_errors(device):
    x = arr((3,))
    check_error(lambda lib, x: lib.where(lib.tensor([1, 0, 1]), lib.tensor(x), 0.0), x,
                device=device)
    check_error(lambda lib, x: lib.where(lib.tensor(x) > 0, lib.tensor(x), lib.ones(4)), x,
                device=device)
    check_error(lambda lib, x: lib.where(lib.ones(2) > 0, lib.tensor(x), lib.tensor(x)), x,
                device=device)
    check_error(lambda lib, x: lib.where(lib.ones(2, 1) > 0, lib.tensor(x), lib.ones(4)), x,
                device=device)


# ---- numbers on either side ------------------------------------------------------
SCALAR_EXPRESSIONS = {
    "x + 2": lambda x: x + 2, "2 + x": lambda x: 2 + x, "x + 1.5": lambda x: x + 1.5,
    "x - 1": lambda x: x - 1, "1 - x": lambda x: 1 - x, "1.5 - x": lambda x: 1.5 - x,
    "x * 2": lambda x: x * 2, "2 * x": lambda x: 2 * x, "x * 0.5": lambda x: x * 0.5,
    "x / 2": lambda x: x / 2, "2 / x": lambda x: 2 / x, "x / 0.25": lambda x: x / 0.25,
    "x // 0.5": lambda x: x // 0.5, "3 // x": lambda x: 3 // x,
    "x % 0.75": lambda x: x % 0.75, "3 % x": lambda x: 3 % x, "x % -0.75": lambda x: x % -0.75,
    "x ** 2": lambda x: x ** 2, "x ** 3": lambda x: x ** 3, "x ** 0": lambda x: x ** 0,
    "x ** -1": lambda x: x ** -1, "x ** 0.5": lambda x: x.abs() ** 0.5,
    "2 ** x": lambda x: 2 ** x, "0.5 ** x": lambda x: 0.5 ** x, "-x": lambda x: -x,
    "+x": lambda x: +x, "abs(x)": lambda x: abs(x), "x.pow(2)": lambda x: x.pow(2),
    "x.add(2, alpha=3)": lambda x: x.add(2, alpha=3),
    "x.sub(2, alpha=3)": lambda x: x.sub(2, alpha=3),
    "x.mul(True)": lambda x: x.mul(True),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("expr", SCALAR_EXPRESSIONS)
def test_number_operands(expr, layout, device):
    fn = SCALAR_EXPRESSIONS[expr]
    grad = "//" not in expr and not expr.startswith("3 %")
    check_op(lambda lib, x: fn(x), nonzero((3, 4)), layout=layout, grad=grad, device=device)


@pytest.mark.parametrize("dtype", INT_DTYPES + ("bool", "float16", "float64"))
@pytest.mark.parametrize("expr", SCALAR_EXPRESSIONS)
def test_number_operands_dtypes(expr, dtype, device):
    fn = SCALAR_EXPRESSIONS[expr]
    x = nonzero((2, 3), dtype) if dtype != "bool" else np.array([True, True, False])
    if dtype == "float16":
        check_op(lambda lib, x: fn(x), x, grad=False, rtol=2e-3, atol=2e-3, device=device)
    else:
        check_op_or_error(lambda lib, x: fn(x), x, device=device)


GRAD_FN_NAMES = {
    "x * 2": lambda lib, x, y: x * 2, "2 * x": lambda lib, x, y: 2 * x,
    "2 / x": lambda lib, x, y: 2 / x, "x + 1": lambda lib, x, y: x + 1,
    "1 + x": lambda lib, x, y: 1 + x, "1 - x": lambda lib, x, y: 1 - x,
    "x - 1": lambda lib, x, y: x - 1, "x / 2": lambda lib, x, y: x / 2,
    "x / y": lambda lib, x, y: x / y, "x ** 2": lambda lib, x, y: x ** 2,
    "x ** y": lambda lib, x, y: x ** y, "2 ** x": lambda lib, x, y: 2 ** x,
    "x ** 0-d": lambda lib, x, y: x ** lib.tensor(2.0), "-x": lambda lib, x, y: -x,
    "abs": lambda lib, x, y: abs(x), "x % 2": lambda lib, x, y: x % 2,
    "x % y": lambda lib, x, y: x % y, "2 % x": lambda lib, x, y: 2 % x,
    "x // 2": lambda lib, x, y: x // 2,
    "div floor": lambda lib, x, y: lib.div(x, y, rounding_mode="floor"),
    "rsub": lambda lib, x, y: lib.rsub(x, y), "rsub number": lambda lib, x, y: lib.rsub(x, 2),
    "add alpha": lambda lib, x, y: lib.add(x, y, alpha=2),
    "clamp numbers": lambda lib, x, y: x.clamp(0, 1),
    "clamp tensors": lambda lib, x, y: x.clamp(y, y + 1),
    "clamp tensor max": lambda lib, x, y: lib.clamp(x, max=y),
    "clip": lambda lib, x, y: x.clip(0), "maximum": lambda lib, x, y: lib.maximum(x, y),
    "minimum": lambda lib, x, y: lib.minimum(x, y),
    "where": lambda lib, x, y: lib.where(y > 0, x, y),
    "where number": lambda lib, x, y: lib.where(y > 0, x, 0.0),
    "round": lambda lib, x, y: x.round(), "round decimals": lambda lib, x, y: x.round(decimals=1),
    "sign": lambda lib, x, y: x.sign(), "floor": lambda lib, x, y: x.floor(),
    "ceil": lambda lib, x, y: x.ceil(), "relu": lambda lib, x, y: x.relu(),
    "sigmoid": lambda lib, x, y: x.sigmoid(), "tanh": lambda lib, x, y: x.tanh(),
    "exp": lambda lib, x, y: x.exp(), "log": lambda lib, x, y: x.log(),
    "log1p": lambda lib, x, y: x.log1p(), "sqrt": lambda lib, x, y: x.sqrt(),
    "rsqrt": lambda lib, x, y: x.rsqrt(), "reciprocal": lambda lib, x, y: x.reciprocal(),
    "sin": lambda lib, x, y: x.sin(), "cos": lambda lib, x, y: x.cos(),
    "clone": lambda lib, x, y: x.clone(), "double": lambda lib, x, y: x.double(),
}


@pytest.mark.parametrize("expr", GRAD_FN_NAMES)
def test_grad_fn_names(expr, device):
    def fn(lib):
        x = lib.tensor([0.5, 1.5, 2.0], requires_grad=True)
        return GRAD_FN_NAMES[expr](lib, x, lib.tensor([1.0, 0.5, 3.0], requires_grad=True))
    ours, theirs = (run_on(lib, device, fn) for lib in LIBS)
    assert_on(ours, device)
    assert grad_fn_names(ours) == grad_fn_names(theirs) != [None]


def test_not_differentiable_ops_raise_on_backward(device):
    x = arr((3,), low=0.5)
    check_error(lambda lib, x: (lib.tensor(x, requires_grad=True) // 2).sum().backward(), x,
                device=device)
    check_error(lambda lib, x: (2 % lib.tensor(x, requires_grad=True)).sum().backward(), x,
                device=device)


def test_rounding_division_gives_zero_gradient(device):
    check_op(lambda lib, x: lib.div(x, 0.3, rounding_mode="floor"), arr((5,)), device=device)
    check_op(lambda lib, x: lib.div(x, 0.3, rounding_mode="trunc"), arr((5,)), device=device)


def test_pow_edge_gradients(device):
    zeros = np.array([0.0, 0.0, 2.0, 0.0], "float32")
    exps = np.array([0.0, 2.0, 0.0, -1.0], "float32")
    check_op(lambda lib, a, b: a ** b, zeros, exps, device=device)
    check_op(lambda lib, b: 0 ** b, exps, device=device)
    check_op(lambda lib, a: a ** 0, zeros, device=device)


# ---- bitwise and logical ops ------------------------------------------------------
BITWISE = {
    "and": lambda lib, a, b: a & b, "or": lambda lib, a, b: a | b,
    "xor": lambda lib, a, b: a ^ b, "and_fn": lambda lib, a, b: lib.bitwise_and(a, b),
    "or_method": lambda lib, a, b: a.bitwise_or(b),
    "xor_fn": lambda lib, a, b: lib.bitwise_xor(a, b),
    "and_number": lambda lib, a, b: a & 6, "number_or": lambda lib, a, b: 5 | a,
    "xor_bool_number": lambda lib, a, b: a ^ True, "not": lambda lib, a, b: ~a,
    "not_fn": lambda lib, a, b: lib.bitwise_not(b),
    "logical_and": lambda lib, a, b: lib.logical_and(a, b),
    "logical_or": lambda lib, a, b: a.logical_or(b),
    "logical_xor": lambda lib, a, b: lib.logical_xor(a, b),
    "logical_not": lambda lib, a, b: a.logical_not(),
}
BITWISE_DTYPES = [("bool", "bool"), ("int64", "int64"), ("int32", "int8"), ("uint8", "int8"),
                  ("uint8", "bool"), ("int16", "uint8")]


@pytest.mark.parametrize("shapes", SHAPE_PAIRS, ids=str)
@pytest.mark.parametrize("dtypes", BITWISE_DTYPES, ids=str)
@pytest.mark.parametrize("name", BITWISE)
def test_bitwise(name, dtypes, shapes, device):
    check_op(BITWISE[name], arr(shapes[0], dtypes[0]), arr(shapes[1], dtypes[1]), device=device)


@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("int64", "float32"),
                                    ("float64", "int32"), ("float16", "float16")], ids=str)
@pytest.mark.parametrize("name", BITWISE)
def test_bitwise_float_errors(name, dtypes, device):
    check_op_or_error(BITWISE[name], arr((3,), dtypes[0]), arr((3,), dtypes[1]), device=device)


def test_operator_functions_for_the_method_table(device):
    """``+`` and ``~`` as torch's operators do them (the operator table should use these)."""
    check_error(lambda lib, b: lib.positive(lib.tensor(b)) if lib is torch else
                gputensor.ops.pointwise.positive(lib.tensor(b)), arr((3,), "bool"), device=device)
    check_error(lambda lib, x: ~lib.tensor(x) if lib is torch else
                gputensor.ops.pointwise.invert_operator(lib.tensor(x)), arr((3,)), device=device)
    check_op(lambda lib, i: ~i if lib is torch else gputensor.ops.pointwise.invert_operator(i),
             arr((3,), "int16"), device=device)


def test_bitwise_float_number_errors(device):
    i = np.array([1, 2, 3])
    check_error(lambda lib, i: lib.tensor(i) & 1.5, i, device=device)
    check_error(lambda lib, i: lib.tensor(i) | lib.tensor(1.5), i, device=device)


# ---- clamp -------------------------------------------------------------------------
def test_clamp_bounds(device):
    x = arr((4, 5))
    lo, hi = arr((5,), low=-1, high=0), arr((4, 1), low=0, high=1)
    check_op(lambda lib, x, lo, hi: x.clamp(lo, hi), x, lo, hi, device=device)
    # min > max: max wins
    check_op(lambda lib, x, lo, hi: x.clamp(hi, lo), x, lo, hi, device=device)
    check_op(lambda lib, x, lo, hi: lib.clamp(x, 0.5, -0.5), x, lo, hi, device=device)
    check_op(lambda lib, x, lo: lib.clamp(x[0], lo.reshape(1, 5).expand(3, 5)), x, lo,
             device=device)
    check_op(lambda lib, x: x.clamp(min=lib.tensor(0.1)), x, device=device)
    check_error(lambda lib, x: lib.clamp(lib.tensor(x)), x, device=device)
    check_error(lambda lib, x: lib.clamp(lib.tensor(x), lib.zeros(4)), x, device=device)
    check_error(lambda lib, x: lib.clamp(lib.tensor(x), lib.zeros(5), lib.zeros(3)), x,
                device=device)


def test_clamp_dtypes(device):
    i, b = arr((6,), "int64"), arr((6,), "bool")
    check_op(lambda lib, i: i.clamp(0, 2), i, device=device)
    check_op(lambda lib, i: i.clamp(0.5), i, device=device)
    check_op(lambda lib, i: i.clamp(0, 2.5), i, device=device)
    check_op(lambda lib, i: i.clamp(max=lib.tensor([0.5])), i, device=device)
    check_op(lambda lib, b: b.clamp(0, 1), b, device=device)
    check_op(lambda lib, b: b.clamp(0.5), b, device=device)
    check_error(lambda lib, b: lib.tensor(b).clamp(False, True), b, device=device)
    for dtype, high in (("int8", 300), ("int16", 70000), ("int32", 2 ** 40), ("uint8", 256),
                        ("int64", 2 ** 64)):
        check_error(lambda lib, i, dtype=dtype, high=high:
                    lib.tensor(i).to(getattr(lib, dtype)).clamp(-1, high), np.abs(i), device=device)


# ---- broadcasting errors -----------------------------------------------------------
BAD_PAIRS = [((3,), (4,)), ((2, 3), (4, 3)), ((2, 1, 3), (4, 2)), ((2, 3), (2,))]


@pytest.mark.parametrize("shapes", BAD_PAIRS, ids=str)
@pytest.mark.parametrize("name", [n for n in BINARY if not n.startswith("where_method")])
def test_broadcast_errors(name, shapes, device):
    fn = BINARY[name][0]
    check_error(lambda lib, a, b: fn(lib, lib.tensor(a), lib.tensor(b)),
                *binary_inputs(name, *shapes), device=device)


@pytest.mark.parametrize("shapes", BAD_PAIRS, ids=str)
@pytest.mark.parametrize("name", ["and", "xor", "logical_and"])
def test_broadcast_errors_bitwise(name, shapes, device):
    check_error(lambda lib, a, b: BITWISE[name](lib, lib.tensor(a), lib.tensor(b)),
                arr(shapes[0], "int64"), arr(shapes[1], "int64"), device=device)


# ---- misc ------------------------------------------------------------------------------
def test_isnan_isinf_isfinite(device):
    x = np.array([0.0, np.nan, np.inf, -np.inf, 1.0], "float32")
    for name in ("isnan", "isinf", "isfinite"):
        check_op(lambda lib, x, name=name: getattr(lib, name)(x), x, device=device)
        check_op(lambda lib, x, name=name: getattr(x, name)(), x, device=device)
        check_op(lambda lib, i, name=name: getattr(lib, name)(i), np.array([1, 2, 3]),
                 device=device)
        check_op(lambda lib, b, name=name: getattr(lib, name)(b), np.array([True, False]),
                 device=device)


def test_result_type_function():
    for a, b in ((lambda lib: lib.zeros(3, dtype=lib.int32), 1.5), (lambda lib: 1, 1.5),
                 (lambda lib: lib.zeros(3), lambda lib: lib.tensor(1, dtype=lib.float64)),
                 (lambda lib: lib.zeros(3, dtype=lib.uint8), lambda lib: lib.zeros(3).char())):
        results = []
        for lib in (gputensor, torch):
            args = [v(lib) if callable(v) else v for v in (a, b)]
            results.append(str(lib.result_type(*args)).split(".")[-1])
        assert results[0] == results[1]


def test_numpy_scalars_are_numbers(device):
    x = arr((3,))
    check_op(lambda lib, x: x * np.float32(2.0), x, device=device)
    check_op(lambda lib, x: x + np.int64(3), x, device=device)


def test_assert_same_helper_sees_dtype():
    with pytest.raises(AssertionError):
        assert_same(gputensor.ones(2), torch.ones(2, dtype=torch.float64))


def test_check_op_sees_the_device(cuda_device):
    """A result left on the CPU fails a CUDA run; tensors the compared code makes are made on
    the device (a CPU one would meet the CUDA input and raise)."""
    x = np.ones(3, "float32")
    with pytest.raises(AssertionError, match="a result on cpu"):
        check_op(lambda lib, x: x.cpu() * 2, x, device=cuda_device)
    check_op(lambda lib, x: x + lib.ones(3), x, device=cuda_device)  # made on the device
