"""Special functions, lerp, nan_to_num, one-sided clamps and closeness, compared with torch."""

import math

import numpy as np
import pytest
import torch

import gputensor
from helpers import assert_same, check_error, check_op, rand_array, to_numpy

NAN, INF = math.nan, math.inf

UNARY = {  # name: (fn, input low, input high)
    "erf": (lambda lib, x: lib.erf(x), -3.0, 3.0),
    "erfc": (lambda lib, x: x.erfc(), -3.0, 3.0),
    "erfinv": (lambda lib, x: lib.erfinv(x), -0.95, 0.95),
    "special.erf": (lambda lib, x: lib.special.erf(x), -2.0, 2.0),
    "special.erfc": (lambda lib, x: lib.special.erfc(x), -2.0, 2.0),
    "special.erfinv": (lambda lib, x: lib.special.erfinv(x), -0.9, 0.9),
    "special.expit": (lambda lib, x: lib.special.expit(x), -3.0, 3.0),
    "logit": (lambda lib, x: lib.logit(x), 0.05, 0.95),
    "logit_eps": (lambda lib, x: x.logit(eps=0.2), 0.0, 1.0),
    "special.logit": (lambda lib, x: lib.special.logit(x, 0.1), 0.0, 1.0),
    "nan_to_num": (lambda lib, x: lib.nan_to_num(x), -2.0, 2.0),
    "clamp_min": (lambda lib, x: lib.clamp_min(x, 0.5), -2.0, 2.0),
    "clamp_max": (lambda lib, x: x.clamp_max(-0.5), -2.0, 2.0),
    "clamp_min_int_bound": (lambda lib, x: x.clamp_min(0), -2.0, 2.0),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_matches_torch(name, dtype, device):
    fn, low, high = UNARY[name]
    check_op(fn, rand_array((3, 4), dtype, low, high), device=device)


@pytest.mark.parametrize("name", ["erf", "erfc", "erfinv"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_special_precision(name, dtype, device):
    """Over a dense grid, within a few units in the last place of torch's result (a GPU's
    float32 kernels are allowed 2 ulp)."""
    x = np.linspace(-0.999 if name == "erfinv" else -6, 0.999 if name == "erfinv" else 6,
                    20001).astype(dtype)
    ours = to_numpy(getattr(gputensor, name)(gputensor.tensor(x, device=device)))
    theirs = getattr(torch, name)(torch.from_numpy(x)).numpy()
    assert ours.dtype == theirs.dtype
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(ours, theirs, rtol=4 * eps if dtype == np.float32 else 50 * eps,
                               atol=np.finfo(dtype).tiny)


@pytest.mark.parametrize("name", ["erf", "erfc", "erfinv"])
def test_special_edges_and_dtypes(name, device):
    values = np.array([-1.0, 1.0, 0.0, -0.0, 2.0, -INF, INF, NAN])
    for dtype in ("float32", "float64", "float16"):
        check_op(lambda lib, x: getattr(lib, name)(x), values.astype(dtype), device=device,
                 grad=False)
    for values in (np.array([0, 1, -2]), np.array([True, False])):  # -> the default float
        check_op(lambda lib, x: getattr(lib, name)(x), values, device=device)


def test_special_in_place(device):
    x = rand_array((5,), "float32", -0.9, 0.9)
    check_op(lambda lib, x: x.clone().erf_(), x, device=device)
    check_op(lambda lib, x: lib.erfc_(x.clone()), x, device=device)
    check_op(lambda lib, x: x.clone().erfinv_(), x, device=device)
    check_op(lambda lib, x: x.clone().logit_(0.25), np.abs(x), device=device)


@pytest.mark.parametrize("weight", [0.3, 0.7, -1.5, 2.0])
def test_lerp_number_weight(weight, device):
    a, b = rand_array((3, 4)), rand_array((4,))
    check_op(lambda lib, a, b: lib.lerp(a, b, weight), a, b, device=device)
    check_op(lambda lib, a, b: a.lerp(b, weight), a, b, device=device)


def test_lerp_tensor_weight(device):
    a, b, w = rand_array((3, 4)), rand_array((3, 4)), rand_array((4,), low=-1, high=2)
    check_op(lambda lib, a, b, w: lib.lerp(a, b, w), a, b, w, device=device)
    check_op(lambda lib, a, b: a.lerp(b, lib.tensor(0.75, dtype=lib.float64)), a, b,
             device=device)
    check_op(lambda lib, a, b, w: a.clone().lerp_(b, w), a, b, w, device=device)


def test_lerp_errors(device):
    a = rand_array((3,))
    check_error(lambda lib: lib.lerp(lib.tensor(a), lib.tensor(a, dtype=lib.float64), 0.5),
                device=device)
    check_error(lambda lib: lib.lerp(lib.tensor([1, 2]), lib.tensor([1, 2]), 0.5), device=device)
    check_error(lambda lib: lib.lerp(lib.tensor([1, 2]), lib.tensor([1, 2]), lib.tensor([1, 2])),
                device=device)
    check_error(lambda lib: lib.lerp(lib.tensor(a), lib.tensor(a),
                                     lib.tensor(a, dtype=lib.float64)), device=device)
    check_error(lambda lib: lib.lerp(lib.tensor(a), 1.0, 0.5), device=device)
    check_error(lambda lib: lib.lerp(lib.tensor(a), lib.ones(2), 0.5), device=device)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_nan_to_num(dtype, device):
    x = np.array([NAN, INF, -INF, 1.5, -0.0, 3e4], dtype=dtype)
    check_op(lambda lib, x: lib.nan_to_num(x), x, device=device)
    check_op(lambda lib, x: x.nan_to_num(nan=2.0, posinf=1e40, neginf=-3.0), x, device=device)
    check_op(lambda lib, x: lib.nan_to_num(x, 1.0, 2.0), x, device=device)
    check_op(lambda lib, x: x.clone().nan_to_num_(neginf=7.0), x, device=device)
    check_op(lambda lib, x: lib.nan_to_num_(x.clone(), posinf=5.0), x, device=device)


def test_nan_to_num_integers(device):
    for x in (np.array([1, -2, 3]), np.array([True, False]), np.array([1, 2], dtype=np.int8)):
        check_op(lambda lib, x: lib.nan_to_num(x, 1.0), x, device=device)


def test_one_sided_clamps(device):
    x, bound = rand_array((3, 4)), rand_array((4,))
    check_op(lambda lib, x, b: lib.clamp_min(x, b), x, bound, device=device)
    check_op(lambda lib, x, b: x.clamp_max(b), x, bound, device=device)
    check_op(lambda lib, x: x.clone().clamp_min_(0.0), x, device=device)
    check_op(lambda lib, x, b: lib.clamp_max_(x.clone(), b), x, bound, device=device)
    ints = np.array([1, 2, 3])
    check_op(lambda lib, x: lib.clamp_min(x, 1.5), ints, device=device)
    check_op(lambda lib, x: x.clamp_max(2), ints, device=device)
    check_op(lambda lib, x: lib.clamp_min(x, lib.tensor(1.5)), ints, device=device)
    check_error(lambda lib: lib.tensor([1, 2]).clamp_min_(1.5), device=device)


CLOSE_A = np.array([1.0, NAN, INF, 2.0, -INF, 1.0, 0.0], dtype=np.float32)
CLOSE_B = np.array([1.0, NAN, INF, 2.0001, INF, 1.5, 1e-9], dtype=np.float32)


@pytest.mark.parametrize("kwargs", [{}, {"equal_nan": True}, {"rtol": 0.5},
                                    {"atol": 1e-3, "rtol": 0}, {"rtol": 0, "atol": 0}])
def test_isclose_allclose(kwargs, device):
    check_op(lambda lib, a, b: lib.isclose(a, b, **kwargs), CLOSE_A, CLOSE_B, device=device,
             grad=False)
    check_op(lambda lib, a, b: a.isclose(b[None], **kwargs), CLOSE_A, CLOSE_B, device=device,
             grad=False)
    for a, b in ((CLOSE_A, CLOSE_B), (CLOSE_A[[0, 3]], CLOSE_B[[0, 3]]),
                 (CLOSE_A[[0, 1]], CLOSE_B[[0, 1]])):
        theirs = torch.allclose(torch.from_numpy(a), torch.from_numpy(b), **kwargs)
        ours = gputensor.tensor(a, device=device).allclose(gputensor.tensor(b, device=device),
                                                           **kwargs)
        assert type(ours) is bool and ours == theirs


def test_isclose_integers(device):
    a, b = np.array([1, 2, 10]), np.array([1, 3, 12])
    for kwargs in ({}, {"rtol": 0.5}, {"atol": 1, "rtol": 0}):
        check_op(lambda lib, a, b, kw=kwargs: lib.isclose(a, b, **kw), a, b, device=device)
    check_op(lambda lib, a: lib.isclose(a, a), np.array([True, False]), device=device)


def test_isclose_errors(device):
    a = rand_array((3,))
    check_error(lambda lib: lib.isclose(lib.tensor(a), lib.tensor(a, dtype=lib.float64)),
                device=device)
    check_error(lambda lib: lib.isclose(lib.tensor(a), lib.tensor(a), rtol=-1), device=device)
    check_error(lambda lib: lib.isclose(lib.tensor(a), lib.tensor(a), atol=-1), device=device)
    check_error(lambda lib: lib.isclose(lib.tensor(a), lib.ones(2)), device=device)
    check_error(lambda lib: lib.isclose(lib.tensor(a), 1.0), device=device)
    check_error(lambda lib: lib.allclose(lib.tensor(a), lib.tensor(a, dtype=lib.float64)),
                device=device)
    check_error(lambda lib: lib.equal(lib.tensor(a), 1.0), device=device)


@pytest.mark.parametrize("pair", [
    ([1.0, 2.0], [1.0, 2.0]), ([1.0, 2.0], [1.0, 2.5]), ([1.0, 2.0], [1, 2]),
    ([1.0, 2.0], [1.0, 2.0, 3.0]), ([[1.0, 1.0]], [[1.0], [1.0]]), ([NAN], [NAN]), ([], []),
])
def test_equal(pair, device):
    a, b = pair
    theirs = torch.equal(torch.tensor(a), torch.tensor(b))
    ours = gputensor.equal(gputensor.tensor(a, device=device), gputensor.tensor(b, device=device))
    assert type(ours) is bool and ours == theirs
    assert gputensor.tensor(a, device=device).equal(gputensor.tensor(b, device=device)) == theirs


def test_namespaces_hold_torch_names():
    for name in ("erf", "erfc", "erfinv", "expit", "logit"):
        assert callable(getattr(gputensor.special, name)) and hasattr(torch.special, name)
    x = rand_array((4,))
    assert_same(gputensor.special.expit(gputensor.tensor(x)), torch.sigmoid(torch.tensor(x)))
