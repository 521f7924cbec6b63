"""gputensor.compile against torch eager: whole training steps and a fused elementwise chain.

In ``python -m benchmarks.run`` each row times compiled gputensor against torch eager (the
ratio's target is the issue's). ``python -m benchmarks.cases_compile`` prints the four
columns: gputensor eager, gputensor compiled, torch eager and torch.compile (inductor; its
compilation, tens of seconds here, is done before timing; ``--no-torch-compile`` skips it).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

import gputensor

from .cases_gpt import _gpt_mini_step, _gpt_step
from .cases_nn import _my_cool_net_step
from .runner import Case, format_seconds, run_case

SIZE = 4_000_000


def _fma_chain(lib):
    rng = np.random.default_rng(3)
    a, b, c = (lib.tensor(rng.standard_normal(SIZE).astype(np.float32)) for _ in range(3))

    def chain(a, b, c):
        return a * b + c
    return lambda: chain(a, b, c), chain, (a, b, c)


def _compiled(make_step):
    """``make(lib)``: gputensor's step compiled, torch's eager (the runner's two columns)."""
    def make(lib):
        step = make_step(lib)
        return lib.compile(step) if lib.__name__ == "gputensor" else step
    return make


def _compiled_chain(lib):
    run, chain, args = _fma_chain(lib)
    if lib.__name__ != "gputensor":
        return run
    compiled = lib.compile(chain)
    return lambda: compiled(*args)


CASES = [
    Case("compiled MyCoolNet step (SGD momentum)", _compiled(_my_cool_net_step), inner=200,
         target=0.3),
    Case("compiled char GPT 2x48 step (AdamW)", _compiled(_gpt_step), inner=3, target=0.5),
    Case("compiled GPT-mini 2x64 step (AdamW, clip_grad_norm_)", _compiled(_gpt_mini_step),
         inner=3, target=0.5),
    Case("compiled a * b + c, 4M float32", _compiled_chain, inner=20, target=0.6),
]


def main(argv=None) -> None:
    """Print eager/compiled gputensor, torch eager and torch.compile for each case."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--no-torch-compile", action="store_true")
    args = parser.parse_args(argv)
    rounds = 5 if args.quick else 15
    eager_makers = [_my_cool_net_step, _gpt_step, lambda lib: _fma_chain(lib)[0]]
    header = (f"{'case':<42} {'gt eager':>10} {'gt compiled':>12} {'torch eager':>12} "
              f"{'torch.compile':>14} {'compiled/torch':>15}")
    print(header)
    print("-" * len(header))
    for case, eager in zip(CASES, eager_makers):
        makers = {"gt eager": lambda e=eager: e(gputensor),
                  "gt compiled": lambda c=case: c.make(gputensor),
                  "torch eager": lambda e=eager: e(torch)}
        if not args.no_torch_compile:
            makers["torch.compile"] = lambda e=eager, c=case: _torch_compiled(torch, e, c)
        # one case whose "libraries" are the four columns: their samples alternate
        one = Case(case.name, lambda name, m=makers: m[name](), case.inner)
        times = run_case(one, {name: name for name in makers}, rounds)
        ratio = times["gt compiled"] / times["torch eager"]
        tc = format_seconds(times["torch.compile"]) if "torch.compile" in times else "-"
        print(f"{case.name:<42} {format_seconds(times['gt eager']):>10} "
              f"{format_seconds(times['gt compiled']):>12} "
              f"{format_seconds(times['torch eager']):>12} {tc:>14} "
              f"{ratio:>8.2f} (<= {case.target:g})")


def _torch_compiled(torch, eager_make, case):
    if case.make is _compiled_chain:
        _, chain, tensors = _fma_chain(torch)
        compiled = torch.compile(chain)
        return lambda: compiled(*tensors)
    return torch.compile(eager_make(torch))


if __name__ == "__main__":
    main()
