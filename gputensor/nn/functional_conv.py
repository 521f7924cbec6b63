"""torch.nn.functional's convolution and pooling functions (re-exported by functional)."""

from __future__ import annotations

from ..ops.adaptive_pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    max_unpool1d,
    max_unpool2d,
)
from ..ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from ..ops.pooling import (
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool1d_with_indices,
    max_pool2d,
    max_pool2d_with_indices,
)

__all__ = ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d",
           "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d",
           "adaptive_max_pool2d_with_indices", "avg_pool1d", "avg_pool2d", "conv1d", "conv2d",
           "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool1d_with_indices",
           "max_pool2d", "max_pool2d_with_indices", "max_unpool1d", "max_unpool2d"]


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    """The max over adaptive windows and the flat indices of the maxima."""
    return adaptive_max_pool2d(input, output_size, return_indices=True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    """The max over adaptive windows of a 1-D signal and the indices of the maxima."""
    return adaptive_max_pool1d(input, output_size, return_indices=True)
