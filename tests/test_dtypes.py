"""dtype objects and torch's type promotion (not NumPy's), checked against torch."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import gputensor
from helpers import (
    LIBS,
    assert_on,
    check_error,
    check_op,
    dtype_name,
    made_on,
    to_numpy,
    torch_text,
)

DTYPES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")
SCALARS = {"True": True, "3": 3, "-2": -2, "1.5": 1.5}
OPERATORS = {"+": lambda a, b: a + b, "*": lambda a, b: a * b, "/": lambda a, b: a / b}


def values(dtype, shape):
    """Small nonzero values of a dtype (no overflow in +, *, /)."""
    base = np.array([1, 2, 3, 2, 1, 3][:int(np.prod(shape))] or [1]).reshape(shape)
    return base.astype(bool if dtype == "bool" else dtype)


def operand(lib, kind):
    """A tensor with dims ("t:<dtype>"), a 0-d tensor ("0:<dtype>") or a Python number."""
    if kind in SCALARS:
        return SCALARS[kind]
    form, dtype = kind.split(":")
    shape = (2, 3) if form == "t" else ()
    return lib.tensor(values(dtype, shape), dtype=getattr(lib, dtype))


OPERANDS = [f"t:{d}" for d in DTYPES] + [f"0:{d}" for d in DTYPES] + list(SCALARS)


def compare(fn, a_kind, b_kind, device):
    results = []
    for lib in LIBS:
        try:
            with made_on(lib, device):
                results.append(fn(operand(lib, a_kind), operand(lib, b_kind)))
        except Exception as e:  # noqa: BLE001 - errors must match too
            results.append(e)
    ours, theirs = results
    where = f"{a_kind} {b_kind}"
    if isinstance(theirs, Exception):
        assert isinstance(ours, type(theirs)), (where, ours, theirs)
        assert torch_text(str(ours)) == str(theirs), where
        return
    assert_on(ours, device)
    assert dtype_name(ours) == dtype_name(theirs), (where, ours.dtype, theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape), where
    tol = 1e-3 if "float16" in where else 1e-6
    np.testing.assert_allclose(to_numpy(ours).astype(float), to_numpy(theirs).astype(float),
                               rtol=tol, err_msg=where)


@pytest.mark.parametrize("left", OPERANDS)
@pytest.mark.parametrize("op", OPERATORS)
def test_promotion_cross_product(op, left, device):
    """dtype x (tensor with dims, 0-d tensor, Python number) on both sides of + * /."""
    for right in OPERANDS:
        if left in SCALARS and right in SCALARS:
            continue
        compare(OPERATORS[op], left, right, device=device)


@pytest.mark.parametrize("a, b", list(itertools.product(DTYPES, repeat=2)))
def test_promote_types(a, b):
    ours = gputensor.promote_types(getattr(gputensor, a), getattr(gputensor, b))
    assert repr(ours).split(".")[-1] == dtype_name(torch.empty(0, dtype=torch.promote_types(
        getattr(torch, a), getattr(torch, b))))


@pytest.mark.parametrize("left", OPERANDS)
def test_result_type(left, device):
    for right in OPERANDS:
        if left in SCALARS and right in SCALARS:
            continue
        with made_on(gputensor, device):
            ours = gputensor.result_type(operand(gputensor, left), operand(gputensor, right))
        theirs = torch.result_type(operand(torch, left), operand(torch, right))
        assert repr(ours) == repr(theirs).replace("torch", "gputensor"), (left, right)


PROMISED = {
    "int tensor + 1.5": lambda lib: lib.tensor([1, 2]) + 1.5,
    "int / int": lambda lib: lib.tensor([1, 2]) / lib.tensor([2, 4]),
    "int / python int": lambda lib: lib.tensor([1, 2]) / 2,
    "float32 + 0-d float64": lambda lib: lib.ones(2) + lib.tensor(1.5, dtype=lib.float64),
    "int + 0-d float64": lambda lib: lib.tensor([1, 2]) + lib.tensor(1.5, dtype=lib.float64),
    "int32 + 0-d int64": lambda lib: lib.tensor([1, 2], dtype=lib.int32) + lib.tensor(5),
    "int8 + 0-d float16": lambda lib: lib.tensor([1], dtype=lib.int8) + lib.tensor(
        1.5, dtype=lib.float16),
    "uint8 + int8": lambda lib: lib.tensor([1, 2], dtype=lib.uint8) + lib.tensor(
        [1, -1], dtype=lib.int8),
    "bool + bool": lambda lib: lib.tensor([True, False]) + lib.tensor([True, True]),
    "bool * bool": lambda lib: lib.tensor([True, False]) * lib.tensor([True, True]),
    "bool + 1": lambda lib: lib.tensor([True, False]) + 1,
    "bool + 1.5": lambda lib: lib.tensor([True, False]) + 1.5,
    "int ** float": lambda lib: lib.tensor([1, 2]) ** 0.5,
    "int ** int tensor": lambda lib: lib.tensor([1, 2]) ** lib.tensor([2, 3]),
    "2 ** int tensor": lambda lib: 2 ** lib.tensor([1, 2]),
    "2.5 ** int tensor": lambda lib: 2.5 ** lib.tensor([1, 2]),
    "float16 + 1e5": lambda lib: lib.tensor([1.0], dtype=lib.float16) + 1e5,
    "float16 + int64": lambda lib: lib.tensor([1.5], dtype=lib.float16) + lib.tensor([1]),
    "float16 + float32 0-d": lambda lib: lib.tensor([1.5], dtype=lib.float16) + lib.tensor(2.0),
    "int / 0": lambda lib: lib.tensor([1, 0, -1]) / 0,
    "int / int zero": lambda lib: lib.tensor([1, 0, -1]) / lib.tensor([0, 0, 0]),
    "int8 * 100 (wraps)": lambda lib: lib.tensor([3], dtype=lib.int8) * 100,
    "0-d int8 + 0-d int64": lambda lib: lib.tensor(1, dtype=lib.int8) + lib.tensor(300),
    "int32 + 2**40": lambda lib: lib.tensor([1, 2], dtype=lib.int32) + 2 ** 40,
    "int - True": lambda lib: lib.tensor([1, 2]) - 1,
    "uint8 - 1": lambda lib: lib.tensor([0, 2], dtype=lib.uint8) - 1,
    "int == 1.5": lambda lib: lib.tensor([1, 2]) == 1.5,
    "float64 0-d * int": lambda lib: lib.tensor(2.0, dtype=lib.float64) * lib.tensor([1, 2]),
}


@pytest.mark.parametrize("case", PROMISED)
def test_promised_promotion_cases(case, device):
    check_op(lambda lib: PROMISED[case](lib), device=device)


def test_default_dtype_changes_float_results(device):
    try:
        for lib in (gputensor, torch):
            lib.set_default_dtype(lib.float64)
        for fn in (lambda lib: lib.tensor([1, 2]) + 1.5, lambda lib: lib.tensor([1]) / 2,
                   lambda lib: lib.ones(2, dtype=lib.float32) + 1.5,
                   lambda lib: lib.tensor([1]).exp(), lambda lib: lib.tensor([True]) * 2.5):
            check_op(fn, device=device)
    finally:
        for lib in (gputensor, torch):
            lib.set_default_dtype(lib.float32)


def test_bool_subtraction_errors(device):
    for fn in (lambda lib: lib.tensor([True]) - lib.tensor([False]),
               lambda lib: lib.tensor([True]) - True, lambda lib: 1 - lib.tensor([True]),
               lambda lib: lib.tensor([True]) - 1.5, lambda lib: lib.tensor([1]) - lib.tensor(
                   [True]), lambda lib: lib.rsub(lib.tensor([True]), 1),
               lambda lib: -lib.tensor([True]), lambda lib: lib.tensor([1]).add(2, alpha=1.5)):
        check_error(fn, device=device)


@pytest.mark.parametrize("name", DTYPES)
def test_dtype_attributes(name):
    ours, theirs = getattr(gputensor, name), getattr(torch, name)
    assert repr(ours) == repr(theirs).replace("torch", "gputensor")
    assert ours.is_floating_point == theirs.is_floating_point
    assert ours.is_signed == theirs.is_signed
    assert ours.itemsize == theirs.itemsize
    assert ours.is_complex is False


def test_dtype_aliases():
    for alias in ("half", "float", "double", "short", "int", "long"):
        assert repr(getattr(gputensor, alias)) == repr(getattr(torch, alias)).replace(
            "torch", "gputensor")


def test_scalar_type_names_match_torch_messages():
    for name in DTYPES:
        if name == "bool":
            continue
        t = torch.zeros(1, dtype=torch.bool)
        with pytest.raises(RuntimeError) as e:
            t.add_(torch.ones(1, dtype=getattr(torch, name)))
        expected = str(e.value).split("result type ")[1].split(" ")[0]
        assert gputensor.dtypes.SCALAR_TYPE_NAMES[getattr(gputensor, name)] == expected


def test_unsupported_numpy_dtype():
    with pytest.raises(TypeError, match="can't convert np.ndarray of type complex64"):
        gputensor.dtypes.from_numpy_dtype(np.complex64)


# ---- integer and float16 arithmetic ---------------------------------------
def test_integer_division_by_zero(device):
    i = np.array([3, -4, 0, 7])
    z = np.array([0, 1, 2, 3])
    for fn in (lambda lib, a, b: a // b, lambda lib, a, b: a % b,
               lambda lib, a, b: lib.div(a, b, rounding_mode="trunc"),
               lambda lib, a, b: lib.div(a, b, rounding_mode="floor"),
               lambda lib, a, b: a // 0, lambda lib, a, b: a % 0):
        check_error(lambda lib, a, b, fn=fn: fn(lib, lib.tensor(a), lib.tensor(b)), i, z,
                    device=device)
    check_op(lambda lib, a, b: a / b, i, z, device=device)
    check_op(lambda lib, a, b: a / 0, i, z, device=device)
    check_op(lambda lib, a, b: a.float() // 0, i, z, device=device)
    check_op(lambda lib, a, b: a.float() % b.float(), i, z, device=device)
    check_op(lambda lib, a, b: -7.5 % b, i, z, device=device)


def test_integer_division_signs(device):
    a = np.array([-7, 7, -7, 7, -8, 0, -128], "int64")
    b = np.array([2, -2, -2, 2, 4, -3, -1], "int64")
    for fn in (lambda lib, a, b: a // b, lambda lib, a, b: a % b,
               lambda lib, a, b: lib.div(a, b, rounding_mode="trunc"),
               lambda lib, a, b: lib.div(a, b, rounding_mode="floor"),
               lambda lib, a, b: a.to(lib.int8) // b.to(lib.int8),
               lambda lib, a, b: -7 // b, lambda lib, a, b: 7 % b):
        check_op(fn, a, b, device=device)


def test_integer_powers(device):
    base = np.array([1, -1, 2, 0, -2, 3, -1], "int64")
    exponent = np.array([-1, -3, -2, -1, 3, 2, -2], "int64")
    check_op(lambda lib, a, b: a ** b, base, exponent, device=device)
    check_op(lambda lib, a, b: 2 ** b, base, exponent, device=device)
    check_op(lambda lib, a, b: (-1) ** b, base, exponent, device=device)
    check_op(lambda lib, a, b: 1 ** b, base, exponent, device=device)
    check_op(lambda lib, a, b: a ** 2, base, exponent, device=device)
    check_op(lambda lib, a, b: a ** 0.5, base, exponent, device=device)
    check_op(lambda lib, a, b: 2.5 ** a, base, exponent, device=device)
    check_op(lambda lib, a, b: a.to(lib.uint8) ** 3, base, exponent, device=device)
    check_error(lambda lib, a: lib.tensor(a) ** -1, base, device=device)
    check_error(lambda lib, a: lib.tensor(a).to(lib.uint8).pow(-2), base, device=device)
    check_error(lambda lib, a: lib.tensor(a).bool() ** lib.tensor(a).bool(), base, device=device)


def test_integer_overflow_wraps_like_torch(device):
    u = np.array([1, 2, 250], "uint8")
    check_op(lambda lib, u: u + 300, u, device=device)
    check_op(lambda lib, u: u - 3, u, device=device)
    check_op(lambda lib, u: u * 2, u, device=device)
    check_op(lambda lib, u: u < 300, u, device=device)
    check_op(lambda lib, u: u == -6, u, device=device)
    check_op(lambda lib, u: u.to(lib.int8) + 200, u, device=device)
    check_op(lambda lib, u: u.to(lib.int32) + 2 ** 40, u, device=device)


def test_float16_arithmetic(device):
    h = np.random.default_rng(5).uniform(-2, 2, (3, 4)).astype("float16")
    for fn in (lambda lib, h: h + 1e5, lambda lib, h: h * 0.1, lambda lib, h: h / 3,
               lambda lib, h: h // 0.3, lambda lib, h: h.exp(), lambda lib, h: h.sigmoid(),
               lambda lib, h: h + lib.tensor(1.0, dtype=lib.float64),
               lambda lib, h: h.round(decimals=1), lambda lib, h: h + lib.ones(4).long()):
        check_op(fn, h, grad=False, rtol=2e-3, atol=2e-3, device=device)
