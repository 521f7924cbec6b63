"""Scaled dot-product attention, as torch's math path computes it, and its mask helpers."""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import dtypes
from ..autograd.function import Op
from ..ops import creation, linalg, pointwise, reduce, shape, softmaxes, views
from ..ops.activations import dropout
from ..ops.nn_ops import linear as _linear
from ..ops.reduce import acc_dtype

__all__ = ["multi_head_attention_forward", "scaled_dot_product_attention"]

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
        peak = xa.max(axis=-1, keepdims=True)
        peak = xp.where(xp.isfinite(peak), peak, 0)
        e = xp.exp(xa - peak)
        total = e.sum(axis=-1, keepdims=True)
        masked_rows = xp.all(x == -math.inf, axis=-1, keepdims=True)
        out = xp.where(masked_rows, 0, e / xp.where(masked_rows, 1, total))
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
                      "same type for both instead.", stacklevel=3)
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


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    """Whether the inputs are batched (3-D query), checking every dim as torch does."""
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError("For batched (3-D) `query`, expected `key` and `value` to be 3-D"
                                 f" but found {key.dim()}-D and {value.dim()}-D tensors "
                                 "respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError("For batched (3-D) `query`, expected `key_padding_mask` to be "
                                 f"`None` or 2-D but found {key_padding_mask.dim()}-D tensor "
                                 "instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError("For batched (3-D) `query`, expected `attn_mask` to be `None`, "
                                 f"2-D or 3-D but found {attn_mask.dim()}-D tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError("For unbatched (2-D) `query`, expected `key` and `value` to be "
                                 f"2-D but found {key.dim()}-D and {value.dim()}-D tensors "
                                 "respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError("For unbatched (2-D) `query`, expected `key_padding_mask` to be "
                                 f"`None` or 1-D but found {key_padding_mask.dim()}-D tensor "
                                 "instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError("For unbatched (2-D) `query`, expected `attn_mask` to be "
                                     f"`None`, 2-D or 3-D but found {attn_mask.dim()}-D tensor "
                                     "instead")
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.dim() == 3 and tuple(attn_mask.shape) != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                     f"{attn_mask.shape}")
        return False
    raise AssertionError("query should be unbatched 2D or batched 3D tensor but received "
                         f"{query.dim()}-D query tensor")


def _in_projection_packed(q, k, v, w, b=None):
    """q, k and v projected by the three row blocks of one packed weight."""
    embed = q.shape[-1]
    if k is v:
        if q is k:  # self-attention: one product
            proj = _linear(q, w, b)
            proj = views.contiguous(views.squeeze(views.transpose(views.unsqueeze(
                shape.unflatten(proj, -1, (3, embed)), 0), 0, -2), -2))
            return proj[0], proj[1], proj[2]
        w_q, w_kv = shape.split(w, [embed, embed * 2])
        b_q, b_kv = (None, None) if b is None else shape.split(b, [embed, embed * 2])
        kv_proj = _linear(k, w_kv, b_kv)
        kv_proj = views.contiguous(views.squeeze(views.transpose(views.unsqueeze(
            shape.unflatten(kv_proj, -1, (2, embed)), 0), 0, -2), -2))
        return _linear(q, w_q, b_q), kv_proj[0], kv_proj[1]
    w_q, w_k, w_v = shape.chunk(w, 3)
    b_q, b_k, b_v = (None, None, None) if b is None else shape.chunk(b, 3)
    return _linear(q, w_q, b_q), _linear(k, w_k, b_k), _linear(v, w_v, b_v)


def _in_projection(q, k, v, w_q, w_k, w_v, b_q=None, b_k=None, b_v=None):
    """q, k and v projected by their own weights (kdim or vdim differ from embed_dim)."""
    eq, ek, ev = q.shape[-1], k.shape[-1], v.shape[-1]
    for name, weight, expected in (("query", w_q, (eq, eq)), ("key", w_k, (eq, ek)),
                                   ("value", w_v, (eq, ev))):
        if tuple(weight.shape) != expected:
            raise AssertionError(f"expecting {name} weights shape of {expected}, but got "
                                 f"{weight.shape}")
    for name, bias in (("query", b_q), ("key", b_k), ("value", b_v)):
        if bias is not None and tuple(bias.shape) != (eq,):
            raise AssertionError(f"expecting {name} bias shape of {(eq,)}, but got {bias.shape}")
    return _linear(q, w_q, b_q), _linear(k, w_k, b_k), _linear(v, w_v, b_v)


def _check_attn_mask_shape(attn_mask, tgt_len, src_len, bsz, num_heads):
    """The mask as (1 or bsz * num_heads, L, S), its size checked."""
    if attn_mask.dim() == 2:
        if tuple(attn_mask.shape) != (tgt_len, src_len):
            raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should "
                               f"be {(tgt_len, src_len)}.")
        return views.unsqueeze(attn_mask, 0)
    if attn_mask.dim() == 3:
        expected = (bsz * num_heads, tgt_len, src_len)
        if tuple(attn_mask.shape) != expected:
            raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should "
                               f"be {expected}.")
        return attn_mask
    raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")


def _project(query, key, value, embed_dim, in_proj_weight, in_proj_bias,
             use_separate_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight):
    if not use_separate_proj_weight:
        if key.shape != value.shape:
            raise AssertionError(f"key shape {key.shape} does not match value shape "
                                 f"{value.shape}")
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        return _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    if key.shape[:2] != value.shape[:2]:
        raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match "
                             f"value's {value.shape[:2]}")
    for name, weight in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
        if weight is None:
            raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight is "
                                 "None")
    biases = (None, None, None) if in_proj_bias is None else shape.chunk(in_proj_bias, 3)
    return _in_projection(query, key, value, q_proj_weight, k_proj_weight, v_proj_weight,
                          *biases)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """The forward pass of ``nn.MultiheadAttention`` (sequence-first inputs)."""
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = (views.unsqueeze(t, 1) for t in (query, key, value))
        if key_padding_mask is not None:
            key_padding_mask = views.unsqueeze(key_padding_mask, 0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                       _none_or_dtype(attn_mask), "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # scaled_dot_product_attention builds the causal mask itself
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype,
                                    check_other=False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    q, k, v = _project(query, key, value, embed_dim, in_proj_weight, in_proj_bias,
                       use_separate_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight)
    if attn_mask is not None:
        attn_mask = _check_attn_mask_shape(attn_mask, tgt_len, src_len, bsz, num_heads)
    if (bias_k is None) != (bias_v is None):
        raise AssertionError("bias_k is set but bias_v is None" if bias_v is None
                             else "bias_v is set but bias_k is None")
    if bias_k is not None:
        if static_k is not None or static_v is not None:
            which = "key" if static_k is not None else "value"
            raise AssertionError(f"bias cannot be added to static {which}.")
        k = shape.cat([k, shape.repeat(bias_k, 1, bsz, 1)])
        v = shape.cat([v, shape.repeat(bias_v, 1, bsz, 1)])
        attn_mask = None if attn_mask is None else _pad_last(attn_mask)
        key_padding_mask = None if key_padding_mask is None else _pad_last(key_padding_mask)
    q = views.transpose(views.view(q, tgt_len, bsz * num_heads, head_dim), 0, 1)
    k = _heads(k, static_k, "k", bsz, num_heads, head_dim)
    v = _heads(v, static_v, "v", bsz, num_heads, head_dim)
    if add_zero_attn:
        zeros = (bsz * num_heads, 1, head_dim)
        k = shape.cat([k, creation.zeros(zeros, dtype=k.dtype, device=k.device)], dim=1)
        v = shape.cat([v, creation.zeros(zeros, dtype=v.dtype, device=v.device)], dim=1)
        attn_mask = None if attn_mask is None else _pad_last(attn_mask)
        key_padding_mask = None if key_padding_mask is None else _pad_last(key_padding_mask)
    src_len = k.shape[1]
    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                                 f"{key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                                 f"{key_padding_mask.shape[1]}")
        key_padding_mask = views.reshape(views.expand(
            views.view(key_padding_mask, bsz, 1, 1, src_len), -1, num_heads, -1, -1),
            bsz * num_heads, 1, src_len)
        attn_mask = (key_padding_mask if attn_mask is None
                     else pointwise.add(attn_mask, key_padding_mask))
    if not training:
        dropout_p = 0.0
    if need_weights:
        scaled = pointwise.mul(q, math.sqrt(1.0 / float(q.shape[-1])))
        weights = linalg.bmm(scaled, views.transpose(k, -2, -1))
        if attn_mask is not None:  # torch's baddbmm(attn_mask, q, k^T)
            weights = pointwise.add(attn_mask, weights)
        weights = softmaxes.softmax(weights, -1)
        if dropout_p > 0.0:
            weights = dropout(weights, dropout_p)
        output = views.reshape(views.transpose(linalg.bmm(weights, v), 0, 1),
                               tgt_len * bsz, embed_dim)
        output = _linear(output, out_proj_weight, out_proj_bias)
        output = views.view(output, tgt_len, bsz, output.shape[1])
        weights = views.view(weights, bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = reduce.mean(weights, dim=1)
        if not is_batched:
            output, weights = views.squeeze(output, 1), views.squeeze(weights, 0)
        return output, weights
    if attn_mask is not None:
        if attn_mask.shape[0] == 1 and attn_mask.dim() == 3:
            attn_mask = views.unsqueeze(attn_mask, 0)
        else:
            attn_mask = views.view(attn_mask, bsz, num_heads, -1, src_len)
    q = views.view(q, bsz, num_heads, tgt_len, head_dim)
    k = views.view(k, bsz, num_heads, src_len, head_dim)
    v = views.view(v, bsz, num_heads, src_len, head_dim)
    output = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    output = views.reshape(views.permute(output, 2, 0, 1, 3), bsz * tgt_len, embed_dim)
    output = _linear(output, out_proj_weight, out_proj_bias)
    output = views.view(output, tgt_len, bsz, output.shape[1])
    if not is_batched:
        output = views.squeeze(output, 1)
    return output, None


def _heads(t, static, name, bsz, num_heads, head_dim):
    """(len, bsz, embed) -> (bsz * num_heads, len, head_dim), or the checked static tensor."""
    if static is None:
        return views.transpose(views.view(t, t.shape[0], bsz * num_heads, head_dim), 0, 1)
    if static.shape[0] != bsz * num_heads:
        raise AssertionError(f"expecting static_{name}.size(0) of {bsz * num_heads}, but got "
                             f"{static.shape[0]}")
    if static.shape[2] != head_dim:
        raise AssertionError(f"expecting static_{name}.size(2) of {head_dim}, but got "
                             f"{static.shape[2]}")
    return static

