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

Kernels are compiled with the launch bounds a module's ``LAUNCH_BOUNDS`` (kernel name ->
bounds) gives.

``python -m gputensor.kernels.cuda.ptx --registers`` also assembles each PTX with ``ptxas``
(when it is on PATH; no GPU needed) and prints the registers per thread and the bytes spilled:
what decides how many blocks fit on an SM.
"""

from __future__ import annotations

import concurrent.futures
import importlib
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
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
    registers: str = ""  # ptxas's registers and spills (``--registers``)


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


def launch_bounds(modules=MODULES) -> dict:
    """Kernel name -> launch bounds, from the modules' ``LAUNCH_BOUNDS``."""
    bounds = {}
    for module_name in modules:
        try:
            module = importlib.import_module(f"{__package__}.{module_name}")
        except Exception:  # reported by registered_kernels
            continue
        bounds.update(getattr(module, "LAUNCH_BOUNDS", {}))
    return bounds


def assemble(ptx: str, arch: str) -> str:
    """``ptxas -v`` on ``ptx`` for ``arch`` (e.g. ``sm_90``): its resource report.

    PTX from a newer NVVM than the installed ptxas is lowered to the version ptxas names.
    """
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "kernel.ptx")
        for _ in range(2):
            with open(path, "w") as handle:
                handle.write(ptx)
            done = subprocess.run(["ptxas", f"-arch={arch}", "-v", path, "-o", os.devnull],
                                  capture_output=True, text=True)
            supported = re.search(r"current version is '([\d.]+)'", done.stderr)
            if done.returncode == 0 or not supported:
                return done.stderr
            ptx = re.sub(r"^\.version [\d.]+", f".version {supported.group(1)}", ptx,
                         flags=re.MULTILINE)
        return done.stderr


def register_report(stderr: str) -> str:
    """``"<n> registers, <m> bytes spilled"`` from ptxas's report (``?`` when missing)."""
    regs = re.search(r"Used (\d+) registers", stderr)
    spills = re.search(r"(\d+) bytes spill stores", stderr)
    return (f"{regs.group(1) if regs else '?'} registers, "
            f"{spills.group(1) if spills else '?'} bytes spilled")


def _jobs(signatures: int) -> int:
    """Worker processes for ``signatures`` compilations: the CPUs, at most one per 8."""
    return max(1, min(os.cpu_count() or 1, signatures // 8))


def _compile(modules, cc, indices, registers=False) -> list[PtxResult]:
    """Compile the registered (kernel, signature) pairs at ``indices`` (a worker's share);
    ``registers``: also assemble each with ptxas, its report in the result's ``registers``."""
    from numba import cuda

    kernels, _ = registered_kernels(modules)
    bounds = launch_bounds(modules)
    pairs = [(name, pyfunc, sig) for name, pyfunc, sigs in kernels for sig in sigs]
    target = f".target sm_{cc[0]}{cc[1]}"
    results = []
    for index in indices:
        name, pyfunc, signature = pairs[index]
        try:
            ptx, _ = cuda.compile_ptx(pyfunc, signature, cc=cc, launch_bounds=bounds.get(name))
        except Exception as error:  # every failure is reported
            results.append(PtxResult(name, dtype_of(signature), False,
                                     f"{type(error).__name__}: {error}", signature))
            continue
        ok = target in ptx
        try:
            layout = tuple(raw_launch.ptx_problems(ptx, signature))
        except Exception as error:  # a type the flattening does not know
            layout = (f"{type(error).__name__}: {error}",)
        report = register_report(assemble(ptx, f"sm_{cc[0]}{cc[1]}")) if registers else ""
        results.append(PtxResult(name, dtype_of(signature), ok,
                                 "" if ok else f"no '{target}' in the PTX", signature, layout,
                                 report))
    return results


def compile_all(modules=MODULES, cc=CC, jobs=None, registers=False) -> list[PtxResult]:
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
        return failures + _compile(modules, cc, range(total), registers)
    shares = [range(k, total, jobs) for k in range(jobs)]
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited state
    with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context) as pool:
        parts = list(pool.map(_compile, [modules] * jobs, [cc] * jobs, shares,
                              [registers] * jobs))
    ordered = [None] * total
    for share, part in zip(shares, parts):
        for index, result in zip(share, part):
            ordered[index] = result
    return failures + ordered


def main(argv=None) -> int:
    """Compile everything, print one line per kernel and dtype; 0 if all compiled."""
    argv = sys.argv[1:] if argv is None else argv
    registers = "--registers" in argv and shutil.which("ptxas") is not None
    if "--registers" in argv and not registers:
        print("--registers: no ptxas on PATH; compiling to PTX only", file=sys.stderr)
    start = time.perf_counter()
    try:
        results = compile_all(registers=registers)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for result in results:
        status = "ok  " if result.ok else "FAIL"
        print(f"{status} {result.kernel:36s} {result.dtype}")
        if result.registers:
            print(f"     {result.registers}")
        if not result.ok:
            print(f"     {result.error.splitlines()[0] if result.error else ''}")
    failed = sum(not r.ok for r in results)
    print(f"{len(results) - failed}/{len(results)} kernel x dtype compiled to PTX for "
          f"sm_{CC[0]}{CC[1]} in {time.perf_counter() - start:.1f} s")
    return 1 if failed or not results else 0


if __name__ == "__main__":
    sys.exit(main())
