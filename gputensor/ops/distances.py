"""Distances between vectors: cosine_similarity, pairwise_distance, and normalize."""

from __future__ import annotations

from .. import dtypes
from . import pointwise, reduce, special
from .common import broadcast_shapes
from .norms import LinalgVectorNorm, _float_input, norm, vector_norm
from .out import write_out

__all__ = ["cosine_similarity", "pairwise_distance"]


class NormOverDim(LinalgVectorNorm):
    """ATen's norm(x, p, dim, keepdim), whose node torch names NormBackward1."""

    opname, variant = "Norm", 1


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 * x2) / (max(|x1|, eps) * max(|x2|, eps)) along ``dim``, broadcast."""
    common = pointwise.result_type(x1, x2)
    if not common.is_floating_point:
        raise RuntimeError("expected common dtype to be floating point, yet common dtype is "
                           f"{dtypes.SCALAR_TYPE_NAMES[common]}")
    shape = broadcast_shapes(tuple(x1.shape), tuple(x2.shape))
    x1 = pointwise.to_dtype(x1, common).expand(*shape)
    x2 = pointwise.to_dtype(x2, common).expand(*shape)
    norm1 = special.clamp_min(vector_norm(x1, 2, dim, True), eps)
    norm2 = special.clamp_min(vector_norm(x2, 2, dim, True), eps)
    return reduce.sum(pointwise.mul(pointwise.div(x1, norm1), pointwise.div(x2, norm2)), dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """The p-norm of x1 - x2 + eps along the last dim."""
    innermost = max(x1.ndim, x2.ndim) - 1
    difference = _float_input("norm", pointwise.add(pointwise.sub(x1, x2), eps), None)
    axes = (innermost,) if difference.ndim else ()
    return NormOverDim.apply(difference, float(p), axes, bool(keepdim))


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p, eps) along ``dim``."""
    denom = special.clamp_min(norm(input, p, dim, keepdim=True), eps).expand_as(input)
    return write_out("div", pointwise.div(input, denom), out)
