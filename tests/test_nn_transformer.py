"""The Transformer modules against torch, on every device: reprs, state_dict keys, outputs,
every parameter's gradient, masks, warnings and errors."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest
import torch
from module_compare import build_pair, check_module

import gputensor
from helpers import assert_same, check_error, rand_array

D, H, FF, N, S, T = 8, 2, 16, 3, 5, 4


def _quiet(make):
    """``make`` with torch's enable_nested_tensor warning silenced (it has its own test)."""
    def quiet(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return make(lib)
    return quiet


def _encoder_layer(train=True, **kwargs):
    kwargs.setdefault("dropout", 0.0 if train else 0.1)
    return lambda lib: lib.nn.TransformerEncoderLayer(D, H, FF, **kwargs).train(train)


def _decoder_layer(train=True, **kwargs):
    kwargs.setdefault("dropout", 0.0 if train else 0.1)
    return lambda lib: lib.nn.TransformerDecoderLayer(D, H, FF, **kwargs).train(train)


def _encoder(layers=2, train=True, norm=True, **kwargs):
    def make(lib):
        layer = lib.nn.TransformerEncoderLayer(D, H, FF, dropout=0.0, **kwargs)
        return lib.nn.TransformerEncoder(layer, layers, lib.nn.LayerNorm(D) if norm else None)
    return _quiet(lambda lib: make(lib).train(train))


def _decoder(layers=2, **kwargs):
    def make(lib):
        layer = lib.nn.TransformerDecoderLayer(D, H, FF, dropout=0.0, **kwargs)
        return lib.nn.TransformerDecoder(layer, layers, lib.nn.LayerNorm(D))
    return make


def _transformer(train=True, **kwargs):
    kwargs.setdefault("dropout", 0.0 if train else 0.1)
    return _quiet(lambda lib: lib.nn.Transformer(D, H, 2, 1, FF, **kwargs).train(train))


def _call(**kwargs):
    """run(lib, module, *inputs): inputs first, then the named masks in order."""
    names = kwargs.pop("masks", ())

    def run(lib, module, *tensors):
        count = len(tensors) - len(names)
        masks = {n: m for n, m in zip(names, tensors[count:]) if m is not None}
        return module(*tensors[:count], **masks, **kwargs)
    return run


def _causal(size):
    return np.triu(np.ones((size, size), bool), 1)


def _float_causal(size):
    return np.where(_causal(size), -np.inf, 0.0).astype("float32")


def _some_masked(rows, cols):
    """A bool attention mask (True: left out) that leaves the first column to every row."""
    mask = rand_array((rows, cols)) > 1.0
    mask[:, 0] = False
    return mask


def _padding(batch, length):
    mask = np.zeros((batch, length), bool)
    mask[0, length - 2:] = True
    mask[-1, length - 1] = True
    return mask


SEQ, BATCH_FIRST = (S, N, D), (N, S, D)
ENCODER_LAYER_CASES = {
    "default": (_encoder_layer(), _call(), SEQ),
    "eval with dropout": (_encoder_layer(train=False), _call(), SEQ),
    "norm_first": (_encoder_layer(norm_first=True), _call(), SEQ),
    "gelu by name": (_encoder_layer(activation="gelu"), _call(), SEQ),
    "gelu module": (lambda lib: lib.nn.TransformerEncoderLayer(
        D, H, FF, dropout=0.0, activation=lib.nn.GELU()), _call(), SEQ),
    "callable activation": (lambda lib: lib.nn.TransformerEncoderLayer(
        D, H, FF, dropout=0.0, activation=lib.nn.functional.silu), _call(), SEQ),
    "batch_first, no bias": (_encoder_layer(batch_first=True, bias=False), _call(),
                             BATCH_FIRST),
    "unbatched": (_encoder_layer(), _call(), (S, D)),
    "layer_norm_eps": (_encoder_layer(layer_norm_eps=1e-2), _call(), SEQ),
    "bool masks": (_encoder_layer(), _call(masks=("src_mask", "src_key_padding_mask")), SEQ,
                   _causal(S), _padding(N, S)),
    "float mask": (_encoder_layer(), _call(masks=("src_mask",)), SEQ, rand_array((S, S))),
    "causal": (_encoder_layer(), _call(masks=("src_mask",), is_causal=True), SEQ,
               _float_causal(S)),
}


@pytest.mark.parametrize("case", ENCODER_LAYER_CASES)
def test_transformer_encoder_layer(case, device):
    make, run, *specs = ENCODER_LAYER_CASES[case]
    arrays = [s if isinstance(s, np.ndarray) else rand_array(s) for s in specs]
    check_module(make, run, *arrays, device=device)


MEMORY = (T, N, D)
DECODER_LAYER_CASES = {
    "default": (_decoder_layer(), _call(), MEMORY, SEQ),
    "eval with dropout": (_decoder_layer(train=False), _call(), MEMORY, SEQ),
    "norm_first, gelu": (_decoder_layer(norm_first=True, activation="gelu"), _call(), MEMORY,
                         SEQ),
    "batch_first": (_decoder_layer(batch_first=True), _call(), (N, T, D), BATCH_FIRST),
    "masks": (_decoder_layer(), _call(masks=("tgt_mask", "memory_mask", "tgt_key_padding_mask",
                                             "memory_key_padding_mask"), tgt_is_causal=True),
              MEMORY, SEQ, _float_causal(T), rand_array((T, S)), _padding(N, T),
              _padding(N, S)),
}


@pytest.mark.parametrize("case", DECODER_LAYER_CASES)
def test_transformer_decoder_layer(case, device):
    make, run, *specs = DECODER_LAYER_CASES[case]
    arrays = [s if isinstance(s, np.ndarray) else rand_array(s) for s in specs]
    check_module(make, run, *arrays, device=device)


STACK_CASES = {
    "encoder": (_encoder(), _call(), SEQ),
    "encoder without norm": (_encoder(norm=False), _call(), SEQ),
    "encoder, subsequent mask": (_encoder(), _call(masks=("mask",)), SEQ, _float_causal(S)),
    "encoder, padding": (_encoder(batch_first=True), _call(masks=("mask",
                                                                  "src_key_padding_mask")),
                         BATCH_FIRST, None, _padding(N, S)),
    "decoder": (_decoder(), _call(masks=("tgt_mask",)), MEMORY, SEQ, _float_causal(T)),
    "decoder, bool subsequent mask": (_decoder(), _call(masks=("tgt_mask",)), MEMORY, SEQ,
                                      _causal(T)),
    "transformer": (_transformer(), _call(), SEQ, MEMORY),
    "transformer, eval": (_transformer(train=False), _call(), SEQ, MEMORY),
    "transformer, masks": (
        _transformer(batch_first=True, norm_first=True),
        _call(masks=("src_mask", "tgt_mask", "memory_mask", "src_key_padding_mask",
                     "tgt_key_padding_mask", "memory_key_padding_mask")),
        BATCH_FIRST, (N, T, D), rand_array((S, S)), _float_causal(T), _some_masked(T, S),
        _padding(N, S), _padding(N, T), _padding(N, S)),
}


@pytest.mark.parametrize("case", STACK_CASES)
def test_transformer_stacks(case, device):
    make, run, *specs = STACK_CASES[case]
    arrays = [s if isinstance(s, np.ndarray) or s is None else rand_array(s) for s in specs]
    check_module(make, run, *arrays, device=device)


def test_encoder_layers_are_deep_copies():
    layer = gputensor.nn.TransformerEncoderLayer(D, H, FF)
    encoder = gputensor.nn.TransformerEncoder(layer, 3, enable_nested_tensor=False)
    weights = [m.self_attn.in_proj_weight for m in encoder.layers]
    assert len({id(w) for w in weights}) == 3 and layer.self_attn.in_proj_weight is not weights[0]
    for w in weights:
        np.testing.assert_array_equal(w.detach().numpy(),
                                      layer.self_attn.in_proj_weight.detach().numpy())


def _warnings_of(make):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        make()
    return [str(w.message) for w in record if w.category is UserWarning]


ENCODER_WARNING_CASES = {
    "sequence first": {},
    "batch_first": {"batch_first": True},
    "norm_first": {"batch_first": True, "norm_first": True},
    "odd heads": {"batch_first": True, "nhead": 1},
    "no bias": {"batch_first": True, "bias": False},
    "other activation": {"batch_first": True, "activation": "silu"},
    "nested off": {"enable_nested_tensor": False},
}


@pytest.mark.parametrize("case", ENCODER_WARNING_CASES)
def test_encoder_nested_tensor_warning(case):
    options = dict(ENCODER_WARNING_CASES[case])
    enable = options.pop("enable_nested_tensor", True)
    nhead = options.pop("nhead", H)
    found = []
    for lib in (gputensor, torch):
        if options.get("activation") == "silu":
            options["activation"] = lib.nn.functional.silu
        layer = lib.nn.TransformerEncoderLayer(D, nhead, FF, **options)
        found.append(_warnings_of(functools.partial(lib.nn.TransformerEncoder, layer, 1,
                                                    enable_nested_tensor=enable)))
    assert found[0] == found[1]


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")
def test_inference_with_left_aligned_padding_matches_the_nested_path(device):
    ours, theirs = build_pair(_encoder(batch_first=True, train=False), device)
    x = rand_array(BATCH_FIRST)
    for padding in (_padding(N, S), _padding(N, S)[:, ::-1].copy()):
        with torch.no_grad():
            expected = theirs(torch.tensor(x), src_key_padding_mask=torch.tensor(padding))
        with gputensor.no_grad():
            found = ours(gputensor.tensor(x, device=device),
                         src_key_padding_mask=gputensor.tensor(padding, device=device))
        assert_same(found, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [None, "float64"])
def test_generate_square_subsequent_mask(dtype, device):
    ours = gputensor.nn.Transformer.generate_square_subsequent_mask(
        4, device=device, dtype=dtype and getattr(gputensor, dtype))
    theirs = torch.nn.Transformer.generate_square_subsequent_mask(
        4, dtype=dtype and getattr(torch, dtype))
    assert ours.device.type == device
    assert_same(ours, theirs)


def _transformer_call(src_shape, tgt_shape, **kwargs):
    def fn(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            module = lib.nn.Transformer(D, H, 1, 1, FF, **kwargs)
        return module(lib.tensor(rand_array(src_shape)), lib.tensor(rand_array(tgt_shape)))
    return fn


TRANSFORMER_ERRORS = {
    "batch sizes differ": _transformer_call((S, N, D), (T, 2, D)),
    "batch sizes differ, batch_first": _transformer_call((N, S, D), (2, T, D),
                                                         batch_first=True),
    "feature size": _transformer_call((S, N, 6), (T, N, 6)),
    "unknown activation": lambda lib: lib.nn.TransformerEncoderLayer(D, H, activation="tanh"),
    "heads do not divide": lambda lib: lib.nn.TransformerDecoderLayer(D, 3),
    "encoder layer input size": lambda lib: lib.nn.TransformerEncoderLayer(D, H)(
        lib.tensor(rand_array((S, N, 6)))),
    "int mask": lambda lib: lib.nn.TransformerEncoderLayer(D, H)(
        lib.tensor(rand_array(SEQ)), src_mask=lib.zeros(S, S, dtype=lib.int64)),
    "mask shape": lambda lib: lib.nn.TransformerEncoderLayer(D, H)(
        lib.tensor(rand_array(SEQ)), src_mask=lib.zeros(S, S + 1)),
}


@pytest.mark.parametrize("case", TRANSFORMER_ERRORS)
def test_transformer_errors(case, device):
    check_error(TRANSFORMER_ERRORS[case], device=device)
