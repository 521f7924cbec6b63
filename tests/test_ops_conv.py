"""Convolutions compared with torch: values, gradients (input, weight, bias), grad_fn names
and errors, on the CPU and on (simulated) CUDA."""

import warnings

import pytest

from helpers import check_error, check_op, rand_array

DTYPES = ["float32", "float64"]
TOLERANCE = {"rtol": 1e-4, "atol": 1e-5, "grad_rtol": 1e-4, "grad_atol": 1e-4}

CONV2D = [  # (input shape, weight shape, bias, keyword arguments)
    ((2, 4, 7, 6), (6, 4, 3, 3), True, {}),
    ((2, 4, 7, 6), (6, 4, 3, 3), True, {"stride": 2, "padding": 1}),
    ((1, 4, 7, 6), (3, 4, 3, 2), False, {"stride": (2, 1), "padding": (2, 0),
                                         "dilation": (2, 1)}),
    ((2, 4, 6, 6), (6, 2, 3, 2), True, {"groups": 2, "stride": (1, 2)}),
    ((2, 4, 5, 5), (8, 1, 3, 3), True, {"groups": 4, "padding": "same"}),  # depthwise
    ((2, 4, 5, 6), (3, 4, 2, 4), True, {"padding": "same"}),  # uneven 'same' padding
    ((2, 4, 5, 6), (3, 4, 3, 3), True, {"padding": "same", "dilation": 2}),
    ((2, 4, 5, 6), (3, 4, 3, 3), True, {"padding": "valid"}),
    ((4, 5, 5), (6, 4, 3, 3), True, {"padding": 1}),  # unbatched
    ((2, 4, 5, 5), (6, 4, 1, 1), True, {}),
    ((0, 4, 5, 5), (6, 4, 3, 3), True, {}),
    ((1, 4, 3, 4), (2, 4, 3, 4), True, {}),  # kernel as large as the input
]

CONV1D = [
    ((2, 4, 9), (6, 4, 3), True, {}),
    ((2, 4, 9), (6, 2, 3), True, {"stride": 2, "padding": 1, "groups": 2}),
    ((2, 4, 9), (4, 1, 3), False, {"dilation": 2, "groups": 4, "padding": "same"}),
    ((4, 9), (6, 4, 4), True, {"padding": "same"}),
]

CONV_TRANSPOSE2D = [
    ((2, 4, 5, 4), (4, 3, 3, 3), True, {}),
    ((2, 4, 5, 4), (4, 3, 3, 2), True, {"stride": 2, "padding": 1, "output_padding": 1}),
    ((2, 4, 4, 4), (4, 2, 3, 3), True, {"groups": 2, "dilation": (1, 2), "stride": (2, 3),
                                        "output_padding": (1, 2)}),
    ((4, 4, 3), (4, 3, 2, 2), False, {"stride": 2}),  # unbatched
]

CONV_TRANSPOSE1D = [
    ((2, 4, 5), (4, 3, 3), True, {"stride": 2, "padding": 1, "output_padding": 1}),
    ((4, 5), (4, 1, 3), True, {"groups": 2, "dilation": 2}),
]


def _arrays(x_shape, w_shape, bias, dtype, channels_out):
    arrays = [rand_array(x_shape, dtype), rand_array(w_shape, dtype, -0.5, 0.5)]
    if bias:
        arrays.append(rand_array((channels_out,), dtype))
    return arrays


def _call(name, kwargs):
    def run(lib, x, w, b=None):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's note on uneven 'same' padding
            return getattr(lib.nn.functional, name)(x, w, b, **kwargs)
    return run


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape, w_shape, bias, kwargs", CONV2D)
def test_conv2d(device, dtype, x_shape, w_shape, bias, kwargs):
    arrays = _arrays(x_shape, w_shape, bias, dtype, w_shape[0])
    check_op(_call("conv2d", kwargs), *arrays, device=device, **TOLERANCE)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape, w_shape, bias, kwargs", CONV1D)
def test_conv1d(device, dtype, x_shape, w_shape, bias, kwargs):
    arrays = _arrays(x_shape, w_shape, bias, dtype, w_shape[0])
    check_op(_call("conv1d", kwargs), *arrays, device=device, **TOLERANCE)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape, w_shape, bias, kwargs", CONV_TRANSPOSE2D)
def test_conv_transpose2d(device, dtype, x_shape, w_shape, bias, kwargs):
    arrays = _arrays(x_shape, w_shape, bias, dtype, w_shape[1] * kwargs.get("groups", 1))
    check_op(_call("conv_transpose2d", kwargs), *arrays, device=device, **TOLERANCE)


@pytest.mark.parametrize("x_shape, w_shape, bias, kwargs", CONV_TRANSPOSE1D)
def test_conv_transpose1d(device, x_shape, w_shape, bias, kwargs):
    arrays = _arrays(x_shape, w_shape, bias, "float32", w_shape[1] * kwargs.get("groups", 1))
    check_op(_call("conv_transpose1d", kwargs), *arrays, device=device, **TOLERANCE)


@pytest.mark.parametrize("layout", ["transposed", "strided"])
def test_conv2d_non_contiguous_operands(device, layout):
    arrays = _arrays((2, 3, 5, 5), (4, 3, 3, 3), True, "float32", 4)
    check_op(_call("conv2d", {"padding": 1}), *arrays, device=device, layout=layout,
             **TOLERANCE)


def test_top_level_names(device):
    x, w = rand_array((2, 3, 6)), rand_array((4, 3, 2))
    check_op(lambda lib, x, w: lib.conv1d(x, w, stride=2), x, w, device=device, **TOLERANCE)
    x4, w4 = rand_array((1, 3, 4, 4)), rand_array((3, 2, 2, 2))
    check_op(lambda lib, x, w: lib.conv_transpose2d(x, w), x4, w4, device=device, **TOLERANCE)


def _tensors(lib, x_shape, w_shape, b_shape=None, w_dtype="float32"):
    x = lib.ones(x_shape)
    w = lib.ones(w_shape, dtype=getattr(lib, w_dtype))
    return x, w, (None if b_shape is None else lib.ones(b_shape))


ERRORS = [  # (function, input, weight, bias shapes, keyword arguments)
    ("conv2d", (2, 4, 5, 5), (6, 3, 3, 3), None, {}),  # channels
    ("conv2d", (4, 5, 5), (6, 3, 3, 3), None, {}),  # channels, unbatched
    ("conv2d", (2, 4, 5, 5), (6, 4, 7, 7), None, {}),  # kernel larger than the input
    ("conv2d", (2, 4, 5, 5), (6, 4, 3, 3), None, {"padding": 1, "dilation": 4}),
    ("conv2d", (2, 4, 5, 5), (6, 2, 3, 3), None, {"groups": 3}),
    ("conv2d", (2, 4, 5, 5), (5, 2, 3, 3), None, {"groups": 2}),  # weight not divisible
    ("conv2d", (2, 4, 5, 5), (6, 4, 3, 3), None, {"groups": 7}),
    ("conv2d", (2, 4, 5, 5), (6, 4, 3, 3), None, {"groups": 0}),
    ("conv2d", (2, 4, 5, 5), (6, 2, 3, 3), (5,), {"groups": 2}),  # bias size
    ("conv2d", (2, 4, 5, 5), (6, 4, 3, 3), (6, 1), {}),
    ("conv2d", (2, 4, 5, 5), (6, 4, 3, 3), None, {"padding": "same", "stride": 2}),
    ("conv2d", (2, 4, 5, 5), (6, 4, 3, 3), None, {"padding": "foo"}),
    ("conv2d", (2, 4, 5, 5), (6, 4, 3, 3), None, {"padding": -1}),
    ("conv2d", (2, 4, 5, 5), (6, 4, 3, 3), None, {"stride": 0}),
    ("conv2d", (2, 4, 5, 5), (6, 4, 3, 3), None, {"dilation": 0}),
    ("conv2d", (2, 4, 5, 5), (6, 4, 3, 3), None, {"stride": (1, 2, 3)}),
    ("conv2d", (2, 4, 5, 5), (6, 4, 3), None, {}),  # weight of another rank
    ("conv2d", (5,), (6, 4, 3, 3), None, {}),
    ("conv2d", (2, 4, 0, 5), (6, 4, 3, 3), None, {}),
    ("conv1d", (2, 4, 6), (6, 4, 7), None, {}),
    ("conv1d", (4, 5, 5), (6, 4, 3), None, {}),
    ("conv1d", (4,), (6, 4, 3), None, {}),
    ("conv_transpose2d", (2, 4, 5, 5), (3, 3, 3, 3), None, {}),
    ("conv_transpose2d", (2, 4, 5, 5), (4, 3, 3, 3), None, {"groups": 3}),
    ("conv_transpose2d", (2, 4, 5, 5), (4, 3, 3, 3), None, {"stride": 2, "output_padding": 2}),
    ("conv_transpose2d", (2, 4, 5, 5), (4, 3, 3, 3), (4,), {}),
    ("conv_transpose1d", (2, 4, 5), (4, 3, 3), None, {"stride": 2, "output_padding": 2}),
]


@pytest.mark.parametrize("name, x_shape, w_shape, b_shape, kwargs", ERRORS)
def test_errors(device, name, x_shape, w_shape, b_shape, kwargs):
    check_error(lambda lib: getattr(lib.nn.functional, name)(
        *_tensors(lib, x_shape, w_shape, b_shape), **kwargs), device=device)


def test_bias_dtype_error(device):
    check_error(lambda lib: lib.nn.functional.conv2d(
        lib.ones(1, 2, 4, 4), lib.ones(3, 2, 3, 3), lib.ones(3, dtype=lib.float64)),
        device=device)


def test_unbatched_grad_fn_and_shapes(device):
    x = rand_array((3, 6, 5))
    w = rand_array((2, 3, 3, 3))
    check_op(lambda lib, x, w: lib.nn.functional.conv2d(x, w, stride=2) * 2, x, w,
             device=device, **TOLERANCE)


def test_input_changed_in_place_before_backward(device):
    def run(lib):
        x = lib.ones(1, 2, 4, 4, requires_grad=True) * 1
        y = lib.nn.functional.conv2d(x, lib.ones(3, 2, 3, 3, requires_grad=True))
        x.add_(1)
        y.sum().backward()
    check_error(run, device=device)
