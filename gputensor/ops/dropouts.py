"""Channel-wise and alpha dropout: dropout1d, dropout2d, dropout3d, alpha_dropout,
feature_alpha_dropout (torch's _dropout_impl: a multiplication, plus an addition for alpha)."""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import random_draws
from ..dtypes import is_float_array_dtype
from . import pointwise
from .activations import Dropout
from .common import type_name
from .creation import default_generator
from .inplace import add_, apply_inplace, mul_
from .views import squeeze, unsqueeze

__all__ = ["alpha_dropout_", "feature_alpha_dropout_"]  # (and torch's positional forms below)

SELU_ALPHA_PRIME = 1.7580993408473766  # -scale * alpha of selu: where dropped units go


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(input, shape, keep):
    """1.0 where a unit is kept (probability ``keep``), else 0.0 (host, the input's dtype):
    torch's ``noise.bernoulli_(keep)`` on a new contiguous noise tensor of ``shape``, one
    53-bit uniform per unit in C order."""
    draws = random_draws.uniform_double(default_generator, math.prod(shape))
    return (draws < keep).reshape(shape).astype(input._data.dtype)


def _dropout_impl(input, p, training, inplace, feature, alpha):
    """torch's _dropout_impl: noise over (N, C, 1, ...) for the feature forms."""
    if p == 0 or not training or input.numel() == 0:
        return input
    data = input._data
    if not is_float_array_dtype(data.dtype):
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{type_name(data.dtype)}")
    if feature and input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    shape = data.shape[:2] + (1,) * (data.ndim - 2) if feature else data.shape
    backend, index = input._backend, input._device.index
    if p == 1:
        zero = input._wrap(backend.asarray(np.zeros((), data.dtype), index=index))
        return mul_(input, zero) if inplace else pointwise.mul(input, zero)
    keep = _keep_mask(input, shape, 1.0 - p)
    if not alpha:
        scale = data.dtype.type(1) / data.dtype.type(1.0 - p)  # torch's noise.div_(1 - p)
        noise = backend.asarray(keep * scale, index=index)
        if inplace:
            return apply_inplace(input, Dropout.apply, noise)
        return Dropout.apply(input, noise)
    scale = 1.0 / math.sqrt((SELU_ALPHA_PRIME ** 2 * p + 1) * (1 - p))
    shift = (keep - 1) * data.dtype.type(SELU_ALPHA_PRIME * scale) \
        + data.dtype.type(SELU_ALPHA_PRIME * scale * p)
    noise = input._wrap(backend.asarray(keep * data.dtype.type(scale), index=index))
    shift = input._wrap(backend.asarray(shift.astype(data.dtype), index=index))
    if inplace:
        return add_(mul_(input, noise), shift)
    return pointwise.add(pointwise.mul(input, noise), shift)


def _unbatched_dropout(input, p, training, inplace, batched):
    """Feature dropout, a batch dim added for the call when ``input`` has none."""
    if batched:
        return _dropout_impl(input, p, training, inplace, True, False)
    if inplace:  # (through a view of the input, which is returned)
        _dropout_impl(unsqueeze(input, 0), p, training, True, True, False)
        return input
    return squeeze(_dropout_impl(unsqueeze(input, 0), p, training, False, True, False), 0)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of a (N, C, L) or (C, L) input with probability p."""
    _check_p(p)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D "
                           "input. Note that dropout1d exists to provide channel-wise dropout on "
                           "inputs with 1 spatial dimension, a channel dimension, and an "
                           "optional batch dimension (i.e. 2D or 3D inputs).")
    return _unbatched_dropout(input, p, training, inplace, input.ndim == 3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of a (N, C, H, W) input with probability p."""
    _check_p(p)
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is "
                      "deprecated and will result in an error in a future release. To retain "
                      "the behavior and silence this warning, please use dropout instead. Note "
                      "that dropout2d exists to provide channel-wise dropout on inputs with 2 "
                      "spatial dimensions, a channel dimension, and an optional batch dimension "
                      "(i.e. 3D or 4D inputs).", stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim. This behavior will change in "
                      "a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout "
                      "behavior, please switch to using dropout1d instead.", stacklevel=2)
    return _dropout_impl(input, p, training, inplace, True, False)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of a (N, C, D, H, W) or (C, D, H, W) input with probability p."""
    _check_p(p)
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is "
                      "deprecated and will result in an error in a future release. To retain "
                      "the behavior and silence this warning, please use dropout instead. Note "
                      "that dropout3d exists to provide channel-wise dropout on inputs with 3 "
                      "spatial dimensions, a channel dimension, and an optional batch dimension "
                      "(i.e. 4D or 5D inputs).", stacklevel=2)
    return _unbatched_dropout(input, p, training, inplace, input.ndim == 5)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps selu's mean and variance: dropped units go to selu's floor."""
    _check_p(p)
    return _dropout_impl(input, p, training, inplace, False, True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels."""
    _check_p(p)
    return _dropout_impl(input, p, training, inplace, True, True)


# ---- torch's top-level forms: (input, p, train) ------------------------------------------------
def torch_alpha_dropout(input, p, train):
    """``torch.alpha_dropout(input, p, train)``."""
    return alpha_dropout(input, p, train)


def alpha_dropout_(input, p, train):
    """``torch.alpha_dropout_``: alpha dropout in place."""
    return alpha_dropout(input, p, train, inplace=True)


def torch_feature_alpha_dropout(input, p, train):
    """``torch.feature_alpha_dropout(input, p, train)``."""
    return feature_alpha_dropout(input, p, train)


def feature_alpha_dropout_(input, p, train):
    """``torch.feature_alpha_dropout_``: channel-wise alpha dropout in place."""
    return feature_alpha_dropout(input, p, train, inplace=True)
