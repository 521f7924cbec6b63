"""The CPU convolution windows (kernels/cpu/windows.py) against the array formulas of
ops/conv_geometry.py: the same values, bit for bit, on either build."""

import numpy as np
import pytest

from gputensor.kernels.cpu import windows
from gputensor.kernels.cpu.thread_choice import thread_choice
from gputensor.ops.conv_geometry import col2im, im2col

CASES = {  # padded (C, N, Hp, Wp), kernel, stride, dilation
    "3x3": ((3, 2, 9, 10), (3, 3), (1, 1), (1, 1)),
    "strided": ((2, 3, 11, 9), (3, 2), (2, 3), (1, 1)),
    "dilated": ((4, 1, 12, 12), (2, 3), (1, 2), (2, 3)),
    "1x1": ((5, 2, 4, 4), (1, 1), (1, 1), (1, 1)),
}


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("threaded", [False, True])
def test_windows_equal_the_formulas(name, dtype, threaded):
    shape, kernel, stride, dilation = CASES[name]
    padded = np.random.default_rng(4).standard_normal(shape).astype(dtype)
    out_size = tuple((p - d * (k - 1) - 1) // s + 1
                     for p, k, s, d in zip(shape[2:], kernel, stride, dilation))
    thread_choice.force = threaded
    try:
        cols = windows.im2col(padded, kernel, stride, dilation, out_size)
        expected = im2col(np, padded, kernel, stride, dilation, out_size)
        np.testing.assert_array_equal(cols, expected)
        assert cols.dtype == expected.dtype
        summed = windows.col2im(cols, shape[2:], stride, dilation)
        np.testing.assert_array_equal(summed, col2im(np, cols, shape[2:], stride, dilation))
    finally:
        thread_choice.force = None
