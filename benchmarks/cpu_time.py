"""CPU time of benchmark cases for gputensor alone: steadier than wall time on a busy machine.

Usage: python -m benchmarks.cpu_time [--rounds N] [NAME ...]

Each case named (a part of its name; default: the optimizer steps, the seed notebook's
training step and the small add) runs in rounds of three times its ``inner`` calls;
prints the minimum and median per call of ``time.process_time`` (this process's CPU time,
all threads), which another process on the machine disturbs far less than wall time.
Compare two builds by alternating their runs.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import gputensor

from . import cases_core, cases_gpt, cases_nn, cases_optim

DEFAULT = ("Adam step", "MyCoolNet", "add, 10 elements, autograd on")


def cpu_time_per_call(fn, calls: int) -> float:
    """Seconds of this process's CPU time per call of ``fn`` over ``calls`` calls."""
    start = time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - start) / calls


def main(argv=None) -> None:
    """Time the chosen cases and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", default=list(DEFAULT))
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args(argv)
    cases = cases_optim.CASES + cases_nn.CASES + cases_core.CASES + cases_gpt.CASES
    for case in cases:
        if not any(name in case.name for name in args.names):
            continue
        fn = case.make(gputensor)
        fn()
        times = [cpu_time_per_call(fn, case.inner * 3) for _ in range(args.rounds)]
        print(f"{case.name:45s} min {min(times) * 1e6:10.1f} us  "
              f"median {np.median(times) * 1e6:10.1f} us")


if __name__ == "__main__":
    main()
