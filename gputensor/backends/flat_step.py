"""The part of a fused optimizer step both backends share: checks and the float16 path."""

from __future__ import annotations

import numpy as np

KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def run_step(kernel_step, rule: str, arrays, scalars, flags) -> None:
    """Check the flat buffers, then ``kernel_step(rule, arrays, scalars, flags)`` in place.

    Kernels exist for float32 and float64; other float buffers (float16) are updated
    through float32 copies written back afterwards.
    """
    n = arrays[0].shape
    for a in arrays:
        if a.shape != n or a.ndim != 1 or not a.flags.c_contiguous or a.dtype != arrays[0].dtype:
            raise ValueError("optimizer_step expects contiguous 1-D buffers of one shape and dtype")
    if arrays[0].dtype in KERNEL_DTYPES:
        kernel_step(rule, arrays, scalars, flags)
        return
    wide = {}  # by identity: a rule may get one buffer twice (an unused state slot)
    for a in arrays:
        if id(a) not in wide:
            wide[id(a)] = (a, a.astype(np.float32))
    kernel_step(rule, [wide[id(a)][1] for a in arrays], scalars, flags)
    for a, w in wide.values():
        a[...] = w
