"""Optimizer benchmarks: one Adam step over flat buffers vs torch's default (CPU) Adam."""

from __future__ import annotations

import numpy as np

from .runner import Case


def _adam_step(shapes):
    def make(lib):
        rng = np.random.default_rng(0)
        params = [lib.nn.Parameter(lib.tensor(rng.standard_normal(s, dtype=np.float32)))
                  for s in shapes]
        opt = lib.optim.Adam(params, lr=1e-3)  # torch's default: single-tensor loop on CPU
        loss = (params[0] * params[0]).sum()
        for p in params[1:]:
            loss = loss + (p * p).sum()
        loss.backward()  # gradients land where a training step puts them
        opt.step()  # warm up: compiles (or loads) the kernel outside the timings
        return opt.step
    return make


CASES = [
    Case("Adam step, 1 tensor of 10M", _adam_step([(10_000_000,)]), inner=3, target=0.5),
    Case("Adam step, 200 tensors of 5k", _adam_step([(5_000,)] * 200), inner=20, target=0.5),
]
