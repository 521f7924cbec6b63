"""Elementwise chains as one ``numba.njit(parallel=True)`` loop, generated from their text.

``fused_kernel(lines, n_inputs, n_outputs, dtype, parallel)`` compiles a loop over flat
C-contiguous arrays ``kernel(out0, .., in0, ..)`` whose body is ``lines`` (assignments to
``x<k>`` names; ``in<k>`` and ``out<k>`` name the element ``i`` of each array). The source
is written to a module file in a cache folder, named by a digest of its text, so Numba's
``cache=True`` keeps the machine code on disk and a later process loads it instead of
compiling; in a process each (text, dtype, parallel) compiles once.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile

import numpy as np

_COMPILED = {}
_TYPES = {np.dtype(np.float32): "float32", np.dtype(np.float64): "float64"}


def cache_folder() -> str:
    """Where generated kernel modules live (NUMBA_CACHE_DIR, else the user's cache)."""
    base = os.environ.get("NUMBA_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "gputensor")
    folder = os.path.join(base, "fused")
    os.makedirs(folder, exist_ok=True)
    return folder


def kernel_source(lines, n_inputs: int, n_outputs: int, dtype, parallel: bool) -> str:
    """The module text of one fused loop."""
    scalar = _TYPES[np.dtype(dtype)]
    arrays = [f"out{k}" for k in range(n_outputs)] + [f"in{k}" for k in range(n_inputs)]
    signature = f"void({', '.join([scalar + '[::1]'] * len(arrays))})"
    body = "\n".join(f"        {line}" for line in lines)
    loop = "prange" if parallel else "range"
    return (f'"""A generated elementwise loop (gputensor.kernels.cpu.fused)."""\n\n'
            "import numba\nimport numpy as np\nfrom numba import prange  # noqa: F401\n\n\n"
            f"@numba.njit({signature!r}, parallel={parallel}, cache=True, "
            "error_model='numpy')\n"
            f"def kernel({', '.join(arrays)}):\n"
            f"    for i in {loop}(out0.shape[0]):\n{body}\n")


def fused_kernel(lines, n_inputs: int, n_outputs: int, dtype, parallel: bool = True):
    """The compiled loop for ``lines`` (see the module doc), cached."""
    source = kernel_source(tuple(lines), n_inputs, n_outputs, dtype, parallel)
    kernel = _COMPILED.get(source)
    if kernel is None:
        digest = hashlib.sha1(source.encode()).hexdigest()[:20]
        path = os.path.join(cache_folder(), f"fused_{digest}.py")
        if not os.path.exists(path):
            with tempfile.NamedTemporaryFile("w", dir=os.path.dirname(path), suffix=".tmp",
                                             delete=False) as f:
                f.write(source)
            os.replace(f.name, path)  # whole or absent, for concurrent processes
        spec = importlib.util.spec_from_file_location(f"gputensor_fused_{digest}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # Numba's cache finds the kernel's globals by name
        spec.loader.exec_module(module)
        kernel = _COMPILED[source] = module.kernel
    return kernel
