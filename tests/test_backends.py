"""The backend interface: both backends implement it, and callers use nothing else."""

import contextlib
import re
import types
from pathlib import Path

import pytest

from gputensor import backends
from gputensor.backends import cuda_memory
from gputensor.backends.base import Backend
from gputensor.backends.cpu import CpuBackend, cpu_backend
from gputensor.backends.cuda_backend import CudaBackend
from gputensor.backends.cuda_memory import PEAK_HOOK_NAME, PeakMemoryCounter

ROOT = Path(__file__).resolve().parent.parent
# what the package calls on a backend: ``backend.name``, ``x._backend.name``,
# ``_backend().name``, ``backend_for("cuda").name``
CALL = re.compile(r"\b(?:_?backend|_backend\(\)|backend_for\([^)]*\))\.(\w+)")


def test_each_device_kind_has_one_backend_object(cuda_device):
    assert backends.backend_for("cpu") is cpu_backend and isinstance(cpu_backend, CpuBackend)
    cuda = backends.backend_for("cuda")
    assert isinstance(cuda, CudaBackend) and backends.backend_for("cuda") is cuda
    for backend in (cpu_backend, cuda):
        assert isinstance(backend, Backend) and backend.name in ("cpu", "cuda")
    with pytest.raises(RuntimeError, match="unknown device type: tpu"):
        backends.backend_for("tpu")


def test_callers_use_only_the_declared_interface():
    used = set()
    for path in (ROOT / "gputensor").rglob("*.py"):
        if "backends" not in path.parts:
            used |= set(CALL.findall(path.read_text()))
    assert {"xp", "full", "optimizer_step", "synchronize"} <= used, "the pattern misses calls"
    assert sorted(name for name in used if not hasattr(Backend, name)) == []


def test_every_hook_has_a_one_line_contract():
    for name, member in vars(Backend).items():
        if callable(member) and not name.startswith("_"):
            assert member.__doc__ and member.__doc__.strip(), name


def test_the_peak_memory_counter_follows_allocations_per_device():
    counter = PeakMemoryCounter()
    counter.malloc_postprocess(device_id=0, size=10, mem_size=512, mem_ptr=1, pmem_id=1)
    counter.malloc_postprocess(device_id=0, size=600, mem_size=1024, mem_ptr=2, pmem_id=2)
    counter.malloc_postprocess(device_id=1, size=1, mem_size=512, mem_ptr=3, pmem_id=3)
    counter.free_postprocess(device_id=0, mem_size=1024, mem_ptr=2, pmem_id=2)
    counter.malloc_postprocess(device_id=0, size=5, mem_size=0, mem_ptr=0, pmem_id=0)  # failed
    assert counter.used == {0: 512, 1: 512} and counter.peak == {0: 1536, 1: 512}
    counter.reset(0, 512)
    counter.malloc_postprocess(device_id=0, size=10, mem_size=512, mem_ptr=4, pmem_id=4)
    assert counter.peak[0] == 1024 and counter.peak[1] == 512


class _FakeMemoryHook:
    """Stands for cupy.cuda.MemoryHook: entering registers it by name on this thread."""

    name = None

    def __enter__(self):
        _FAKE_HOOKS[self.name] = self
        return self


_FAKE_HOOKS = {}


def test_the_peak_hook_is_entered_once_and_max_memory_follows_it(monkeypatch):
    fake_cupy = types.SimpleNamespace(cuda=types.SimpleNamespace(
        MemoryHook=_FakeMemoryHook,
        memory_hook=types.SimpleNamespace(get_memory_hooks=lambda: _FAKE_HOOKS)))
    _FAKE_HOOKS.clear()
    hook = cuda_memory.peak_memory_hook(fake_cupy)
    assert _FAKE_HOOKS == {PEAK_HOOK_NAME: hook} and isinstance(hook, PeakMemoryCounter)
    assert cuda_memory.peak_memory_hook(fake_cupy) is hook  # a second load reuses it
    backend = CudaBackend()
    used = [4096]
    monkeypatch.setattr(backend, "_pool", types.SimpleNamespace(used_bytes=lambda: used[0]))
    monkeypatch.setattr(backend, "_peak", hook)
    monkeypatch.setattr(backend, "_device_type", lambda index: contextlib.nullcontext())
    backend.reset_peak_memory_stats()
    hook.malloc_postprocess(device_id=0, size=9000, mem_size=9216, mem_ptr=7, pmem_id=7)
    hook.free_postprocess(device_id=0, mem_size=9216, mem_ptr=7, pmem_id=7)
    assert backend.max_memory_allocated() == 4096 + 9216 and backend.memory_allocated() == 4096
    backend.reset_peak_memory_stats()
    assert backend.max_memory_allocated() == 4096
    used[0] = 10000  # allocated on another thread: the hook missed it, the pool did not
    assert backend.max_memory_allocated() == 10000
