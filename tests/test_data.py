"""gputensor.utils.data against torch.utils.data: datasets, samplers, collate, DataLoader."""

import collections
import warnings

import numpy as np
import pytest
import torch

import gputensor
from helpers import check_error, dtype_name, rand_array

RNG = np.random.default_rng(11)
Point = collections.namedtuple("Point", ["x", "y"])


def assert_batch_same(ours, theirs):
    """Collated output equal to torch's: container types, tensor values/dtypes/shapes, rest."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, gputensor.Tensor), type(ours)
        assert tuple(ours.shape) == tuple(theirs.shape)
        assert dtype_name(ours) == dtype_name(theirs)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        return
    assert type(ours) is type(theirs), (type(ours), type(theirs))
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs)
        for key in theirs:
            assert_batch_same(ours[key], theirs[key])
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_batch_same(a, b)
    else:
        assert ours == theirs


def both(make):
    """``make(lib)`` for gputensor and for torch."""
    return make(gputensor), make(torch)


class ListDataset:
    """A plain map-style dataset over a list (no base class, as torch allows)."""

    def __init__(self, items):
        self.items = items

    def __getitem__(self, i):
        return self.items[i]

    def __len__(self):
        return len(self.items)


def _samples(lib, kind, n=7):
    x = rand_array((n, 3), "float32", rng=np.random.default_rng(3))
    k = np.random.default_rng(4).integers(0, 9, size=n)
    if kind == "tensor":
        return [lib.tensor(row) for row in x]
    if kind == "tuple":
        return [(lib.tensor(x[i]), int(k[i]), float(x[i, 0]), f"s{i}") for i in range(n)]
    if kind == "dict":
        return [{"x": lib.tensor(x[i]), "label": int(k[i]), "flag": bool(k[i] % 2),
                 "nested": {"w": [float(x[i, 1]), int(k[i])]}} for i in range(n)]
    if kind == "numpy":
        return [(x[i], np.float64(x[i, 0]), np.int32(k[i]), np.bool_(k[i] > 3),
                 x[i].astype(np.float16)) for i in range(n)]
    if kind == "namedtuple":
        return [Point(lib.tensor(x[i]), int(k[i])) for i in range(n)]
    if kind == "lists":
        return [[int(k[i]), float(x[i, 2])] for i in range(n)]
    if kind == "numbers":
        return [int(v) for v in k]
    if kind == "floats":
        return [float(v) for v in x[:, 0]]
    if kind == "mixed numbers":
        return [1, 2.5, 3, 4.25, 5, 6, 7][:n]
    if kind == "bools":
        return [bool(v % 2) for v in k]
    if kind == "strings":
        return [f"item{i}" for i in range(n)]
    if kind == "numpy scalars":
        return [np.float32(v) for v in x[:, 0]]
    if kind == "0-d tensors":
        return [lib.tensor(int(v)) for v in k]
    raise ValueError(kind)


KINDS = ["tensor", "tuple", "dict", "numpy", "namedtuple", "lists", "numbers", "floats",
         "mixed numbers", "bools", "strings", "numpy scalars", "0-d tensors"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (3, False), (3, True), (7, True),
                                                  (10, False), (10, True), (None, False)])
def test_dataloader_batches_match_torch(kind, batch_size, drop_last):
    ours, theirs = both(lambda lib: lib.utils.data.DataLoader(
        ListDataset(_samples(lib, kind)), batch_size=batch_size, drop_last=drop_last))
    assert len(ours) == len(theirs)
    our_batches, their_batches = list(ours), list(theirs)
    assert len(our_batches) == len(their_batches) == len(theirs)
    for a, b in zip(our_batches, their_batches):
        assert_batch_same(a, b)


@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (4, False), (4, True), (16, True)])
def test_tensor_dataset_loader_matches_torch(batch_size, drop_last):
    x = rand_array((10, 2, 3), "float64", rng=RNG)
    y = rand_array((10,), "int64", rng=RNG)
    ours, theirs = both(lambda lib: lib.utils.data.DataLoader(
        lib.utils.data.TensorDataset(lib.tensor(x), lib.tensor(y)), batch_size, False,
        drop_last=drop_last))
    assert len(ours) == len(theirs)
    for (xa, ya), (xb, yb) in zip(ours, theirs, strict=True):
        assert_batch_same([xa, ya], [xb, yb])


@pytest.mark.parametrize("kind", KINDS)
def test_default_collate_matches_torch(kind):
    ours = gputensor.utils.data.default_collate(_samples(gputensor, kind, n=4))
    theirs = torch.utils.data.default_collate(_samples(torch, kind, n=4))
    assert_batch_same(ours, theirs)


@pytest.mark.parametrize("kind", ["tensor", "tuple", "dict", "numpy", "namedtuple", "strings"])
def test_default_convert_matches_torch(kind):
    for a, b in zip(_samples(gputensor, kind), _samples(torch, kind)):
        assert_batch_same(gputensor.utils.data.default_convert(a),
                          torch.utils.data.default_convert(b))


@pytest.mark.parametrize("batch", [[[1, 2], [3]], [object(), object()],
                                   [np.array(["a"]), np.array(["b"])]], ids=range(3))
def test_collate_errors_match_torch(batch):
    check_error(lambda lib: lib.utils.data.default_collate(batch))


def test_shuffle_visits_every_index_once_per_epoch_and_is_reproducible():
    data = ListDataset(list(range(23)))

    def epochs(generator, n=3):
        loader = gputensor.utils.data.DataLoader(data, batch_size=5, shuffle=True,
                                                 generator=generator)
        return [[i for batch in loader for i in batch.tolist()] for _ in range(n)]

    first = epochs(gputensor.Generator().manual_seed(1234))
    for order in first:
        assert sorted(order) == list(range(23))
    assert first[0] != first[1] and first[0] != list(range(23))
    assert epochs(gputensor.Generator().manual_seed(1234)) == first
    assert epochs(gputensor.Generator().manual_seed(99)) != first
    assert epochs(gputensor.manual_seed(5)) == epochs(gputensor.manual_seed(5))
    gputensor.manual_seed(8)
    global_order = epochs(None)
    gputensor.manual_seed(8)
    assert epochs(None) == global_order


def test_shuffle_with_drop_last_and_len():
    loader = gputensor.utils.data.DataLoader(ListDataset(list(range(10))), batch_size=4,
                                             shuffle=True, drop_last=True,
                                             generator=gputensor.Generator().manual_seed(0))
    batches = [b.tolist() for b in loader]
    assert len(loader) == 2 == len(batches) and all(len(b) == 4 for b in batches)
    assert len(set(sum(batches, []))) == 8


def test_samplers_match_torch():
    for n, size, drop in [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False),
                          (0, 2, False)]:
        ours, theirs = both(lambda lib, n=n, size=size, drop=drop: lib.utils.data.BatchSampler(
            lib.utils.data.SequentialSampler(range(n)), size, drop))
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
    sampler = gputensor.utils.data.RandomSampler(range(5), replacement=True, num_samples=12,
                                                 generator=gputensor.Generator().manual_seed(0))
    drawn = list(sampler)
    assert len(drawn) == len(sampler) == 12 and set(drawn) <= set(range(5))
    sampler = gputensor.utils.data.RandomSampler(range(5), num_samples=12)
    drawn = list(sampler)
    assert len(drawn) == 12 and sorted(drawn[:10]) == sorted(list(range(5)) * 2)
    subset = gputensor.utils.data.SubsetRandomSampler([3, 5, 9])
    assert sorted(subset) == [3, 5, 9] and len(subset) == 3
    weighted = gputensor.utils.data.WeightedRandomSampler([0.0, 1.0, 0.0, 2.0], 20)
    assert set(weighted) <= {1, 3} and len(list(weighted)) == 20


@pytest.mark.parametrize("make", [
    lambda lib: lib.utils.data.BatchSampler(range(3), 0, False),
    lambda lib: lib.utils.data.BatchSampler(range(3), 2, 1),
    lambda lib: lib.utils.data.RandomSampler(range(3), replacement=1),
    lambda lib: lib.utils.data.RandomSampler([], num_samples=None),
    lambda lib: lib.utils.data.WeightedRandomSampler([[1.0]], 2),
    lambda lib: lib.utils.data.DataLoader(range(3), shuffle=True, sampler=range(3)),
    lambda lib: lib.utils.data.DataLoader(range(3), batch_size=2, batch_sampler=[[0]]),
    lambda lib: lib.utils.data.DataLoader(range(3), batch_size=None, drop_last=True),
    lambda lib: lib.utils.data.DataLoader(range(3), num_workers=-1),
    lambda lib: lib.utils.data.DataLoader(range(3), prefetch_factor=2),
    lambda lib: lib.utils.data.DataLoader(range(3), batch_size=0),
    lambda lib: setattr(lib.utils.data.DataLoader(range(3)), "batch_size", 4),
    lambda lib: lib.utils.data.TensorDataset(lib.ones(3), lib.ones(4)),
    lambda lib: lib.utils.data.ConcatDataset([]),
    lambda lib: lib.utils.data.random_split(range(10), [3, 4]),
    lambda lib: lib.utils.data.random_split(range(10), [1.5, -0.5]),
    lambda lib: lib.utils.data.Dataset()[0],
], ids=range(17))
def test_errors_match_torch(make):
    check_error(make)


def test_batch_sampler_and_custom_sampler_in_dataloader():
    data = ListDataset([float(i) for i in range(8)])
    ours, theirs = both(lambda lib: lib.utils.data.DataLoader(
        data, batch_sampler=[[0, 5], [7], [1, 2, 3]]))
    for a, b in zip(ours, theirs, strict=True):
        assert_batch_same(a, b)
    ours, theirs = both(lambda lib: lib.utils.data.DataLoader(
        data, batch_size=3, sampler=[7, 6, 5, 4, 0]))
    assert len(ours) == len(theirs) == 2
    for a, b in zip(ours, theirs, strict=True):
        assert_batch_same(a, b)


def test_iterable_dataset_matches_torch():
    def make(lib, drop_last):
        class Stream(lib.utils.data.IterableDataset):
            def __iter__(self):
                return iter(range(11))

            def __len__(self):
                return 11
        return lib.utils.data.DataLoader(Stream(), batch_size=4, drop_last=drop_last)

    for drop_last in (False, True):
        ours, theirs = make(gputensor, drop_last), make(torch, drop_last)
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            assert_batch_same(a, b)
    check_error(lambda lib: lib.utils.data.DataLoader(make(lib, False).dataset, shuffle=True))


def test_datasets_match_torch():
    a, b = np.arange(5), np.arange(10, 13)

    class Numbers(gputensor.utils.data.Dataset):
        def __init__(self, values):
            self.values = values

        def __getitem__(self, i):
            return int(self.values[i])

        def __len__(self):
            return len(self.values)

    joined = Numbers(a) + Numbers(b)
    assert isinstance(joined, gputensor.utils.data.ConcatDataset)
    assert len(joined) == 8 and [joined[i] for i in range(-8, 8)] == list(a) + list(b) + list(
        a) + list(b)
    assert joined.cumulative_sizes == [5, 8]
    subset = gputensor.utils.data.Subset(joined, [7, 0, 3])
    assert len(subset) == 3 and [subset[i] for i in range(3)] == [12, 0, 3]
    assert subset.__getitems__([0, 2]) == [12, 3]
    x = rand_array((4, 2), "float32", rng=RNG)
    y = rand_array((4,), "int64", rng=RNG)
    ours = gputensor.utils.data.TensorDataset(gputensor.tensor(x), gputensor.tensor(y))
    theirs = torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y))
    assert len(ours) == len(theirs) == 4
    for i in range(4):
        assert_batch_same(list(ours[i]), list(theirs[i]))
    stacked = gputensor.utils.data.StackDataset(a=Numbers(a), b=Numbers(a * 2))
    assert stacked[2] == {"a": 2, "b": 4} and len(stacked) == 5


@pytest.mark.parametrize("n,lengths", [(10, [3, 7]), (10, [0.3, 0.7]), (11, [0.5, 0.5]),
                                       (7, [0.1, 0.2, 0.7]), (5, [5, 0]), (100, [0.25] * 4)])
def test_random_split_lengths_and_disjointness(n, lengths):
    ours = gputensor.utils.data.random_split(range(n), lengths,
                                             generator=gputensor.Generator().manual_seed(0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.utils.data.random_split(range(n), lengths,
                                               generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    seen = [i for s in ours for i in s.indices]
    assert sorted(seen) == list(range(n))
    assert [[s[i] for i in range(len(s))] for s in ours] == [s.indices for s in ours]
    again = gputensor.utils.data.random_split(range(n), lengths,
                                              generator=gputensor.Generator().manual_seed(0))
    assert [s.indices for s in again] == [s.indices for s in ours]


def test_random_split_warns_on_empty_split_like_torch():
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        torch.utils.data.random_split(range(2), [0.9, 0.1])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        gputensor.utils.data.random_split(range(2), [0.9, 0.1])


def test_generator():
    g = gputensor.Generator()
    assert g.initial_seed() == torch.Generator().initial_seed()
    assert g.device == gputensor.device("cpu")
    assert g.manual_seed(-1) is g
    assert g.initial_seed() == torch.Generator().manual_seed(-1).initial_seed()
    state = g.get_state()
    assert state.dtype is gputensor.uint8
    first = gputensor.rand(4, generator=g).tolist()
    assert gputensor.rand(4, generator=g).tolist() != first
    g.set_state(state)
    assert gputensor.rand(4, generator=g).tolist() == first
    assert gputensor.randperm(6, generator=gputensor.Generator().manual_seed(3)).tolist() == (
        gputensor.randperm(6, generator=gputensor.Generator().manual_seed(3)).tolist())
    assert g.clone_state().initial_seed() == g.initial_seed()
    s = g.seed()
    assert g.initial_seed() == s
    for bad in (2 ** 64, -2 ** 63 - 1, 1.5):
        check_error(lambda lib, bad=bad: lib.Generator().manual_seed(bad))
