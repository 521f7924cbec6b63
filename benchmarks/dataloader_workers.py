"""DataLoader worker processes against loading in the main process, wall time.

Usage: python -m benchmarks.dataloader_workers [--items N] [--workers W ...] [--rounds R]

The dataset's ``__getitem__`` sleeps 2 ms (a file read or a decode stands in for it), so the
work is waiting, not computing: W workers wait side by side and one epoch takes about 1/W of
the time in-process, less the workers' start. Prints each configuration's best epoch of R and
its speed-up over ``num_workers=0``.
"""

from __future__ import annotations

import argparse
import time

import gputensor
from gputensor.utils.data import DataLoader, Dataset

SAMPLE_SECONDS = 0.002


class SlowDataset(Dataset):
    """``items`` samples, each a small tensor taking 2 ms to produce."""

    def __init__(self, items: int):
        self.items = items

    def __len__(self):
        return self.items

    def __getitem__(self, index):
        time.sleep(SAMPLE_SECONDS)
        return gputensor.full((8,), float(index))


def epoch_seconds(dataset, workers: int, rounds: int) -> float:
    """The best wall time of one full pass (workers started and stopped each time)."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _batch in DataLoader(dataset, batch_size=16, num_workers=workers):
            pass
        best = min(best, time.perf_counter() - start)
    return best


def main(argv=None) -> None:
    """Time each worker count and print the speed-ups."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=512)
    parser.add_argument("--workers", type=int, nargs="*", default=[2])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    dataset = SlowDataset(args.items)
    baseline = epoch_seconds(dataset, 0, args.rounds)
    print(f"num_workers=0: {baseline * 1e3:.0f} ms per epoch of {args.items} samples")
    for workers in args.workers:
        seconds = epoch_seconds(dataset, workers, args.rounds)
        print(f"num_workers={workers}: {seconds * 1e3:.0f} ms, {baseline / seconds:.2f}x")


if __name__ == "__main__":
    main()
