"""Zero-copy exchange with torch and NumPy: DLPack both ways, the CUDA array interface,
``tensor``/``as_tensor`` across libraries, and which conversions share memory (as torch's)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gputensor
from helpers import assert_same

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]
SHAPES_AND_VIEWS = [
    ((2, 3), lambda t: t),
    ((3, 4), lambda t: t.t()),
    ((4, 6), lambda t: t[1:, ::2]),
    ((), lambda t: t),
    ((0, 3), lambda t: t),
]


def _pair(shape, dtype, make_view):
    """The same data as a gputensor and a torch tensor, through the same view."""
    array = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) % 7
    array = np.asarray(array).astype(dtype)
    return make_view(gputensor.tensor(array)), make_view(torch.tensor(array))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,make_view", SHAPES_AND_VIEWS)
def test_torch_reads_ours_through_dlpack(dtype, shape, make_view):
    ours, theirs = _pair(shape, dtype, make_view)
    shared = torch.from_dlpack(ours)
    assert_same(ours, shared)
    assert shared.dtype == theirs.dtype and shared.shape == theirs.shape
    assert shared.stride() == theirs.stride() == ours.stride()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,make_view", SHAPES_AND_VIEWS)
def test_we_read_torch_through_dlpack(dtype, shape, make_view):
    ours, theirs = _pair(shape, dtype, make_view)
    shared = gputensor.from_dlpack(theirs)
    assert_same(shared, theirs)
    assert shared.stride() == theirs.stride()
    assert shared.device == ours.device


def test_dlpack_shares_memory_both_ways_with_torch():
    ours = gputensor.zeros(2, 3)
    theirs = torch.from_dlpack(ours)
    theirs[0, 1] = 5.0
    ours[1, 2] = 7.0
    assert ours.tolist() == theirs.tolist() == [[0.0, 5.0, 0.0], [0.0, 0.0, 7.0]]
    source = torch.zeros(4)
    back = gputensor.from_dlpack(source)
    back[2] = 3.0
    source[0] = 1.0
    assert back.tolist() == source.tolist() == [1.0, 0.0, 3.0, 0.0]


def test_dlpack_shares_memory_both_ways_with_numpy():
    ours = gputensor.zeros(3)
    array = np.from_dlpack(ours)
    array[0] = 2.0
    assert ours.tolist() == [2.0, 0.0, 0.0]
    source = np.zeros(3, np.float32)
    back = gputensor.from_dlpack(source)
    back[1] = 4.0
    assert source.tolist() == [0.0, 4.0, 0.0]


def test_capsules_round_trip_like_torch_utils_dlpack():
    ours = gputensor.arange(6.0).reshape(2, 3)
    back = gputensor.utils.dlpack.from_dlpack(gputensor.utils.dlpack.to_dlpack(ours))
    back[0, 0] = 9.0
    assert ours[0, 0].item() == 9.0
    theirs = torch.utils.dlpack.from_dlpack(gputensor.utils.dlpack.to_dlpack(ours))
    assert_same(ours, theirs)
    from_torch = gputensor.from_dlpack(torch.utils.dlpack.to_dlpack(torch.arange(3)))
    assert_same(from_torch, torch.arange(3))


def test_dlpack_device_as_torch():
    ours, theirs = gputensor.ones(2).__dlpack_device__(), torch.ones(2).__dlpack_device__()
    assert ours == theirs
    assert [int(v) for v in ours] == [int(v) for v in theirs]


def test_dlpack_device_on_cuda(cuda_device):
    kind, index = gputensor.ones(2, device=cuda_device).__dlpack_device__()
    assert (int(kind), index) == (2, 0)


@pytest.mark.parametrize("lib", [gputensor, torch])
def test_exporting_a_tensor_that_requires_grad_raises_torchs_error(lib):
    x = lib.ones(2, requires_grad=True)
    with pytest.raises(BufferError, match="Can't export tensors that require gradient, use "
                                          r"tensor\.detach\(\)"):
        x.__dlpack__()
    with pytest.raises(BufferError, match="require gradient"):
        torch.from_dlpack(x)
    assert torch.from_dlpack(x.detach()).tolist() == [1.0, 1.0]


def test_cuda_array_interface_on_the_cpu_is_missing_as_torchs():
    for lib in (gputensor, torch):
        assert not hasattr(lib.ones(2), "__cuda_array_interface__")
    with pytest.raises(AttributeError) as ours:
        gputensor.ones(2).__cuda_array_interface__  # noqa: B018
    with pytest.raises(AttributeError) as theirs:
        torch.ones(2).__cuda_array_interface__  # noqa: B018
    assert str(ours.value).replace("gputensor", "torch") == str(theirs.value)


def test_cuda_array_interface_on_cuda(cuda_device):
    t = gputensor.arange(6.0, device=cuda_device).reshape(2, 3)
    info = t.__cuda_array_interface__
    assert info["shape"] == (2, 3) and info["typestr"] == "<f4" and info["version"] == 3
    assert info["strides"] is None
    assert t.t().__cuda_array_interface__["strides"] == (4, 12)
    with pytest.raises(RuntimeError, match="requires grad"):
        t.requires_grad_().__cuda_array_interface__  # noqa: B018


def test_dlpack_on_cuda_shares_device_memory(cuda_device):
    t = gputensor.zeros(2, 3, device=cuda_device)
    shared = gputensor.from_dlpack(t)
    assert shared.device == t.device
    shared[0, 1] = 3.0
    assert t.cpu().tolist() == [[0.0, 3.0, 0.0], [0.0, 0.0, 0.0]]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "uint8", "bool"])
def test_torch_tensor_and_as_tensor_of_ours(dtype):
    ours, theirs = _pair((2, 3), dtype, lambda t: t.t())
    copied, shared = torch.tensor(ours), torch.as_tensor(ours)
    assert_same(ours, copied)
    assert_same(ours, shared)
    assert copied.dtype == shared.dtype == theirs.dtype
    ours[0, 0] = 1
    assert shared[0, 0].item() == 1 and copied[0, 0].item() == 0  # as_tensor shares; tensor copies


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "uint8", "bool"])
def test_our_tensor_and_as_tensor_of_torchs(dtype):
    ours, theirs = _pair((3, 2), dtype, lambda t: t)
    copied, shared = gputensor.tensor(theirs), gputensor.as_tensor(theirs)
    assert_same(copied, theirs)
    assert_same(shared, theirs)
    theirs[0, 0] = 1
    assert shared[0, 0].item() == 1 and copied[0, 0].item() == 0
    assert_same(gputensor.tensor(theirs, dtype=gputensor.float64), theirs.double())


def test_tensor_of_a_torch_tensor_that_requires_grad_copies_its_values():
    theirs = torch.ones(2, requires_grad=True)
    ours = gputensor.tensor(theirs, requires_grad=True)
    assert ours.requires_grad and ours.is_leaf
    assert_same(ours, theirs.detach().clone().requires_grad_())


def test_from_numpy_and_numpy_share_memory_as_torchs():
    for lib in (gputensor, torch):
        array = np.zeros(3, np.float32)
        t = lib.from_numpy(array)
        t[0] = 1.0
        array[1] = 2.0
        assert t.tolist() == [1.0, 2.0, 0.0]
        back = t.numpy()
        back[2] = 3.0
        assert t.tolist() == array.tolist() == [1.0, 2.0, 3.0]
        assert lib.tensor(array).tolist() == [1.0, 2.0, 3.0]
        copied = lib.tensor(array)
        array[0] = 5.0
        assert copied[0].item() == 1.0  # tensor() copies


def test_numpy_array_copies_and_asarray_shares_or_raises_as_torch():
    for lib in (gputensor, torch):
        t = lib.zeros(2)
        copied, shared = np.array(t), np.asarray(t)
        t[0] = 1.0
        assert copied.tolist() == [0.0, 0.0] and shared.tolist() == [1.0, 0.0]
        with pytest.raises(RuntimeError, match="Can't call numpy\\(\\) on Tensor that requires "
                                               "grad"):
            np.asarray(lib.zeros(2, requires_grad=True))


def test_bad_input_to_from_dlpack():
    with pytest.raises(TypeError, match="from_dlpack"):
        gputensor.from_dlpack([1, 2])


def test_negative_strides_are_exported_as_a_copy():
    reversed_view = gputensor.from_numpy(np.arange(5.0)[::-1])
    assert reversed_view.stride() == (-1,)
    assert torch.from_dlpack(reversed_view).tolist() == [4.0, 3.0, 2.0, 1.0, 0.0]
    with pytest.raises(BufferError, match="negative strides"):
        reversed_view.__dlpack__(copy=False)
