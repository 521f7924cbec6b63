"""Time gputensor and torch side by side in one process: alternating runs, medians, ratio."""

from __future__ import annotations

import compileall
import importlib.util
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable


@dataclass
class Case:
    """A benchmark: ``make(lib)`` returns a no-argument callable to time."""

    name: str
    make: Callable
    inner: int = 1000  # calls per timed sample
    target: float | None = None  # the ratio gputensor/torch we aim to stay under


def time_call(fn, inner: int) -> float:
    """Seconds per call, over ``inner`` calls."""
    start = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - start) / inner


def run_case(case: Case, libs, rounds: int = 15):
    """Median seconds per call for each library, sampled alternately."""
    fns = {name: case.make(lib) for name, lib in libs.items()}
    for fn in fns.values():  # warm up
        time_call(fn, max(case.inner // 10, 1))
    samples = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            samples[name].append(time_call(fn, case.inner))
    return {name: statistics.median(s) for name, s in samples.items()}


def compile_package(*modules: str) -> None:
    """Byte-compile packages' sources, as ``pip install`` does for what it installs.

    A checkout (or an editable install) run with PYTHONDONTWRITEBYTECODE=1 would otherwise
    compile every module from source on each import.
    """
    for module in modules:
        spec = importlib.util.find_spec(module)
        for folder in spec.submodule_search_locations or ():
            compileall.compile_dir(folder, quiet=1)


def import_seconds(module: str, rounds: int = 7) -> float:
    """Median wall time of ``python -c 'import module'`` in a fresh interpreter."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def format_seconds(s: float) -> str:
    """Seconds in a readable unit."""
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def print_table(rows) -> None:
    """rows: (name, ours, torch, target) -> a table with the ratio and the verdict."""
    header = f"{'case':<44} {'gputensor':>11} {'torch':>11} {'ratio':>7}  target"
    print(header)
    print("-" * len(header))
    for name, ours, theirs, target in rows:
        ratio = ours / theirs
        verdict = "" if target is None else (f"<= {target:g} " +
                                             ("ok" if ratio <= target else "MISSED"))
        print(f"{name:<44} {format_seconds(ours):>11} {format_seconds(theirs):>11} "
              f"{ratio:>7.2f}  {verdict}")
