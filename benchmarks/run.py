"""Run the benchmark cases and print gputensor vs torch.

Usage: python -m benchmarks.run [--quick] [NAME ...]
"""

from __future__ import annotations

import argparse

import torch

import gputensor

from . import (
    cases_compile,
    cases_conv,
    cases_core,
    cases_eager,
    cases_gpt,
    cases_nn,
    cases_optim,
    cases_random,
    fused_rows,
)
from .runner import compile_package, import_seconds, print_table, run_case

ALL_CASES = (cases_core.CASES + cases_eager.CASES + cases_optim.CASES + cases_nn.CASES
             + fused_rows.CASES + cases_gpt.CASES + cases_conv.CASES + cases_random.CASES
             + cases_compile.CASES)


def main(argv=None) -> None:
    """Time every case, then print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("names", nargs="*", help="run only the cases whose name holds one")
    args = parser.parse_args(argv)
    rounds = 5 if args.quick else 15
    rows = []
    compile_package("gputensor", "gputensor.kernels")
    if not args.names:
        ours, theirs = import_seconds("gputensor", 3 if args.quick else 7), \
            import_seconds("torch", 3 if args.quick else 7)
        rows.append(("import (fresh interpreter)", ours, theirs, 0.1))
    for case in ALL_CASES:
        if args.names and not any(name in case.name for name in args.names):
            continue
        t = run_case(case, {"gputensor": gputensor, "torch": torch}, rounds)
        rows.append((case.name, t["gputensor"], t["torch"], case.target))
    print_table(rows)


if __name__ == "__main__":
    main()
