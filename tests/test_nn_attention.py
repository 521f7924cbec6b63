"""F.scaled_dot_product_attention and nn.MultiheadAttention against torch, on every device."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from module_compare import build_pair, check_module

import gputensor
from helpers import assert_same, check_error, check_op, rand_array, to_numpy


def _sdpa(**kwargs):
    def fn(lib, q, k, v, *mask):
        options = {**kwargs, "attn_mask": mask[0]} if mask else kwargs
        return lib.nn.functional.scaled_dot_product_attention(q, k, v, **options)
    return fn


def _row_masked(shape, rows, value):
    """A float mask of random values (or a copy of ``shape`` when it is an array) with the
    given rows all ``value``."""
    mask = shape.copy() if isinstance(shape, np.ndarray) else rand_array(shape)
    mask[..., rows, :] = value
    return mask


def _bool_mask(shape, false_rows=()):
    """A bool mask, True on the diagonal (every row attends somewhere) but in ``false_rows``."""
    mask = rand_array(shape, "bool")
    mask[..., np.arange(min(shape[-2:])), np.arange(min(shape[-2:]))] = True
    mask[..., list(false_rows), :] = False
    return mask


Q4, K4, V4 = (2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)
SDPA_CASES = {
    "4-D": (_sdpa(), Q4, K4, V4),
    "3-D": (_sdpa(), (3, 4, 5), (3, 6, 5), (3, 6, 2)),
    "2-D": (_sdpa(), (4, 5), (6, 5), (6, 3)),
    "batch broadcast": (_sdpa(), (2, 3, 4, 5), (1, 3, 6, 5), (1, 3, 6, 7)),
    "scale": (_sdpa(scale=0.3), Q4, K4, V4),
    "negative scale": (_sdpa(scale=-0.7), Q4, K4, V4),
    "causal, fewer queries": (_sdpa(is_causal=True), Q4, K4, V4),
    "causal, more queries": (_sdpa(is_causal=True), (2, 6, 5), (2, 4, 5), (2, 4, 3)),
    "gqa": (_sdpa(enable_gqa=True), (2, 4, 3, 5), (2, 2, 6, 5), (2, 1, 6, 3)),
    "float mask (L, S)": (_sdpa(), Q4, K4, V4, rand_array((4, 6))),
    "float mask (1, H, L, S)": (_sdpa(), Q4, K4, V4, rand_array((1, 3, 4, 6))),
    "float mask, -inf rows": (_sdpa(), Q4, K4, V4, _row_masked((3, 4, 6), [0, 2], -np.inf)),
    "float mask, +inf and NaN rows": (_sdpa(), Q4, K4, V4,
                                      _row_masked(_row_masked((4, 6), [1], np.inf), [3], np.nan)),
    "bool mask (L, S)": (_sdpa(), Q4, K4, V4, _bool_mask((4, 6))),
    "bool mask (N, 1, L, S)": (_sdpa(), Q4, K4, V4, _bool_mask((2, 1, 4, 6))),
    "bool mask, empty rows": (_sdpa(), Q4, K4, V4, _bool_mask((4, 6), false_rows=[1, 3])),
    "bool mask, 2-D": (_sdpa(), (4, 5), (6, 5), (6, 3), _bool_mask((4, 6), false_rows=[2])),
}


@pytest.mark.parametrize("case", SDPA_CASES)
def test_scaled_dot_product_attention(case, device):
    fn, *shapes = SDPA_CASES[case]
    arrays = [s if isinstance(s, np.ndarray) else rand_array(s) for s in shapes]
    check_op(fn, *arrays, device=device)


def test_scaled_dot_product_attention_float64_with_a_float32_mask(device):
    arrays = [rand_array(s, "float64") for s in (Q4, K4, V4)]
    check_op(_sdpa(), *arrays, rand_array((4, 6)), device=device)


def test_scaled_dot_product_attention_transposed_inputs(device):
    check_op(_sdpa(), rand_array(Q4), rand_array(K4), rand_array(V4), device=device,
             layout="transposed")


def _sdpa_error(q, k, v, **kwargs):
    def fn(lib):
        def make(spec):
            shape, dtype = spec if isinstance(spec[0], tuple) else (spec, "float32")
            return lib.tensor(rand_array(shape, dtype))
        options = dict(kwargs)
        if "attn_mask" in options:
            options["attn_mask"] = make(options["attn_mask"])
        return lib.nn.functional.scaled_dot_product_attention(make(q), make(k), make(v),
                                                               **options)
    return fn


SDPA_ERRORS = {
    "mask with is_causal": _sdpa_error(Q4, K4, V4, attn_mask=(4, 6), is_causal=True),
    "int mask": _sdpa_error(Q4, K4, V4, attn_mask=((4, 6), "int64")),
    "float64 mask": _sdpa_error(Q4, K4, V4, attn_mask=((4, 6), "float64")),
    "mask larger than the scores": _sdpa_error((4, 5), (6, 5), (6, 7), attn_mask=(2, 4, 6)),
    "mask of the wrong size": _sdpa_error(Q4, K4, V4, attn_mask=(3, 6)),
    "dtypes differ": _sdpa_error(((4, 5), "float64"), (6, 5), (6, 7)),
    "1-D query": _sdpa_error((5,), (6, 5), (6, 7)),
    "head dims differ": _sdpa_error(Q4, (2, 3, 6, 4), V4),
    "gqa heads do not divide": _sdpa_error((2, 4, 3, 5), (2, 3, 6, 5), (2, 3, 6, 5),
                                           enable_gqa=True),
}


@pytest.mark.parametrize("case", SDPA_ERRORS)
def test_scaled_dot_product_attention_errors(case, device):
    check_error(SDPA_ERRORS[case], device=device)


def test_scaled_dot_product_attention_dropout_uses_the_generator(device):
    q, k, v = (gputensor.tensor(rand_array(s), device=device) for s in (Q4, K4, V4))
    F = gputensor.nn.functional  # noqa: N806 - torch's spelling
    gputensor.manual_seed(7)
    dropped = F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)
    gputensor.manual_seed(7)
    weights = F.softmax(q @ k.transpose(-2, -1) / np.sqrt(q.shape[-1]), dim=-1)
    expected = F.dropout(weights, 0.4) @ v
    np.testing.assert_allclose(to_numpy(dropped), to_numpy(expected), rtol=1e-5, atol=1e-6)
    plain = F.scaled_dot_product_attention(q, k, v)
    assert not np.allclose(to_numpy(dropped), to_numpy(plain))


def test_scaled_dot_product_attention_dropout_of_everything(device):
    check_op(_sdpa(dropout_p=1.0), rand_array(Q4), rand_array(K4), rand_array(V4),
             device=device)


# ---- nn.MultiheadAttention ---------------------------------------------------------------------

def _mha(*args, train=False, **kwargs):
    def make(lib):
        module = lib.nn.MultiheadAttention(*args, **kwargs)
        return module.train(train)
    return make


def _self_attention(**kwargs):
    def run(lib, module, x, *masks):
        names = ("key_padding_mask", "attn_mask")
        return module(x, x, x, **kwargs, **dict(zip(names, masks)))
    return run


def _cross_attention(**kwargs):
    def run(lib, module, q, k, v, *masks):
        names = ("key_padding_mask", "attn_mask")
        return module(q, k, v, **kwargs, **dict(zip(names, masks)))
    return run


def _padding(batch, length, dtype="bool"):
    """A key padding mask whose first key is never padded (no row is all padding)."""
    mask = rand_array((batch, length)) > 0.8
    mask[:, 0] = False
    return mask if dtype == "bool" else np.where(mask, -1e9, 0.0).astype(dtype)


def _left_out(rows, cols, empty_rows=()):
    """A bool attn_mask (True: left out) that leaves key 0 to every row but ``empty_rows``."""
    mask = _bool_mask((rows, cols)) == 0
    mask[:, 0] = False
    mask[list(empty_rows), :] = True
    return mask


E, H, L, S, N = 8, 2, 5, 4, 3
MHA_CASES = {
    "self-attention": (_mha(E, H), _self_attention(), (L, N, E)),
    "self-attention, batch_first": (_mha(E, H, batch_first=True), _self_attention(),
                                    (N, L, E)),
    "self-attention, no weights": (_mha(E, H), _self_attention(need_weights=False),
                                   (L, N, E)),
    "unbatched": (_mha(E, H), _self_attention(), (L, E)),
    "unbatched, no weights": (_mha(E, H), _self_attention(need_weights=False), (L, E)),
    "cross-attention": (_mha(E, H), _cross_attention(), (L, N, E), (S, N, E), (S, N, E)),
    "kdim and vdim": (_mha(E, H, kdim=6, vdim=3), _cross_attention(), (L, N, E), (S, N, 6),
                      (S, N, 3)),
    "kdim and vdim, batch_first, no weights": (
        _mha(E, H, kdim=6, vdim=3, batch_first=True), _cross_attention(need_weights=False),
        (N, L, E), (N, S, 6), (N, S, 3)),
    "per-head weights": (_mha(E, 4), _cross_attention(average_attn_weights=False), (L, N, E),
                         (S, N, E), (S, N, E)),
    "no bias": (_mha(E, H, bias=False), _self_attention(), (L, N, E)),
    "bias_kv and zero_attn": (_mha(E, H, add_bias_kv=True, add_zero_attn=True),
                              _cross_attention(), (L, N, E), (S, N, E), (S, N, E)),
    "bool masks": (_mha(E, H), _self_attention(), (L, N, E), _padding(N, L), _left_out(L, L)),
    "bool masks, no weights": (_mha(E, H), _self_attention(need_weights=False), (L, N, E),
                               _padding(N, L), _left_out(L, L)),
    "a row left out": (_mha(E, H), _self_attention(), (L, N, E), None, _left_out(L, L, [2])),
    "a row left out, no weights": (_mha(E, H), _self_attention(need_weights=False),
                                   (L, N, E), None, _left_out(L, L, [2])),
    "float masks, 3-D": (_mha(E, H), _cross_attention(), (L, N, E), (S, N, E), (S, N, E),
                         _padding(N, S, "float32"), rand_array((N * H, L, S))),
    "float 3-D mask, no weights": (_mha(E, H), _cross_attention(need_weights=False),
                                   (L, N, E), (S, N, E), (S, N, E),
                                   _padding(N, S, "float32"), rand_array((N * H, L, S))),
    "unbatched with masks": (_mha(E, H), _self_attention(), (L, E), _padding(1, L)[0],
                             np.stack([_left_out(L, L)] * H)),
    "bias_kv, zero_attn and masks": (_mha(E, H, add_bias_kv=True, add_zero_attn=True),
                                     _self_attention(need_weights=False), (L, N, E),
                                     _padding(N, L), _left_out(L, L)),
    "dropout in eval": (_mha(E, H, dropout=0.5), _self_attention(), (L, N, E)),
    "causal": (_mha(E, H), _self_attention(need_weights=False, is_causal=True), (L, N, E),
               None, np.triu(np.ones((L, L), bool), 1)),
}


@pytest.mark.parametrize("case", MHA_CASES)
def test_multihead_attention(case, device):
    make, run, *specs = MHA_CASES[case]
    arrays = [s if isinstance(s, np.ndarray) or s is None else rand_array(s) for s in specs]
    check_module(make, run, *arrays, device=device)


def test_multihead_attention_parameters_and_init():
    module = gputensor.nn.MultiheadAttention(E, H, add_bias_kv=True, kdim=6)
    theirs = torch.nn.MultiheadAttention(E, H, add_bias_kv=True, kdim=6)
    ours_shapes = {k: tuple(p.shape) for k, p in module.named_parameters()}
    assert ours_shapes == {k: tuple(p.shape) for k, p in theirs.named_parameters()}
    assert module.in_proj_weight is None and module.head_dim == E // H
    assert not np.any(module.in_proj_bias.detach().numpy())
    assert not np.any(module.out_proj.bias.detach().numpy())
    bound = np.sqrt(6.0 / (E + 6))  # xavier_uniform_ of an (E, kdim) weight
    weight = module.k_proj_weight.detach().numpy()
    assert np.abs(weight).max() <= bound and weight.std() > bound / 4
    assert type(module.out_proj).__name__ == "NonDynamicallyQuantizableLinear"


def _mha_call(module_args, shapes, **kwargs):
    def fn(lib):
        module = lib.nn.MultiheadAttention(*module_args)
        inputs = [lib.tensor(s) if isinstance(s, np.ndarray) else lib.tensor(rand_array(s))
                  for s in shapes]
        options = {k: lib.tensor(v) if isinstance(v, np.ndarray) else v
                   for k, v in kwargs.items()}
        return module(*inputs, **options)
    return fn


MHA_ERRORS = {
    "heads do not divide": lambda lib: lib.nn.MultiheadAttention(8, 3),
    "no heads": lambda lib: lib.nn.MultiheadAttention(8, 0),
    "embedding size": _mha_call((E, H), [(L, N, 6)] * 3),
    "2-D mask shape": _mha_call((E, H), [(L, N, E)] * 3, attn_mask=rand_array((3, L))),
    "3-D mask shape": _mha_call((E, H), [(L, N, E)] * 3, attn_mask=rand_array((H, L, L))),
    "4-D mask": _mha_call((E, H), [(L, N, E)] * 3, attn_mask=rand_array((1, H, L, L))),
    "int mask": _mha_call((E, H), [(L, N, E)] * 3,
                          attn_mask=np.zeros((L, L), np.int64)),
    "padding mask width": _mha_call((E, H), [(L, N, E)] * 3,
                                    key_padding_mask=np.zeros((N, 2), bool)),
    "padding mask batch": _mha_call((E, H), [(L, N, E)] * 3,
                                    key_padding_mask=np.zeros((2, L), bool)),
    "padding mask dims": _mha_call((E, H), [(L, N, E)] * 3,
                                   key_padding_mask=np.zeros((L,), bool)),
    "causal without a mask": _mha_call((E, H), [(L, N, E)] * 3, is_causal=True),
    "4-D query": _mha_call((E, H), [(1, L, N, E)] * 3),
    "2-D key with 3-D query": _mha_call((E, H), [(L, N, E), (L, E), (L, E)]),
    "key and value shapes": _mha_call((E, H), [(L, N, E), (L, N, E), (S, N, E)]),
}


@pytest.mark.parametrize("case", MHA_ERRORS)
def test_multihead_attention_errors(case, device):
    check_error(MHA_ERRORS[case], device=device)


def test_multihead_attention_warns_of_mismatched_mask_types(device):
    messages = []
    for lib in (gputensor, torch):
        where = device if lib is gputensor else "cpu"
        module = lib.nn.MultiheadAttention(E, H).to(where)
        x = lib.tensor(rand_array((L, N, E)), device=where)
        padding = lib.zeros(N, L, dtype=lib.bool, device=x.device)
        with pytest.warns(UserWarning) as record:
            module(x, x, x, key_padding_mask=padding, attn_mask=lib.zeros(L, L,
                                                                          device=x.device))
        messages.append([str(w.message) for w in record])
    assert messages[0] == messages[1]


def test_multihead_attention_dtype_and_device(device):
    def make(lib):
        where = device if lib is gputensor else "cpu"
        return lib.nn.MultiheadAttention(E, H, kdim=6, dtype=lib.float64, device=where)
    ours, _ = check_module(make, _cross_attention(), rand_array((L, N, E), "float64"),
                           rand_array((S, N, 6), "float64"), rand_array((S, N, E), "float64"),
                           device=device)
    assert {(p.dtype, p.device.type) for p in ours.parameters()} == {(gputensor.float64, device)}


@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_inference_matches_the_fast_path(need_weights, device):
    # torch runs _native_multi_head_attention here (eval, no grad, batch_first self-attention)
    ours, theirs = build_pair(_mha(E, H, batch_first=True), device)
    x = rand_array((N, L, E))
    masks = {"key_padding_mask": _padding(N, L), "attn_mask": _left_out(L, L)}
    with torch.no_grad():
        t = torch.tensor(x)
        expected = theirs(t, t, t, need_weights=need_weights,
                          **{k: torch.tensor(v) for k, v in masks.items()})
    with gputensor.no_grad():
        o = gputensor.tensor(x, device=device)
        found = ours(o, o, o, need_weights=need_weights,
                     **{k: gputensor.tensor(v, device=device) for k, v in masks.items()})
    assert (found[1] is None) == (expected[1] is None)
    assert_same([t for t in found if t is not None], [t for t in expected if t is not None])
