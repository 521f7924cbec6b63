"""train_digits.py, data-parallel: each MPI process trains on its shard of the digits.

Run: mpiexec -n 2 python examples/train_digits_ddp.py [--epochs 30] [--out runs/digits_ddp]

The same MLP and Adam as train_digits.py, wrapped in DistributedDataParallel: every rank reads
its own shard (DistributedSampler) with ``batch_size / world size`` rows per step, so one step
of N ranks sees the same global batch as one process. Gradients are averaged across ranks in
backward, the replicas stay identical, and the test accuracy matches a one-process run. Each
rank prints its shard; rank 0 saves the checkpoint, which every rank then reloads and checks.
A script written for torchrun runs the same way under ``mpiexec`` (see gputensor.distributed).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import gputensor as torch
import gputensor.distributed as dist
from gputensor import nn
from gputensor.nn.parallel import DistributedDataParallel
from gputensor.utils.data import DataLoader, DistributedSampler, TensorDataset

try:  # run as a script: the sibling example; imported from tests: the examples package
    from train_digits import accuracy, load_data, make_model
except ImportError:
    from examples.train_digits import accuracy, load_data, make_model


def main(argv=None) -> float:
    """Train on this rank's shard, evaluate, checkpoint on rank 0; the test accuracy."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64, help="the global batch")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/digits_ddp")
    args = parser.parse_args(argv)

    dist.init_process_group("gloo")  # over MPI: rank and world size come from mpiexec
    rank, world = dist.get_rank(), dist.get_world_size()
    out = Path(args.out)
    torch.manual_seed(args.seed + rank)  # different replicas: DDP broadcasts rank 0's
    x_train, y_train, x_test, y_test = load_data("cpu", args.seed)
    train = TensorDataset(x_train, y_train)
    sampler = DistributedSampler(train, shuffle=True, seed=args.seed)
    loader = DataLoader(train, batch_size=args.batch_size // world, sampler=sampler)
    shard = list(sampler)
    print(f"rank {rank} of {world}: {len(shard)} of {len(train)} training samples "
          f"(first indices {shard[:5]})", flush=True)
    model = DistributedDataParallel(make_model())
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()

    start = time.perf_counter()
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    final = accuracy(model.module, x_test, y_test)
    print(f"rank {rank}: test accuracy {final:.4f} after {args.epochs} epochs in "
          f"{seconds:.1f} s", flush=True)

    checkpoint = out / "digits.gtckpt"
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        torch.save({"model": model.module.state_dict(), "epoch": args.epochs}, checkpoint)
        print(f"rank 0 saved {checkpoint}", flush=True)
    dist.barrier()
    restored = make_model()
    restored.load_state_dict(torch.load(checkpoint)["model"])
    assert accuracy(restored, x_test, y_test) == final, "the checkpoint disagrees"
    dist.destroy_process_group()
    return final


if __name__ == "__main__":
    main()
