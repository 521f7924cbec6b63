"""DistributedDataParallel on 2 MPI processes against one process on the whole batch.

Run as ``mpiexec -n 2 python ddp.py DEVICE`` (DEVICE: "cpu", or "cuda": the simulated device
over the "nccl" backend's MPI stand-in).
"""

import copy
import os
import sys

if len(sys.argv) > 1 and sys.argv[1] == "cuda":
    os.environ["GPUTENSOR_SIMULATE_CUDA"] = "1"

import numpy as np

import gputensor as torch
import gputensor.distributed as dist
from gputensor import nn

DEVICE = sys.argv[1] if len(sys.argv) > 1 else "cpu"
STEPS = 20


class WithUnused(nn.Module):
    """A model with a layer its forward never uses."""

    def __init__(self):
        super().__init__()
        self.used = nn.Linear(4, 2)
        self.unused = nn.Linear(4, 2)
        self.register_buffer("count", torch.zeros(1))

    def forward(self, x):
        return self.used(x)


def make_model(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)).to(DEVICE)


def batches(steps, rows):
    rng = np.random.default_rng(1)
    return [(torch.tensor(rng.normal(size=(rows, 4)), dtype=torch.float64).float().to(DEVICE),
             torch.tensor(rng.normal(size=(rows, 2)), dtype=torch.float64).float().to(DEVICE))
            for _ in range(steps)]


def assert_same_parameters(a, b, what, tol=1e-6):
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        diff = float((p.detach().cpu() - q.detach().cpu()).abs().max())
        assert diff <= tol, f"rank {dist.get_rank()} {what}: {name} differs by {diff}"


def check_training(rank, size):
    reference = make_model(0)
    replica = make_model(rank)  # other seeds: the construction broadcasts rank 0's values
    ddp = nn.parallel.DistributedDataParallel(replica, bucket_cap_mb=0.0001)
    assert len(ddp._buckets) > 1  # the buckets are reduced one by one
    assert_same_parameters(ddp.module, reference, "after construction", 0.0)
    assert all(k.startswith("module.") for k in ddp.state_dict())
    opt = torch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    ref_opt = torch.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
    rows = 4
    for x, y in batches(STEPS, rows * size):
        opt.zero_grad()
        local = slice(rank * rows, (rank + 1) * rows)
        nn.functional.mse_loss(ddp(x[local]), y[local]).backward()
        opt.step()
        ref_opt.zero_grad()
        nn.functional.mse_loss(reference(x), y).backward()
        ref_opt.step()
    assert_same_parameters(ddp.module, reference, f"after {STEPS} steps")


def check_no_sync(rank, size):
    reference = make_model(3)
    ddp = nn.parallel.DistributedDataParallel(make_model(3 + rank))
    rows = 2
    (x1, y1), (x2, y2) = batches(2, rows * size)
    local = slice(rank * rows, (rank + 1) * rows)
    with ddp.no_sync():
        nn.functional.mse_loss(ddp(x1[local]), y1[local]).backward()
    local_grads = [p.grad.clone() for p in ddp.parameters()]
    # inside no_sync nothing was reduced: the gradient is this rank's own
    mine = copy.deepcopy(reference)
    nn.functional.mse_loss(mine(x1[local]), y1[local]).backward()
    for g, p in zip(local_grads, mine.parameters()):
        assert float((g - p.grad).abs().max()) <= 1e-6
    nn.functional.mse_loss(ddp(x2[local]), y2[local]).backward()
    (nn.functional.mse_loss(reference(x1), y1) + nn.functional.mse_loss(reference(x2), y2)
     ).backward()
    for p, q in zip(ddp.parameters(), reference.parameters()):
        diff = float((p.grad - q.grad).abs().max())
        assert diff <= 1e-6, f"no_sync accumulation differs by {diff}"


def check_unused(rank, size):
    torch.manual_seed(5)
    model = WithUnused().to(DEVICE)
    model.count.fill_(float(rank))
    ddp = nn.parallel.DistributedDataParallel(model, find_unused_parameters=True)
    x = torch.ones(2, 4, device=DEVICE) * (rank + 1)
    for _ in range(2):
        ddp(x).sum().backward()
    assert float(model.count) == 0.0  # rank 0's buffer, broadcast
    assert model.unused.weight.grad is None and model.used.weight.grad is not None
    want = sum(torch.ones(2, 4) * (r + 1) for r in range(size)).sum(0) / size * 2
    got = model.used.weight.grad.cpu()
    assert float((got - want).abs().max()) <= 1e-6, (got, want)

    strict = nn.parallel.DistributedDataParallel(WithUnused().to(DEVICE))
    strict(x).sum().backward()
    try:
        strict(x)
    except RuntimeError as err:
        text = str(err)
        assert text.startswith("Expected to have finished reduction in the prior iteration "
                               "before starting a new one."), text
        assert f"Parameter indices which did not receive grad for rank {rank}: 2 3\n" in text
    else:
        raise AssertionError("an unused parameter without find_unused_parameters did not raise")


def check_construction_errors():
    if DEVICE != "cpu":
        return
    try:
        nn.parallel.DistributedDataParallel(nn.Linear(2, 2), device_ids=[0])
    except ValueError as err:
        assert str(err) == (
            "DistributedDataParallel device_ids and output_device arguments only work with "
            "single-device/multiple-device GPU modules or CPU modules, but got device_ids [0], "
            "output_device None, and module parameters {device(type='cpu')}."), err
    else:
        raise AssertionError("device_ids with a CPU module did not raise")
    try:  # replicas of different shapes
        nn.parallel.DistributedDataParallel(nn.Linear(2, 2 + dist.get_rank()))
    except RuntimeError as err:
        assert str(err).startswith("DDP expects same model across all ranks"), err
    else:
        raise AssertionError("replicas of different shapes did not raise")


def main():
    dist.init_process_group("nccl" if DEVICE == "cuda" else "gloo")
    rank, size = dist.get_rank(), dist.get_world_size()
    check_construction_errors()
    check_training(rank, size)
    check_no_sync(rank, size)
    check_unused(rank, size)
    print(f"OK rank {rank} of {size}", flush=True)


if __name__ == "__main__":
    main()
