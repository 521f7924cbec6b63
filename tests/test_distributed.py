"""gputensor.distributed and DistributedDataParallel with real MPI processes over loopback.

Each script under tests/distributed/ runs under ``mpiexec -n N`` with a timeout; they are
skipped only where mpiexec or mpi4py is not installed (the ``mpi`` extra installs both).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data.distributed import DistributedSampler as TorchSampler

import gputensor
from gputensor.utils.data.distributed import DistributedSampler as OurSampler

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = Path(__file__).resolve().parent / "distributed"
MPIEXEC = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which(
    "mpiexec")
needs_mpi = pytest.mark.skipif(
    MPIEXEC is None or importlib.util.find_spec("mpi4py") is None,
    reason="mpiexec and mpi4py are not installed (pip install '.[mpi]')")


def mpirun(n: int, *args: str, timeout: float = 40, env=None) -> subprocess.CompletedProcess:
    """Run ``python args...`` on ``n`` MPI processes; the finished process (text output)."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    environment.pop("GPUTENSOR_SIMULATE_CUDA", None)
    environment.update(env or {})
    return subprocess.run([MPIEXEC, "-n", str(n), sys.executable, *args], capture_output=True,
                          text=True, timeout=timeout, env=environment, cwd=ROOT)


def assert_ok(result, n: int) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    # (mpiexec forwards each rank's output as it comes: lines of two ranks may run together)
    assert sorted(re.findall(r"OK rank \d+ of \d+", result.stdout)) \
        == [f"OK rank {r} of {n}" for r in range(n)], result.stdout + result.stderr


@needs_mpi
@pytest.mark.parametrize("n, device", [(2, "cpu"), (3, "cpu"), (2, "cuda")])
def test_collectives_against_numpy(n, device):
    assert_ok(mpirun(n, str(SCRIPTS / "collectives.py"), device), n)


@needs_mpi
@pytest.mark.gpu
def test_collectives_through_real_nccl():
    n = gputensor.cuda.device_count()  # one rank per GPU (NCCL refuses two on one GPU)
    environment = {"GPUTENSOR_SIMULATE_CUDA": "0"}
    result = mpirun(n, str(SCRIPTS / "collectives.py"), "gpu", env=environment, timeout=120)
    assert_ok(result, n)


@needs_mpi
@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_ddp_matches_one_process_on_the_whole_batch(device):
    assert_ok(mpirun(2, str(SCRIPTS / "ddp.py"), device), 2)


@needs_mpi
def test_a_rank_that_raises_stops_every_rank():
    result = mpirun(2, str(SCRIPTS / "faults.py"), "raise", timeout=30)
    assert result.returncode != 0
    assert "rank 1 failed on purpose" in result.stderr
    assert "rank 1 raised RuntimeError; aborting all ranks" in result.stderr
    assert "finished an all-reduce" not in result.stdout


@needs_mpi
@pytest.mark.parametrize("case, ranks_ok", [("environment", 2), ("timeout", 1)])
def test_torch_environment_variables_and_timeout(case, ranks_ok):
    result = mpirun(2, str(SCRIPTS / "faults.py"), case, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(f"OK {case}") == ranks_ok, result.stdout + result.stderr


@needs_mpi
def test_the_launcher_sets_torchrun_variables():
    result = mpirun(2, "-m", "gputensor.distributed.run", str(SCRIPTS / "faults.py"),
                    "launcher", timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("OK launcher") == 2, result.stdout + result.stderr


@needs_mpi
def test_digits_example_on_two_ranks(tmp_path):
    result = mpirun(2, "examples/train_digits_ddp.py", "--epochs", "2", "--out", str(tmp_path),
                    timeout=40)
    assert result.returncode == 0, result.stdout + result.stderr
    for r in range(2):
        assert f"rank {r} of 2: 719 of 1437 training samples" in result.stdout
    found = re.findall(r"rank \d: test accuracy (\d\.\d{4})", result.stdout)
    assert len(found) == 2 and found[0] == found[1], result.stdout  # identical replicas
    assert float(found[0]) > 0.6
    assert "rank 0 saved" in result.stdout and result.stdout.count(" saved ") == 1
    assert (tmp_path / "digits.gtckpt").stat().st_size > 0


@pytest.mark.parametrize("lib", [gputensor, torch], ids=["gputensor", "torch"])
@pytest.mark.parametrize("call", [
    lambda lib: lib.distributed.get_rank(), lambda lib: lib.distributed.get_world_size(),
    lambda lib: lib.distributed.get_backend(), lambda lib: lib.distributed.barrier(),
    lambda lib: lib.distributed.all_reduce(lib.ones(2)),
    lambda lib: lib.distributed.broadcast(lib.ones(2), 0),
    lambda lib: lib.distributed.new_group([0]),
    lambda lib: lib.nn.parallel.DistributedDataParallel(lib.nn.Linear(2, 3))])
def test_before_init_process_group_as_torch(lib, call):
    assert not lib.distributed.is_initialized()
    with pytest.raises(ValueError) as info:
        call(lib)
    assert str(info.value) == ("Default process group has not been initialized, please make "
                               "sure to call init_process_group.")


def test_reduce_op_as_torch():
    for op in ("SUM", "AVG", "PRODUCT", "MIN", "MAX"):
        ours, theirs = getattr(gputensor.distributed.ReduceOp, op), \
            getattr(torch.distributed.ReduceOp, op)
        assert repr(ours) == repr(theirs)


def _record_post_accumulate(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    grads = []
    x.register_post_accumulate_grad_hook(lambda t: grads.append(t.grad.tolist()))
    (x * 3).sum().backward()
    (x * x).sum().backward()
    return grads


def test_post_accumulate_grad_hook_as_torch():
    assert _record_post_accumulate(gputensor) == _record_post_accumulate(torch) \
        == [[3.0, 3.0], [5.0, 7.0]]
    for lib in (gputensor, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        for bad, text in ((lib.ones(2), "cannot register a hook on a tensor that doesn't "
                                        "require gradient"),
                          (x * 2, "post accumulate grad hooks cannot be registered on "
                                  "non-leaf tensors")):
            with pytest.raises(RuntimeError) as info:
                bad.register_post_accumulate_grad_hook(print)
            assert str(info.value) == text


class _Dataset:
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n


@pytest.mark.parametrize("n", [7, 8, 1])
@pytest.mark.parametrize("replicas", [1, 2, 3])
@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("drop_last", [True, False])
def test_distributed_sampler_as_torch(n, replicas, shuffle, drop_last):
    for rank in range(replicas):
        for epoch in (0, 3):
            samplers = [cls(_Dataset(n), num_replicas=replicas, rank=rank, shuffle=shuffle,
                            seed=5, drop_last=drop_last) for cls in (OurSampler, TorchSampler)]
            for s in samplers:
                s.set_epoch(epoch)
            ours, theirs = (list(s) for s in samplers)
            assert ours == theirs and len(samplers[0]) == len(samplers[1]) == len(ours)


def test_distributed_sampler_errors_as_torch():
    for kwargs in ({"num_replicas": 2, "rank": 2}, {"num_replicas": 2, "rank": -1}):
        errors = []
        for cls in (OurSampler, TorchSampler):
            with pytest.raises(ValueError) as info:
                cls(_Dataset(4), **kwargs)
            errors.append(str(info.value))
        assert errors[0] == errors[1]
    assert np.array_equal(list(OurSampler(_Dataset(5), 1, 0, seed=2)),
                          list(TorchSampler(_Dataset(5), 1, 0, seed=2)))
