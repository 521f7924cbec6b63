"""CUDA tensors with modules, checkpoints and the rest of torch's CUDA surface: module
moves, save/load across devices, the simulation switch, seeding, type names, new_* tensors,
device properties.

Runs on the simulated device (tests/conftest.py) and, in the ``gpu`` variants, on a real GPU.
"""

import sys

import pytest
import torch

import gputensor
from gputensor import backends


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


IMPORT_CHECK = """
import os, sys
for name in [n for n in os.environ if n.startswith("NUMBA_")]:
    del os.environ[name]
os.environ["GPUTENSOR_SIMULATE_CUDA"] = "1"
import gputensor
print(sorted(n for n in os.environ if n.startswith("NUMBA_")), "cupy" in sys.modules,
      "numba" in sys.modules)
p = gputensor.nn.Parameter(gputensor.ones(3))  # a CPU optimizer step loads numba first
p.sum().backward()
gputensor.optim.SGD([p], lr=0.5).step()
print("numba" in sys.modules, "numba.cuda" in sys.modules, gputensor.cuda.is_available())
x = gputensor.tensor([-1.0, 2.0], device="cuda", requires_grad=True)
x.relu().sum().backward()  # our activation kernel, in Numba's simulator
from numba.cuda.core import config
print(x.grad.tolist(), os.environ["NUMBA_ENABLE_CUDASIM"],
      os.environ["NUMBA_CUDA_ARRAY_INTERFACE_SYNC"], "cupy" in sys.modules, config.ENABLE_CUDASIM)
"""


def test_import_changes_no_setting_and_cuda_switches_the_simulator_on_when_first_used():
    import subprocess
    out = subprocess.run([sys.executable, "-c", IMPORT_CHECK], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out == ["[] False False", "True False True", "[0.0, 1.0] 1 0 False 1"]


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


def test_events_time_the_work_between_them(cuda_device):
    cuda = gputensor.cuda
    start, end = cuda.Event(enable_timing=True), cuda.Event(enable_timing=True)
    start.record()
    x = gputensor.ones(64, 64, device=cuda_device)
    (x @ x).sum()
    end.record()
    end.synchronize()
    assert end.query() and isinstance(start.elapsed_time(end), float)
    assert start.elapsed_time(end) >= 0
    plain, unrecorded = cuda.Event(), cuda.Event(enable_timing=True)
    plain.record()
    with pytest.raises(RuntimeError, match=r"^Both events must be created with argument "
                                           r"'enable_timing=True'\.$"):
        start.elapsed_time(plain)
    with pytest.raises(RuntimeError, match=r"^Both events must be recorded before calculating "
                                           r"elapsed time\.$"):
        start.elapsed_time(unrecorded)


def test_events_need_cuda(cuda_unavailable):
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        gputensor.cuda.Event()
