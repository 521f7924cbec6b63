"""torch.norm and gputensor.linalg's norms compared with torch: values, grads, errors."""

import math

import numpy as np
import pytest

from helpers import check_error, check_op, rand_array

INF = math.inf
VECTOR_ORDS = [2, 1, 0, 3, 0.5, -1, INF, -INF]


@pytest.mark.parametrize("ord", VECTOR_ORDS)
def test_vector_norm(ord, device):
    x = rand_array((3, 4))
    check_op(lambda lib, x: lib.linalg.vector_norm(x, ord), x, device=device)
    check_op(lambda lib, x: lib.linalg.vector_norm(x, ord, dim=1), x, device=device)
    check_op(lambda lib, x: lib.linalg.vector_norm(x, ord, (0, 1), keepdim=True), x,
             device=device)
    check_op(lambda lib, x: lib.linalg.vector_norm(x, ord, -2, True), x, device=device)


def test_vector_norm_dtype_and_0d(device):
    x = rand_array((2, 3))
    check_op(lambda lib, x: lib.linalg.vector_norm(x, dtype=lib.float64), x, device=device)
    check_op(lambda lib, x: lib.linalg.vector_norm(x), rand_array((), "float64"), device=device)
    check_op(lambda lib, x: lib.linalg.vector_norm(x, dim=1), np.zeros((0, 3), np.float32),
             device=device)
    check_op(lambda lib, x: lib.linalg.vector_norm(x, 1), rand_array((4,), "float16"),
             device=device, rtol=1e-3, atol=1e-3, grad_rtol=1e-2, grad_atol=1e-2)


@pytest.mark.parametrize("ord", [2, 1, INF, 3])
def test_norm_gradient_at_zero(ord, device):
    x = np.array([[0.0, 0.0], [1.0, -2.0]], dtype=np.float32)
    check_op(lambda lib, x: lib.linalg.vector_norm(x, ord, dim=1), x, device=device)


def test_norm_ties_share_the_gradient(device):
    x = np.array([[1.0, -3.0, 3.0], [2.0, 2.0, -2.0]], dtype=np.float32)
    for order in (INF, -INF):
        check_op(lambda lib, x, p=order: lib.linalg.vector_norm(x, p, dim=1), x, device=device)
    check_op(lambda lib, x: lib.linalg.matrix_norm(x, 1), x, device=device)


@pytest.mark.parametrize("ord", ["fro", "nuc", 1, -1, 2, -2, INF, -INF])
def test_matrix_norm(ord, device):
    x = rand_array((2, 3, 4))
    check_op(lambda lib, x: lib.linalg.matrix_norm(x, ord), x, device=device)
    check_op(lambda lib, x: lib.linalg.matrix_norm(x, ord, dim=(0, 2), keepdim=True), x,
             device=device)
    check_op(lambda lib, x: lib.linalg.matrix_norm(x, ord, (-1, 0)), x, device=device)
    check_op(lambda lib, x: lib.linalg.norm(x[0], ord), x, device=device)


def test_linalg_norm(device):
    x = rand_array((2, 3, 4))
    check_op(lambda lib, x: lib.linalg.norm(x), x, device=device)
    check_op(lambda lib, x: lib.linalg.norm(x, dim=1), x, device=device)
    check_op(lambda lib, x: lib.linalg.norm(x, 3, dim=(2,), keepdim=True), x, device=device)
    check_op(lambda lib, x: lib.linalg.norm(x, INF, dim=(1, 2)), x, device=device)
    check_op(lambda lib, x: lib.linalg.norm(x[0, 0], 0.5), x, device=device)
    check_op(lambda lib, x: lib.linalg.norm(x, dtype=lib.float64), x, device=device)


def test_torch_norm(device):
    x = rand_array((2, 3, 4))
    check_op(lambda lib, x: lib.norm(x), x, device=device)
    check_op(lambda lib, x: x.norm(), x, device=device)
    check_op(lambda lib, x: lib.norm(x, 1), x, device=device)
    check_op(lambda lib, x: x.norm(2, 1, True), x, device=device)
    check_op(lambda lib, x: lib.norm(x, INF, dim=(0, 2)), x, device=device)
    check_op(lambda lib, x: lib.norm(x, "fro", (1, 2)), x, device=device)
    check_op(lambda lib, x: lib.norm(x[1], "nuc"), x, device=device)
    check_op(lambda lib, x: lib.norm(x, "nuc", (2, 0), True), x, device=device)
    check_op(lambda lib, x: x.norm(p=3, dtype=lib.float64), x, device=device)


def test_vecdot_and_matmul(device):
    a, b = rand_array((2, 3)), rand_array((3,))
    check_op(lambda lib, a, b: lib.linalg.vecdot(a, b), a, b, device=device)
    check_op(lambda lib, a, b: lib.linalg.vecdot(a, b[:2, None], dim=0), a, b, device=device)
    check_op(lambda lib, a, b: lib.linalg.matmul(a, b), a, b, device=device)
    check_op(lambda lib, a: lib.linalg.svdvals(a), a, device=device)


ERRORS = {
    "empty inf": lambda lib: lib.linalg.vector_norm(lib.ones(0), INF),
    "empty -1": lambda lib: lib.linalg.vector_norm(lib.ones(0, 2), -1, dim=0),
    "integer input": lambda lib: lib.linalg.vector_norm(lib.ones(3, dtype=lib.long)),
    "integer dtype": lambda lib: lib.linalg.vector_norm(lib.ones(3), dtype=lib.long),
    "norm of ints": lambda lib: lib.norm(lib.ones(3, dtype=lib.long)),
    "string ord": lambda lib: lib.linalg.vector_norm(lib.ones(3), "fro"),
    "matrix order 3": lambda lib: lib.linalg.matrix_norm(lib.ones(3, 3), 3),
    "matrix order 1.5": lambda lib: lib.linalg.matrix_norm(lib.ones(3, 3), 1.5),
    "matrix order abc": lambda lib: lib.linalg.matrix_norm(lib.ones(3, 3), "abc"),
    "matrix of 1-D": lambda lib: lib.linalg.matrix_norm(lib.ones(3)),
    "norm 3-D with ord": lambda lib: lib.linalg.norm(lib.ones(2, 2, 2), 2),
    "nuc of 3-D": lambda lib: lib.norm(lib.ones(2, 2, 2), "nuc"),
    "torch.norm abc": lambda lib: lib.norm(lib.ones(3, 3), "abc"),
    "bad dim": lambda lib: lib.linalg.vector_norm(lib.ones(3), dim=2),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_norm_errors(name, device):
    check_error(ERRORS[name], device=device)
