"""nn.utils.rnn against torch: pad_sequence, pack_padded_sequence, pad_packed_sequence,
pack_sequence, unpack/unpad, PackedSequence, and the recurrent layers on packed input."""

from __future__ import annotations

import warnings

import pytest
import torch

import gputensor
from helpers import assert_on, assert_same, check_error, check_op, copy_weights, made_on, rand_array

SEQS = [rand_array((3, 2)), rand_array((1, 2)), rand_array((4, 2))]
PADDED = rand_array((4, 3, 2))
PADDED_BATCH_FIRST = rand_array((3, 4, 2))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence(batch_first, padding_side, device):
    check_op(lambda lib, *seqs: lib.nn.utils.rnn.pad_sequence(
        seqs, batch_first=batch_first, padding_value=-2.5, padding_side=padding_side),
        *SEQS, device=device)


def test_pad_sequence_of_vectors_and_ints(device):
    check_op(lambda lib, a, b: lib.nn.utils.rnn.pad_sequence([a, b]),
             rand_array((3,)), rand_array((5,)), device=device)
    check_op(lambda lib, a, b: lib.nn.utils.rnn.pad_sequence((a, b), True, 7),
             rand_array((2, 2), "int64"), rand_array((1, 2), "int64"), device=device)


@pytest.mark.parametrize("lengths", [[4, 2, 1], [4, 4, 4], (3, 3, 1)])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_padded_sequence(lengths, batch_first, device):
    def pack(lib, x):
        return lib.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=batch_first)
    padded = PADDED_BATCH_FIRST if batch_first else PADDED
    check_op(lambda lib, x: pack(lib, x).data, padded, device=device)
    ours = pack(gputensor, gputensor.tensor(padded, device=device))
    theirs = pack(torch, torch.tensor(padded))
    assert_same(ours.batch_sizes, theirs.batch_sizes)
    assert ours.batch_sizes.device.type == "cpu"
    assert ours.sorted_indices is None and ours.unsorted_indices is None


@pytest.mark.parametrize("lengths", [[2, 4, 1], [1, 3, 3], [2, 2, 4]])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_unsorted_and_pad_back(lengths, batch_first, device):
    def round_trip(lib, x):
        packed = lib.nn.utils.rnn.pack_padded_sequence(
            x, lib.tensor(lengths, device="cpu"), batch_first=batch_first, enforce_sorted=False)
        padded, found = lib.nn.utils.rnn.pad_packed_sequence(
            packed, batch_first=batch_first, padding_value=-1.0, total_length=5)
        return packed, padded, found
    padded = PADDED_BATCH_FIRST if batch_first else PADDED
    check_op(lambda lib, x: round_trip(lib, x)[0].data, padded, device=device)
    check_op(lambda lib, x: round_trip(lib, x)[1], padded, device=device)
    with made_on(gputensor, device):
        ours = round_trip(gputensor, gputensor.tensor(padded))
    theirs = round_trip(torch, torch.tensor(padded))
    for o, t in ((ours[0].sorted_indices, theirs[0].sorted_indices),
                 (ours[0].unsorted_indices, theirs[0].unsorted_indices)):
        assert_on(o, device)
        assert_same(o, t)
    assert_same(ours[2], theirs[2])
    assert ours[2].device.type == "cpu"


@pytest.mark.parametrize("enforce_sorted", [False, True])
def test_pack_sequence_and_unpack(enforce_sorted, device):
    seqs = SEQS if not enforce_sorted else [SEQS[2], SEQS[0], SEQS[1]]

    def pack(lib, *tensors):
        return lib.nn.utils.rnn.pack_sequence(tensors, enforce_sorted=enforce_sorted)
    check_op(lambda lib, *tensors: pack(lib, *tensors).data, *seqs, device=device)
    check_op(lambda lib, *tensors: tuple(lib.nn.utils.rnn.unpack_sequence(
        pack(lib, *tensors))), *seqs, device=device)


def test_unpad_sequence(device):
    # torch transposes a time-major batch in place: the input given is a copy
    check_op(lambda lib, x: tuple(lib.nn.utils.rnn.unpad_sequence(
        x * 1, lib.tensor([4, 1, 3], device="cpu"))), PADDED, device=device)
    check_op(lambda lib, x: tuple(lib.nn.utils.rnn.unpad_sequence(
        x, lib.tensor([2, 1], device="cpu"), True)), rand_array((2, 3, 2)), device=device)


def test_packed_sequence_repr_and_fields():
    texts = []
    for lib in (gputensor, torch):
        packed = lib.nn.utils.rnn.pack_sequence([lib.tensor(s) for s in SEQS],
                                                enforce_sorted=False)
        assert packed._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")
        assert not packed.is_cuda
        texts.append(repr(packed).replace("gputensor", "torch"))
    assert texts[0] == texts[1]


def test_packed_sequence_moves(cuda_device):
    packed = gputensor.nn.utils.rnn.pack_sequence([gputensor.tensor(s) for s in SEQS],
                                                  enforce_sorted=False)
    moved = packed.to(cuda_device)
    assert moved.is_cuda and moved.sorted_indices.is_cuda and moved.unsorted_indices.is_cuda
    assert moved.batch_sizes.device.type == "cpu"
    back = moved.cpu()
    assert not back.is_cuda and back.data.tolist() == packed.data.tolist()
    assert packed.to(gputensor.float32) is packed
    assert packed.to(gputensor.float64).data.dtype == gputensor.float64


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.utils.rnn.pad_sequence([lib.ones(2)], padding_side="middle"),
    lambda lib: lib.nn.utils.rnn.pad_sequence([]),
    lambda lib: lib.nn.utils.rnn.pad_sequence([lib.ones(3, 2), lib.ones(2, 3)]),
    lambda lib: lib.nn.utils.rnn.pad_sequence(5),
    lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.ones(4, 3, 2), [2, 3, 1]),
    lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.ones(4, 3, 2), [3, 0, 0]),
    lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.ones(4, 3, 2), [3, 2]),
    lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.ones(4, 3, 2),
                                                      lib.tensor([[3, 2, 1]], device="cpu")),
    lambda lib: lib.nn.utils.rnn.pad_sequence([lib.ones(3, 2), lib.ones(2, 1, 3)]),
    lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.ones(4, 0, 2), []),
    lambda lib: lib.nn.utils.rnn.pad_packed_sequence(
        lib.nn.utils.rnn.pack_sequence([lib.ones(3), lib.ones(1)]), total_length=2),
    lambda lib: lib.nn.utils.rnn.pack_sequence([lib.ones(1), lib.ones(3)]),
])
def test_errors(call, device):
    check_error(call, device=device)


@pytest.mark.parametrize("make", [
    lambda lib: lib.nn.RNN(2, 3),
    lambda lib: lib.nn.GRU(2, 3, num_layers=2, bidirectional=True),
    lambda lib: lib.nn.LSTM(2, 3, bidirectional=True),
    lambda lib: lib.nn.LSTM(2, 3, num_layers=2, proj_size=2),
])
@pytest.mark.parametrize("enforce_sorted, lengths, with_state", [
    (True, [4, 2, 1], False), (False, [2, 4, 1], True), (False, [1, 3, 3], False),
])
def test_layers_on_packed_input(make, enforce_sorted, lengths, with_state, device):
    theirs, ours = make(torch), make(gputensor)
    copy_weights(ours, theirs)
    ours.to(device)
    is_lstm = isinstance(theirs, torch.nn.LSTM)
    size = theirs.proj_size or theirs.hidden_size
    layers = theirs.num_layers * (2 if theirs.bidirectional else 1)
    arrays = [PADDED]
    if with_state:
        arrays += [rand_array((layers, 3, size))]
        if is_lstm:
            arrays += [rand_array((layers, 3, theirs.hidden_size))]
    results, leaves = {}, {}
    for lib, module in ((torch, theirs), (gputensor, ours)):
        dev = device if lib is gputensor else "cpu"
        leaves[lib] = [lib.tensor(a, device=dev, requires_grad=True) for a in arrays]
        x, *states = leaves[lib]
        with made_on(lib, device):
            packed = lib.nn.utils.rnn.pack_padded_sequence(x, lengths,
                                                           enforce_sorted=enforce_sorted)
        hx = None if not states else (tuple(states) if is_lstm else states[0])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch: "LSTM with projections is not ..."
            output, hidden = module(packed, hx)
        assert isinstance(output, lib.nn.utils.rnn.PackedSequence)
        results[lib] = [output.data, *(hidden if is_lstm else (hidden,))]
    assert_on(results[gputensor], device)
    assert_same(results[gputensor], results[torch], 1e-5, 1e-6)
    seeds = [rand_array(tuple(t.shape)) for t in results[torch]]
    torch.autograd.backward(results[torch], [torch.tensor(s) for s in seeds])
    gputensor.autograd.backward(results[gputensor],
                                [gputensor.tensor(s, device=device) for s in seeds])
    for o, t in zip(leaves[gputensor], leaves[torch]):
        assert_same(o.grad, t.grad, 1e-4, 1e-5)
    named_t = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_same(p.grad, named_t[name].grad, 1e-4, 1e-5)
