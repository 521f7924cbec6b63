"""All-reduce through gputensor.distributed against raw mpi4py, and the DDP step time.

Usage: mpiexec -n 2 python -m benchmarks.distributed_bench [--quick]

1. ``dist.all_reduce`` of a float32 CPU tensor against ``comm.Allreduce(MPI.IN_PLACE, buf)``
   of mpi4py on a NumPy buffer of the same size, with gputensor's cross-rank fingerprint check
   on (the default) and off (``GPUTENSOR_DISTRIBUTED_CHECKS=0``). The three variants' samples
   alternate (each one first in turn) and medians are kept; the bus bandwidth is
   ``2 (N - 1) / N * bytes / time`` (the ring model: what each rank sends).
2. One training step (forward, backward, SGD step) of an MLP 784-512-512-10 (669,706
   parameters, 2.7 MB of float32 gradients) on a batch of 64 rows per rank: the plain model
   against the same model in DistributedDataParallel, run in the same processes.
Rank 0 prints the tables (Markdown).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import gputensor as torch
import gputensor.distributed as dist
from gputensor import nn

SIZES = (4 << 10, 64 << 10, 1 << 20, 4 << 20, 16 << 20)


def timed(fn) -> float:
    dist.barrier()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def all_reduce_table(repeats: int) -> list[str]:
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    size = comm.Get_size()
    rows = ["| bytes | mpi4py | gputensor | overhead | gputensor, no check | overhead | "
            "bus GB/s (mpi4py) |", "|---|---|---|---|---|---|---|"]
    for nbytes in SIZES:
        buf = np.ones(nbytes // 4, np.float32)
        tensor = torch.ones(nbytes // 4)

        def raw(buf=buf):
            comm.Allreduce(MPI.IN_PLACE, buf)

        def ours(tensor=tensor):
            dist.all_reduce(tensor)

        def ours_unchecked(tensor=tensor):
            os.environ["GPUTENSOR_DISTRIBUTED_CHECKS"] = "0"
            dist.all_reduce(tensor)
            os.environ["GPUTENSOR_DISTRIBUTED_CHECKS"] = "1"
        samples = {raw: [], ours: [], ours_unchecked: []}
        inner = max(1, (8 << 20) // nbytes)
        for fn in samples:
            fn()
        order = list(samples)
        for i in range(repeats):  # the variants alternate, each first in turn
            for fn in order[i % 3:] + order[:i % 3]:
                samples[fn].append(timed(lambda fn=fn, inner=inner: [fn() for _ in range(inner)])
                                   / inner)
        t_raw, t_ours, t_free = (statistics.median(samples[f]) for f in (raw, ours,
                                                                          ours_unchecked))
        bus = 2 * (size - 1) / size * nbytes / t_raw / 1e9
        rows.append(f"| {nbytes:,} | {t_raw * 1e6:.0f} us | {t_ours * 1e6:.0f} us | "
                    f"{(t_ours / t_raw - 1) * 100:+.0f}% | {t_free * 1e6:.0f} us | "
                    f"{(t_free / t_raw - 1) * 100:+.0f}% | {bus:.2f} |")
    return rows


def ddp_table(repeats: int) -> list[str]:
    rank = dist.get_rank()
    torch.manual_seed(0)
    plain = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                          nn.Linear(512, 10))
    torch.manual_seed(0)
    wrapped = nn.parallel.DistributedDataParallel(
        nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                      nn.Linear(512, 10)))
    rng = np.random.default_rng(rank)
    x = torch.tensor(rng.normal(size=(64, 784)).astype(np.float32))
    y = torch.tensor(rng.integers(0, 10, 64))
    steps = {}
    for name, model in (("one process (no DDP)", plain), ("DDP, 2 processes", wrapped)):
        opt = torch.optim.SGD(model.parameters(), lr=0.01)

        def step(model=model, opt=opt):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        steps[name] = step
        step()
    samples = {name: [] for name in steps}
    names = list(steps)
    for i in range(repeats):
        for name in names[i % 2:] + names[:i % 2]:
            samples[name].append(timed(steps[name]))
    base = statistics.median(samples["one process (no DDP)"])
    rows = ["| step (MLP 784-512-512-10, 64 rows per rank) | median | vs one process |",
            "|---|---|---|"]
    for name, kept in samples.items():
        t = statistics.median(kept)
        rows.append(f"| {name} | {t * 1e3:.2f} ms | {t / base:.2f}x |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    dist.init_process_group("mpi")
    repeats = 5 if args.quick else 21
    rows = all_reduce_table(repeats) + [""] + ddp_table(repeats)
    if dist.get_rank() == 0:
        print(f"{dist.get_world_size()} processes, MPI over loopback (shared memory)\n")
        print("\n".join(rows))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
