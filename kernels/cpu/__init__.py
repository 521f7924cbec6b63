"""CPU kernels: ``numba.njit(parallel=True)`` loops built from ``kernels.rules`` (``optim``)
and from the row functions of ``kernels/rows.py`` (``rows``: layer norm and softmax).

Importing this package imports numba; the CPU backend imports it on first use only.
"""

from .optim import (
                    KERNELS,
                    array_list,
                    bind_step,
                    chunk_table,
                    compiled_kernel,
                    optimizer_step,
                    update_array_list,
)
