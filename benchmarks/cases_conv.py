"""Convolution and max pooling on the CPU, gputensor against torch in one process (torch with
its default thread count).

Usage: python -m benchmarks.cases_conv [--quick]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

import gputensor

from .runner import Case, print_table, run_case

BATCH, CHANNELS, SIZE = 32, 32, 32


def _images(lib, requires_grad):
    rng = np.random.default_rng(0)
    data = rng.standard_normal((BATCH, CHANNELS, SIZE, SIZE)).astype(np.float32)
    return lib.tensor(data, requires_grad=requires_grad)


def _conv(lib):
    layer = lib.nn.Conv2d(CHANNELS, CHANNELS, 3, padding=1)
    with lib.no_grad():
        layer.weight.copy_(lib.tensor(np.random.default_rng(1).uniform(
            -0.1, 0.1, tuple(layer.weight.shape)).astype(np.float32)))
    return layer


def _conv_forward(lib):
    layer, x = _conv(lib), _images(lib, False)

    def step():
        with lib.no_grad():
            layer(x)
    return step


def _conv_forward_backward(lib):
    layer, x = _conv(lib), _images(lib, True)

    def step():
        layer(x).sum().backward()
        layer.weight.grad = layer.bias.grad = x.grad = None
    return step


def _max_pool_forward(lib):
    x = _images(lib, False)
    return lambda: lib.nn.functional.max_pool2d(x, 2)


def _max_pool_forward_backward(lib):
    x = _images(lib, True)

    def step():
        lib.nn.functional.max_pool2d(x, 2).sum().backward()
        x.grad = None
    return step


CASES = [
    Case("Conv2d 3x3 32->32 32x32 b32 forward", _conv_forward, inner=3, target=1.5),
    Case("Conv2d 3x3 32->32 32x32 b32 fwd+bwd", _conv_forward_backward, inner=2, target=1.5),
    Case("max_pool2d 2x2 32x32x32x32 forward", _max_pool_forward, inner=10, target=1.5),
    Case("max_pool2d 2x2 32x32x32x32 fwd+bwd", _max_pool_forward_backward, inner=5,
         target=1.5),
]


def main(argv=None) -> None:
    """Time these cases and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    args = parser.parse_args(argv)
    rows = []
    for case in CASES:
        t = run_case(case, {"gputensor": gputensor, "torch": torch}, 5 if args.quick else 15)
        rows.append((case.name, t["gputensor"], t["torch"], case.target))
    print_table(rows)


if __name__ == "__main__":
    main()
