"""The tensor functions the distributions call, under torch's names, from gputensor's ops."""

from __future__ import annotations

import builtins

import numpy as np

from .._tensor import Tensor
from ..autograd.engine import grad
from ..autograd.grad_mode import enable_grad, no_grad
from ..dtypes import bool, get_default_dtype, long  # noqa: A004
from ..nn.functional import one_hot
from ..ops.activations_more import logsigmoid, softplus
from ..ops.bce import binary_cross_entropy_with_logits
from ..ops.compare import isclose
from ..ops.creation import (
    arange,
    as_tensor,
    empty,
    eye,
    full,
    full_like,
    ones,
    ones_like,
    tensor,
    zeros,
    zeros_like,
)
from ..ops.cumulative import flip
from ..ops.gamma_functions import digamma, gammainc, lgamma
from ..ops.gamma_sampling import _dirichlet_grad, _sample_dirichlet, _standard_gamma
from ..ops.linalg import matmul
from ..ops.math_ops import atan, atanh, expm1, tan, xlogy
from ..ops.norms import linalg_norm
from ..ops.pointwise import abs, clamp, exp, log, log1p, sigmoid, where
from ..ops.random_fill import bernoulli, normal, poisson
from ..ops.random_tensors import rand
from ..ops.reduce import all
from ..ops.sampling import multinomial
from ..ops.shape import cat, stack
from ..ops.shape_more import broadcast_shapes, broadcast_tensors
from ..ops.softmaxes import softmax
from ..ops.special import erf, erfinv, logit
from ..ops.triangular import cholesky_inverse, linalg_cholesky, solve_triangular
from ..ops.views import transpose
from ..size import Size

Number = (int, float, builtins.bool)  # torch.types._Number

__all__ = [
    "_dirichlet_grad", "_sample_dirichlet", "_standard_gamma", "abs", "all", "arange",
    "as_tensor", "atan", "atanh", "bernoulli", "binary_cross_entropy_with_logits", "bool",
    "broadcast_shapes", "broadcast_tensors", "cat", "cholesky_inverse", "clamp", "digamma",
    "eigenvalues_at_least", "empty", "enable_grad", "erf", "erfinv", "exp", "expm1", "eye",
    "finfo", "flip", "full", "full_like", "gammainc", "get_default_dtype", "grad",
    "is_all_true", "isclose", "lgamma", "linalg_cholesky", "linalg_norm", "log", "log1p",
    "logit", "logsigmoid", "long", "matmul", "multinomial", "no_grad", "normal", "Number",
    "one_hot", "ones", "ones_like", "poisson", "rand", "sigmoid", "Size", "softmax",
    "softplus", "solve_triangular", "stack", "tan", "Tensor", "tensor", "transpose", "where",
    "xlogy", "zeros", "zeros_like"]


class finfo:  # noqa: N801 - torch's name
    """Machine limits of a float dtype: eps, tiny, max, min."""

    def __init__(self, dtype):
        info = np.finfo(dtype.numpy)
        self.eps, self.tiny = float(info.eps), float(info.tiny)
        self.max, self.min = float(info.max), float(info.min)


def is_all_true(valid) -> builtins.bool:
    """Whether every element of a bool tensor is True (one read back to the host)."""
    return builtins.bool(valid.all())


def eigenvalues_at_least(matrices, bound, strict):
    """Per (batched) symmetric matrix: are all its eigenvalues > bound (>= when not strict)?"""
    xp = matrices._backend.xp
    with matrices._on_device():
        smallest = xp.linalg.eigvalsh(matrices._data).min(axis=-1)
        return matrices._wrap(smallest > bound if strict else smallest >= bound)
