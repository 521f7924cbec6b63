"""nn.Embedding's options against torch: padding_idx, max_norm/norm_type (rows renormalised
in place), scale_grad_by_freq, from_pretrained, sparse, reprs and errors, on every device."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gputensor
from helpers import LIBS, assert_same, check_error, lib_device, rand_array

INDICES = np.array([[0, 1, 1], [3, 1, 0], [4, 4, 2]])


def _lookup_both(device, make, indices=INDICES, weight=None):
    """``make(lib, weight)`` -> Embedding; look up ``indices``, backward a fixed seed; compare
    the output, the weight after the lookup (renormalised in place) and its gradient."""
    weight = rand_array((5, 3), low=-2, high=2) if weight is None else weight
    seed = rand_array(indices.shape + (weight.shape[1],))
    results = {}
    for lib in LIBS:
        dev = lib_device(lib, device)
        emb = make(lib, lib.tensor(weight, device=dev))
        out = emb(lib.tensor(indices, device=dev))
        if out.requires_grad:
            out.backward(lib.tensor(seed, device=dev))
        results[lib] = (emb, out)
    (ours, our_out), (theirs, their_out) = results[gputensor], results[torch]
    assert str(our_out.device).startswith(device)
    assert_same(our_out, their_out)
    assert_same(ours.weight, theirs.weight)
    assert (ours.weight.grad is None) == (theirs.weight.grad is None)
    if theirs.weight.grad is not None:
        assert_same(ours.weight.grad, theirs.weight.grad)
    assert repr(ours) == repr(theirs)
    return ours, theirs


@pytest.mark.parametrize("options", [
    {}, {"padding_idx": 1}, {"padding_idx": -1}, {"padding_idx": 0, "scale_grad_by_freq": True},
    {"max_norm": 1.0}, {"max_norm": 1.5, "norm_type": 1.0}, {"max_norm": 0.5, "norm_type": 3},
    {"max_norm": 1.0, "padding_idx": 4, "scale_grad_by_freq": True},
])
def test_embedding_options(options, device):
    _lookup_both(device, lambda lib, w: lib.nn.Embedding(5, 3, _weight=w, **options))


@pytest.mark.parametrize("options", [
    {}, {"freeze": False}, {"freeze": False, "padding_idx": 2},
    {"freeze": False, "max_norm": 1.0, "scale_grad_by_freq": True}, {"padding_idx": -2},
])
def test_from_pretrained(options, device):
    ours, _ = _lookup_both(device, lambda lib, w: lib.nn.Embedding.from_pretrained(w, **options))
    assert ours.weight.requires_grad is not options.get("freeze", True)


def test_max_norm_renormalises_in_place_and_bumps_the_version():
    weights = {}
    for lib in LIBS:
        emb = lib.nn.Embedding.from_pretrained(lib.full((4, 2), 3.0), max_norm=1.0)
        view = emb.weight.detach()  # shares the storage: sees the in-place renorm
        emb(lib.tensor([2, 2]))
        weights[lib] = view
    assert_same(weights[gputensor], weights[torch])
    assert weights[gputensor][2].tolist() != [3.0, 3.0]
    emb = gputensor.nn.Embedding.from_pretrained(gputensor.full((4, 2), 3.0), max_norm=1.0)
    before = emb.weight._version_value
    emb(gputensor.tensor([0]))
    assert emb.weight._version_value > before


@pytest.mark.parametrize("padding_idx", [0, 3, -1, -4])
def test_padding_row_starts_at_zero_and_gets_no_gradient(padding_idx, device):
    row = padding_idx % 4
    for lib in LIBS:
        emb = lib.nn.Embedding(4, 3, padding_idx=padding_idx, device=lib_device(lib, device))
        assert emb.padding_idx == row
        assert emb.weight[row].tolist() == [0.0, 0.0, 0.0]
        emb(lib.tensor([row, 1, row], device=lib_device(lib, device))).sum().backward()
        assert emb.weight.grad[row].tolist() == [0.0, 0.0, 0.0]
        assert emb.weight.grad[1].tolist() == [1.0, 1.0, 1.0]


def test_reprs():
    for make in (lambda lib: lib.nn.Embedding(10, 3, padding_idx=0),
                 lambda lib: lib.nn.Embedding(10, 3, padding_idx=-1, max_norm=2.0),
                 lambda lib: lib.nn.Embedding(10, 3, norm_type=1.0, scale_grad_by_freq=True),
                 lambda lib: lib.nn.Embedding(10, 3, sparse=True),
                 lambda lib: lib.nn.Embedding.from_pretrained(lib.ones(2, 5), padding_idx=1)):
        assert repr(make(gputensor)) == repr(make(torch))


def test_sparse_gradients_are_refused_clearly():
    emb = gputensor.nn.Embedding(4, 2, sparse=True)
    with pytest.raises(NotImplementedError, match=r"sparse=True.*use sparse=False"):
        emb(gputensor.tensor([1]))
    with pytest.raises(NotImplementedError, match=r"sparse=True.*use sparse=False"):
        gputensor.nn.functional.embedding(gputensor.tensor([1]), emb.weight, sparse=True)


@pytest.mark.parametrize("case", [
    lambda lib: lib.nn.Embedding(5, 3, padding_idx=5),
    lambda lib: lib.nn.Embedding(5, 3, padding_idx=-6),
    lambda lib: lib.nn.Embedding(5, 3, _weight=lib.ones(5, 2)),
    lambda lib: lib.nn.Embedding.from_pretrained(lib.ones(4)),
    lambda lib: lib.nn.Embedding.from_pretrained(lib.ones(4, 2), padding_idx=4),
    lambda lib: lib.nn.functional.embedding(lib.tensor([1]), lib.ones(4, 3), padding_idx=-5),
    lambda lib: lib.nn.Embedding(4, 3)(lib.tensor([4])),
    lambda lib: lib.nn.Embedding(4, 3, max_norm=1.0)(lib.tensor([0.0])),
])
def test_errors(case, device):
    check_error(case, device=device)
