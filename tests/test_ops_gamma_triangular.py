"""lgamma, digamma, polygamma, incomplete gamma functions, linalg.cholesky, linalg.solve_triangular,
cholesky_inverse and the gamma/Dirichlet draws' gradients, compared with torch."""

import numpy as np
import pytest
import torch

import gputensor
from helpers import check_error, check_op

RNG = np.random.default_rng(31)


def _spd(*batch, n=3):
    a = RNG.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


UNARY = {
    "lgamma": lambda lib, x: lib.lgamma(x),
    "lgamma_method": lambda lib, x: x.lgamma(),
    "digamma": lambda lib, x: lib.digamma(x),
    "digamma_method": lambda lib, x: x.digamma(),
    "polygamma0": lambda lib, x: lib.polygamma(0, x),
    "polygamma1": lambda lib, x: x.polygamma(1),
    "lgamma_": lambda lib, x: (x * 1).lgamma_(),
    "digamma_": lambda lib, x: (x * 1).digamma_(),
}
INPUTS = {
    "positive": RNG.uniform(0.05, 12.0, (3, 4)),
    "negative": RNG.uniform(-6.0, -0.1, (5,)),
    "scalar": np.array(2.5),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("inputs", INPUTS)
@pytest.mark.parametrize("name", UNARY)
def test_gamma_functions(name, inputs, dtype, device):
    grad = name != "polygamma1"  # polygamma(1)'s derivative is polygamma(2): not provided
    tolerance = dict(rtol=2e-5, atol=1e-5) if dtype == "float32" else dict(rtol=1e-9, atol=1e-9)
    check_op(UNARY[name], INPUTS[inputs].astype(dtype), device=device, grad=grad,
             grad_rtol=1e-4, grad_atol=1e-5, **tolerance)


@pytest.mark.parametrize("name", ["gammainc", "gammaincc"])
def test_incomplete_gamma(name, device):
    a = np.concatenate([RNG.uniform(0.01, 60.0, 300), [0.0, 1.0, 2.0, -1.0, np.inf, 500.0]])
    x = np.concatenate([RNG.uniform(0.0, 90.0, 300), [1.0, 0.0, np.inf, 1.0, 1.0, 480.0]])
    check_op(lambda lib, x: getattr(lib.special, name)(lib.tensor(a), x), x, device=device,
             rtol=1e-7, atol=1e-12, grad_rtol=1e-6, grad_atol=1e-12)
    check_op(lambda lib, x: getattr(lib, name.replace("gammainc", "igamma"))(
        lib.tensor(a[:5]).float(), x), x[:5].astype("float32"), device=device)


def test_incomplete_gamma_has_no_derivative_in_a(device):
    def backward(lib):
        a = lib.tensor([1.5, 3.0], requires_grad=True)
        lib.special.gammaincc(a, lib.tensor([0.5, 4.0])).sum().backward()
    check_error(backward, device=device)


def test_gamma_functions_at_poles_and_infinities(device):
    x = np.array([0.0, -0.0, -1.0, -3.0, np.inf, -np.inf, np.nan, 1e-8, 1e30])
    check_op(lambda lib, t: (lib.lgamma(t), lib.digamma(t)), x, device=device, grad=False)


def test_integer_inputs_give_floats(device):
    check_op(lambda lib, t: (lib.lgamma(t), lib.digamma(t)), np.arange(1, 6), device=device)


@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("batch", [(), (2,)])
def test_cholesky(batch, upper, device):
    check_op(lambda lib, a: lib.linalg.cholesky(a, upper=upper), _spd(*batch), device=device,
             rtol=1e-9, atol=1e-9, grad_rtol=1e-7, grad_atol=1e-9)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_inverse(upper, device):
    factor = np.linalg.cholesky(_spd(2))
    factor = np.swapaxes(factor, -1, -2) if upper else factor
    check_op(lambda lib, f: lib.cholesky_inverse(f, upper), factor, device=device, rtol=1e-9,
             atol=1e-9, grad_rtol=1e-7, grad_atol=1e-9)
    check_op(lambda lib, f: f.cholesky_inverse(upper), factor[0], device=device, rtol=1e-9,
             atol=1e-9, grad_rtol=1e-7, grad_atol=1e-9)


@pytest.mark.parametrize("unitriangular", [False, True])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("upper", [False, True])
def test_solve_triangular(upper, left, unitriangular, device):
    a = RNG.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    b = RNG.standard_normal((3, 4) if left else (4, 3))
    check_op(lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=upper, left=left,
                                                           unitriangular=unitriangular),
             a, b, device=device, rtol=1e-9, atol=1e-9, grad_rtol=1e-7, grad_atol=1e-9)


LINALG_ERRORS = {
    "integer": lambda lib: lib.linalg.cholesky(lib.eye(2, dtype=lib.long)),
    "solve_integer": lambda lib: lib.linalg.solve_triangular(
        lib.eye(2, dtype=lib.long), lib.ones(2, 1, dtype=lib.long), upper=False),
    "cholesky_inverse_integer": lambda lib: lib.cholesky_inverse(lib.eye(2, dtype=lib.long)),
    "cholesky_inverse_one_dim": lambda lib: lib.cholesky_inverse(lib.ones(3)),
    "not_square": lambda lib: lib.linalg.cholesky(lib.ones(2, 3)),
    "one_dim": lambda lib: lib.linalg.cholesky(lib.ones(3)),
    "solve_shapes": lambda lib: lib.linalg.solve_triangular(lib.eye(2), lib.ones(3, 1),
                                                            upper=False),
    "solve_right_shapes": lambda lib: lib.linalg.solve_triangular(lib.eye(2), lib.ones(3, 1),
                                                                  upper=False, left=False),
    "cholesky_inverse_shape": lambda lib: lib.cholesky_inverse(lib.ones(2, 3)),
}


@pytest.mark.parametrize("case", LINALG_ERRORS)
def test_linalg_errors(case, device):
    check_error(LINALG_ERRORS[case], device=device)


NOT_POSITIVE_DEFINITE = [[[1.0, 2.0], [2.0, 1.0]], [[[2.0, 0.0], [0.0, 1.0]],
                                                   [[1.0, 0.0], [0.0, -1.0]]]]


@pytest.mark.parametrize("matrix", NOT_POSITIVE_DEFINITE)
def test_cholesky_of_a_matrix_not_positive_definite(matrix, device):
    """linalg.LinAlgError (a RuntimeError), with torch's message naming the leading minor."""
    assert issubclass(gputensor.linalg.LinAlgError, RuntimeError)
    with pytest.raises(gputensor.linalg.LinAlgError) as ours:
        gputensor.linalg.cholesky(gputensor.tensor(matrix, device=device))
    with pytest.raises(torch.linalg.LinAlgError) as theirs:
        torch.linalg.cholesky(torch.tensor(matrix))
    assert str(ours.value) == str(theirs.value)
    assert type(ours.value).__name__ == type(theirs.value).__name__


@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("float64", "float32")])
def test_solve_triangular_takes_the_dtype_of_a(dtypes, device):
    a = RNG.standard_normal((3, 3)).astype(dtypes[0]) + 3 * np.eye(3, dtype=dtypes[0])
    b = RNG.standard_normal((3, 2)).astype(dtypes[1])
    check_op(lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=True), a, b,
             device=device, rtol=1e-5, atol=1e-6)


def test_standard_gamma_and_dirichlet_gradients_match_torch(device):
    alpha = RNG.uniform(0.05, 30.0, 400)
    x = RNG.uniform(0.001, 40.0, 400)
    total = alpha + RNG.uniform(0.05, 30.0, 400)
    share = RNG.uniform(0.001, 0.999, 400)
    ours = [gputensor.tensor(a, device=device) for a in (alpha, x, total, share)]
    np.testing.assert_allclose(
        gputensor._standard_gamma_grad(ours[0], ours[1]).cpu().numpy(),
        torch._standard_gamma_grad(torch.tensor(alpha), torch.tensor(x)).numpy(), rtol=1e-7)
    np.testing.assert_allclose(
        gputensor._dirichlet_grad(ours[3], ours[0], ours[2]).cpu().numpy(),
        torch._dirichlet_grad(torch.tensor(share), torch.tensor(alpha),
                              torch.tensor(total)).numpy(), rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_standard_gamma_and_dirichlet_draws_are_torchs(dtype, device):
    """ATen's gamma sampler on torch's stream: the same numbers under the same seed."""
    alpha = RNG.uniform(0.01, 12.0, (4, 5)).astype(dtype)
    for fn in ("_standard_gamma", "_sample_dirichlet"):
        gputensor.manual_seed(11)
        torch.manual_seed(11)
        ours = getattr(gputensor, fn)(gputensor.tensor(alpha, device=device).t())
        theirs = getattr(torch, fn)(torch.tensor(alpha).t())
        np.testing.assert_allclose(ours.cpu().numpy(), theirs.numpy(), rtol=1e-12, atol=0)


@pytest.mark.parametrize("alpha", [0.3, 1.0, 4.5, 50.0])
def test_standard_gamma_draws_follow_the_gamma_distribution(alpha, device):
    """The draws' moments over many draws (mean within 5 standard errors)."""
    gputensor.manual_seed(123)
    concentration = gputensor.full((20000,), alpha, dtype=gputensor.float64, device=device)
    draws = gputensor._standard_gamma(concentration).cpu().numpy()
    standard_error = np.sqrt(alpha / draws.size)
    assert abs(draws.mean() - alpha) < 5 * standard_error
    assert abs(draws.var() / alpha - 1) < 0.1
    assert draws.min() > 0


def test_sample_dirichlet_lies_on_the_simplex(device):
    gputensor.manual_seed(5)
    concentration = gputensor.tensor([[0.5, 1.0, 3.0]] * 4000, device=device)
    draws = gputensor._sample_dirichlet(concentration).cpu().numpy()
    np.testing.assert_allclose(draws.sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(draws.mean(0), np.array([0.5, 1.0, 3.0]) / 4.5, atol=0.01)
