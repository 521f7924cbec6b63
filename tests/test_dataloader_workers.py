"""DataLoader with worker processes, compared with torch's: batch order, seeding and
get_worker_info, worker_init_fn, IterableDataset sharding, errors and their text, timeouts,
persistent workers, and no worker left behind. Small datasets and timeouts keep it quick."""

from __future__ import annotations

import multiprocessing
import os
import random
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as torch_data
from torch.utils.data._utils.worker import _generate_state
from worker_datasets import SpawnSquares

import gputensor
import gputensor.utils.data as data
from gputensor.utils.data._worker import numpy_seed

LIBS = {"gputensor": (gputensor, data), "torch": (torch, torch_data)}


def _datasets(lib, data_module):
    """The same datasets written for either library (the way a user writes them for torch)."""

    class Squares(data_module.Dataset):
        def __init__(self, n=12, fail_at=None, error=ValueError):
            self.n, self.fail_at, self.error = n, fail_at, error

        def __len__(self):
            return self.n

        def __getitem__(self, i):
            if i == self.fail_at:
                raise self.error(f"bad sample {i}")
            return lib.tensor([i, i * i])

    class WorkerReport(data_module.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            info = data_module.get_worker_info()
            return {"id": info.id, "num_workers": info.num_workers, "seed": info.seed,
                    "same_dataset": info.dataset is self, "pid": os.getpid(),
                    "rand": lib.rand(1).item(), "random": random.random(),
                    "numpy": float(np.random.rand()), "initialised": _INITIALISED.get("id")}

    class Sharded(data_module.IterableDataset):
        def __iter__(self):
            info = data_module.get_worker_info()
            start, step = (0, 1) if info is None else (info.id, info.num_workers)
            return iter(range(start, 10, step))

    class Unsharded(data_module.IterableDataset):
        def __iter__(self):
            return iter(range(3))

    return Squares, WorkerReport, Sharded, Unsharded


_INITIALISED = {}


def _init_worker(worker_id):
    _INITIALISED["id"] = worker_id * 10


def _children() -> int:
    return len(multiprocessing.active_children())


@pytest.fixture(autouse=True)
def _no_worker_left_behind():
    before = _children()
    yield
    assert _children() == before


@pytest.mark.filterwarnings("ignore:This DataLoader will create")
@pytest.mark.parametrize("num_workers", [1, 2, 3])
def test_batches_come_back_in_the_samplers_order(num_workers):
    results, warned = {}, {}
    for name, (lib, module) in LIBS.items():
        squares = _datasets(lib, module)[0]()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loader = module.DataLoader(squares, batch_size=2, num_workers=num_workers,
                                       timeout=20)
            results[name] = [b.tolist() for b in loader]
        warned[name] = [str(w.message) for w in caught]  # more workers than CPUs: warned
        gputensor.manual_seed(5) if lib is gputensor else torch.manual_seed(5)
        shuffled = [b.tolist() for b in module.DataLoader(squares, batch_size=3, shuffle=True,
                                                          num_workers=num_workers)]
        gputensor.manual_seed(5) if lib is gputensor else torch.manual_seed(5)
        in_process = [b.tolist() for b in module.DataLoader(squares, batch_size=3, shuffle=True)]
        assert shuffled == in_process  # the base seed is drawn with or without workers
    assert results["gputensor"] == results["torch"]
    assert warned["gputensor"] == warned["torch"]


def test_batch_size_none_and_collate_fn():
    squares = _datasets(gputensor, data)[0]()
    loader = data.DataLoader(squares, batch_size=None, num_workers=2, collate_fn=lambda x: x * 2)
    assert [b.tolist() for b in loader] == [[2 * i, 2 * i * i] for i in range(12)]


def test_worker_info_and_seeds_follow_torchs_rules():
    report = _datasets(gputensor, data)[1]()
    gputensor.manual_seed(7)
    expected_base = int(gputensor.empty((), dtype=gputensor.int64).random_().item())
    gputensor.manual_seed(7)
    loader = data.DataLoader(report, batch_size=None, num_workers=2,
                             worker_init_fn=_init_worker)
    rows = list(loader)
    assert [r["id"] for r in rows] == [0, 1, 0, 1]
    assert all(r["num_workers"] == 2 and r["same_dataset"] for r in rows)
    assert [r["initialised"] for r in rows] == [0, 10, 0, 10]
    assert len({r["pid"] for r in rows}) == 2 and os.getpid() not in {r["pid"] for r in rows}
    for r in rows[:2]:
        seed = expected_base + r["id"]
        assert r["seed"] == seed
        gputensor.manual_seed(seed)
        assert r["rand"] == gputensor.rand(1).item()
        random.seed(seed)
        assert r["random"] == random.random()
        np.random.seed(_generate_state(expected_base, r["id"]))
        assert r["numpy"] == float(np.random.rand())
    assert data.get_worker_info() is None


@pytest.mark.parametrize("base_seed", [0, 1, 2**32 + 5, 2**63 - 1, 123456789012345])
@pytest.mark.parametrize("worker_id", [0, 1, 7])
def test_numpy_seed_is_torchs(base_seed, worker_id):
    assert numpy_seed(base_seed, worker_id) == _generate_state(base_seed, worker_id)


def test_loader_generator_gives_the_base_seed():
    report = _datasets(gputensor, data)[1]()
    seeds = []
    for _ in range(2):
        generator = gputensor.Generator().manual_seed(3)
        loader = data.DataLoader(report, batch_size=None, num_workers=1, generator=generator)
        seeds.append([r["seed"] for r in loader])
    assert seeds[0] == seeds[1]


@pytest.mark.parametrize("dataset_index", [2, 3])
@pytest.mark.parametrize("num_workers", [0, 2])
def test_iterable_datasets_as_torchs(dataset_index, num_workers):
    results = {}
    for name, (lib, module) in LIBS.items():
        dataset = _datasets(lib, module)[dataset_index]()
        loader = module.DataLoader(dataset, batch_size=2, num_workers=num_workers,
                                   timeout=20 if num_workers else 0)
        results[name] = [b.tolist() for b in loader]
    assert results["gputensor"] == results["torch"]


def test_a_timeout_without_workers_fails_as_torchs():
    for lib, module in LIBS.values():
        loader = module.DataLoader(_datasets(lib, module)[0](), timeout=1)
        with pytest.raises(AssertionError, match="requires timeout == 0"):
            iter(loader)


def _torchs_worker_error(error):
    """The exception torch's DataLoader raises for ``error`` in worker 0, made the way its
    worker makes it (torch's own workers take seconds to stop after an error)."""
    try:
        raise error("bad sample 5")
    except error:
        wrapper = torch._utils.ExceptionWrapper(where="in DataLoader worker process 0")
    with pytest.raises(error) as caught:
        wrapper.reraise()
    return str(caught.value)


@pytest.mark.parametrize("error", [ValueError, KeyError])
def test_a_workers_exception_is_raised_with_torchs_text(error):
    squares = _datasets(gputensor, data)[0](fail_at=5, error=error)
    loader = data.DataLoader(squares, batch_size=2, num_workers=2, timeout=20)
    with pytest.raises(error) as caught:
        list(loader)
    ours, theirs = str(caught.value), _torchs_worker_error(error)
    assert ours.split("\n")[:2] == theirs.split("\n")[:2] == [
        f"Caught {error.__name__} in DataLoader worker process 0.",
        "Original Traceback (most recent call last):"]
    assert ours.split("\n")[-2:] == theirs.split("\n")[-2:]  # the error's own line
    assert "__getitem__" in ours and "bad sample 5" in ours


def test_an_error_in_worker_init_fn_is_raised():
    squares = _datasets(gputensor, data)[0]()

    def bad_init(worker_id):
        raise RuntimeError(f"init {worker_id}")

    with pytest.raises(RuntimeError, match="Caught RuntimeError in DataLoader worker process 0"):
        list(data.DataLoader(squares, num_workers=1, worker_init_fn=bad_init))


def test_break_and_exhaustion_leave_no_worker():
    squares = _datasets(gputensor, data)[0]()
    loader = data.DataLoader(squares, batch_size=2, num_workers=2)
    before = _children()
    for _ in loader:
        assert _children() == before + 2
        break
    iterator = iter(loader)
    next(iterator)
    del iterator
    assert len(list(loader)) == 6


def test_persistent_workers_serve_every_epoch():
    report = _datasets(gputensor, data)[1]()
    loader = data.DataLoader(report, batch_size=None, num_workers=2, persistent_workers=True)
    before = _children()
    first = list(loader)
    assert _children() == before + 2
    second = list(loader)
    assert [r["pid"] for r in first] == [r["pid"] for r in second]
    assert [r["id"] for r in second] == [0, 1, 0, 1]
    del loader
    for process in multiprocessing.active_children():  # the workers end when the loader goes
        process.join(timeout=10)


def test_timeout_raises_torchs_error():
    class Stalls(data.Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            import time  # noqa: PLC0415 - a test dataset's worker-side import

            time.sleep(3)
            return i

    loader = data.DataLoader(Stalls(), num_workers=1, timeout=0.3)
    with pytest.raises(RuntimeError, match=r"^DataLoader timed out after 0\.3 seconds$"):
        next(iter(loader))


def test_a_dead_worker_is_reported():
    class Dies(data.Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            os._exit(3)

    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited "
                                           "unexpectedly"):
        list(data.DataLoader(Dies(), num_workers=1))


def test_spawn_context():
    loader = data.DataLoader(SpawnSquares(), batch_size=4, num_workers=1,
                             multiprocessing_context="spawn", timeout=60)
    assert [b.tolist() for b in loader] == [b.tolist() for b in data.DataLoader(
        SpawnSquares(), batch_size=4)]


@pytest.mark.parametrize("kwargs", [
    {"num_workers": 0, "multiprocessing_context": "fork"},
    {"num_workers": 1, "multiprocessing_context": "nonsense"},
    {"num_workers": 1, "multiprocessing_context": 3},
    {"num_workers": 0, "prefetch_factor": 2},
    {"num_workers": 0, "persistent_workers": True},
])
def test_bad_options_raise_torchs_errors(kwargs):
    errors = []
    for lib, module in LIBS.values():
        with pytest.raises((ValueError, TypeError)) as caught:
            module.DataLoader(_datasets(lib, module)[0](), **kwargs)
        errors.append((caught.type, str(caught.value)))
    assert errors[0] == errors[1]


def test_pin_memory_loads_the_same_batches(monkeypatch):
    squares = _datasets(gputensor, data)[0]()
    pinned = [b.tolist() for b in data.DataLoader(squares, batch_size=4, num_workers=1,
                                                  pin_memory=True)]
    assert pinned == [b.tolist() for b in data.DataLoader(squares, batch_size=4)]
    monkeypatch.setattr(gputensor.accelerator, "is_available", lambda: False)
    monkeypatch.setattr(torch.accelerator, "is_available", lambda: False)
    texts = []
    for lib, module in LIBS.values():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            list(module.DataLoader(_datasets(lib, module)[0](), pin_memory=True))
        texts.append([str(w.message) for w in caught])
    assert texts[0] == texts[1] and len(texts[0]) == 1


EXIT_SCRIPT = """
import os, sys
import gputensor.utils.data as data
from worker_datasets import SpawnSquares

class Pids(SpawnSquares):
    def __getitem__(self, i):
        return os.getpid()

loader = data.DataLoader(Pids(), batch_size=None, num_workers=2, persistent_workers=True)
iterator = iter(loader)
print(next(iterator), next(iterator), flush=True)
"""


def test_workers_end_at_interpreter_exit():
    tests_dir = os.path.dirname(os.path.abspath(__file__))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([tests_dir, *sys.path])}
    done = subprocess.run([sys.executable, "-c", EXIT_SCRIPT], capture_output=True, text=True,
                          timeout=60, env=env, check=True)
    pids = [int(p) for p in done.stdout.split()]
    assert len(set(pids)) == 2 and "Traceback" not in done.stderr
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
