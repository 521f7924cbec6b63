"""Scaled dot-product attention, as torch's math path computes it, and its mask helpers."""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import dtypes
from ..autograd.function import Op
from ..ops import linalg, pointwise, shape, views
from ..ops.activations import dropout
from ..ops.reduce import acc_dtype

__all__ = ["scaled_dot_product_attention"]

# c10's names of scalar types, as torch's attention messages print them
_C10_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
              "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int",
              "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
              "bool": "bool"}


def _c10_name(dtype) -> str:
    return _C10_NAMES.get(dtype.name, dtype.name)


class SafeSoftmax(Op):
    """softmax along the last dim; a row whose every score is -inf gives zeros, not NaN."""

    opname = "SafeSoftmax"

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        xa = x.astype(acc_dtype(x.dtype), copy=False)
        with np.errstate(all="ignore"):  # +inf or NaN scores give NaN silently, as in torch
            peak = xa.max(axis=-1, keepdims=True)
            peak = xp.where(peak == -math.inf, 0, peak)
            out = xa - peak
            xp.exp(out, out=out)
            total = out.sum(axis=-1, keepdims=True)
            # only a row of -inf sums to 0 (a row's peak adds exp(0) = 1): it gives zeros
            out /= xp.where(total == 0, 1, total)
        out = out.astype(x.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        # d softmax: y * (g - sum(g * y)); y = 0 in fully masked rows, so their gradient is 0
        (y,) = ctx.saved_tensors
        return y * (g - (g * y).sum(axis=-1, keepdims=True))


def _bool_mask_to_float(mask, dtype, fill_where):
    """A float mask from a bool one: -inf where ``mask == fill_where``, 0 elsewhere."""
    xp = mask._backend.xp
    with mask._on_device():
        data = xp.where(mask._data == fill_where, -math.inf, 0.0).astype(dtype.numpy)
        return mask._wrap(data)


def _causal_mask(query, key_len, dtype):
    """0 on and below the diagonal of an (L, S) grid, -inf above it (the tril of ones)."""
    xp = query._backend.xp
    with query._on_device():
        rows = xp.arange(query.shape[-2])[:, None]
        cols = xp.arange(key_len)[None, :]
        data = xp.where(cols <= rows, 0.0, -math.inf).astype(dtype.numpy)
        return query._wrap(data)


def _check_sdpa_inputs(query, key, value, attn_mask):
    if not query.dtype == key.dtype == value.dtype:
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{_c10_name(query.dtype)} key.dtype: {_c10_name(key.dtype)} and value.dtype: "
            f"{_c10_name(value.dtype)} instead.")
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise RuntimeError(
            "Expected query, key, and value to all be  at least 2 dimensional, but got "
            f"query.dim: {query.dim()} key.dim: {key.dim()} and value.dim: {value.dim()} "
            "instead.")
    if attn_mask is not None:
        mask_dtype = attn_mask.dtype
        if mask_dtype not in (dtypes.bool, dtypes.float32, query.dtype):
            raise RuntimeError(
                "Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                f"attn_mask.dtype: {_c10_name(mask_dtype)} and  query.dtype: "
                f"{_c10_name(query.dtype)} instead.")


def _repeat_heads(tensor, repeats):
    """``tensor.repeat_interleave(repeats, dim=-3)``, through views (no new op)."""
    if repeats == 1:
        return tensor
    lead, heads, rest = tuple(tensor.shape[:-3]), tensor.shape[-3], tuple(tensor.shape[-2:])
    expanded = views.expand(views.unsqueeze(tensor, -3), *lead, heads, repeats, *rest)
    return views.reshape(expanded, *lead, heads * repeats, *rest)


def _group_query_heads(query, key, value, enable_gqa):
    """Key and value with their heads repeated to the query's number (enable_gqa)."""
    if not enable_gqa:
        return key, value
    q_heads, k_heads, v_heads = query.shape[-3], key.shape[-3], value.shape[-3]
    if q_heads == k_heads == v_heads:
        return key, value
    if q_heads % k_heads or q_heads % v_heads:
        raise RuntimeError("Number of heads in key and value must divide the number of heads "
                           "in ")
    return _repeat_heads(key, q_heads // k_heads), _repeat_heads(value, q_heads // v_heads)


def _add_mask(scores, mask):
    """scores + mask, refusing a mask that would grow the scores (torch adds in place)."""
    target = tuple(scores.shape)
    full = _broadcast_shape(target, tuple(mask.shape))
    if full is not None and full != target:
        raise RuntimeError(f"output with shape {list(target)} doesn't match the broadcast "
                           f"shape {list(full)}")
    return pointwise.add(scores, mask)


def _broadcast_shape(a, b):
    """The broadcast of two shapes, or None when they do not broadcast."""
    if not all(x == y or x == 1 or y == 1 for x, y in zip(a[::-1], b[::-1])):
        return None
    return tuple(np.broadcast_shapes(a, b))


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(query @ key^T * scale + mask) @ value, over the last two dims.

    A bool ``attn_mask`` marks with True the pairs that take part, a float one is added to
    the scores; rows with nothing to attend to give zeros.
    """
    _check_sdpa_inputs(query, key, value, attn_mask)
    negative = scale is not None and scale < 0
    base = abs(scale) if negative else scale
    factor = math.sqrt(base if base is not None else 1.0 / math.sqrt(query.shape[-1]))
    # torch scales query and key by sqrt(scale) each before the product, for stability
    query = pointwise.mul(query, -factor if negative else factor)
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not "
                               "be set when is_causal=True")
        attn_mask = _causal_mask(query, key.shape[-2], query.dtype)
    elif attn_mask is not None and attn_mask.dtype == dtypes.bool:
        attn_mask = _bool_mask_to_float(attn_mask, query.dtype, False)
    key, value = _group_query_heads(query, key, value, enable_gqa)
    scores = linalg.matmul(query, pointwise.mul(views.transpose(key, -2, -1), factor))
    if attn_mask is not None:
        scores = _add_mask(scores, attn_mask)
    weights = SafeSoftmax.apply(scores)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, True)
    return linalg.matmul(weights, value)


# ---- the mask helpers torch's MultiheadAttention and Transformer layers share ----------------

def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A float mask (-inf where a bool mask is True), checking its dtype as torch does."""
    if mask is None:
        return None
    mask_is_float = mask.dtype.is_floating_point
    if mask.dtype != dtypes.bool and not mask_is_float:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use "
                      "same type for both instead.", stacklevel=2)
    if not mask_is_float:
        return _bool_mask_to_float(mask, target_type, True)
    return mask


def _none_or_dtype(input):
    """The dtype of a tensor, or None."""
    return None if input is None else input.dtype


def _pad_last(mask):
    """The mask with one more column of zeros at the end of its last dim."""
    zeros = mask.new_zeros(*mask.shape[:-1], 1)
    return shape.cat([mask, zeros], dim=-1)
