"""Compile every CUDA kernel, for every dtype it is used with, to PTX for sm_90.

``numba.cuda.compile_ptx`` needs NVVM (``numba-cuda[cu13]``) but no GPU, so CI runs this
check everywhere: a kernel the simulator runs but the real compiler rejects fails here.
It cannot run with ``NUMBA_ENABLE_CUDASIM=1`` in the process; tests run it in a
subprocess::

    python -m gputensor.kernels.cuda.ptx        # exit status 1 if any kernel fails

Kernels are found through each module's ``KERNELS`` registry (see the package docstring).
Each result also carries the raw launch's check of that PTX (``raw_launch.ptx_problems``:
the flattened arguments against the entry's ``.param`` list), which
``python -m gputensor.kernels.cuda.raw_launch`` reports.
"""

from __future__ import annotations

import concurrent.futures
import importlib
import multiprocessing
import os
import re
import sys
import time
from typing import NamedTuple

from . import raw_launch

MODULES = ("elementwise", "reduce", "matmul", "activations", "optim", "losses", "rows",
           "gelu")
OPTIONAL = ("optim",)  # written separately; skipped while it does not exist
CC = (9, 0)


class PtxResult(NamedTuple):
    """One kernel compiled for one signature."""

    kernel: str
    dtype: str
    ok: bool
    error: str = ""
    signature: str = ""
    # where the raw launch's flattened arguments disagree with the entry's .param list
    layout: tuple = ()


def dtype_of(signature: str) -> str:
    """The first float dtype named in a signature string (``-`` when none is)."""
    found = re.search(r"float(16|32|64)", signature)
    return found.group(0) if found else "-"


def registered_kernels(modules=MODULES):
    """``(name, pyfunc, signatures)`` of every kernel module, plus import failures.

    Returns ``(kernels, failures)``; a missing optional module is skipped.
    """
    kernels, failures = [], []
    for module_name in modules:
        full_name = f"{__package__}.{module_name}"
        try:
            module = importlib.import_module(full_name)
        except ModuleNotFoundError as error:
            if module_name in OPTIONAL and error.name == full_name:
                continue
            failures.append(PtxResult(f"{module_name} (import)", "-", False, repr(error)))
            continue
        except Exception as error:
            failures.append(PtxResult(f"{module_name} (import)", "-", False, repr(error)))
            continue
        kernels.extend(module.KERNELS)
    return kernels, failures


def _jobs(signatures: int) -> int:
    """Worker processes for ``signatures`` compilations: the CPUs, at most one per 8."""
    return max(1, min(os.cpu_count() or 1, signatures // 8))


def _compile(modules, cc, indices) -> list[PtxResult]:
    """Compile the registered (kernel, signature) pairs at ``indices`` (a worker's share)."""
    from numba import cuda

    kernels, _ = registered_kernels(modules)
    pairs = [(name, pyfunc, sig) for name, pyfunc, sigs in kernels for sig in sigs]
    target = f".target sm_{cc[0]}{cc[1]}"
    results = []
    for index in indices:
        name, pyfunc, signature = pairs[index]
        try:
            ptx, _ = cuda.compile_ptx(pyfunc, signature, cc=cc)
        except Exception as error:  # every failure is reported
            results.append(PtxResult(name, dtype_of(signature), False,
                                     f"{type(error).__name__}: {error}", signature))
            continue
        ok = target in ptx
        try:
            layout = tuple(raw_launch.ptx_problems(ptx, signature))
        except Exception as error:  # a type the flattening does not know
            layout = (f"{type(error).__name__}: {error}",)
        results.append(PtxResult(name, dtype_of(signature), ok,
                                 "" if ok else f"no '{target}' in the PTX", signature, layout))
    return results


def compile_all(modules=MODULES, cc=CC, jobs=None) -> list[PtxResult]:
    """Compile every registered kernel signature to PTX for ``cc``; one result per pair.

    ``jobs`` worker processes share the work (default: one per CPU, for 8+ signatures
    each); results come in registry order, import failures first.
    """
    from . import launch

    if launch.simulated():
        raise RuntimeError("compile_all needs the real CUDA compiler: unset NUMBA_ENABLE_CUDASIM")
    kernels, failures = registered_kernels(modules)
    total = sum(len(sigs) for _, _, sigs in kernels)
    jobs = _jobs(total) if jobs is None else max(1, jobs)
    if jobs == 1:
        return failures + _compile(modules, cc, range(total))
    shares = [range(k, total, jobs) for k in range(jobs)]
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited state
    with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context) as pool:
        parts = list(pool.map(_compile, [modules] * jobs, [cc] * jobs, shares))
    ordered = [None] * total
    for share, part in zip(shares, parts):
        for index, result in zip(share, part):
            ordered[index] = result
    return failures + ordered


def main() -> int:
    """Compile everything, print one line per kernel and dtype; 0 if all compiled."""
    start = time.perf_counter()
    try:
        results = compile_all()
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for result in results:
        status = "ok  " if result.ok else "FAIL"
        print(f"{status} {result.kernel:36s} {result.dtype}")
        if not result.ok:
            print(f"     {result.error.splitlines()[0] if result.error else ''}")
    failed = sum(not r.ok for r in results)
    print(f"{len(results) - failed}/{len(results)} kernel x dtype compiled to PTX for "
          f"sm_{CC[0]}{CC[1]} in {time.perf_counter() - start:.1f} s")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
