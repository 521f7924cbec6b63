"""Compile every CUDA kernel, for every dtype it is used with, to PTX for sm_90.

``numba.cuda.compile_ptx`` needs NVVM (``numba-cuda[cu13]``) but no GPU, so CI runs this
check everywhere: a kernel the simulator runs but the real compiler rejects fails here.
It cannot run with ``NUMBA_ENABLE_CUDASIM=1`` in the process; tests run it in a
subprocess::

    python -m gputensor.kernels.cuda.ptx        # exit status 1 if any kernel fails

Kernels are found through each module's ``KERNELS`` registry (see the package docstring).
"""

from __future__ import annotations

import importlib
import re
import sys
import time
from typing import NamedTuple

MODULES = ("elementwise", "reduce", "matmul", "activations", "optim")
OPTIONAL = ("optim",)  # written separately; skipped while it does not exist
CC = (9, 0)


class PtxResult(NamedTuple):
    """One kernel compiled for one signature."""

    kernel: str
    dtype: str
    ok: bool
    error: str = ""
    signature: str = ""


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


def compile_all(modules=MODULES, cc=CC) -> list[PtxResult]:
    """Compile every registered kernel signature to PTX for ``cc``; one result per pair."""
    from numba import cuda

    from . import launch

    if launch.simulated():
        raise RuntimeError("compile_all needs the real CUDA compiler: unset NUMBA_ENABLE_CUDASIM")
    kernels, results = registered_kernels(modules)
    target = f".target sm_{cc[0]}{cc[1]}"
    for name, pyfunc, signatures in kernels:
        for signature in signatures:
            try:
                ptx, _ = cuda.compile_ptx(pyfunc, signature, cc=cc)
            except Exception as error:
                results.append(PtxResult(name, dtype_of(signature), False,
                                         f"{type(error).__name__}: {error}", signature))
                continue
            ok = target in ptx
            results.append(PtxResult(name, dtype_of(signature), ok,
                                     "" if ok else f"no '{target}' in the PTX", signature))
    return results


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
