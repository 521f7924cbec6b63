"""GPU benchmark rows for the host time of a kernel launch, run as one section of
benchmarks/gpu_bench.py: Numba's launch against our raw launch through CuPy
(kernels/cuda/raw_launch.py) and CuPy's own kernels, so ``USE_OUR_KERNEL`` and the launch
path can follow the numbers.

Host time per launch: ``time.perf_counter`` around ``LAUNCHES`` back-to-back launches with no
synchronisation (one sync after, outside the timing), median of a few rounds after a
warm-up. The kernel is the fused activation backward (three array arguments), on an
elementwise-sized activation, where the launch's host cost decides.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

LAUNCH_ELEMENTS = 128 * 512  # an MLP-sized activation
LAUNCHES = 1000  # launches per timed round
OPTIM_PARAMS = 100  # parameters of the optimizer step, of mixed sizes
CUDA_SOURCE = r"""
extern "C" __global__ void tanh_backward(float* out, const float* g, const float* y,
                                         long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
         i += (long long)blockDim.x * gridDim.x) {
        out[i] = g[i] * (1.0f - y[i] * y[i]);
    }
}
"""


def host_seconds(fn, cupy, rounds: int, launches: int = LAUNCHES) -> float:
    """Median host seconds per call of ``fn`` over ``launches`` calls without a sync."""
    for _ in range(5):
        fn()
    cupy.cuda.Device().synchronize()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(launches):
            fn()
        samples.append((time.perf_counter() - start) / launches)
        cupy.cuda.Device().synchronize()
    return statistics.median(samples)


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} us"


def _faster(times: dict) -> str:
    return min(times, key=times.get)


def bench_launch(report, timer, cupy):
    """Host microseconds per launch of a 3-array kernel, four ways; then the optimizer step
    (Adam over 100 parameters, one launch) through Numba's launch and through CuPy.

    Simulated (the benchmark's own test), only Numba's launch can run: the other ways are
    reported as not measured."""
    from gputensor.kernels.cuda import activations, launch, raw_launch

    rounds = max(3, timer.rounds)
    n = LAUNCH_ELEMENTS
    g = cupy.random.random(n, dtype=cupy.float32)
    y = cupy.random.random(n, dtype=cupy.float32)
    out = cupy.empty_like(y)
    pyfunc, signature = activations.BACKWARD["tanh"], activations.SIGNATURES[0]
    kernel = launch.compiled(pyfunc, signature)
    if isinstance(kernel, raw_launch.RawKernel):
        numba_kernel, raw = kernel.dispatcher, kernel
    else:  # simulated, or GPUTENSOR_NUMBA_LAUNCH=1 in this run
        numba_kernel = kernel
        raw = None if launch.SIMULATED else raw_launch.RawKernel(kernel, pyfunc, signature)
    grid, block = launch.grid_size(n, kernel=kernel), launch.BLOCK
    one = np.float32(1)
    ways = {"Numba launch": lambda: launch.configure(numba_kernel, grid, block)(
        out, launch.inp(g), launch.inp(y), n, one)}
    if raw is not None:
        elementwise_kernel = cupy.ElementwiseKernel(
            "T g, T y", "T out", "out = g * (1 - y * y)", "gputensor_bench_tanh_backward")
        raw_kernel = cupy.RawKernel(CUDA_SOURCE, "tanh_backward")
        ways.update({
            RAW: lambda: launch.configure(raw, grid, block)(out, g, y, n, one),
            "CuPy ElementwiseKernel": lambda: elementwise_kernel(g, y, out),
            "CuPy RawKernel": lambda: raw_kernel((grid,), (block,), (out, g, y, np.int64(n))),
        })
    times = {name: host_seconds(fn, cupy, rounds) for name, fn in ways.items()}
    what = f"host time per launch, 3-array kernel, {n} float32: raw launch"
    if raw is None:
        report.row(what, "not measured (simulated)", f"Numba launch {_us(times['Numba launch'])}")
        return
    others = ", ".join(f"{name} {_us(t)}" for name, t in times.items() if name != RAW)
    report.row(what, _us(times[RAW]), f"{others}; fastest: {_faster(times)}", "< Numba launch",
               times[RAW] < times["Numba launch"])
    report.hook("launch path: activation_backward host time per launch",
                times["Numba launch"], times[RAW])
    _bench_optimizer_launch(report, cupy, rounds)


RAW = "raw launch (ours, through CuPy)"


def _bench_optimizer_launch(report, cupy, rounds: int) -> None:
    """Host time per Adam step (one launch) over ``OPTIM_PARAMS`` parameters, both ways."""
    from gputensor.backends.flat_step import ArrayList, bind_step
    from gputensor.kernels.cuda import launch
    from gputensor.kernels.cuda import optim as optim_kernels

    sizes = [1000 * (1 + k % 7) for k in range(OPTIM_PARAMS)]
    total = sum(sizes)
    params = [cupy.random.random(s, dtype=cupy.float32) for s in sizes]
    grads = [cupy.random.random(s, dtype=cupy.float32) for s in sizes]
    m, v = cupy.zeros(total, cupy.float32), cupy.zeros(total, cupy.float32)
    scalars = {"beta1_c": 0.1, "beta1": 0.9, "beta2": 0.999, "beta2_c": 0.001, "eps": 1e-8,
               "weight_decay": 0.0, "decay": 1.0, "step_size": 1e-3,
               "bias_correction2_sqrt": 0.999 ** 0.5}
    flags = {"amsgrad": False, "maximize": False, "decoupled": False}
    times = {}
    saved = launch.NUMBA_LAUNCH
    try:
        for name, numba_launch in (("Numba launch", True), ("raw launch", False)):
            launch.NUMBA_LAUNCH = numba_launch
            launch._COMPILED.clear()
            optim_kernels._COMPILED.clear()
            arrays = {"param": ArrayList(params), "grad": ArrayList(grads), "exp_avg": m,
                      "exp_avg_sq": v}
            bound = bind_step(optim_kernels, "adam", arrays, {**scalars, **flags})
            times[name] = host_seconds(lambda bound=bound: bound(scalars), cupy, rounds,
                                       max(1, LAUNCHES // 4))
    finally:
        launch.NUMBA_LAUNCH = saved
        launch._COMPILED.clear()
        optim_kernels._COMPILED.clear()
    report.row(f"host time per Adam step, {OPTIM_PARAMS} float32 parameters (one launch): "
               "raw launch", _us(times["raw launch"]),
               f"Numba launch {_us(times['Numba launch'])}; fastest: {_faster(times)}",
               "< Numba launch", times["raw launch"] < times["Numba launch"])
    report.hook(f"launch path: optimizer_step adam x{OPTIM_PARAMS} params, host time per step",
                times["Numba launch"], times["raw launch"])
