"""Matrix products compared with torch: values, dtypes, grads, grad_fn names, errors."""

import itertools

import pytest

import gputensor
from gputensor.backends.cpu import cpu_backend
from helpers import (
    LAYOUTS,
    LIBS,
    assert_on,
    check_error,
    check_op,
    grad_fn_names,
    make_input,
    rand_array,
)

PAIRS = [  # (left shape, right shape): every path of torch's matmul
    ((3,), (3,)), ((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 3), (3,)), ((5, 2, 3), (3,)),
    ((3,), (5, 3, 4)), ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((1, 3), (5, 3, 4)),
    ((2, 3), (5, 3, 1)), ((5, 2, 3), (5, 3, 4)), ((5, 1, 2, 3), (4, 3, 4)),
    ((1, 2, 3), (5, 3, 4)), ((5, 2, 3), (1, 3, 4)), ((1, 2, 3), (1, 3, 4)),
    ((2, 1, 2, 3), (3, 3, 4)), ((4,), (2, 3, 4, 2)), ((2, 1, 3), (3,)), ((1, 1, 2, 3), (5, 3, 4)),
    ((0, 3), (3, 4)), ((2, 0), (0, 4)), ((0,), (0,)), ((5, 0, 3), (3, 2)), ((2, 3), (0, 3, 4)),
    ((0, 3), (5, 3, 4)),
]


def _both(fn, arrays, grads, device):
    """fn's result on gputensor (on ``device``) and on torch, inputs requiring grad as
    ``grads`` says."""
    return [fn(lib, *[make_input(lib, a, "contiguous", g, device)[1]
                      for a, g in zip(arrays, grads)]) for lib in LIBS]


@pytest.mark.parametrize("shapes", PAIRS, ids=str)
def test_matmul_values_grads_and_grad_fn(shapes, device):
    arrays = [rand_array(s) for s in shapes]
    for layout in LAYOUTS:
        check_op(lambda lib, a, b: a @ b, *arrays, layout=layout, device=device)
        check_op(lambda lib, a, b: lib.matmul(a, b), *arrays, layout=layout, device=device)
        check_op(lambda lib, a, b: a.matmul(b), *arrays, layout=layout, device=device)
    for grads in itertools.product((True, False), repeat=2):
        ours, theirs = _both(lambda lib, a, b: a @ b, arrays, grads, device)
        assert_on(ours, device)
        assert grad_fn_names(ours) == grad_fn_names(theirs), grads


@pytest.mark.parametrize("dtype", ["float64", "int64", "int32", "int16", "uint8", "float16"])
@pytest.mark.parametrize("shapes", [PAIRS[i] for i in (0, 1, 2, 3, 4, 5, 7, 10, 11)], ids=str)
def test_matmul_dtypes(shapes, dtype, device):
    low = 0.0 if dtype == "uint8" else -2.0
    arrays = [rand_array(s, dtype, low=low) for s in shapes]
    check_op(lambda lib, a, b: a @ b, *arrays, rtol=2e-3, atol=2e-3, grad_rtol=2e-2,
             grad_atol=2e-2, device=device)


@pytest.mark.parametrize("op,shapes", [
    ("mm", ((2, 3), (3, 4))), ("mm", ((0, 3), (3, 2))), ("bmm", ((2, 2, 3), (2, 3, 4))),
    ("bmm", ((3, 1, 2), (3, 2, 5))), ("mv", ((2, 3), (3,))), ("mv", ((4, 0), (0,))),
    ("dot", ((3,), (3,))), ("dot", ((1,), (1,))),
], ids=str)
def test_named_products(op, shapes, device):
    arrays = [rand_array(s) for s in shapes]
    for layout in LAYOUTS:
        check_op(lambda lib, a, b: getattr(lib, op)(a, b), *arrays, layout=layout, device=device)
        check_op(lambda lib, a, b: getattr(a, op)(b), *arrays, layout=layout, device=device)
    ints = [rand_array(s, "int64") for s in shapes]
    check_op(lambda lib, a, b: getattr(lib, op)(a, b), *ints, device=device)


F, D = "float32", "float64"
ERRORS = [  # (function, left (shape, dtype), right (shape, dtype))
    ("matmul", ((), F), ((3,), F)), ("matmul", ((3,), F), ((), F)), ("matmul", ((), F), ((), F)),
    ("matmul", ((3,), F), ((4,), F)), ("matmul", ((2, 3), F), ((4, 5), F)),
    ("matmul", ((3,), F), ((4, 5), F)), ("matmul", ((2, 3), F), ((4,), F)),
    ("matmul", ((5, 2, 3), F), ((4, 5), F)), ("matmul", ((5, 2, 3), F), ((4, 3, 4), F)),
    ("matmul", ((5, 2, 3), F), ((4,), F)), ("matmul", ((3,), F), ((5, 4, 2), F)),
    ("matmul", ((2, 3), F), ((5, 4, 4), F)), ("matmul", ((1, 2, 3), F), ((5, 4, 4), F)),
    ("matmul", ((5, 2, 3), F), ((5, 4, 4), F)), ("matmul", ((5, 2, 3), F), ((1, 4, 4), F)),
    ("matmul", ((1, 1, 2, 3), F), ((6, 5, 4, 4), F)), ("matmul", ((1, 2, 3), F), ((1, 4, 4), F)),
    ("matmul", ((2, 3), F), ((3, 4), D)), ("matmul", ((3,), F), ((3,), D)),
    ("matmul", ((2, 3), F), ((3,), D)), ("matmul", ((2, 3), D), ((3,), F)),
    ("matmul", ((5, 2, 3), D), ((3,), F)), ("matmul", ((3,), F), ((5, 3, 2), D)),
    ("matmul", ((5, 2, 3), F), ((3, 4), D)), ("matmul", ((2, 3), F), ((5, 3, 4), D)),
    ("matmul", ((5, 2, 3), D), ((5, 3, 4), F)), ("matmul", ((3,), D), ((3, 4), F)),
    ("matmul", ((2, 3), "int32"), ((3, 4), "int64")), ("matmul", ((3,), "int32"), ((3,), F)),
    ("matmul", ((2, 3), "int8"), ((3, 4), "uint8")),
    ("matmul", ((2, 3), "int16"), ((3, 4), "float16")),
    ("matmul", ((3,), "bool"), ((3,), "bool")), ("matmul", ((2, 3), "bool"), ((3, 4), "bool")),
    ("matmul", ((5, 2, 3), "bool"), ((3,), "bool")),
    ("matmul", ((2, 3), "bool"), ((5, 3, 4), "bool")),
    ("mm", ((3,), F), ((3, 4), F)), ("mm", ((2, 3), F), ((3, 4, 2), F)),
    ("mm", ((2, 3), F), ((4, 4), F)), ("mm", ((2, 3), D), ((3, 4), F)),
    ("mm", ((2, 3), F), ((4, 4), D)), ("mm", ((2, 3), "bool"), ((3, 4), "int16")),
    ("bmm", ((2, 2, 3), F), ((3, 3, 4), F)), ("bmm", ((2, 2, 3), F), ((2, 4, 4), F)),
    ("bmm", ((2, 3), F), ((2, 3, 4), F)), ("bmm", ((2, 2, 3), F), ((2, 3), F)),
    ("bmm", ((2, 2, 3), F), ((2, 3, 4), D)), ("bmm", ((1, 2, 3), F), ((2, 3, 4), F)),
    ("bmm", ((2, 2, 3), "int32"), ((2, 3, 4), "int64")),
    ("bmm", ((2, 2, 3), "bool"), ((2, 3, 4), "bool")),
    ("mv", ((2, 3), F), ((4,), F)), ("mv", ((3,), F), ((3,), F)), ("mv", ((2, 3), F), ((3, 1), F)),
    ("mv", ((2, 3), F), ((3,), D)), ("mv", ((2, 3), "int64"), ((3,), F)),
    ("mv", ((2, 3), "bool"), ((3,), "bool")),
    ("dot", ((3,), F), ((4,), F)), ("dot", ((3, 1), F), ((3,), F)), ("dot", ((3,), F), ((3,), D)),
    ("dot", ((3,), F), ((4,), D)), ("dot", ((3,), "int32"), ((3,), "uint8")),
    ("dot", ((3,), "bool"), ((3,), "int16")), ("dot", ((3,), "bool"), ((3,), "bool")),
]


@pytest.mark.parametrize("op,left,right", ERRORS, ids=str)
def test_errors_match_torch(op, left, right, device):
    arrays = [rand_array(shape, dtype) for shape, dtype in (left, right)]
    for grads in ((True, True), (False, False)):
        def fn(lib, grads=grads):
            operands = [make_input(lib, a, requires_grad=g and a.dtype.kind == "f",
                                   device=device)[1] for a, g in zip(arrays, grads)]
            return getattr(lib, op)(*operands)
        check_error(fn, device=device)


def test_products_go_through_the_backend_matmul_hook(monkeypatch):
    calls = []
    real = cpu_backend.matmul

    def counting(a, b):
        calls.append((a.shape, b.shape))
        return real(a, b)
    monkeypatch.setattr(cpu_backend, "matmul", counting)
    a = gputensor.tensor(rand_array((4, 2, 3)), requires_grad=True)
    b = gputensor.tensor(rand_array((3, 5)), requires_grad=True)
    (a @ b).sum().backward()
    gputensor.dot(b[:, 0], b[:, 1])
    assert len(calls) == 4  # forward, two gradients, dot


def _f64(shape):
    return gputensor.tensor(rand_array(shape, "float64"), requires_grad=True)


@pytest.mark.parametrize("shapes", [p for p in PAIRS if 0 not in p[0] + p[1]], ids=str)
def test_gradcheck_float64(shapes):
    a, b = (_f64(s) for s in shapes)
    assert gputensor.autograd.gradcheck(lambda x, y: x @ y, (a, b))


@pytest.mark.parametrize("op,shapes", [("mm", ((2, 3), (3, 2))), ("bmm", ((2, 2, 3), (2, 3, 1))),
                                       ("mv", ((2, 3), (3,))), ("dot", ((4,), (4,)))], ids=str)
def test_gradcheck_named_products(op, shapes):
    a, b = (_f64(s) for s in shapes)
    assert gputensor.autograd.gradcheck(getattr(gputensor, op), (a, b))
