"""gputensor.nn.functional (layers and activations) against torch: values, grads, names, errors."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as torch_fn

import gputensor
import gputensor.nn.functional as our_fn
from helpers import (
    LIBS,
    assert_on,
    assert_same,
    check_error,
    check_op,
    grad_fn_names,
    made_on,
    make_input,
    rand_array,
    to_numpy,
)

FLOATS = ["float32", "float64"]
RNG = np.random.default_rng(7)


def fn_of(lib):
    """The functional module of a library."""
    return our_fn if lib is gputensor else torch_fn


def run(fn, *arrays, device, **options):
    """check_op with ``fn(F, lib, *operands)``: F is the library's functional module."""
    check_op(lambda lib, *ops: fn(fn_of(lib), lib, *ops), *arrays, device=device, **options)


def gradcheck(fn, *arrays):
    """gputensor's float64 gradcheck of ``fn(*tensors)``."""
    inputs = [gputensor.tensor(a.astype(np.float64), requires_grad=True) for a in arrays]
    assert gputensor.autograd.gradcheck(fn, inputs)


# ---- linear --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(4, 3), (3,), (2, 4, 3), (2, 2, 1, 3), (0, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(dtype, shape, bias, device):
    arrays = [rand_array(shape, dtype), rand_array((5, 3), dtype)]
    if bias:
        arrays.append(rand_array((5,), dtype))
    for layout in ("contiguous", "transposed", "strided"):
        run(lambda F, lib, *ops: F.linear(*ops), *arrays, layout=layout, device=device)


@pytest.mark.parametrize("bias_shape", [(1,), (), (4, 5), (4, 1)])
def test_linear_broadcast_bias(bias_shape, device):
    run(lambda F, lib, x, w, b: F.linear(x, w, b), rand_array((4, 3)), rand_array((5, 3)),
        rand_array(bias_shape), device=device)


def test_linear_one_dim_weight_and_ints(device):
    run(lambda F, lib, x, w: F.linear(x, w), rand_array((4, 3)), rand_array((3,)), device=device)
    run(lambda F, lib, x, w, b: F.linear(x, w, b), rand_array((4, 3), "int64"),
        rand_array((5, 3), "int64"), rand_array((5,), "int64"), grad=False, device=device)


@pytest.mark.parametrize("shape, bias, layout", [
    ((4, 3), True, "contiguous"), ((4, 3), False, "contiguous"), ((4, 3), True, "transposed"),
    ((3,), True, "contiguous"), ((3,), False, "contiguous"), ((3,), True, "strided"),
    ((2, 4, 3), True, "contiguous"), ((2, 4, 3), False, "contiguous"),
    ((2, 4, 3), True, "transposed"), ((2, 4, 3), False, "transposed")])
def test_linear_grad_fn(shape, bias, layout, device):
    names = []
    for lib in LIBS:
        with made_on(lib, device):
            x = make_input(lib, rand_array(shape), layout, True, device)[1]
            w = lib.tensor(rand_array((5, 3)), requires_grad=True)
            b = lib.tensor(rand_array((5,)), requires_grad=True) if bias else None
            names.append(grad_fn_names(fn_of(lib).linear(x, w, b)))
    assert names[0] == names[1]


def test_linear_errors(device):
    x, w, b = rand_array((4, 3)), rand_array((5, 3)), rand_array((5,))

    def call(lib, x, w, b=None, dtypes=(None, None, None)):
        args = [None if a is None else lib.tensor(a, dtype=getattr(lib, d) if d else None)
                for a, d in zip((x, w, b), dtypes)]
        return fn_of(lib).linear(*args)

    check_error(call, rand_array(()), w, b, device=device)
    check_error(call, x, rand_array(()), b, device=device)
    check_error(call, rand_array((4, 2)), w, b, device=device)
    check_error(call, rand_array((4, 2)), w, device=device)
    check_error(call, rand_array((2, 4, 2)), w, b, device=device)
    check_error(call, rand_array((2,)), w, device=device)
    check_error(call, x, w, rand_array((4,)), device=device)
    check_error(call, rand_array((2, 4, 3)), w, rand_array((4,)), device=device)
    check_error(call, x, rand_array((2, 5, 3)), device=device)
    check_error(call, x, w, b, ("float64", None, None), device=device)
    check_error(call, x, w, b, (None, "float64", None), device=device)
    check_error(call, x, w, b, (None, None, "float64"), device=device)
    check_error(call, x, w, None, ("float64", None, None), device=device)


def test_linear_gradcheck():
    gradcheck(lambda x, w, b: our_fn.linear(x, w, b), rand_array((3, 2)), rand_array((4, 2)),
              rand_array((4,)))
    gradcheck(lambda x, w, b: our_fn.linear(x, w, b), rand_array((2, 3, 2)), rand_array((4, 2)),
              rand_array((4,)))


# ---- activations ---------------------------------------------------------------------
ACTIVATIONS = {
    "relu": lambda F, x: F.relu(x),
    "leaky_relu": lambda F, x: F.leaky_relu(x),
    "leaky_relu_slope": lambda F, x: F.leaky_relu(x, 0.2),
    "elu": lambda F, x: F.elu(x),
    "elu_alpha": lambda F, x: F.elu(x, alpha=0.5),
    "gelu": lambda F, x: F.gelu(x),
    "gelu_tanh": lambda F, x: F.gelu(x, approximate="tanh"),
    "silu": lambda F, x: F.silu(x),
    "sigmoid": lambda F, x: F.sigmoid(x),
    "tanh": lambda F, x: F.tanh(x),
    "softmax": lambda F, x: F.softmax(x, dim=-1),
    "log_softmax": lambda F, x: F.log_softmax(x, 0),
    "softmax_dtype": lambda F, x: F.softmax(x, 1, dtype=(gputensor if F is our_fn else torch)
                                              .float64),
}


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_activation(name, dtype, device):
    x = rand_array((4, 5), dtype, -6, 6)
    x[0, :3] = [0.0, 30.0, -30.0]  # a zero and saturated values
    for layout in ("contiguous", "transposed", "expanded"):
        run(lambda F, lib, t: ACTIVATIONS[name](F, t), x, layout=layout, device=device)


@pytest.mark.parametrize("name", ["relu", "leaky_relu_slope", "elu", "gelu", "gelu_tanh", "silu"])
def test_activation_gradcheck(name):
    gradcheck(lambda t: ACTIVATIONS[name](our_fn, t), rand_array((3, 4), "float64"))


@pytest.mark.parametrize("name, call", [
    ("relu", lambda F, t: F.relu(t, inplace=True)),
    ("leaky_relu", lambda F, t: F.leaky_relu(t, 0.1, inplace=True)),
    ("leaky_relu_", lambda F, t: F.leaky_relu_(t, 0.1)),
    ("elu", lambda F, t: F.elu(t, 0.7, inplace=True)),
    ("elu_", lambda F, t: F.elu_(t)),
    ("silu", lambda F, t: F.silu(t, inplace=True)),
    ("relu_", lambda F, t: F.relu_(t)),
])
def test_inplace_activation(name, call, device):
    x = rand_array((3, 4), "float64")

    def fn(F, lib, t):
        y = t * 1
        out = call(F, y)
        assert out is y
        return y

    run(fn, x, device=device)
    check_error(lambda lib: call(fn_of(lib), lib.tensor(x, requires_grad=True)), device=device)


@pytest.mark.parametrize("name", ["leaky_relu", "elu", "gelu", "gelu_tanh", "silu"])
@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_activation_refuses_integers(name, dtype, device):
    data = rand_array((3,), dtype)
    check_error(lambda lib: ACTIVATIONS[name](fn_of(lib), lib.tensor(data)), device=device)


def test_activation_dtypes_and_errors(device):
    run(lambda F, lib, t: F.relu(t), rand_array((3,), "int64"), grad=False, device=device)
    run(lambda F, lib, t: F.sigmoid(t), rand_array((3,), "int64"), grad=False, device=device)
    check_error(lambda lib: fn_of(lib).relu(lib.tensor([True])), device=device)
    check_error(lambda lib: fn_of(lib).gelu(lib.ones(2), approximate="foo"), device=device)
    check_error(lambda lib: fn_of(lib).leaky_relu(lib.ones(2), "a"), device=device)


def test_erf_is_double_precision():  # gelu's erf
    import math

    from gputensor.backends.cpu import cpu_backend
    x = np.concatenate([np.linspace(-7, 7, 4001), [0.84375, 1.25, 1 / 0.35, 6.0, 1e-300]])
    expected = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(cpu_backend.special_function("erf", x), expected, rtol=4e-16,
                               atol=1e-300)
    special = cpu_backend.special_function("erf", np.array([np.inf, -np.inf, np.nan, -0.0]))
    assert special[0] == 1 and special[1] == -1 and np.isnan(special[2])
    assert np.signbit(special[3])


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4), (5,), ()])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_implicit_dim(shape, name, device):
    with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name}"):
        run(lambda F, lib, t: getattr(F, name)(t), rand_array(shape), device=device)


# ---- dropout -------------------------------------------------------------------------
def test_dropout_identity_cases(device):
    x = gputensor.ones(4, device=device, requires_grad=True)
    assert our_fn.dropout(x, training=False) is x
    assert our_fn.dropout(x, p=0.0) is x
    assert our_fn.dropout(gputensor.ones(0, device=device), 0.5).shape == (0,)
    check_error(lambda lib: fn_of(lib).dropout(lib.ones(3), p=1.5), device=device)
    check_error(lambda lib: fn_of(lib).dropout(lib.ones(3), p=-0.1), device=device)
    check_error(lambda lib: fn_of(lib).dropout(lib.ones(3, dtype=lib.int64)), device=device)


@pytest.mark.parametrize("dtype", FLOATS)
def test_dropout_mask_scale_and_grad(dtype, device):
    data = rand_array((200, 50), dtype, 1, 2)
    x = gputensor.tensor(data, device=device, requires_grad=True)
    gputensor.manual_seed(3)
    out = our_fn.dropout(x, p=0.3)
    assert out.dtype == x.dtype and out.grad_fn.name() == "MulBackward0"
    assert_on([out], device)
    values = to_numpy(out)
    kept = values != 0
    assert 0.65 < kept.mean() < 0.75
    np.testing.assert_allclose(values[kept], data[kept] / 0.7, rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), kept / 0.7, rtol=1e-6)
    gputensor.manual_seed(3)
    again = to_numpy(our_fn.dropout(gputensor.tensor(data, device=device), p=0.3))
    np.testing.assert_array_equal(again, values)
    zeros = our_fn.dropout(x, p=1.0)
    assert not to_numpy(zeros).any()


def test_dropout_inplace(device):
    x = gputensor.ones(100, device=device, requires_grad=True)
    y = x * 1
    out = our_fn.dropout(y, 0.5, inplace=True)
    assert out is y and y.grad_fn.name() == "MulBackward0"
    y.sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), to_numpy(y))


# ---- embedding -----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("index_dtype", ["int64", "int32"])
@pytest.mark.parametrize("options", [{}, {"padding_idx": 2}, {"padding_idx": -1},
                                     {"scale_grad_by_freq": True}])
def test_embedding(dtype, index_dtype, options, device):
    idx = np.array([[1, 2, 4], [4, 0, 2], [2, 2, 1]], dtype=index_dtype)
    run(lambda F, lib, w: F.embedding(lib.tensor(idx), w, **options), rand_array((5, 3), dtype),
        device=device)
    run(lambda F, lib, w: F.embedding(lib.tensor(idx[0]), w, **options),
        rand_array((5, 3), dtype), device=device)


def test_embedding_max_norm_renormalizes_weight(device):
    data = rand_array((6, 4), "float64", -3, 3)
    idx = np.array([[0, 2], [2, 5]])
    weights = {}
    for lib in LIBS:
        with made_on(lib, device):
            w = lib.tensor(data, requires_grad=True)
            out = fn_of(lib).embedding(lib.tensor(idx), w, max_norm=1.5, norm_type=1.0)
            out.sum().backward()
        weights[lib] = (out, w, w.grad)
    assert_on(weights[gputensor], device)
    for ours, theirs in zip(weights[gputensor], weights[torch]):
        assert_same(ours, theirs)


def test_embedding_gradcheck_and_errors(device):
    idx = gputensor.tensor([[0, 3], [3, 1]])
    gradcheck(lambda w: our_fn.embedding(idx, w), rand_array((4, 2)))
    w = rand_array((5, 3))
    for bad in ([1.0, 2.0], [1, 5], [1, -1]):
        check_error(lambda lib, bad=bad: fn_of(lib).embedding(lib.tensor(bad), lib.tensor(w)),
                    device=device)
    check_error(lambda lib: fn_of(lib).embedding(lib.tensor([1], dtype=lib.uint8),
                                                 lib.tensor(w)), device=device)
    check_error(lambda lib: fn_of(lib).embedding(lib.tensor([1]), lib.tensor(w[0])), device=device)
    for pad in (5, -6):
        check_error(lambda lib, pad=pad: fn_of(lib).embedding(lib.tensor([1]), lib.tensor(w),
                                                              pad), device=device)


# ---- layer_norm and batch_norm ---------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape, norm", [((4, 5), (5,)), ((2, 3, 4), (3, 4)), ((6,), (6,))])
@pytest.mark.parametrize("affine", ["both", "weight", "none"])
def test_layer_norm(dtype, shape, norm, affine, device):
    arrays = [rand_array(shape, dtype, -3, 3)]
    if affine != "none":
        arrays.append(rand_array(norm, dtype))
    if affine == "both":
        arrays.append(rand_array(norm, dtype))
    for layout in ("contiguous", "transposed"):
        run(lambda F, lib, x, *p: F.layer_norm(x, norm, *p, eps=1e-3), *arrays, layout=layout,
            device=device)


def test_layer_norm_gradcheck_and_errors(device):
    gradcheck(lambda x, w, b: our_fn.layer_norm(x, (2, 3), w, b), rand_array((2, 2, 3)),
              rand_array((2, 3)), rand_array((2, 3)))
    x = rand_array((2, 3, 4))

    def call(lib, norm, w=None, b=None, dtype=None):
        t = lib.tensor(x if dtype is None else x.astype(dtype))
        w = None if w is None else lib.tensor(w)
        b = None if b is None else lib.tensor(b)
        return fn_of(lib).layer_norm(t, norm, w, b)

    check_error(call, [3], device=device)
    check_error(call, [3, 4], rand_array((4,)), device=device)
    check_error(call, [4], None, rand_array((3,)), device=device)
    check_error(call, 4, device=device)
    check_error(call, (2, 3, 4, 5), device=device)
    check_error(call, [], device=device)
    check_error(call, [4], None, None, "int64", device=device)
    check_error(call, [4], rand_array((4,), "float64"), device=device)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 2, 2)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm(dtype, shape, training, affine, device):
    stats = (rand_array((3,), dtype), rand_array((3,), dtype, 0.5, 2))
    stored = {}

    def fn(F, lib, x, *params):
        mean, var = (lib.tensor(s) for s in stats)
        out = F.batch_norm(x, mean, var, *params, training=training, momentum=0.3, eps=1e-3)
        stored[lib] = (mean, var)
        return out

    arrays = [rand_array(shape, dtype, -3, 3)]
    if affine:
        arrays += [rand_array((3,), dtype), rand_array((3,), dtype)]
    run(fn, *arrays, device=device)
    assert_on(stored[gputensor], device)
    assert_same(stored[gputensor], stored[torch])


def test_batch_norm_without_running_stats_and_version(device):
    run(lambda F, lib, x: F.batch_norm(x, None, None, training=True), rand_array((5, 3)),
        device=device)
    mean = gputensor.zeros(3)
    before = mean._version.value
    our_fn.batch_norm(gputensor.randn(4, 3), mean, gputensor.ones(3), training=True)
    assert mean._version.value == before + 1
    gradcheck(lambda x, w, b: our_fn.batch_norm(x, None, None, w, b, training=True),
              rand_array((4, 2, 3)), rand_array((2,)), rand_array((2,)))
    mean, var = gputensor.tensor(rand_array((2,), "float64")), gputensor.ones(2).double()
    gradcheck(lambda x, w: our_fn.batch_norm(x, mean, var, w), rand_array((3, 2)), rand_array((2,)))


def test_batch_norm_errors(device):
    def call(lib, shape, mean_n=3, var=True, training=True, dtype=None, weight_n=None,
             stats_dtype=None):
        x = lib.tensor(rand_array(shape, dtype or "float32"))
        mean = None if mean_n is None else lib.zeros(mean_n, dtype=getattr(lib, stats_dtype)
                                                     if stats_dtype else None)
        v = lib.ones(mean_n or 3) if var and mean_n is not None else None
        w = None if weight_n is None else lib.ones(weight_n)
        return fn_of(lib).batch_norm(x, mean, v, w, training=training)

    check_error(call, (1, 3), device=device)
    check_error(call, (2, 3), None, True, False, device=device)
    check_error(call, (2, 3), 4, device=device)
    check_error(call, (2, 3), 3, True, True, None, 4, device=device)
    check_error(call, (3,), device=device)
    check_error(call, (2, 3), 3, False, device=device)
    check_error(call, (2, 3), 3, True, True, "float64", device=device)
    check_error(call, (2, 3), 3, True, True, None, None, "float64", device=device)
    check_error(call, (2, 3), 3, True, True, "int64", device=device)


# ---- one_hot -------------------------------------------------------------------------
def test_one_hot(device):
    idx = np.array([[0, 2], [3, 1]])
    check_op(lambda lib, i: fn_of(lib).one_hot(i), idx, device=device)
    check_op(lambda lib, i: fn_of(lib).one_hot(i, 6), idx, device=device)
    for bad, n in (([1.0], -1), ([1], 1), ([-1], 3)):
        check_error(lambda lib, bad=bad, n=n: fn_of(lib).one_hot(lib.tensor(bad), n), device=device)
    check_error(lambda lib: fn_of(lib).one_hot(lib.tensor([], dtype=lib.int64)), device=device)


def test_functional_names_exist():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        missing = [n for n in our_fn.__all__ if not hasattr(torch_fn, n)]
    assert not missing
