"""GPU benchmark rows for convolution and max pooling (gputensor on CuPy vs torch CUDA),
run as one section of benchmarks/gpu_bench.py."""

from __future__ import annotations

CONV_SHAPE = (32, 32, 32, 32)  # batch, channels, height, width


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"


def bench_conv(report, timer, torch):
    """Conv2d 3x3 (same channels, padding 1) and max_pool2d 2x2, forward + backward, float32:
    gputensor against torch CUDA."""
    import gputensor

    n, c, h, w = CONV_SHAPE
    cases = [
        ("conv2d 3x3", lambda lib, x, weight: lib.nn.functional.conv2d(x, weight, padding=1)),
        ("max_pool2d 2x2", lambda lib, x, weight: lib.nn.functional.max_pool2d(x, 2)),
    ]
    for name, fn in cases:
        seconds = {}
        for lib in (gputensor, torch):
            if lib is None:
                continue
            x = lib.randn(n, c, h, w, device="cuda", requires_grad=True)
            weight = lib.randn(c, c, 3, 3, device="cuda", requires_grad=True)

            def step(lib=lib, x=x, weight=weight, fn=fn):
                x.grad = weight.grad = None
                fn(lib, x, weight).sum().backward()

            seconds[lib.__name__] = timer.wall(step)
        ours = seconds["gputensor"]
        what = f"{name} forward+backward {CONV_SHAPE} float32"
        if "torch" in seconds:
            report.row(f"{what} (x torch)", f"{ours / seconds['torch']:.2f}x ({_ms(ours)})",
                       f"torch {_ms(seconds['torch'])}")
        else:
            report.row(what, _ms(ours))
