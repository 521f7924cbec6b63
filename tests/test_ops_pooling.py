"""Pooling compared with torch: values, indices, gradients, grad_fn names and errors, on the
CPU and on (simulated) CUDA."""

import numpy as np
import pytest

from helpers import check_error, check_op, rand_array

DTYPES = ["float32", "float64"]

MAX_POOL2D = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 1), "dilation": (2, 1),
     "ceil_mode": True},
    {"kernel_size": 2, "ceil_mode": True},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    {"kernel_size": 3, "stride": 1, "padding": 1},
    {"kernel_size": (1, 3), "stride": (1, 2), "dilation": 2},
]

AVG_POOL2D = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
    {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 1), "ceil_mode": True},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True,
     "count_include_pad": False},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "divisor_override": 4},
    {"kernel_size": 2, "stride": 3},
]

SHAPES_2D = [(2, 3, 7, 6), (3, 5, 5)]  # batched and unbatched, odd sizes


def _one_dim(kwargs):
    """The 1-D form of 2-D pooling settings (the first of each pair)."""
    return {k: v[0] if isinstance(v, tuple) else v for k, v in kwargs.items()
            if k != "divisor_override"}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES_2D)
@pytest.mark.parametrize("kwargs", MAX_POOL2D)
def test_max_pool2d(device, dtype, shape, kwargs):
    check_op(lambda lib, x: lib.nn.functional.max_pool2d(x, return_indices=True, **kwargs),
             rand_array(shape, dtype), device=device)


@pytest.mark.parametrize("shape", [(2, 3, 9), (3, 8)])
@pytest.mark.parametrize("kwargs", MAX_POOL2D)
def test_max_pool1d(device, shape, kwargs):
    check_op(lambda lib, x: lib.nn.functional.max_pool1d(x, return_indices=True,
                                                         **_one_dim(kwargs)),
             rand_array(shape), device=device)


def test_max_pool_ties_nan_and_infinities(device):
    x = np.round(rand_array((1, 2, 6, 6), "float64") * 2) / 2  # many ties
    x[0, 0, 1, 1] = x[0, 0, 1, 2] = np.nan  # two NaNs in one window: the last wins
    x[0, 1, :3, :3] = -np.inf  # a window with only -inf: its first element
    check_op(lambda lib, x: lib.nn.functional.max_pool2d(x, 3, 1, 1, return_indices=True), x,
             device=device)
    check_op(lambda lib, x: lib.nn.functional.max_pool2d(x, 2, return_indices=True), x,
             device=device)
    check_op(lambda lib, x: lib.nn.functional.adaptive_max_pool2d(x, 4, True), x, device=device)


def test_max_pool_with_indices_names(device):
    x = rand_array((2, 3, 6, 6))
    check_op(lambda lib, x: lib.nn.functional.max_pool2d_with_indices(x, 2), x, device=device)
    check_op(lambda lib, x: lib.max_pool1d_with_indices(x[0], 3), x, device=device)
    check_op(lambda lib, x: lib.max_pool2d(x, 2, 1), x, device=device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES_2D)
@pytest.mark.parametrize("kwargs", AVG_POOL2D)
def test_avg_pool2d(device, dtype, shape, kwargs):
    check_op(lambda lib, x: lib.nn.functional.avg_pool2d(x, **kwargs), rand_array(shape, dtype),
             device=device)


@pytest.mark.parametrize("shape", [(2, 3, 9), (3, 8)])
@pytest.mark.parametrize("kwargs", AVG_POOL2D)
def test_avg_pool1d(device, shape, kwargs):
    check_op(lambda lib, x: lib.nn.functional.avg_pool1d(x, **_one_dim(kwargs)),
             rand_array(shape), device=device)


ADAPTIVE_SIZES = [3, (2, 4), 1, (7, 6), (None, 4), (5, 5), (9, 3)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 3, 7, 6), (3, 7, 6)])
@pytest.mark.parametrize("size", ADAPTIVE_SIZES)
def test_adaptive_pool2d(device, dtype, shape, size):
    x = rand_array(shape, dtype)
    check_op(lambda lib, x: lib.nn.functional.adaptive_avg_pool2d(x, size), x, device=device)
    check_op(lambda lib, x: lib.nn.functional.adaptive_max_pool2d(x, size, True), x,
             device=device)


@pytest.mark.parametrize("size", [1, 3, 4, 7, 10])
def test_adaptive_pool1d(device, size):
    x = rand_array((2, 3, 7))
    check_op(lambda lib, x: lib.nn.functional.adaptive_avg_pool1d(x, size), x, device=device)
    check_op(lambda lib, x: lib.nn.functional.adaptive_max_pool1d(x[0], size, True), x,
             device=device)
    check_op(lambda lib, x: lib.adaptive_avg_pool1d(x, size), x, device=device)


@pytest.mark.parametrize("shape, kwargs", [
    ((2, 3, 6, 8), {"kernel_size": 2}),
    ((3, 6, 8), {"kernel_size": 2}),
    ((2, 3, 6, 8), {"kernel_size": 2, "output_size": (7, 9)}),
    ((2, 3, 7, 7), {"kernel_size": 3, "stride": 2, "padding": 1}),
])
def test_max_unpool2d(device, shape, kwargs):
    def run(lib, x):
        pool = {k: v for k, v in kwargs.items() if k != "output_size"}
        values, indices = lib.nn.functional.max_pool2d(x, return_indices=True, **pool)
        return lib.nn.functional.max_unpool2d(values * 2, indices, **kwargs)
    check_op(run, rand_array(shape), device=device)


def test_max_unpool1d(device):
    def run(lib, x):
        values, indices = lib.nn.functional.max_pool1d(x, 2, return_indices=True)
        return lib.nn.functional.max_unpool1d(values, indices, 2)
    check_op(run, rand_array((2, 3, 8)), device=device)


POOL_ERRORS = [
    ("max_pool2d", (2, 4, 5, 6), (0,), {}),
    ("max_pool2d", (2, 4, 5, 6), (2,), {"stride": 0}),
    ("max_pool2d", (2, 4, 5, 6), (2,), {"dilation": 0}),
    ("max_pool2d", (2, 4, 5, 6), (3,), {"padding": 2}),
    ("max_pool2d", (2, 4, 5, 6), (7,), {}),
    ("max_pool2d", (6,), (2,), {}),
    ("max_pool2d", (2, 4, 5, 6), ((2, 3, 4),), {}),
    ("max_pool2d", (2, 4, 0, 5), (2,), {}),
    ("max_pool1d", (2, 4, 6), (7,), {}),
    ("max_pool1d", (2, 4, 6), (3,), {"padding": 2}),
    ("max_pool1d", (6,), (2,), {}),
    ("max_pool1d", (2, 4, 5, 6), (2,), {}),
    ("avg_pool2d", (2, 4, 5, 6), (3,), {"padding": 2}),
    ("avg_pool2d", (2, 4, 5, 6), (7,), {}),
    ("avg_pool2d", (2, 4, 5, 6), (2,), {"stride": 0}),
    ("avg_pool2d", (5, 6), (2,), {}),
    ("avg_pool2d", (2, 4, 5, 6), (2,), {"divisor_override": 0}),
    ("avg_pool1d", (2, 4, 6), (7,), {}),
    ("avg_pool1d", (2, 4, 6), (3,), {"padding": 2}),
    ("adaptive_avg_pool2d", (2, 4, 5, 6), ((2, 3, 4),), {}),
    ("adaptive_avg_pool2d", (5, 6), (2,), {}),
    ("adaptive_avg_pool2d", (2, 4, 5, 6), (-1,), {}),
    ("adaptive_max_pool2d", (5, 6), (2,), {}),
    ("adaptive_avg_pool1d", (2, 4, 5, 6), (2,), {}),
]


@pytest.mark.parametrize("name, shape, args, kwargs", POOL_ERRORS)
def test_pool_errors(device, name, shape, args, kwargs):
    check_error(lambda lib: getattr(lib.nn.functional, name)(lib.ones(shape), *args, **kwargs),
                device=device)


@pytest.mark.parametrize("output_size, indices_dtype, cut", [
    ((9, 9), "int64", False), (None, "int32", False), (None, "int64", True)])
def test_max_unpool_errors(device, output_size, indices_dtype, cut):
    def run(lib):
        values, indices = lib.nn.functional.max_pool2d(lib.ones(2, 4, 5, 6), 2,
                                                        return_indices=True)
        indices = indices.to(getattr(lib, indices_dtype))
        if cut:
            indices = indices[:, :, :1]
        return lib.nn.functional.max_unpool2d(values, indices, 2, output_size=output_size)
    check_error(run, device=device)


@pytest.mark.parametrize("kwargs", MAX_POOL2D[:3])
def test_max_pool2d_integers(device, kwargs):
    check_op(lambda lib, x: lib.nn.functional.max_pool2d(x, return_indices=True, **kwargs),
             rand_array((2, 3, 7, 6), "int64"), device=device, grad=False)
