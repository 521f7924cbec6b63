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
    monkeypatch.setattr(backend, "_count", [1])
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


# ---- modules, checkpoints, modes -----------------------------------------------------------
def test_a_failed_module_move_changes_nothing(cuda_device, monkeypatch):
    from gputensor.ops import transfer
    model = gputensor.nn.Sequential(gputensor.nn.Linear(3, 4), gputensor.nn.Linear(4, 2))
    model(gputensor.randn(2, 3)).sum().backward()
    before = [(p, p._data, p.grad._data) for p in model.parameters()]
    calls = []

    def fail_third(t, device):
        calls.append(t)
        if len(calls) == 3:
            raise gputensor.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 48 bytes.")
        return move(t, device)
    move = transfer.to_device
    monkeypatch.setattr(transfer, "to_device", fail_third)
    with pytest.raises(gputensor.cuda.OutOfMemoryError):
        model.cuda()
    for p, data, grad in before:
        assert p.device.type == "cpu" and p._data is data and p.grad._data is grad
    monkeypatch.undo()
    model.to(cuda_device)
    assert all(p.device.type == "cuda" and p.grad.device.type == "cuda"
               for p in model.parameters())


def test_load_onto_cuda_without_a_gpu_raises(tmp_path, cuda_unavailable):
    path = tmp_path / "t.st"
    gputensor.save({"w": gputensor.ones(2)}, path)
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        gputensor.load(path, map_location="cuda")


@pytest.fixture
def cuda_checkpoint(tmp_path, cuda_device):
    """A file holding a CUDA tensor "w" and a CPU tensor "c" (saved while CUDA runs)."""
    path = tmp_path / "c.st"
    gputensor.save({"w": gputensor.arange(3.0, device=cuda_device), "c": gputensor.ones(1)},
                   path)
    return path


def test_tensors_load_on_the_device_they_were_saved_from(cuda_checkpoint):
    # as torch.load: no map_location keeps the saved device; a dict maps only its keys
    for loaded in (gputensor.load(cuda_checkpoint),
                   gputensor.load(cuda_checkpoint, map_location={"cuda:7": "cpu"})):
        assert loaded["w"].device == gputensor.device("cuda:0")
        assert loaded["c"].device == gputensor.device("cpu")
    loaded = gputensor.load(cuda_checkpoint, map_location={"cuda:0": "cpu"})
    assert loaded["w"].device.type == "cpu" and loaded["w"].tolist() == [0.0, 1.0, 2.0]


def test_a_cuda_checkpoint_on_a_machine_without_cuda(cuda_checkpoint, cuda_unavailable):
    with pytest.raises(RuntimeError) as info:
        gputensor.load(cuda_checkpoint)
    assert str(info.value) == (
        "Attempting to deserialize object on a CUDA device but gputensor.cuda.is_available() "
        "is False. If you are running on a CPU-only machine, please use gputensor.load with "
        "map_location=gputensor.device('cpu') to map your storages to the CPU.")
    loaded = gputensor.load(cuda_checkpoint, map_location=gputensor.device("cpu"))
    assert loaded["w"].device.type == "cpu" and loaded["w"].tolist() == [0.0, 1.0, 2.0]


def test_saving_a_cuda_tensor_records_its_device(tmp_path, cuda_device):
    path = tmp_path / "t.st"
    x = gputensor.arange(4.0, device=cuda_device).requires_grad_()
    gputensor.save([x, x.detach().cpu()], path)
    back = gputensor.load(path, map_location={"cuda:0": "cuda:0"})
    assert back[0].device.type == "cuda" and back[0].requires_grad
    assert back[1].device.type == "cpu" and back[0].tolist() == back[1].tolist()


def test_simulation_needs_the_numba_simulator(monkeypatch, cuda_unavailable):
    monkeypatch.setenv("GPUTENSOR_SIMULATE_CUDA", "1")
    monkeypatch.setenv("NUMBA_ENABLE_CUDASIM", "0")
    backends.forget_cuda()
    with pytest.raises(RuntimeError, match="needs the Numba simulator"):
        gputensor.ones(1, device="cuda")
    assert not gputensor.cuda.is_available()


def test_import_switches_the_simulator_on_and_loads_no_gpu_library():
    import subprocess
    code = ("import os, sys; os.environ.pop('NUMBA_ENABLE_CUDASIM', None); "
            "os.environ['GPUTENSOR_SIMULATE_CUDA'] = '1'; import gputensor; "
            "print(os.environ.get('NUMBA_ENABLE_CUDASIM'), 'cupy' in sys.modules, "
            "'numba.cuda' in sys.modules, gputensor.cuda.is_available())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["1", "False", "False", "True"]


def test_cuda_seeding_and_error_names_follow_torch(cuda_device):
    assert gputensor.OutOfMemoryError is gputensor.cuda.OutOfMemoryError
    assert issubclass(gputensor.cuda.OutOfMemoryError, RuntimeError)
    assert torch.OutOfMemoryError is torch.cuda.OutOfMemoryError  # the same layout as torch
    gputensor.cuda.manual_seed_all(5)
    on_gpu = gputensor.randn(4, device=cuda_device)
    gputensor.manual_seed(5)
    assert on_gpu.tolist() == gputensor.randn(4).tolist()


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int32", "uint8",
                                   "bool"])
def test_type_names_and_get_device_on_cuda(dtype, cuda_device):
    x = gputensor.zeros(2, dtype=getattr(gputensor, dtype), device=cuda_device)
    on_cpu = torch.zeros(2, dtype=getattr(torch, dtype))
    # torch names a CUDA tensor's type torch.cuda.<Name>Tensor
    assert x.type() == on_cpu.type().replace("torch.", "gputensor.cuda.")
    assert x.cpu().type() == on_cpu.type().replace("torch.", "gputensor.")
    assert x.get_device() == 0 and x.cpu().get_device() == on_cpu.get_device() == -1
    with pytest.raises(TypeError, match=f"can't assign a str to a {x.type()}"):
        x[0] = "a"


def test_new_tensors_keep_the_device(cuda_device):
    x = gputensor.ones(2, dtype=gputensor.float64, device=cuda_device)
    made = [x.new_zeros(3), x.new_ones(2, 2), x.new_full((2,), 7), x.new_tensor([1, 2]),
            x.new_empty(4)]
    assert all(t.device.type == "cuda" and t.dtype is gputensor.float64 for t in made)
    assert x.new_zeros(2, device="cpu").device.type == "cpu"


def test_device_properties_and_cudnn_switches(cuda_device):
    cuda = gputensor.cuda
    props = cuda.get_device_properties(0)
    assert props.name == cuda.get_device_name() and props.total_memory >= 0
    assert cuda.get_device_capability("cuda:0") == (props.major, props.minor)
    assert props.multi_processor_count >= 1
    assert repr(props).startswith(f"_CudaDeviceProperties(name='{props.name}', major=")
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        cuda.get_device_properties(5)
    # scripts written for torch set these; gputensor has no cuDNN kernels
    cudnn = gputensor.backends.cudnn
    assert cudnn.is_available() is False and cudnn.version() is None
    cudnn.benchmark = True  # accepted, changes nothing
    cudnn.benchmark = False
    assert (cudnn.enabled, cudnn.benchmark, cudnn.deterministic) == (
        torch.backends.cudnn.enabled, torch.backends.cudnn.benchmark,
        torch.backends.cudnn.deterministic)
