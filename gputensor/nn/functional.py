"""``gputensor.nn.functional``: torch.nn.functional's layers, activations and losses."""

from __future__ import annotations

import warnings

import numpy as np

from ..ops import inplace as _inplace
from ..ops import pointwise as _pointwise
from ..ops import softmaxes as _softmaxes
from ..ops.activations import dropout, elu, elu_, gelu, leaky_relu, leaky_relu_, silu
from ..ops.activations_dims import glu, prelu, softmin
from ..ops.activations_more import (  # noqa: F401 - the public F names
    celu,
    celu_,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    hardtanh_,
    logsigmoid,
    mish,
    relu6,
    selu,
    selu_,
    softplus,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
    threshold_,
)
from ..ops.bce import binary_cross_entropy, binary_cross_entropy_with_logits
from ..ops.cross_entropy import cross_entropy, nll_loss
from ..ops.ctc import ctc_loss
from ..ops.distances import cosine_similarity, normalize, pairwise_distance
from ..ops.dropouts import (
    alpha_dropout,
    dropout1d,
    dropout2d,
    dropout3d,
    feature_alpha_dropout,
)
from ..ops.losses import huber_loss, l1_loss, mse_loss, smooth_l1_loss
from ..ops.losses_more import (
    cosine_embedding_loss,
    gaussian_nll_loss,
    hinge_embedding_loss,
    kl_div,
    margin_ranking_loss,
    multilabel_soft_margin_loss,
    poisson_nll_loss,
    triplet_margin_loss,
)
from ..ops.margin_losses import (
    multi_margin_loss,
    multilabel_margin_loss,
    soft_margin_loss,
)
from ..ops.nn_ops import batch_norm, embedding, layer_norm, linear
from ..ops.norm_layers import group_norm, instance_norm, local_response_norm
from ..ops.padding import pad
from ..ops.resampling import fold, interpolate, pixel_shuffle, pixel_unshuffle, unfold
from .attention import scaled_dot_product_attention
from .functional_conv import *  # noqa: F403 - convolution and pooling
from .functional_conv import __all__ as _conv_all
from .multi_head_attention import multi_head_attention_forward

__all__ = [
    "linear", "relu", "relu_", "leaky_relu", "leaky_relu_", "elu", "elu_", "gelu", "silu",
    "sigmoid", "tanh", "softmax", "log_softmax", "dropout", "embedding", "layer_norm",
    "batch_norm", "one_hot", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
    "cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "scaled_dot_product_attention", "multi_head_attention_forward",
    "kl_div", "poisson_nll_loss", "gaussian_nll_loss", "margin_ranking_loss",
    "hinge_embedding_loss", "cosine_embedding_loss", "triplet_margin_loss",
    "multilabel_soft_margin_loss", "soft_margin_loss", "multi_margin_loss",
    "multilabel_margin_loss", "ctc_loss",
]
__all__ += ["celu", "celu_", "glu", "hardshrink", "hardsigmoid", "hardswish", "hardtanh",
            "hardtanh_", "logsigmoid", "mish", "prelu", "relu6", "selu", "selu_", "softmin",
            "softplus", "softshrink", "softsign", "tanhshrink", "threshold", "threshold_"]
__all__ += ["alpha_dropout", "dropout1d", "dropout2d", "dropout3d", "feature_alpha_dropout",
            "group_norm", "instance_norm", "local_response_norm"]
__all__ += ["cosine_similarity", "fold", "interpolate", "normalize", "pad", "pairwise_distance",
            "pixel_shuffle", "pixel_unshuffle", "unfold"]
__all__ += _conv_all

sigmoid = _pointwise.sigmoid
tanh = _pointwise.tanh
relu_ = _inplace.relu_


def relu(input, inplace=False):
    """max(input, 0) (in place when ``inplace``)."""
    return _inplace.relu_(input) if inplace else _pointwise.relu(input)


def _softmax_dim(name, ndim, stacklevel=4):
    """torch's implicit dim for softmax-like functions called without one (with its warning)."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to "
                  "include dim=X as an argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(input) / sum(exp(input)) along ``dim``, computed stably."""
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim)
    return _softmaxes.softmax(input, dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """input - logsumexp(input) along ``dim``, computed stably."""
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim)
    return _softmaxes.log_softmax(input, dim, dtype=dtype)


def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding of class indices along a new last dim."""
    with tensor._on_device():
        return _one_hot(tensor, num_classes)


def _one_hot(tensor, num_classes):
    data = tensor._data
    if data.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if data.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(data.max()) + 1
    if data.size:
        if int(data.min()) < 0:
            raise RuntimeError("Class values must be non-negative.")
        if int(data.max()) >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    out = (data[..., None] == tensor._backend.xp.arange(num_classes)).astype(np.int64)
    return tensor._wrap(out)
