"""GPU benchmark rows for the reworked kernels, run as one section of benchmarks/gpu_bench.py:
cross entropy forward + backward (our fused kernels vs the CuPy formula vs torch CUDA, and
the forward kernel's two team sizes), our matmul's two variants vs cuBLAS, and a strided
elementwise add (32-bit vs 64-bit index arithmetic) vs CuPy."""

from __future__ import annotations

import numpy as np

CE_KERNEL_SHAPES = ((8192, 1000), (64, 32000))  # (rows, classes): many short rows, few long
MATMUL_KERNEL_SIZE = 4096
STRIDED_SIDE = 4096  # a transposed STRIDED_SIDE x STRIDED_SIDE float32 input


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"


def _forward_seconds(timer, cupy, x, y, lanes: int) -> float:
    """Device seconds of the cross-entropy forward kernel with ``lanes`` threads per row
    (the targets' flag read by no one, as on a GPU between synchronisations)."""
    from gputensor.kernels.cuda import losses

    flag = cupy.zeros(2, dtype="int64")
    return timer(lambda: losses.cross_entropy_forward(x, y, None, -100, bad=flag,
                                                      threads_per_row=lanes), reps=5)


def bench_cross_entropy_kernels(report, timer, cupy, torch):
    """cross_entropy forward + backward, wall time: ours, the CuPy formula, torch; then the
    forward kernel alone (device time) with a warp and with a block per row."""
    import gputensor
    from gputensor import backends
    from gputensor.kernels.cuda import losses

    backend = backends.backend_for("cuda")
    default = backend.use_our_kernel["cross_entropy"]
    try:
        for rows, classes in CE_KERNEL_SHAPES:
            seconds = {}
            for lib, ours in ((gputensor, True), (gputensor, False), (torch, None)):
                if lib is None:
                    continue
                x = lib.randn(rows, classes, device="cuda", requires_grad=True)
                y = lib.randint(0, classes, (rows,), device="cuda")

                def step(lib=lib, x=x, y=y):
                    x.grad = None
                    lib.nn.functional.cross_entropy(x, y).backward()

                if ours is not None:
                    backend.choose("cross_entropy", ours)
                seconds[ours] = timer.wall(step)
            reference = f"CuPy formula {_ms(seconds[False])}"
            if None in seconds:
                reference += f", torch {_ms(seconds[None])}"
            report.row(f"cross_entropy kernels forward+backward ({rows}, {classes}), wall",
                       _ms(seconds[True]), reference)
            x = cupy.random.random((rows, classes), dtype=cupy.float32)
            y = cupy.asarray(np.random.default_rng(0).integers(0, classes, rows))
            kernel_s = {lanes: _forward_seconds(timer, cupy, x, y, lanes)
                        for lanes in (losses.WARP_LANES, losses.TEAM_THREADS)}
            chosen = losses.threads_for(classes)
            report.row(f"cross_entropy forward kernel ({rows}, {classes}): "
                       f"{losses.WARP_LANES} vs {losses.TEAM_THREADS} threads per row",
                       f"{_ms(kernel_s[losses.WARP_LANES])} vs "
                       f"{_ms(kernel_s[losses.TEAM_THREADS])}",
                       f"threads_for picks {chosen}",
                       "the faster one", kernel_s[chosen] <= min(kernel_s.values()))
    finally:
        backend.choose("cross_entropy", default)


def bench_matmul_variants(report, timer, cupy):
    """Our matmul's variants (rolled K loop fitted to 128 registers; K step unrolled) vs
    cuBLAS, float32, device time."""
    from gputensor.kernels.cuda import matmul

    size = MATMUL_KERNEL_SIZE
    a = cupy.random.random((size, size), dtype=cupy.float32)
    b = cupy.random.random((size, size), dtype=cupy.float32)
    out = cupy.empty_like(a)
    flops = 2 * size ** 3
    t_cublas = timer(lambda: cupy.matmul(a, b, out=out), reps=3)
    for variant in matmul.VARIANTS:
        t_ours = timer(lambda v=variant: matmul.matmul(a, b, out=out, variant=v), reps=3)
        report.row(f"matmul {size}x{size} float32, variant {variant} (% of cuBLAS)",
                   f"{t_cublas / t_ours * 100:.0f}% ({flops / t_ours / 1e12:.1f} TFLOP/s)",
                   f"cuBLAS {flops / t_cublas / 1e12:.1f} TFLOP/s")


def bench_strided_add(report, timer, cupy):
    """``x.T + y`` on STRIDED_SIDE^2 float32 (the strided path): our kernel with 32-bit and
    with 64-bit index arithmetic vs CuPy, device time."""
    from gputensor.kernels.cuda import elementwise, launch

    side = STRIDED_SIDE
    x = cupy.random.random((side, side), dtype=cupy.float32)
    y = cupy.random.random((side, side), dtype=cupy.float32)
    out = cupy.empty_like(x)
    t_cupy = timer(lambda: cupy.add(x.T, y, out=out))
    t_narrow = timer(lambda: elementwise.elementwise("add", out, x.T, y))
    limit = launch.INDEX32_LIMIT
    launch.INDEX32_LIMIT = -1  # every size takes the int64 kernel
    try:
        t_wide = timer(lambda: elementwise.elementwise("add", out, x.T, y))
    finally:
        launch.INDEX32_LIMIT = limit
    report.row(f"elementwise add, transposed {side}x{side} float32 (32-bit index)",
               _ms(t_narrow), f"64-bit index {_ms(t_wide)}, CuPy {_ms(t_cupy)}")


def bench_kernels(report, timer, cupy, torch):
    """Every row of this module."""
    bench_cross_entropy_kernels(report, timer, cupy, torch)
    bench_matmul_variants(report, timer, cupy)
    bench_strided_add(report, timer, cupy)
