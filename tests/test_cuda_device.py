"""The "cuda" device: availability, transfers with gradients, printing, mixed-device errors.

These run on the simulated device (tests/conftest.py) and, as the ``gpu`` variants of the
``cuda_device`` fixture, on a real GPU with GPUTENSOR_TEST_REAL_GPU=1.
"""

import sys
import types

import numpy as np
import pytest
import torch

import gputensor
from gputensor import backends
from helpers import check_error, rand_array

MIXED = ("Expected all tensors to be on the same device, but found at least two devices, "
         "cuda:0 and cpu!")
NUMPY_ERROR = ("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the "
               "tensor to host memory first.")


# ---- device objects ---------------------------------------------------------------------
@pytest.mark.parametrize("args", [("cuda",), ("cuda:0",), ("cuda:1",), ("cuda", 1),
                                  ("cpu",), ("cuda", 0)])
def test_device_objects_match_torch(args):
    ours, theirs = gputensor.device(*args), torch.device(*args)
    assert repr(ours) == repr(theirs) and str(ours) == str(theirs)
    assert (ours.type, ours.index) == (theirs.type, theirs.index)
    assert ours == str(theirs) and hash(ours) == hash(gputensor.device(str(theirs)))


@pytest.mark.parametrize("spec", ["cuda:x", "cuda:", "cuda:0:1", "cuda:-1"])
def test_bad_device_strings_raise_as_torch(spec):
    check_error(lambda lib: lib.device(spec))


def test_cuda_rejects_a_cpu_device():
    check_error(lambda lib: lib.ones(2).cuda("cpu"))


# ---- availability ------------------------------------------------------------------------
def test_available_when_simulated_or_on_a_gpu(cuda_device):
    cuda = gputensor.cuda
    assert cuda.is_available() and cuda.device_count() >= 1
    assert cuda.current_device() == 0
    assert isinstance(cuda.get_device_name(), str) and cuda.get_device_name(0)
    cuda.synchronize()
    cuda.synchronize("cuda:0")
    cuda.empty_cache()
    cuda.reset_peak_memory_stats()
    assert cuda.max_memory_allocated() >= cuda.memory_allocated() >= 0
    assert cuda.memory_reserved() >= cuda.memory_allocated()


def test_memory_statistics_are_zero_when_simulated():
    if not backends.simulating_cuda():
        pytest.skip("a real GPU run")
    x = gputensor.ones(1000, device="cuda")
    assert gputensor.cuda.memory_allocated() == 0 and gputensor.cuda.max_memory_allocated() == 0
    del x


@pytest.mark.gpu
def test_memory_statistics_follow_tensors_on_a_gpu():
    cuda_device = "cuda"
    cuda = gputensor.cuda
    cuda.synchronize()
    before = cuda.memory_allocated()
    x = gputensor.ones(1 << 20, device=cuda_device)
    assert cuda.memory_allocated() >= before + 4 * (1 << 20)
    assert cuda.max_memory_allocated() >= cuda.memory_allocated()
    del x
    cuda.empty_cache()
    assert cuda.memory_allocated() == before


def test_cuda_functions_check_their_device_argument():
    with pytest.raises(ValueError, match="Expected a cuda device, but got: cpu"):
        gputensor.cuda.memory_allocated("cpu")
    with pytest.raises(RuntimeError, match="CUDA error: invalid device ordinal"):
        gputensor.cuda.synchronize("cuda:7")
    with pytest.raises(RuntimeError, match="CUDA error: invalid device ordinal"):
        gputensor.ones(2).to("cuda:7")


def _check_unavailable_error(err):
    text = str(err)
    assert text.startswith("CUDA is not available: ")
    assert "gputensor[cuda13]" in text and "gputensor[cuda12]" in text


def test_unavailable_without_a_gpu(cuda_unavailable):
    cuda = gputensor.cuda
    assert not cuda.is_available() and cuda.device_count() == 0
    assert cuda.memory_allocated() == 0 and cuda.max_memory_allocated() == 0
    cuda.empty_cache()
    x = gputensor.ones(2, requires_grad=True)
    for attempt in (lambda: gputensor.zeros(2, device="cuda"), lambda: x.cuda(),
                    lambda: x.to("cuda"), cuda.current_device, cuda.synchronize):
        with pytest.raises(RuntimeError) as info:
            attempt()
        _check_unavailable_error(info.value)
    assert x.device.type == "cpu" and x.tolist() == [1.0, 1.0]


def test_the_idiom_falls_back_to_the_cpu(cuda_unavailable):
    device = "cuda" if gputensor.cuda.is_available() else "cpu"
    assert gputensor.ones(2, device=device).device == gputensor.device("cpu")


def test_unavailable_without_cupy(monkeypatch, cuda_unavailable):
    monkeypatch.setitem(sys.modules, "cupy", None)  # import cupy raises ImportError
    backends.forget_cuda()
    assert not gputensor.cuda.is_available()
    with pytest.raises(RuntimeError, match="CuPy is not installed") as info:
        gputensor.ones(2, device="cuda")
    _check_unavailable_error(info.value)


def _fake_cupy(get_device_count):
    runtime = types.SimpleNamespace(getDeviceCount=get_device_count)
    return types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=runtime))


def test_unavailable_with_cupy_but_no_gpu(monkeypatch, cuda_unavailable):
    def no_driver():
        raise OSError("libcuda.so.1: cannot open shared object file")
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(no_driver))
    backends.forget_cuda()
    with pytest.raises(RuntimeError, match="CuPy is installed but cannot use a GPU .*libcuda"):
        gputensor.ones(2, device="cuda")
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(lambda: 0))
    backends.forget_cuda()
    assert gputensor.cuda.device_count() == 0
    with pytest.raises(RuntimeError, match="CuPy found no NVIDIA GPU"):
        gputensor.ones(2).cuda()


def test_module_to_cuda_without_a_gpu_changes_nothing(cuda_unavailable):
    lin = gputensor.nn.Linear(3, 2)
    weight, before = lin.weight, lin.weight.tolist()
    for move in (lin.cuda, lambda: lin.to("cuda")):
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            move()
    assert lin.weight is weight and weight.device.type == "cpu" and weight.tolist() == before


# ---- transfers ---------------------------------------------------------------------------
def test_transfers_both_ways_carry_gradients(cuda_device):
    data, seed = rand_array((3, 4)), rand_array((3, 4))
    results = {}
    for lib, dev in ((torch, "cpu"), (gputensor, cuda_device)):
        x = lib.tensor(data, requires_grad=True)
        on_device = x.to(dev) if lib is torch else x.cuda()
        y = (on_device * 2).tanh()
        back = y.cpu()
        (back * lib.tensor(seed)).sum().backward()
        results[lib] = (x, on_device, back)
    (x, on_device, back), (tx, _, tback) = results[gputensor], results[torch]
    assert on_device.device == gputensor.device("cuda:0") and back.device.type == "cpu"
    assert on_device.grad_fn.name() == tx.to(torch.float64).grad_fn.name() == "ToCopyBackward0"
    assert back.grad_fn.name() == "ToCopyBackward0" and not on_device.is_leaf
    assert x.grad.device.type == "cpu"
    np.testing.assert_allclose(back.detach().numpy(), tback.detach().numpy(), 1e-5, 1e-6)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), 1e-5, 1e-6)


def test_leaves_on_the_device_get_gradients_there(cuda_device):
    x = gputensor.randn(2, 3, device=cuda_device, requires_grad=True)
    (x * x).sum().backward()
    assert x.is_leaf and x.grad.device == gputensor.device("cuda:0")
    np.testing.assert_allclose(x.grad.cpu().numpy(), 2 * x.detach().cpu().numpy(), rtol=1e-6)


def test_to_returns_self_when_nothing_changes(cuda_device):
    x = gputensor.ones(2, device=cuda_device)
    assert x.cuda() is x and x.to("cuda") is x and x.to("cuda:0") is x and x.cuda(0) is x
    assert x.to(gputensor.device("cuda", 0)) is x and x.to(x) is x
    assert x.to("cuda", copy=True) is not x
    cpu = gputensor.ones(2)
    assert cpu.cpu() is cpu and cpu.to("cpu") is cpu


def test_to_with_device_and_dtype(cuda_device):
    x = gputensor.tensor([1.5, -2.0], requires_grad=True)
    for y in (x.to("cuda", gputensor.float64), x.to(device="cuda", dtype=gputensor.float64),
              x.to(gputensor.zeros(1, dtype=gputensor.float64, device=cuda_device))):
        assert y.device.type == "cuda" and y.dtype is gputensor.float64
        assert y.tolist() == [1.5, -2.0]
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0] and x.grad.dtype is gputensor.float32


def test_copies_do_not_share_memory(cuda_device):
    x = gputensor.zeros(3)
    y = x.cuda()
    x.add_(1)
    assert y.tolist() == [0.0, 0.0, 0.0]
    y.add_(2)
    z = y.cpu()
    y.add_(1)
    assert z.tolist() == [2.0, 2.0, 2.0] and x.tolist() == [1.0, 1.0, 1.0]
    a = np.zeros(2, np.float32)
    t = gputensor.tensor(a, device=cuda_device)
    a += 5
    assert t.tolist() == [0.0, 0.0]


def test_creation_on_the_device(cuda_device):
    gputensor.manual_seed(3)
    on_gpu = [gputensor.zeros(2, 3, device=cuda_device), gputensor.ones(4, device=cuda_device),
              gputensor.arange(5, device=cuda_device), gputensor.eye(3, device=cuda_device),
              gputensor.full((2,), 7.0, device=cuda_device),
              gputensor.tensor([[1, 2], [3, 4]], device=cuda_device),
              gputensor.randn(3, device=cuda_device)]
    gputensor.manual_seed(3)
    on_cpu = [gputensor.zeros(2, 3), gputensor.ones(4), gputensor.arange(5), gputensor.eye(3),
              gputensor.full((2,), 7.0), gputensor.tensor([[1, 2], [3, 4]]), gputensor.randn(3)]
    for g, c in zip(on_gpu, on_cpu):
        assert g.device == gputensor.device("cuda:0") and g.is_cuda and not c.is_cuda
        assert g.dtype is c.dtype and g.tolist() == c.tolist()
    like = gputensor.zeros_like(on_gpu[1])
    assert like.device.type == "cuda" and gputensor.tensor(on_gpu[1]).device.type == "cuda"


def test_default_device(cuda_device):
    assert repr(gputensor.get_default_device()) == repr(torch.get_default_device())
    gputensor.set_default_device("cuda")
    try:
        assert gputensor.get_default_device() == gputensor.device("cuda:0")
        assert gputensor.ones(2).device.type == "cuda"
        assert gputensor.nn.Linear(2, 2).weight.device.type == "cuda"
    finally:
        gputensor.set_default_device(None)
    assert gputensor.ones(2).device.type == "cpu"
    assert gputensor.get_default_device() == gputensor.device("cpu")


def test_host_conversions(cuda_device):
    x = gputensor.tensor([[1.5, 2.0]], device=cuda_device)
    with pytest.raises(TypeError) as info:
        x.numpy()
    assert str(info.value) == NUMPY_ERROR
    with pytest.raises(TypeError, match="can't convert cuda:0 device type tensor to numpy"):
        np.asarray(x)
    assert isinstance(x.cpu().numpy(), np.ndarray) and x.tolist() == [[1.5, 2.0]]
    assert x[0, 0].item() == 1.5 and float(x[0, 1]) == 2.0 and int(x[0, 1]) == 2
    assert bool(x[0, 0] > 1) and f"{x[0, 0]:.2f}" == "1.50"


# ---- printing ----------------------------------------------------------------------------
def _torch_repr_on_cuda(t, monkeypatch):
    """torch's repr of a CPU tensor as it prints on cuda:0: the device as the first suffix."""
    add = torch._tensor_str._add_suffixes
    monkeypatch.setattr(torch._tensor_str, "_add_suffixes", lambda text, suffixes, *rest, **kw:
                        add(text, ["device='cuda:0'", *suffixes], *rest, **kw))
    try:
        return repr(t)
    finally:
        monkeypatch.undo()


@pytest.mark.parametrize("make", [
    lambda lib, dev: lib.tensor([1.0, 2.0, 3.5], device=dev),
    lambda lib, dev: lib.tensor([[1, 2], [3, 4]], device=dev),
    lambda lib, dev: lib.tensor([True, False], device=dev),
    lambda lib, dev: lib.tensor([1.25, 1e-5], dtype=lib.float64, device=dev),
    lambda lib, dev: lib.tensor([1, 2], dtype=lib.int32, device=dev),
    lambda lib, dev: lib.tensor(3.0, device=dev),
    lambda lib, dev: lib.tensor([], device=dev),
    lambda lib, dev: lib.zeros(0, 3, dtype=lib.float16, device=dev),
    lambda lib, dev: lib.arange(2000.0, device=dev).reshape(40, 50) / 7,
    lambda lib, dev: lib.tensor([0.5, -1.5], device=dev, requires_grad=True),
    lambda lib, dev: lib.tensor([0.5, -1.5], device=dev, requires_grad=True) * 2,
    lambda lib, dev: lib.tensor([[123456.0, 0.001, 3.0] * 8] * 2, device=dev),
])
def test_printing_adds_the_device(make, cuda_device, monkeypatch):
    ours = make(gputensor, cuda_device)
    expected = _torch_repr_on_cuda(make(torch, "cpu"), monkeypatch)
    assert repr(ours) == str(ours) and repr(ours).replace("gputensor.", "torch.") == expected


def test_printing_a_parameter_on_the_device(cuda_device, monkeypatch):
    lin = gputensor.nn.Linear(2, 2).cuda()
    tlin = torch.nn.Linear(2, 2)
    with torch.no_grad():
        tlin.weight.copy_(torch.from_numpy(lin.weight.detach().cpu().numpy()))
    assert repr(lin.weight) == _torch_repr_on_cuda(tlin.weight, monkeypatch)


# ---- mixing devices ----------------------------------------------------------------------
def _mixed_cases(lib, a, b, c, idx):
    """Ops with one CUDA operand (``a``) and one CPU operand (``b``, ``c``, ``idx``)."""
    F = lib.nn.functional
    return {
        "add": lambda: a + b, "radd": lambda: b + a, "mul": lambda: b * a, "sub": lambda: a - b,
        "div": lambda: a / b, "pow": lambda: a ** b, "lt": lambda: a < b, "eq": lambda: b == a,
        "maximum": lambda: lib.maximum(b, a), "matmul": lambda: a @ c,
        "rmatmul": lambda: c @ a.t(), "mm": lambda: lib.mm(a, c), "cat": lambda: lib.cat([b, a]),
        "stack": lambda: lib.stack([a, b]), "where": lambda: lib.where(b > 0, a, b),
        "linear": lambda: F.linear(a, c.t()), "mse_loss": lambda: F.mse_loss(a, b),
        "l1_loss": lambda: F.l1_loss(b, a), "cross_entropy": lambda: F.cross_entropy(a, idx),
        "add_": lambda: a.add_(b), "mul_": lambda: b.mul_(a), "copy_masked": lambda: a.clamp(b),
    }


@pytest.mark.parametrize("name", list(_mixed_cases(gputensor, *[None] * 4)))
def test_mixing_devices_raises_torchs_error(name, cuda_device):
    a_np, b_np, c_np = rand_array((2, 3)), rand_array((2, 3)), rand_array((3, 3))
    a = gputensor.tensor(a_np, device=cuda_device)
    b, c = gputensor.tensor(b_np), gputensor.tensor(c_np)
    idx = gputensor.tensor([0, 2])
    with pytest.raises(RuntimeError) as info:
        _mixed_cases(gputensor, a, b, c, idx)[name]()
    assert str(info.value).startswith(MIXED)
    assert np.array_equal(a.cpu().numpy(), a_np) and np.array_equal(b.numpy(), b_np)
    assert a._version_value == 0 and b._version_value == 0


# ---- out of memory -----------------------------------------------------------------------
class _FakeOutOfMemoryError(MemoryError):
    """Stands for cupy.cuda.memory.OutOfMemoryError(size, total): the same fields."""

    def __init__(self, size, total):
        self._size, self._total, self._limit = size, total, 0
        super().__init__(f"Out of memory allocating {size:,} bytes (allocated so far: "
                         f"{total:,} bytes).")


def _fake_gpu(monkeypatch, backend):
    """Make the loaded CUDA backend look like a full GPU: every device allocation fails."""
    def allocate(*args, **kwargs):
        raise _FakeOutOfMemoryError(96, 0)

    class _Ndarray:
        pass
    gib = 1 << 30
    runtime = types.SimpleNamespace(getDevice=lambda: 0, memGetInfo=lambda: (3 << 20, 80 * gib))
    cupy = types.SimpleNamespace(ndarray=_Ndarray, array=allocate, full=allocate,
                                 cuda=types.SimpleNamespace(runtime=runtime))
    pool = types.SimpleNamespace(used_bytes=lambda: 79 * gib,
                                 total_bytes=lambda: 79 * gib + (2 << 20))
    monkeypatch.setattr(backend, "_cupy", cupy)
    monkeypatch.setattr(backend, "_pool", pool)
    monkeypatch.setattr(backend, "_device_count", 1)
    monkeypatch.setattr(backend, "xp", cupy)
    monkeypatch.setattr(backend, "OUT_OF_MEMORY", (_FakeOutOfMemoryError,))


OOM_TEXT = ("CUDA out of memory. Tried to allocate {}. GPU 0 has a total capacity of 80.00 GiB "
            "of which 3.00 MiB is free. Of the allocated memory 79.00 GiB is allocated by "
            "gputensor, and 2.00 MiB is reserved by gputensor but unallocated.")


def test_out_of_memory_on_transfer_is_a_clear_error(monkeypatch):
    backend = backends.backend_for("cuda")
    x = gputensor.ones(2, 12, requires_grad=True)
    _fake_gpu(monkeypatch, backend)
    with pytest.raises(gputensor.cuda.OutOfMemoryError) as info:
        x.cuda()
    assert isinstance(info.value, RuntimeError)
    assert str(info.value) == OOM_TEXT.format("96 bytes")
    assert x.device.type == "cpu" and x.tolist() == [[1.0] * 12] * 2 and x.grad_fn is None


def test_out_of_memory_making_a_tensor_is_a_clear_error(monkeypatch):
    backend = backends.backend_for("cuda")
    _fake_gpu(monkeypatch, backend)
    for make in (lambda: gputensor.zeros(2, 12, device="cuda"),
                 lambda: gputensor.full((4, 6), 2.0, device="cuda")):
        with pytest.raises(gputensor.cuda.OutOfMemoryError) as info:
            make()
        assert str(info.value) == OOM_TEXT.format("96 bytes")


def test_out_of_memory_in_an_op_is_a_clear_error(monkeypatch, cuda_device):
    backend = backends.backend_for("cuda")
    a = gputensor.ones(4, 4, device=cuda_device)

    def full_matmul(x, y):
        raise _FakeOutOfMemoryError(3 << 21, 0)
    _fake_gpu(monkeypatch, backend)
    monkeypatch.setattr(backend, "matmul", full_matmul)
    with pytest.raises(RuntimeError) as info:
        a @ a
    assert str(info.value) == OOM_TEXT.format("6.00 MiB")
    monkeypatch.undo()
    assert (a @ a).tolist() == [[4.0] * 4] * 4
