"""CPU kernels: ``numba.njit(parallel=True)`` loops built from ``kernels.rules``.

Importing this package imports numba; the CPU backend imports it on first use only.
"""

from .optim import KERNELS, compiled_kernel, optimizer_step
