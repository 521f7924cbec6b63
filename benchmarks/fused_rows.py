"""Layer norm and softmax on the CPU: the row kernels vs the NumPy formulas vs torch.

Usage: python -m benchmarks.fused_rows [--quick] [--torch-threads N]

Times forward + backward of ``layer_norm`` and of ``softmax``/``log_softmax`` over the last
dim of a float32 (256, 1024) input (and a small (8, 64) one, where call overheads decide), in
one process: gputensor with the backend's row kernel, gputensor with the op's NumPy formula
(the hooks switched off), and torch; "bwd only" runs the row kernel for the backward
alone (the forward by the NumPy formula). The variants' samples alternate and medians are kept, so
the ratios hold on a busy machine; wall clock (``perf_counter``) and CPU time
(``process_time``, all threads) are both reported. ``USE_OUR_KERNEL`` in
gputensor/backends/cpu.py follows the "kernel / numpy" column.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

import gputensor
from gputensor.backends import cpu

from .runner import Case

SHAPES = ((256, 1024), (8, 64))


def _inputs(lib, shape, seed=0):
    rng = np.random.default_rng(seed)
    x = lib.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
    w = lib.tensor(rng.standard_normal(shape[-1]).astype(np.float32), requires_grad=True)
    b = lib.tensor(rng.standard_normal(shape[-1]).astype(np.float32), requires_grad=True)
    g = lib.tensor(rng.standard_normal(shape).astype(np.float32))
    return x, w, b, g


def layer_norm_step(lib, shape):
    """layer_norm forward + backward (input, weight and bias gradients)."""
    x, w, b, g = _inputs(lib, shape)

    def step():
        x.grad = w.grad = b.grad = None
        lib.nn.functional.layer_norm(x, (shape[-1],), w, b).backward(g)
    return step


def softmax_step(lib, shape, log=False):
    """softmax (log_softmax) over the last dim, forward + backward."""
    x, _, _, g = _inputs(lib, shape)
    fn = lib.log_softmax if log else lib.softmax

    def step():
        x.grad = None
        fn(x, -1).backward(g)
    return step


def _variants(make, kernels: dict):
    """``{name: step}``: gputensor with the row hooks set as ``kernels`` (hook -> our kernel
    or not), with every one of them on the NumPy formula, and torch."""
    def ours(choices):
        step = make(gputensor)

        def run():
            cpu.cpu_backend.use_our_kernel.update(choices)
            step()
        return run
    return {"kernel": ours(kernels), "numpy": ours(dict.fromkeys(kernels, False)),
            "torch": make(torch)}


def measure(fns, inner: int, rounds: int, clock) -> dict:
    """Median seconds per call of each function, samples alternating between them."""
    for fn in fns.values():  # warm up (and compile)
        for _ in range(max(inner // 10, 2)):
            fn()
    samples = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = clock()
            for _ in range(inner):
                fn()
            samples[name].append((clock() - start) / inner)
    return {name: statistics.median(s) for name, s in samples.items()}


def main(argv=None) -> None:
    """Print, per case, the kernel's time and its ratios to the NumPy formula and torch."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--torch-threads", type=int,
                        help="torch's intra-op threads (default: torch's own choice)")
    args = parser.parse_args(argv)
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    rounds = 5 if args.quick else 15
    saved = dict(cpu.cpu_backend.use_our_kernel)
    print(f"{'case':<40} {'clock':<8} {'kernel':>10} {'numpy':>10} {'torch':>10} "
          f"{'kernel/numpy':>13} {'kernel/torch':>13}")
    try:
        for shape in SHAPES:
            inner = 20 if shape[0] > 100 else 200
            both = {"softmax": True, "softmax_backward": True, "log_softmax_backward": True}
            backward = {"softmax": False, "softmax_backward": True, "log_softmax_backward": True}
            cases = [(f"layer_norm fwd+bwd {shape}", lambda lib, s=shape: layer_norm_step(lib, s),
                      {"layer_norm": True}),
                     (f"softmax fwd+bwd {shape}", lambda lib, s=shape: softmax_step(lib, s),
                      both),
                     (f"log_softmax fwd+bwd {shape}",
                      lambda lib, s=shape: softmax_step(lib, s, log=True), both),
                     (f"softmax bwd only {shape}", lambda lib, s=shape: softmax_step(lib, s),
                      backward),
                     (f"log_softmax bwd only {shape}",
                      lambda lib, s=shape: softmax_step(lib, s, log=True), backward)]
            for name, make, kernels in cases:
                fns = _variants(make, kernels)
                for clock_name, clock in (("wall", time.perf_counter),
                                          ("cpu", time.process_time)):
                    t = measure(fns, inner, rounds, clock)
                    print(f"{name:<40} {clock_name:<8} {t['kernel'] * 1e6:>8.1f}us "
                          f"{t['numpy'] * 1e6:>8.1f}us {t['torch'] * 1e6:>8.1f}us "
                          f"{t['kernel'] / t['numpy']:>13.2f} {t['kernel'] / t['torch']:>13.2f}")
    finally:
        cpu.cpu_backend.use_our_kernel.update(saved)


CASES = [Case("layer_norm fwd+bwd (256, 1024) float32",
              lambda lib: layer_norm_step(lib, (256, 1024)), inner=20),
         Case("softmax fwd+bwd (256, 1024) float32",
              lambda lib: softmax_step(lib, (256, 1024)), inner=20)]

if __name__ == "__main__":
    main()
