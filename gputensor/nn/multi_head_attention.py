"""``multi_head_attention_forward``: the computation of ``nn.MultiheadAttention``, as torch's."""

from __future__ import annotations

import math

from ..ops import creation, linalg, pointwise, reduce, shape, softmaxes, views
from ..ops.activations import dropout
from ..ops.nn_ops import linear as _linear
from .attention import _canonical_mask, _none_or_dtype, _pad_last, scaled_dot_product_attention

__all__ = ["multi_head_attention_forward"]


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

