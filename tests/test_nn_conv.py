"""Convolution and pooling layers compared with torch: reprs, state_dict keys, parameter
shapes, initialisation bounds, outputs and gradients with torch's weights, and errors."""

import math
import re

import numpy as np
import pytest
import torch
from module_compare import check_module

import gputensor
from helpers import check_error, rand_array

CONV_LAYERS = [  # (constructor, input shape)
    (lambda nn: nn.Conv2d(3, 4, 3), (2, 3, 6, 5)),
    (lambda nn: nn.Conv2d(3, 4, (3, 2), stride=2, padding=1, dilation=(1, 2), bias=False),
     (2, 3, 7, 6)),
    (lambda nn: nn.Conv2d(4, 8, 3, padding="same", groups=4), (2, 4, 5, 5)),
    (lambda nn: nn.Conv2d(3, 4, 3, padding="valid"), (3, 5, 6)),
    (lambda nn: nn.Conv2d(3, 4, 3, padding=(1, 2), padding_mode="reflect"), (2, 3, 5, 6)),
    (lambda nn: nn.Conv2d(3, 4, 3, padding=2, padding_mode="replicate"), (3, 5, 6)),
    (lambda nn: nn.Conv2d(2, 4, 3, padding=(2, 1), padding_mode="circular", groups=2),
     (2, 2, 5, 6)),
    (lambda nn: nn.Conv2d(3, 2, 3, padding="same", padding_mode="reflect"), (1, 3, 5, 5)),
    (lambda nn: nn.Conv1d(3, 4, 3), (2, 3, 8)),
    (lambda nn: nn.Conv1d(4, 4, 3, stride=2, padding=1, groups=2, padding_mode="reflect"),
     (2, 4, 8)),
    (lambda nn: nn.Conv1d(3, 4, 3, padding=2, padding_mode="circular"), (3, 7)),
    (lambda nn: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
     (2, 4, 4, 5)),
    (lambda nn: nn.ConvTranspose2d(3, 2, (2, 3), dilation=2, bias=False), (3, 4, 4)),
    (lambda nn: nn.ConvTranspose1d(3, 4, 3, stride=2), (2, 3, 5)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("make, shape", CONV_LAYERS)
def test_conv_layers(device, dtype, make, shape):
    def build(lib):
        return make(lib.nn).to(getattr(lib, dtype))
    check_module(build, lambda lib, m, x: m(x), rand_array(shape, dtype), device=device,
                 rtol=1e-4, atol=1e-5)


def test_conv_transpose_output_size(device):
    make = lambda lib: lib.nn.ConvTranspose2d(3, 2, 3, stride=2)  # noqa: E731
    check_module(make, lambda lib, m, x: m(x, output_size=[10, 12]), rand_array((1, 3, 4, 5)),
                 device=device, rtol=1e-4)
    check_module(make, lambda lib, m, x: m(x, output_size=(1, 2, 9, 11)),
                 rand_array((1, 3, 4, 5)), device=device, rtol=1e-4)


POOL_LAYERS = [
    (lambda nn: nn.MaxPool2d(2), (2, 3, 6, 7)),
    (lambda nn: nn.MaxPool2d((2, 3), stride=1, padding=1, dilation=2, ceil_mode=True),
     (3, 7, 7)),
    (lambda nn: nn.MaxPool2d(3, 2, 1, return_indices=True), (2, 3, 7, 7)),
    (lambda nn: nn.MaxPool1d(3, return_indices=True), (2, 3, 8)),
    (lambda nn: nn.AvgPool2d(2), (2, 3, 6, 7)),
    (lambda nn: nn.AvgPool2d((2, 3), stride=1, padding=1, ceil_mode=True,
                             count_include_pad=False, divisor_override=3), (3, 5, 6)),
    (lambda nn: nn.AvgPool1d(3, ceil_mode=True, count_include_pad=False), (2, 3, 8)),
    (lambda nn: nn.AdaptiveAvgPool2d(3), (2, 3, 7, 6)),
    (lambda nn: nn.AdaptiveAvgPool2d((3, None)), (3, 7, 6)),
    (lambda nn: nn.AdaptiveAvgPool2d(1), (2, 3, 7, 6)),
    (lambda nn: nn.AdaptiveAvgPool1d(3), (2, 3, 7)),
    (lambda nn: nn.AdaptiveMaxPool2d((2, 3), return_indices=True), (2, 3, 7, 6)),
    (lambda nn: nn.AdaptiveMaxPool1d(4), (2, 3, 9)),
]


@pytest.mark.parametrize("make, shape", POOL_LAYERS)
def test_pool_layers(device, make, shape):
    check_module(lambda lib: make(lib.nn), lambda lib, m, x: m(x), rand_array(shape),
                 device=device)


def test_unpool_layers(device):
    def run(lib, m, x):
        values, indices = lib.nn.MaxPool2d(2, return_indices=True)(x)
        return m(values, indices, output_size=x.shape)
    check_module(lambda lib: lib.nn.MaxUnpool2d(2), run, rand_array((2, 3, 6, 7)),
                 device=device)

    def run1d(lib, m, x):
        values, indices = lib.nn.MaxPool1d(2, return_indices=True)(x)
        return m(values, indices)
    check_module(lambda lib: lib.nn.MaxUnpool1d(2), run1d, rand_array((2, 3, 8)),
                 device=device)


def test_small_cnn_trains_like_torch(device):
    def make(lib):
        nn = lib.nn
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(4, 4, 3, groups=2), nn.ReLU(),
                             nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))
    check_module(make, lambda lib, m, x: m(x), rand_array((2, 1, 8, 8)), device=device,
                 rtol=1e-4)


@pytest.mark.parametrize("make", [
    lambda nn: nn.Conv2d(3, 8, (3, 2), groups=1),
    lambda nn: nn.Conv1d(4, 6, 5, groups=2, bias=True),
    lambda nn: nn.ConvTranspose2d(4, 6, 3, groups=2),
])
def test_initialisation_bounds(make):
    """kaiming_uniform_(a=sqrt(5)) draws the weight from U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    the bias from the same bound: each draw spans most of it."""
    ours, theirs = make(gputensor.nn), make(torch.nn)
    fan_in = math.prod(theirs.weight.shape[1:])
    bound = 1 / math.sqrt(fan_in)
    for ours_p, theirs_p in ((ours.weight, theirs.weight), (ours.bias, theirs.bias)):
        values, expected = ours_p.detach().numpy(), theirs_p.detach().numpy()
        assert values.shape == expected.shape and values.dtype == expected.dtype
        assert np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.5 * bound


MODULE_ERRORS = [
    lambda nn: nn.Conv2d(4, 6, 3, padding_mode="foo"),
    lambda nn: nn.Conv2d(4, 6, 3, groups=3),
    lambda nn: nn.Conv2d(4, 6, 3, groups=4),
    lambda nn: nn.Conv2d(4, 6, 3, groups=0),
    lambda nn: nn.Conv2d(4, 6, 3, padding="same", stride=2),
    lambda nn: nn.Conv2d(4, 6, 3, padding="foo"),
    lambda nn: nn.ConvTranspose2d(4, 6, 3, padding_mode="reflect"),
    lambda nn: nn.ConvTranspose1d(4, 6, 3, padding_mode="circular"),
]


def _set_text_sorted(text):
    """A message with the items of each printed set sorted: a set's printed order follows
    string hashes, which differ between the processes that compiled the two modules."""
    return re.sub(r"\{([^{}]*)\}", lambda m: "{" + ", ".join(sorted(m[1].split(", "))) + "}",
                  text)


@pytest.mark.parametrize("make", MODULE_ERRORS)
def test_module_errors(make):
    raised = []
    for lib in (gputensor, torch):
        with pytest.raises(Exception) as info:  # noqa: PT011 - torch's type, compared below
            make(lib.nn)
        raised.append(info.value)
    ours, theirs = raised
    assert type(ours) is type(theirs)
    assert _set_text_sorted(str(ours)) == _set_text_sorted(str(theirs))


FORWARD_ERRORS = [
    (lambda nn: nn.Conv2d(4, 6, 3), (2, 3, 5, 5)),
    (lambda nn: nn.Conv2d(4, 6, 3, padding=(5, 6), padding_mode="reflect"), (2, 4, 5, 6)),
    (lambda nn: nn.Conv2d(4, 6, 3, padding=(5, 2), padding_mode="reflect"), (2, 4, 5, 6)),
    (lambda nn: nn.Conv1d(4, 6, 3, padding=6, padding_mode="reflect"), (4, 6)),
    (lambda nn: nn.Conv2d(4, 6, 3, padding=(6, 2), padding_mode="circular"), (2, 4, 5, 6)),
    (lambda nn: nn.MaxPool2d(7), (2, 4, 5, 6)),
]


@pytest.mark.parametrize("make, shape", FORWARD_ERRORS)
def test_forward_errors(device, make, shape):
    check_error(lambda lib: make(lib.nn).to(device if lib is gputensor else "cpu")(
        lib.ones(shape)), device=device)


def test_conv_transpose_output_size_error():
    check_error(lambda lib: lib.nn.ConvTranspose2d(3, 2, 3, stride=2)(
        lib.ones(1, 3, 4, 5), output_size=[12, 10]))
    check_error(lambda lib: lib.nn.ConvTranspose2d(3, 2, 3, stride=2)(
        lib.ones(1, 3, 4, 5), output_size=[12]))
