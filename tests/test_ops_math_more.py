"""More elementwise math against torch: values, dtypes, gradients, grad_fn names, numbers on
either side and edge values (inf, NaN, zeros); in-place forms, out= and errors are in
test_ops_math_more_inplace.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import gputensor
from helpers import LAYOUTS, check_error, check_op, rand_array, run_on, torch_text

RNG = np.random.default_rng(23)
INT_DTYPES = ("int64", "int32", "int16", "int8", "uint8")
OTHER_DTYPES = INT_DTYPES + ("bool", "float16", "float64")
SHAPES = [(3, 4), (), (0, 3)]
SHAPE_PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 3), (4, 1)), ((), (3,)),
               ((0, 3), (3,))]
HALF = {"rtol": 3e-3, "atol": 3e-3}


def arr(shape, dtype="float32", low=-2.0, high=2.0):
    """Random test data (floats in [low, high), small ints, bools)."""
    return np.asarray(rand_array(shape, dtype, low, high, rng=RNG))


def away_from_zero(shape, dtype="float32", low=0.5, high=2.0):
    """Magnitudes in [low, high) with random signs (integers: 1 to 4; unsigned: positive)."""
    dt = np.dtype(dtype)
    sign = 1 if dt.kind == "u" else np.where(RNG.random(size=shape) < 0.5, -1, 1)
    if dt.kind in "iu":
        return np.asarray(sign * RNG.integers(1, 5, size=shape)).astype(dt)
    return np.asarray(sign * arr(shape, dtype, low, high)).astype(dt)


def torch_raises(fn, *arrays):
    """Whether torch raises for fn on these arrays (no grad)."""
    try:
        fn(torch, *[torch.from_numpy(np.array(a)) for a in arrays])
    except Exception:  # noqa: BLE001 - any error torch raises is compared
        return True
    return False


def check_error_on(fn, *args, device):
    """``check_error``, where torch's CUDA kernel name is not its CPU one with "cuda" for "cpu":
    addcmul's CPU kernel is "addcmul_cpu_out", its CUDA kernel "addcmul_cuda"."""
    if device == "cpu":
        check_error(fn, *args, device=device)
        return
    with pytest.raises(Exception) as theirs:  # noqa: PT011 - whatever torch raises
        fn(torch, *args)
    with pytest.raises(type(theirs.value)) as ours:
        run_on(gputensor, device, fn, *args)
    expected = str(theirs.value).replace('"addcmul_cpu_out"', '"addcmul_cuda"')
    assert str(ours.value) == expected or torch_text(str(ours.value)) == expected


def check_op_or_error(fn, *arrays, device, **tolerances):
    """The same value and dtype as torch, or torch's error where torch refuses."""
    if torch_raises(fn, *arrays):
        check_error_on(lambda lib, *ops: fn(lib, *[lib.tensor(o) for o in ops]), *arrays,
                    device=device)
    else:
        check_op(fn, *arrays, grad=False, device=device, **tolerances)


# ---- unary ops -------------------------------------------------------------------
# name -> (fn, (low, high) of the float domain)
UNARY = {
    "square": (lambda lib, x: lib.square(x), None),
    "square_method": (lambda lib, x: x.square(), None),
    "tan": (lambda lib, x: lib.tan(x), (-1.2, 1.2)),
    "sinh": (lambda lib, x: lib.sinh(x), None),
    "cosh": (lambda lib, x: x.cosh(), None),
    "asin": (lambda lib, x: lib.asin(x), (-0.9, 0.9)),
    "arcsin": (lambda lib, x: x.arcsin(), (-0.9, 0.9)),
    "acos": (lambda lib, x: x.acos(), (-0.9, 0.9)),
    "arccos": (lambda lib, x: lib.arccos(x), (-0.9, 0.9)),
    "atan": (lambda lib, x: lib.atan(x), (-4.0, 4.0)),
    "arctan": (lambda lib, x: x.arctan(), None),
    "asinh": (lambda lib, x: lib.asinh(x), (-4.0, 4.0)),
    "arcsinh": (lambda lib, x: x.arcsinh(), None),
    "acosh": (lambda lib, x: x.acosh(), (1.1, 4.0)),
    "arccosh": (lambda lib, x: lib.arccosh(x), (1.1, 4.0)),
    "atanh": (lambda lib, x: lib.atanh(x), (-0.9, 0.9)),
    "arctanh": (lambda lib, x: x.arctanh(), (-0.9, 0.9)),
    "log2": (lambda lib, x: lib.log2(x), (0.5, 4.0)),
    "log10": (lambda lib, x: x.log10(), (0.5, 4.0)),
    "exp2": (lambda lib, x: lib.exp2(x), None),
    "expm1": (lambda lib, x: x.expm1(), None),
    "trunc": (lambda lib, x: lib.trunc(x), (-4.0, 4.0)),
    "fix": (lambda lib, x: x.fix(), (-4.0, 4.0)),
    "frac": (lambda lib, x: lib.frac(x), (-4.0, 4.0)),
    "sgn": (lambda lib, x: lib.sgn(x), None),
    "signbit": (lambda lib, x: lib.signbit(x), None),
    "deg2rad": (lambda lib, x: lib.deg2rad(x), (-360.0, 360.0)),
    "rad2deg": (lambda lib, x: x.rad2deg(), None),
    "isposinf": (lambda lib, x: lib.isposinf(x), None),
    "isneginf": (lambda lib, x: x.isneginf(), None),
    "isreal": (lambda lib, x: lib.isreal(x), None),
}


def unary_input(name, shape, dtype="float32"):
    """Float data in the op's domain; small integers or random truth values."""
    if np.dtype(dtype).kind not in "f":
        return arr(shape, dtype)  # small integers (NaN out of the domain, as in torch)
    low, high = UNARY[name][1] or (-2.0, 2.0)
    return arr(shape, dtype, low, high)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", UNARY)
def test_unary_float(name, shape, layout, device):
    grad = name != "sgn"  # torch's sgn gradient is a ZeroTensor, not comparable: see below
    check_op(UNARY[name][0], unary_input(name, shape), layout=layout, grad=grad, device=device)


def test_sgn_gradient_is_zero(device):
    x = arr((3, 4))
    grads = []
    for lib in (gputensor, torch):
        leaf = lib.tensor(x, requires_grad=True, device=device if lib is gputensor else "cpu")
        out = lib.sgn(leaf)
        assert out.grad_fn.name().endswith("SgnBackward0")
        out.sum().backward()
        grads.append(bool((leaf.grad == 0).all()) and tuple(leaf.grad.shape) == x.shape)
    assert grads == [True, True]


@pytest.mark.parametrize("dtype", OTHER_DTYPES)
@pytest.mark.parametrize("name", UNARY)
def test_unary_dtypes(name, dtype, device):
    fn = UNARY[name][0]
    x = unary_input(name, (2, 3), dtype)
    tolerances = HALF if dtype == "float16" else {}
    check_op_or_error(fn, x, device=device, **tolerances)


def test_unary_grad_of_float64(device):
    x = arr((2, 3), "float64", 0.1, 0.9)
    for name in ("tan", "asin", "acos", "atanh", "log2", "exp2", "expm1", "frac", "deg2rad"):
        check_op(UNARY[name][0], x, device=device)


# domain edges: each op on values where torch gives inf, NaN or a signed zero
EDGES = {
    "log2": [0.0, -0.0, -1.0, math.inf, math.nan, 1.0],
    "log10": [0.0, -1.0, math.inf, 1e-30, 10.0],
    "exp2": [-math.inf, math.inf, 200.0, -200.0, 0.0],
    "expm1": [-math.inf, math.inf, 1e-10, -0.0, 100.0],
    "atanh": [-1.0, 1.0, 2.0, -0.0, 0.5],
    "acosh": [1.0, 0.5, math.inf, 2.0],
    "asin": [1.0, -1.0, 1.5, -0.0],
    "tan": [0.0, -0.0, math.inf, 1.0],
    "trunc": [-0.5, 0.5, -0.0, math.inf, -math.inf, math.nan, 2.7, -2.7],
    "frac": [-2.5, 2.5, -0.0, math.inf, math.nan, 3.0],
    "sgn": [math.nan, -0.0, 0.0, -3.0, math.inf],
    "signbit": [-0.0, 0.0, -1.0, math.nan, -math.nan, -math.inf, math.inf],
    "isposinf": [math.inf, -math.inf, math.nan, 1.0],
    "isneginf": [math.inf, -math.inf, math.nan, -1.0],
}


@pytest.mark.parametrize("name", EDGES)
def test_unary_edge_values(name, device):
    check_op(UNARY[name][0], np.array(EDGES[name], "float32"), grad=False, device=device)


# ---- binary ops ------------------------------------------------------------------
# name -> (fn, the second operand's domain, whether torch gives a gradient)
BINARY = {
    "atan2": (lambda lib, a, b: lib.atan2(a, b), "nonzero", True),
    "arctan2": (lambda lib, a, b: a.arctan2(b), "nonzero", True),
    "fmod": (lambda lib, a, b: lib.fmod(a, b), "nonzero", True),
    "fmod_method": (lambda lib, a, b: a.fmod(b), "nonzero", True),
    "hypot": (lambda lib, a, b: lib.hypot(a, b), "nonzero", True),
    "copysign": (lambda lib, a, b: lib.copysign(a, b), None, True),
    "copysign_method": (lambda lib, a, b: a.copysign(b), None, True),
    "logaddexp": (lambda lib, a, b: lib.logaddexp(a, b), None, True),
    "logaddexp2": (lambda lib, a, b: a.logaddexp2(b), None, True),
    "xlogy": (lambda lib, a, b: lib.xlogy(a, b), "positive", True),
    "xlogy_method": (lambda lib, a, b: a.xlogy(b), "positive", True),
    "float_power": (lambda lib, a, b: lib.float_power(a, b), "exponent", True),
    "float_power_method": (lambda lib, a, b: a.float_power(b), "exponent", True),
    "heaviside": (lambda lib, a, b: lib.heaviside(a, b), None, False),
    "heaviside_method": (lambda lib, a, b: a.heaviside(b), None, False),
    "true_divide": (lambda lib, a, b: a.true_divide(b), "nonzero", True),
    "addcmul": (lambda lib, a, b: lib.addcmul(a, a, b, value=0.5), None, True),
    "addcmul_method": (lambda lib, a, b: a.addcmul(b, b), None, True),
    "addcdiv": (lambda lib, a, b: lib.addcdiv(a, a, b, value=-2), "nonzero", True),
    "addcdiv_method": (lambda lib, a, b: b.addcdiv(a, b), "nonzero", True),
}


def binary_inputs(name, shape_a, shape_b, dtype_a="float32", dtype_b="float32"):
    """Operands in the op's domain."""
    kind = BINARY[name][1]
    a = arr(shape_a, dtype_a)
    if kind == "nonzero":
        b = away_from_zero(shape_b, dtype_b)
    elif kind == "positive":
        b = arr(shape_b, dtype_b, 0.2, 3.0)
    elif kind == "exponent":
        a = arr(shape_a, dtype_a, 0.5, 2.0) if np.dtype(dtype_a).kind == "f" else a
        b = arr(shape_b, dtype_b, -2.0, 2.0) if np.dtype(dtype_b).kind == "f" else \
            arr(shape_b, dtype_b, 0.0, 3.0)
    else:
        b = arr(shape_b, dtype_b)
    if name.startswith("heaviside") and a.size:
        a.flat[0] = 0  # a zero takes its value from b
    if np.dtype(dtype_b).kind == "b" and kind in ("nonzero", "positive"):
        b = np.ones(b.shape, bool)
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


DTYPE_PAIRS = [("int64", "int64"), ("int32", "int8"), ("uint8", "uint8"), ("int16", "bool"),
               ("bool", "bool"), ("int32", "float32"), ("float16", "float16"),
               ("float16", "int64"), ("float64", "float32"), ("float64", "float64")]


@pytest.mark.parametrize("pair", DTYPE_PAIRS, ids=str)
@pytest.mark.parametrize("name", BINARY)
def test_binary_dtypes(name, pair, device):
    fn = BINARY[name][0]
    a, b = binary_inputs(name, (2, 3), (3,), *pair)
    tolerances = HALF if "float16" in pair else {}
    check_op_or_error(fn, a, b, device=device, **tolerances)


def test_binary_grad_of_float64(device):
    for name in ("atan2", "fmod", "hypot", "copysign", "logaddexp", "logaddexp2", "xlogy",
                 "float_power", "addcmul", "addcdiv"):
        check_op(BINARY[name][0], *binary_inputs(name, (2, 3), (3,), "float64", "float64"),
                 device=device)


# ---- numbers on either side ------------------------------------------------------
NUMBER_OPERANDS = {
    "fmod(x, 1.5)": lambda lib, x: lib.fmod(x, 1.5),
    "fmod(x, -2)": lambda lib, x: x.fmod(-2),
    "copysign(x, -1)": lambda lib, x: lib.copysign(x, -1),
    "copysign(x, -0.0)": lambda lib, x: x.copysign(-0.0),
    "copysign(x, True)": lambda lib, x: x.copysign(True),
    "xlogy(x, 2)": lambda lib, x: lib.xlogy(x, 2),
    "xlogy(2.5, |x|)": lambda lib, x: lib.xlogy(2.5, x.abs()),
    "xlogy(0, |x|)": lambda lib, x: lib.xlogy(0, x.abs()),
    "float_power(|x|, 2)": lambda lib, x: lib.float_power(x.abs(), 2),
    "float_power(|x|, -0.5)": lambda lib, x: x.abs().float_power(-0.5),
    "float_power(2, x)": lambda lib, x: lib.float_power(2, x),
    "float_power(1.5, x)": lambda lib, x: lib.float_power(1.5, x),
    "atan2(x, 0-d)": lambda lib, x: lib.atan2(x, lib.tensor(-0.5)),
    "addcmul 0-d": lambda lib, x: lib.addcmul(lib.tensor(1.0), x, x, value=3),
    "addcdiv 0-d": lambda lib, x: lib.addcdiv(x, lib.tensor(2.0), x),
}


@pytest.mark.parametrize("expr", NUMBER_OPERANDS)
def test_number_operands(expr, device):
    check_op(NUMBER_OPERANDS[expr], away_from_zero((3, 4)), device=device)


@pytest.mark.parametrize("dtype", OTHER_DTYPES)
@pytest.mark.parametrize("expr", NUMBER_OPERANDS)
def test_number_operands_dtypes(expr, dtype, device):
    x = away_from_zero((2, 3), dtype) if dtype != "bool" else np.array([True, True, False])
    tolerances = HALF if dtype == "float16" else {}
    check_op_or_error(NUMBER_OPERANDS[expr], x, device=device, **tolerances)


def test_binary_edge_values(device):
    zeros_and_specials = np.array([0.0, 0.0, 0.0, 1.0, -1.0, 2.0, -0.0, math.inf], "float32")
    others = np.array([0.0, math.nan, math.inf, 0.0, -2.0, math.nan, -1.0, 1.0], "float32")
    for fn in (lambda lib, a, b: lib.xlogy(a, b), lambda lib, a, b: lib.copysign(a, b),
               lambda lib, a, b: lib.heaviside(a, b), lambda lib, a, b: lib.fmod(a, b),
               lambda lib, a, b: lib.atan2(a, b), lambda lib, a, b: lib.hypot(a, b),
               lambda lib, a, b: lib.logaddexp(a, b), lambda lib, a, b: lib.logaddexp2(a, b),
               lambda lib, a, b: lib.float_power(a, b)):
        check_op(fn, zeros_and_specials, others, grad=False, device=device)
        check_op(fn, others, zeros_and_specials, grad=False, device=device)
    infinities = np.array([math.inf, -math.inf, -math.inf], "float32")
    check_op(lambda lib, a, b: lib.logaddexp(a, b), infinities, infinities[::-1].copy(),
             grad=False, device=device)


def test_xlogy_gradient_at_zero(device):
    x = np.array([0.0, 0.0, 0.5, 2.0], "float32")
    y = np.array([0.0, 1.0, 0.0, 3.0], "float32")
    check_op(lambda lib, a, b: lib.xlogy(a, b), x, y, device=device)
    for number in (0.0, -1.0, math.inf, math.nan, 2):
        check_op(lambda lib, a, n=number: lib.xlogy(a, n), x, device=device)
        check_op(lambda lib, b, n=number: lib.xlogy(n, b), y, device=device)


def test_copysign_gradient_at_zero(device):
    x = np.array([0.0, -0.0, 1.5, -2.0], "float32")
    y = np.array([-1.0, 1.0, -0.0, 3.0], "float32")
    check_op(lambda lib, a, b: lib.copysign(a, b), x, y, device=device)


def test_heaviside_backward_is_not_implemented(device):
    x = np.array([0.5, 0.0, -1.0], "float32")
    check_error(lambda lib, a: lib.heaviside(lib.tensor(a, requires_grad=True),
                                             lib.tensor(0.5)).sum().backward(), x,
                device=device)
