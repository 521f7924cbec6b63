"""The fast paths of eager ops compute torch's values bit for bit: pow by a number exponent
as products, gelu and the special functions by compiled kernels."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch

import gputensor

EXPONENTS = (2.0, 3.0, -1.0, -2.0, -0.5, 0.0, 1.0, 2, 3, -1)


def edge_values(dtype, size=4000, seed=0):
    """Normal values over several scales plus zeros of both signs, infinities, NaN and
    subnormals, in ``dtype``."""
    rng = np.random.default_rng(seed)
    tiny = np.finfo(dtype).tiny
    specials = [0.0, -0.0, np.inf, -np.inf, np.nan, tiny / 4, -tiny / 4, 1e-20, 1e20, 1.0, -1.0]
    values = np.concatenate([rng.standard_normal(size) * scale for scale in (1e-3, 1, 30)]
                            + [np.array(specials)])
    return values.astype(dtype)


def assert_bits_equal(ours, theirs):
    """Equal bit patterns, any NaN matching any NaN."""
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    both_nan = np.isnan(ours) & np.isnan(theirs)
    same = (ours == theirs) & (np.signbit(ours) == np.signbit(theirs))
    bad = ~(same | both_nan)
    assert not bad.any(), (ours[bad][:5], theirs[bad][:5])


def _run(lib, values, grad, fn, device):
    x = lib.tensor(values, requires_grad=True,
                   device=device if lib is gputensor else "cpu")
    y = fn(lib, x)
    y.backward(lib.tensor(grad, device=x.device))
    return y.detach().cpu().numpy(), x.grad.cpu().numpy()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("exponent", EXPONENTS)
def test_pow_by_number_bit_equal(device, dtype, exponent):
    values = edge_values(dtype, size=200 if device == "cuda" else 4000)
    grad = np.random.default_rng(1).standard_normal(values.size).astype(dtype)
    with np.errstate(all="ignore"):
        ours = _run(gputensor, values, grad, lambda lib, x: x ** exponent, device)
        theirs = _run(torch, values, grad, lambda lib, x: x ** exponent, "cpu")
    assert_bits_equal(ours[0], theirs[0])
    if exponent not in (-2.0, -0.5):  # torch's gradient here is a general pow
        assert_bits_equal(ours[1], theirs[1])


def _gelu_values(dtype, size):
    """Values over gelu's interesting range (its tails included) plus zeros, NaN and
    large magnitudes."""
    rng = np.random.default_rng(2)
    values = np.concatenate([rng.uniform(-12, 12, size), rng.standard_normal(size) * 1e-3,
                             [0.0, -0.0, np.nan, 30.0, -30.0, 1e-30]])
    return values.astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_kernel_matches_torch(device, dtype, approximate):
    values = _gelu_values(dtype, 100 if device == "cuda" else 5000)
    grad = np.random.default_rng(3).standard_normal(values.size).astype(dtype)

    def fn(lib, x):
        return lib.nn.functional.gelu(x, approximate=approximate)
    ours = _run(gputensor, values, grad, fn, device)
    theirs = _run(torch, values, grad, fn, "cpu")
    # torch's own float32 erf is accurate to 1.5e-7 absolute, and the tanh form's gradient
    # in the tails is 1 - t^2 with t within an ulp of -1: compare absolutely
    rtol, atol = {"float32": (2e-6, 1e-5), "float64": (1e-12, 1e-12)}[dtype]
    for got, expected in zip(ours, theirs):
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_kernel_matches_formula(approximate):
    """The CPU's fused loops and the op's array formula (the hook off) agree."""
    values = _gelu_values("float32", 5000)
    grad = np.random.default_rng(4).standard_normal(values.size).astype(np.float32)
    hooks = gputensor.backends.cpu.cpu_backend.use_our_kernel

    def fn(lib, x):
        return lib.nn.functional.gelu(x, approximate=approximate)
    fused = _run(gputensor, values, grad, fn, "cpu")
    hooks["gelu"] = False
    try:
        formula = _run(gputensor, values, grad, fn, "cpu")
    finally:
        hooks["gelu"] = True
    for got, expected in zip(fused, formula):
        np.testing.assert_allclose(got, expected, rtol=2e-6, atol=1e-5, equal_nan=True)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_kernel_runs_threaded(approximate, monkeypatch):
    """Above the size threshold the loops run in parallel and give the serial values."""
    activations = importlib.import_module("gputensor.kernels.cpu.activations")
    values = np.random.default_rng(5).standard_normal(3000).astype(np.float32)
    grad = np.random.default_rng(6).standard_normal(3000).astype(np.float32)
    use_tanh = approximate == "tanh"
    serial = (activations.gelu_forward(values, use_tanh),
              activations.gelu_backward(grad, values, use_tanh))
    monkeypatch.setattr(activations, "PARALLEL_FROM", 1000)
    monkeypatch.setattr(activations.thread_choice, "force", True)
    threaded = (activations.gelu_forward(values, use_tanh),
                activations.gelu_backward(grad, values, use_tanh))
    for got, expected in zip(threaded, serial):
        assert_bits_equal(got, expected)


def test_vectorised_float32_exp_within_one_ulp():
    """exp32 (float32 softmax rows, gelu) against e^x rounded to float32, subnormals,
    overflow and NaN included."""
    numba = importlib.import_module("numba")
    fast_math = importlib.import_module("gputensor.kernels.cpu.fast_math")

    @numba.njit(error_model="numpy")
    def exp_all(x, y):
        for i in range(x.size):
            y[i] = fast_math.exp32(x[i])
    x = np.concatenate([np.linspace(-110, 88.7, 200_001),
                        [np.nan, -np.inf, np.inf, 0.0, -0.0]]).astype(np.float32)
    y = np.empty_like(x)
    exp_all(x, y)
    with np.errstate(over="ignore"):
        expected = np.exp(x.astype(np.float64)).astype(np.float32)
    ulps = np.abs(y.view(np.int32).astype(np.int64) - expected.view(np.int32).astype(np.int64))
    finite = np.isfinite(expected)
    assert ulps[finite].max() <= 1
    assert np.array_equal(y[~finite], expected[~finite], equal_nan=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_threaded_arithmetic_bit_equal(dtype, op, monkeypatch):
    """Large add/sub/mul/div run on Numba's threads and give torch's values bit for bit
    (zeros, infinities and NaN included); their gradients are those of the ufunc path."""
    backend = gputensor.backends.cpu.cpu_backend
    monkeypatch.setitem(backend.use_our_kernel, "threaded_binary", True)
    calls = []
    threaded = backend.threaded_binary

    def counted(name, a, b):
        result = threaded(name, a, b)
        calls.append((name, result is not None))
        return result
    monkeypatch.setattr(backend, "threaded_binary", counted)
    a_values = edge_values(dtype, size=1000)
    b_values = np.roll(edge_values(dtype, size=1000, seed=7), 5)
    grad = np.random.default_rng(8).standard_normal(a_values.size).astype(dtype)

    def run(lib):
        a = lib.tensor(a_values, requires_grad=True)
        b = lib.tensor(b_values, requires_grad=True)
        with np.errstate(all="ignore"):
            y = getattr(lib, op)(a, b)
            y.backward(lib.tensor(grad))
        return y.detach().numpy(), a.grad.numpy(), b.grad.numpy()
    ufunc_path = run(gputensor)
    monkeypatch.setattr(backend, "threaded_from", 1000)
    threaded_path = run(gputensor)
    assert calls == [(op, True)]  # the threaded loop computed it
    assert_bits_equal(threaded_path[0], run(torch)[0])
    for ours, expected in zip(threaded_path, ufunc_path):
        assert_bits_equal(ours, expected)


def test_threaded_arithmetic_leaves_other_operands_to_numpy(monkeypatch):
    """Broadcast, strided and integer operands and add's alpha take the ufunc path."""
    backend = gputensor.backends.cpu.cpu_backend
    monkeypatch.setitem(backend.use_our_kernel, "threaded_binary", True)
    monkeypatch.setattr(backend, "threaded_from", 10)
    values = np.arange(40, dtype=np.float32).reshape(4, 10)
    for fn in (lambda lib, x: x + x[0], lambda lib, x: x.t() * x.t(),
               lambda lib, x: lib.add(x, x, alpha=2), lambda lib, x: x.long() - x.long(),
               lambda lib, x: x / x):
        ours = fn(gputensor, gputensor.tensor(values))
        theirs = fn(torch, torch.tensor(values))
        assert_bits_equal(ours.numpy(), theirs.numpy())


def _blas_counts():
    threadpoolctl = importlib.import_module("threadpoolctl")
    blas = threadpoolctl.ThreadpoolController().select(user_api="blas").lib_controllers
    return [lib.get_num_threads() for lib in blas]


def test_small_products_use_one_blas_thread_and_large_ones_the_set_count():
    from gputensor.backends import blas_threads

    saved = gputensor.get_num_threads()
    try:
        gputensor.set_num_threads(2)
        if not _blas_counts() or max(_blas_counts()) < 2:
            pytest.skip("NumPy's BLAS runs one thread here")
        small = gputensor.ones(8, 8)
        small @ small
        assert set(_blas_counts()) == {1}
        side = int(round(blas_threads.ONE_THREAD_BELOW ** (1 / 3))) + 1
        large = gputensor.ones(side, side)
        assert side ** 3 >= blas_threads.ONE_THREAD_BELOW
        result = large @ large
        assert set(_blas_counts()) == {2}
        assert float(result[0, 0]) == side
        small @ small
        gputensor.set_num_threads(2)  # set while small products had switched to one thread
        assert set(_blas_counts()) == {2}
        large @ large
        assert set(_blas_counts()) == {2}
    finally:
        gputensor.set_num_threads(saved)
