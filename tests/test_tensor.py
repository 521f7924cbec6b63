"""Creation, dtypes, attributes and conversion, compared with torch."""

import subprocess
import sys

import numpy as np
import pytest
import torch

import gputensor
from helpers import assert_same, check_error

DATA = [
    [3, 7, 1],
    [[2, 5], [3, 9]],
    [1.5, 2, 3],
    [[True, False]],
    3,
    2.5,
    True,
    [],
    [[1, 2.0], [3, 4]],
    np.arange(6, dtype=np.int32).reshape(2, 3),
    np.linspace(0, 1, 4),
    np.array([1, 2], dtype=np.uint8),
    np.array([0.5], dtype=np.float16),
]


@pytest.mark.parametrize("data", DATA, ids=range(len(DATA)))
def test_tensor_from_data_matches_torch(data):
    ours, theirs = gputensor.tensor(data), torch.tensor(data)
    assert_same(ours, theirs)
    assert repr(ours).replace("gputensor.", "torch.") == repr(theirs)


@pytest.mark.parametrize("name", ["float16", "float32", "float64", "int8", "int16", "int32",
                                  "int64", "uint8", "bool"])
def test_tensor_with_dtype(name):
    data = [[0, 1], [2, 3]]
    ours = gputensor.tensor(data, dtype=getattr(gputensor, name))
    assert_same(ours, torch.tensor(data, dtype=getattr(torch, name)))
    assert ours.dtype.is_floating_point == getattr(torch, name).is_floating_point
    assert ours.dtype.itemsize == getattr(torch, name).itemsize


def test_ragged_data_raises_like_torch():
    check_error(lambda lib: lib.tensor([[1, 2], [3]]))


@pytest.mark.parametrize("make", [
    lambda lib: lib.zeros(2, 3),
    lambda lib: lib.zeros((2, 3), dtype=lib.int32),
    lambda lib: lib.ones([4]),
    lambda lib: lib.ones(2, 1, 3, dtype=lib.float64),
    lambda lib: lib.full((2, 2), 7),
    lambda lib: lib.full((2,), 1.5),
    lambda lib: lib.full((3,), True),
    lambda lib: lib.arange(5),
    lambda lib: lib.arange(1, 4),
    lambda lib: lib.arange(0, 1, 0.25),
    lambda lib: lib.arange(5.0),
    lambda lib: lib.arange(10, 0, -3),
    lambda lib: lib.linspace(0, 1, 5),
    lambda lib: lib.linspace(-2, 2, 1),
    lambda lib: lib.eye(3),
    lambda lib: lib.eye(2, 4, dtype=lib.int64),
    lambda lib: lib.empty(2, 0).shape,
    lambda lib: lib.zeros_like(lib.ones(2, dtype=lib.int16)),
    lambda lib: lib.ones_like(lib.zeros(2, 2), dtype=lib.float64),
    lambda lib: lib.full_like(lib.zeros(3), 4),
    lambda lib: lib.empty_like(lib.zeros(3, 1)).shape,
    lambda lib: lib.ones(2, dtype=lib.float64).new_zeros(2, 3),
    lambda lib: lib.ones(2, dtype=lib.int16).new_ones((2,)),
    lambda lib: lib.ones(2, dtype=lib.float64).new_full((2,), 3),
    lambda lib: lib.ones(2, dtype=lib.float64).new_tensor([1, 2]),
    lambda lib: lib.ones(2).new_zeros(2, dtype=lib.int64),
    lambda lib: lib.ones(2).new_ones(3, requires_grad=True),
    lambda lib: lib.ones(2).new_empty(2, 0).shape,
])
def test_creation_functions(make):
    ours, theirs = make(gputensor), make(torch)
    if isinstance(theirs, torch.Size):
        assert tuple(ours) == tuple(theirs)
    else:
        assert_same(ours, theirs)


def test_random_functions_shapes_dtypes_and_seeding():
    gputensor.manual_seed(7)
    a = gputensor.rand(3, 4)
    b, c = gputensor.randn((2, 2)), gputensor.randint(0, 5, (100,))
    gputensor.manual_seed(7)
    assert np.array_equal(a.numpy(), gputensor.rand(3, 4).numpy())
    assert np.array_equal(b.numpy(), gputensor.randn(2, 2).numpy())
    assert np.array_equal(c.numpy(), gputensor.randint(0, 5, (100,)).numpy())
    assert a.dtype is gputensor.float32 and c.dtype is gputensor.int64
    assert 0 <= a.min().item() and a.max().item() < 1
    assert set(c.tolist()) <= set(range(5))
    assert gputensor.randint(3, (2,)).shape == (2,)
    like = gputensor.randn_like(gputensor.zeros(2, 3, dtype=gputensor.float64))
    assert like.shape == (2, 3) and like.dtype is gputensor.float64
    assert gputensor.rand_like(a).shape == a.shape
    assert sorted(gputensor.randperm(6).tolist()) == list(range(6))


def test_from_numpy_shares_memory_and_numpy_roundtrip():
    arr = np.arange(4, dtype=np.float64)
    t = gputensor.from_numpy(arr)
    arr[0] = 10
    assert t[0].item() == 10 and t.dtype is gputensor.float64
    t.numpy()[1] = 20
    assert arr[1] == 20
    check_error(lambda lib: lib.ones(2, requires_grad=True).numpy())
    assert np.array_equal(np.asarray(gputensor.tensor([1, 2])), np.array([1, 2]))


def test_default_dtype():
    assert gputensor.get_default_dtype() is gputensor.float32
    gputensor.set_default_dtype(gputensor.float64)
    try:
        assert gputensor.tensor([1.5]).dtype is gputensor.float64
        assert (gputensor.tensor([1]) / 2).dtype is gputensor.float64
    finally:
        gputensor.set_default_dtype(gputensor.float32)
    assert gputensor.tensor([1.5]).dtype is gputensor.float32
    with pytest.raises(TypeError):
        gputensor.set_default_dtype(gputensor.int64)


@pytest.mark.parametrize("method", ["float", "double", "half", "long", "int", "bool", "short"])
def test_dtype_conversion_methods(method):
    def run(lib):
        x = lib.tensor([[0.0, 1.5], [-2.0, 3.0]], requires_grad=True)
        y = getattr(x, method)()
        if y.requires_grad:
            (y * y).sum().backward()
            return y, x.grad
        return y
    assert_same(run(gputensor), run(torch))


def test_to_dtype_and_same_object():
    x = gputensor.tensor([1, 2])
    assert x.to(gputensor.int64) is x
    assert x.to(gputensor.float32).dtype is gputensor.float32
    assert x.to("cpu") is x
    assert x.to(dtype=gputensor.float64).dtype is gputensor.float64
    assert x.to(gputensor.zeros(1)).dtype is gputensor.float32


def test_attributes_match_torch():
    for lib in (gputensor, torch):
        t = lib.zeros(4, 3)
        assert t.size(1) == 3 and t.size(-2) == 4 and t.dim() == 2 and t.ndim == 2
        assert t.numel() == 12 and t.is_leaf and not t.requires_grad and t.grad is None
        assert t.device == lib.device("cpu") and str(t.device) == "cpu"
        assert t.stride() == (3, 1) and t.is_contiguous()
    assert str(gputensor.zeros(4, 3).shape) == "gputensor.Size([4, 3])"
    assert isinstance(gputensor.zeros(2).shape, tuple)
    check_error(lambda lib: lib.zeros(2, 3).size(2))


def test_data_attribute_shares_storage_without_history():
    for lib in (gputensor, torch):
        x = lib.ones(2, requires_grad=True)
        d = x.data
        assert not d.requires_grad
        d.add_(1)
        assert x.detach().tolist() == [2.0, 2.0]


@pytest.mark.parametrize("case", ["item_many", "float_many", "bool_many", "len_0d", "iter_0d"])
def test_conversion_errors_match_torch(case):
    def run(lib):
        t = lib.ones(3)
        if case == "item_many":
            t.item()
        elif case == "float_many":
            float(t)
        elif case == "bool_many":
            bool(t)
        elif case == "len_0d":
            len(lib.tensor(1))
        else:
            iter(lib.tensor(1))
    check_error(run)


def test_conversions_match_torch():
    for data in ([[1, 2], [3, 4]], [1.5, -2.0], [True, False], 3.25):
        ours, theirs = gputensor.tensor(data), torch.tensor(data)
        assert ours.tolist() == theirs.tolist()
    assert gputensor.tensor([2.5]).item() == 2.5 and int(gputensor.tensor([7])) == 7
    assert float(gputensor.tensor(1.5)) == 1.5 and bool(gputensor.tensor([0])) is False
    rows = list(gputensor.tensor([[1, 2], [3, 4]]))
    assert len(rows) == 2 and rows[1].tolist() == [3, 4]
    assert len(gputensor.zeros(5, 2)) == 5
    assert [1, 2, 3][gputensor.tensor(1)] == 2


def test_overflow_and_nan_compute_silently_as_in_torch():
    # a fresh interpreter: pytest's own warning filters would hide what a user sees
    script = ("import warnings; warnings.simplefilter('error', RuntimeWarning)\n"
              "import gputensor as g\n"
              "a = g.tensor([[1e38, 1e38]])\n"
              "print((a @ a.T).item(), (g.tensor([0.0]) / 0).item(), (a * a).sum().item())\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    t = torch.tensor([[1e38, 1e38]])
    expected = f"{(t @ t.T).item()} {(torch.tensor([0.0]) / 0).item()} {(t * t).sum().item()}"
    assert out.stdout.strip() == expected
