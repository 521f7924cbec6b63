"""The Numba CUDA kernels (elementwise, sum-to-shape, matmul, activation backward) vs NumPy.

Every test body runs twice: on NumPy arrays under Numba's CUDA simulator (the "sim"
variant; tests/conftest.py sets NUMBA_ENABLE_CUDASIM=1) and on CuPy arrays on a real GPU
(the ``gpu`` variant, skipped elsewhere). Shapes are tiny: the simulator runs each CUDA
thread as a Python thread. The last test compiles every kernel to PTX for sm_90 in a
subprocess without the simulator.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest
from kernel_params import REAL_GPU, SIMULATED, host

from gputensor.kernels.cuda import launch, ptx
from gputensor.kernels.cuda.activations import activation_backward
from gputensor.kernels.cuda.elementwise import BINARY_OPS, UNARY_OPS, elementwise
from gputensor.kernels.cuda.matmul import matmul
from gputensor.kernels.cuda.reduce import sum_to_shape

DTYPES = ["float32", "float64"]
LAYOUTS = ["contiguous", "transposed", "sliced", "flipped", "expanded"]




def tol(dtype):
    """Comparison tolerances for a dtype."""
    return {"rtol": 1e-5, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-12, "atol": 1e-12}


def make(xp, shape, dtype, layout="contiguous", seed=0, positive=False):
    """``(device view, NumPy view)``: the same values laid out as ``layout``."""
    rng = np.random.default_rng(seed)
    shape = tuple(shape)

    def values(s):
        v = rng.standard_normal(s)
        return (np.abs(v) + 0.25 if positive else v).astype(dtype)

    if layout == "contiguous" or len(shape) == 0:
        base = values(shape)
        return xp.asarray(base), base
    if layout == "transposed":
        base = values(shape[::-1])
        return xp.asarray(base).T, base.T
    if layout == "sliced":
        base = values(shape[:-1] + (2 * shape[-1],))
        return xp.asarray(base)[..., ::2], base[..., ::2]
    if layout == "flipped":
        base = values(shape)
        index = (slice(None, None, -1),) * len(shape)
        return xp.asarray(base)[index], base[index]
    if layout == "expanded":  # the first dimension broadcast from size 1
        base = values((1,) + shape[1:])
        return xp.broadcast_to(xp.asarray(base), shape), np.broadcast_to(base, shape)
    raise ValueError(layout)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


UNARY_REF = {"neg": np.negative, "abs": np.abs, "exp": np.exp, "log": np.log,
             "log1p": np.log1p, "expm1": np.expm1, "sqrt": np.sqrt,
             "rsqrt": lambda x: 1 / np.sqrt(x), "reciprocal": lambda x: 1 / x,
             "square": np.square, "sin": np.sin, "cos": np.cos, "tanh": np.tanh,
             "sigmoid": sigmoid, "relu": lambda x: np.maximum(x, 0), "sign": np.sign}
BINARY_REF = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
              "maximum": np.maximum, "minimum": np.minimum, "pow": np.power}
POSITIVE = {"log", "log1p", "sqrt", "rsqrt", "reciprocal", "pow"}  # ops tested on positive inputs


def run_unary(xp, op, x, ref_x):
    out = xp.empty(x.shape, dtype=x.dtype)
    result = elementwise(op, out, x)
    assert result is out
    expected = UNARY_REF[op](ref_x).astype(x.dtype)
    np.testing.assert_allclose(host(out), expected, **tol(str(x.dtype)))


def run_binary(xp, op, x, y, ref_x, ref_y):
    shape = np.broadcast_shapes(ref_x.shape, ref_y.shape)
    out = xp.empty(shape, dtype=x.dtype)
    elementwise(op, out, x, y)
    expected = BINARY_REF[op](ref_x, ref_y).astype(x.dtype)
    np.testing.assert_allclose(host(out), expected, **tol(str(x.dtype)))


# ---- elementwise ----
def test_op_tables_match_the_references():
    assert set(UNARY_OPS) == set(UNARY_REF)
    assert set(BINARY_OPS) == set(BINARY_REF)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", UNARY_OPS)
def test_unary_op(op, dtype, xp):
    x, ref = make(xp, (3, 5), dtype, "transposed", positive=op in POSITIVE)
    run_unary(xp, op, x, ref)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_layouts(layout, dtype, xp):
    x, ref = make(xp, (2, 3, 4), dtype, layout)
    run_unary(xp, "exp", x, ref)


@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 3, 4), (2, 1, 3, 2),
                                   (2, 1, 2, 1, 2, 1, 2, 3)], ids=lambda s: f"rank{len(s)}")
def test_unary_ranks(shape, xp):
    for layout in ("contiguous", "flipped", "expanded"):
        x, ref = make(xp, shape, "float32", layout)
        run_unary(xp, "sigmoid", x, ref)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the simulator's NumPy
def test_unary_special_values(xp):
    ref = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -3.0, 2.0], dtype=np.float32)
    for op in ("relu", "sign", "sigmoid", "tanh", "abs", "neg", "exp", "log", "sqrt",
               "reciprocal"):
        x = xp.asarray(ref)
        out = xp.empty_like(x)
        elementwise(op, out, x)
        with np.errstate(all="ignore"):
            expected = UNARY_REF[op](ref)
        np.testing.assert_allclose(host(out), expected, rtol=1e-6, err_msg=op)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", BINARY_OPS)
def test_binary_op(op, dtype, xp):
    positive = op in POSITIVE
    x, ref_x = make(xp, (3, 4), dtype, "sliced", seed=1, positive=positive)
    y, ref_y = make(xp, (4,), dtype, seed=2, positive=positive)
    run_binary(xp, op, x, y, ref_x, ref_y)
    run_binary(xp, op, y, x, ref_y, ref_x)


BROADCAST_PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 1, 4), (3, 1)),
                   ((), (2, 3)), ((5,), ()), ((), ()), ((2, 3, 1, 2), (3, 4, 1)),
                   ((2, 1, 2, 1, 2, 1, 2, 2), (1, 2, 1, 2, 1, 1, 2))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS, ids=str)
def test_binary_broadcasting(shapes, dtype, xp):
    for x_layout, y_layout in [("contiguous", "contiguous"), ("transposed", "flipped"),
                               ("expanded", "sliced")]:
        x, ref_x = make(xp, shapes[0], dtype, x_layout, seed=3)
        y, ref_y = make(xp, shapes[1], dtype, y_layout, seed=4)
        run_binary(xp, "sub", x, y, ref_x, ref_y)


def test_long_contiguous_inputs_take_the_unrolled_path(xp):
    # more elements than 4 x the grid's threads: the contiguous loops' 4-wide turns run
    n = 300 if SIMULATED else 5_000_003
    x, ref_x = make(xp, (n,), "float32", seed=1)
    y, ref_y = make(xp, (n,), "float32", seed=2)
    run_unary(xp, "tanh", x, ref_x)
    run_binary(xp, "mul", x, y, ref_x, ref_y)
    np.testing.assert_allclose(host(activation_backward("sigmoid", x, y)),
                               ref_x * (1 - ref_y) * ref_y, rtol=1e-5, atol=1e-6)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the simulator's NumPy
def test_binary_division_by_zero_and_nan_pow(xp):
    ref_x = np.array([1.0, -1.0, 0.0, -2.0], dtype=np.float32)
    ref_y = np.array([0.0, 0.0, 0.0, 0.5], dtype=np.float32)
    for op in ("div", "pow"):
        out = xp.empty(4, np.float32)
        elementwise(op, out, xp.asarray(ref_x), xp.asarray(ref_y))
        with np.errstate(all="ignore"):
            expected = BINARY_REF[op](ref_x, ref_y)
        np.testing.assert_allclose(host(out), expected, rtol=1e-6, err_msg=op)


def test_binary_nan_wins_in_maximum_and_minimum(xp):
    ref_x = np.array([np.nan, 1.0, 2.0, np.nan], dtype=np.float32)
    ref_y = np.array([1.0, np.nan, 3.0, np.nan], dtype=np.float32)
    for op in ("maximum", "minimum"):
        run_binary(xp, op, xp.asarray(ref_x), xp.asarray(ref_y), ref_x, ref_y)


def test_output_may_alias_an_input(xp):
    x, ref_x = make(xp, (4, 3), "float32")
    y, ref_y = make(xp, (3,), "float32", seed=1)
    expected = ref_x + ref_y
    elementwise("add", x, x, y)  # x += y
    np.testing.assert_allclose(host(x), expected, rtol=1e-6)


def test_empty_output_launches_nothing(xp):
    out = xp.empty((0, 3), dtype=np.float32)
    assert elementwise("add", out, xp.ones((0, 3), np.float32), xp.ones(3, np.float32)) is out


def test_elementwise_bad_input(xp):
    x32 = xp.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match="unknown elementwise op"):
        elementwise("nope", x32, x32)
    with pytest.raises(TypeError, match="takes 2 input"):
        elementwise("add", x32, x32)
    with pytest.raises(TypeError, match="dtype mismatch"):
        elementwise("add", x32, x32, xp.ones((2, 3), np.float64))
    with pytest.raises(TypeError, match="float32 and float64"):
        elementwise("neg", xp.ones(3, np.int64), xp.ones(3, np.int64))
    with pytest.raises(ValueError, match="C-contiguous"):
        elementwise("neg", xp.ones((3, 2), np.float32).T, x32)
    with pytest.raises(ValueError, match="cannot broadcast"):
        elementwise("add", x32, x32, xp.ones((4,), np.float32))
    with pytest.raises(ValueError, match="at most 8 dimensions"):
        big = xp.ones((1,) * 9, np.float32)
        elementwise("neg", big, big)


# ---- sum_to_shape ----
def reference_sum_to_shape(a, shape):
    lead = a.ndim - len(shape)
    summed = a.sum(axis=tuple(range(lead)))
    axes = tuple(d for d, s in enumerate(shape) if s == 1 and summed.shape[d] != 1)
    return summed.sum(axis=axes, keepdims=True).reshape(shape)


SUM_CASES = [((5, 7), (7,)), ((70, 3), (3,)), ((3, 70), (3, 1)), ((200,), ()), ((4,), (4,)),
             ((2, 3, 4), (3, 1)), ((2, 3, 4, 5), (1, 3, 1, 5)), ((), ()), ((3, 1), (1, 1)),
             ((2, 1, 2, 1, 2, 1, 2, 3), (1, 2, 1, 1, 3)), ((2, 2, 2, 2, 2, 2, 2, 2), ())]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", SUM_CASES, ids=str)
def test_sum_to_shape(case, dtype, xp):
    in_shape, shape = case
    a, ref = make(xp, in_shape, dtype, seed=5)
    result = sum_to_shape(a, shape)
    assert tuple(result.shape) == shape and result.dtype == a.dtype
    assert result is not a
    np.testing.assert_allclose(host(result), reference_sum_to_shape(ref, shape),
                               rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-5)


def test_sum_to_shape_non_contiguous_and_empty_inputs(xp):
    a, ref = make(xp, (4, 6), "float32", "transposed")
    np.testing.assert_allclose(host(sum_to_shape(a, (1, 6))), ref.sum(0, keepdims=True),
                               rtol=1e-5)
    empty = sum_to_shape(xp.ones((0, 3), np.float32), (3,))
    np.testing.assert_array_equal(host(empty), np.zeros(3, np.float32))


def test_sum_to_shape_bad_input(xp):
    a = xp.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match="cannot sum shape"):
        sum_to_shape(a, (2,))
    with pytest.raises(ValueError, match="cannot sum shape"):
        sum_to_shape(a, (1, 2, 3))
    with pytest.raises(TypeError, match="float32 and float64"):
        sum_to_shape(xp.ones(3, np.int32), ())


# ---- matmul ----
def matmul_case(xp, a_shape, b_shape, a_layout="contiguous", b_layout="contiguous"):
    a, ref_a = make(xp, a_shape, "float32", a_layout, seed=6)
    b, ref_b = make(xp, b_shape, "float32", b_layout, seed=7)
    result = matmul(a, b)
    expected = np.matmul(ref_a.astype(np.float64), ref_b.astype(np.float64))
    assert tuple(result.shape) == expected.shape and result.dtype == np.float32
    np.testing.assert_allclose(host(result), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shapes", [((5, 19), (19, 3)), ((1, 1), (1, 1)), ((10, 13), (13, 9)),
                                    ((9, 21), (21, 10))], ids=str)
def test_matmul_2d_any_shape(shapes, xp):
    matmul_case(xp, *shapes)


@pytest.mark.parametrize("layouts", [("transposed", "contiguous"), ("contiguous", "transposed"),
                                     ("transposed", "transposed"), ("sliced", "flipped")])
def test_matmul_strided_inputs(layouts, xp):
    matmul_case(xp, (7, 10), (10, 6), *layouts)


@pytest.mark.parametrize("shapes", [((2, 9, 7), (2, 7, 10)), ((2, 9, 7), (7, 10)),
                                    ((5, 7), (3, 7, 4)), ((1, 6, 5), (3, 5, 4)),
                                    ((3, 6, 5), (1, 5, 4))], ids=str)
def test_matmul_batched_with_broadcast_batch(shapes, xp):
    matmul_case(xp, *shapes)


def test_matmul_batched_strided_and_expanded(xp):
    matmul_case(xp, (3, 6, 5), (3, 5, 4), "expanded", "transposed")
    matmul_case(xp, (2, 4, 6), (2, 6, 3), "sliced", "flipped")


def test_matmul_into_out_and_degenerate_shapes(xp):
    a, ref_a = make(xp, (4, 3), "float32")
    b, ref_b = make(xp, (3, 5), "float32", seed=1)
    out = xp.empty((4, 5), np.float32)
    assert matmul(a, b, out=out) is out
    np.testing.assert_allclose(host(out), ref_a @ ref_b, rtol=1e-5, atol=1e-6)
    zero_k = matmul(xp.ones((4, 0), np.float32), xp.ones((0, 5), np.float32))
    np.testing.assert_array_equal(host(zero_k), np.zeros((4, 5), np.float32))
    assert matmul(xp.ones((0, 3), np.float32), b).shape == (0, 5)


def test_matmul_bad_input(xp):
    a = xp.ones((4, 3), np.float32)
    with pytest.raises(ValueError, match="cannot be multiplied"):
        matmul(a, xp.ones((4, 3), np.float32))
    with pytest.raises(TypeError, match="float32 only"):
        matmul(a.astype(np.float64), xp.ones((3, 2), np.float64))
    with pytest.raises(ValueError, match="do not broadcast"):
        matmul(xp.ones((2, 4, 3), np.float32), xp.ones((3, 3, 2), np.float32))
    with pytest.raises(ValueError, match="2-D or 3-D"):
        matmul(xp.ones(3, np.float32), xp.ones((3, 2), np.float32))
    with pytest.raises(ValueError, match="out must be"):
        matmul(a, xp.ones((3, 2), np.float32), out=xp.empty((2, 4), np.float32))


# ---- activation backward ----
ACTIVATION_REF = {"relu": lambda g, y: np.where(y <= 0, 0, g),
                  "sigmoid": lambda g, y: g * (1 - y) * y,
                  "tanh": lambda g, y: g * (1 - y * y)}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", sorted(ACTIVATION_REF))
def test_activation_backward(kind, dtype, xp):
    g, ref_g = make(xp, (4, 5), dtype, seed=8)
    y, ref_y = make(xp, (4, 5), dtype, seed=9)
    if kind == "relu":
        y = xp.maximum(y, 0)  # exact zeros, as relu outputs have
        ref_y = np.maximum(ref_y, 0)
    result = activation_backward(kind, g, y)
    assert result.shape == (4, 5) and result.dtype == dtype
    np.testing.assert_allclose(host(result), ACTIVATION_REF[kind](ref_g, ref_y).astype(dtype),
                               **tol(dtype))


def test_activation_backward_strided_scalar_and_empty(xp):
    g, ref_g = make(xp, (3, 4), "float32", "transposed")
    y, ref_y = make(xp, (3, 4), "float32", "sliced", seed=1)
    np.testing.assert_allclose(host(activation_backward("tanh", g, y)),
                               ref_g * (1 - ref_y * ref_y), rtol=1e-6)
    scalar = activation_backward("sigmoid", xp.asarray(np.float32(2.0)),
                                 xp.asarray(np.float32(0.5)))
    assert scalar.shape == () and float(scalar) == 0.5
    assert activation_backward("relu", xp.ones(0, np.float32), xp.ones(0, np.float32)).shape == (0,)


def test_activation_backward_relu_follows_torch_threshold_backward(xp):
    g = np.array([np.nan, 1.0, 2.0, 3.0], dtype=np.float32)
    y = np.array([0.0, np.nan, -1.0, 4.0], dtype=np.float32)
    result = activation_backward("relu", xp.asarray(g), xp.asarray(y))
    np.testing.assert_array_equal(host(result), np.array([0.0, 1.0, 0.0, 3.0], np.float32))


def test_activation_backward_bad_input(xp):
    a = xp.ones(3, np.float32)
    with pytest.raises(ValueError, match="unknown activation"):
        activation_backward("gelu", a, a)
    with pytest.raises(ValueError, match="shape"):
        activation_backward("relu", a, xp.ones(4, np.float32))
    with pytest.raises(TypeError, match="dtype mismatch"):
        activation_backward("relu", a, a.astype(np.float64))


@pytest.mark.gpu
@pytest.mark.skipif(not REAL_GPU, reason="needs a real NVIDIA GPU with CuPy")
def test_kernels_launch_on_cupys_current_stream():
    import cupy

    x, ref = make(cupy, (64, 33), "float32", "transposed")
    cupy.cuda.Device().synchronize()  # the upload ran on the default stream
    with cupy.cuda.Stream(non_blocking=True) as s:
        out = cupy.empty(x.shape, np.float32)
        elementwise("tanh", out, x)
        summed = sum_to_shape(out, (33,))
        product = matmul(out, out.T)
        s.synchronize()
    np.testing.assert_allclose(host(out), np.tanh(ref), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(host(summed), np.tanh(ref).sum(0), rtol=1e-4, atol=1e-5)
    t = np.tanh(ref).astype(np.float64)
    np.testing.assert_allclose(host(product), t @ t.T, rtol=1e-4, atol=1e-4)


# ---- launch helpers ----
def test_grid_is_bounded_and_never_empty():
    assert launch.grid_size(0) == 1
    assert launch.grid_size(10 ** 12) == launch.max_blocks()
    if SIMULATED:
        assert launch.grid_size(10 ** 12) == launch.SIM_GRID


def test_flat_view_addresses_every_element(xp):
    for layout in LAYOUTS:
        a, ref = make(xp, (3, 4), "float64", layout)
        buffer, offset, strides = launch.flat_view(a)
        flat = host(buffer)
        for index in np.ndindex(ref.shape):
            assert flat[offset + sum(i * s for i, s in zip(index, strides))] == ref[index]


# ---- PTX for sm_90 ----
def test_every_kernel_compiles_to_ptx_for_sm90():
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMBA_ENABLE_CUDASIM", "GPUTENSOR_SIMULATE_CUDA")}
    proc = subprocess.run([sys.executable, "-m", "gputensor.kernels.cuda.ptx"], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    compiled = set(re.findall(r"^ok\s+(\S+)\s+(\S+)$", proc.stdout, re.MULTILINE))
    kernels, failures = ptx.registered_kernels()
    assert not failures
    expected = {(name, ptx.dtype_of(sig)) for name, _, sigs in kernels for sig in sigs}
    assert expected <= compiled, sorted(expected - compiled)
    names = {name for name, _ in compiled}
    for module in ("elementwise", "reduce", "matmul", "activations"):
        assert any(name.startswith(module + ".") for name in names), module
    assert {dtype for _, dtype in compiled} == {"float32", "float64"}
    total = sum(len(sigs) for _, _, sigs in kernels)
    assert f"{total}/{total} kernel x dtype compiled to PTX for sm_90" in proc.stdout
