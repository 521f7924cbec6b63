"""GPU benchmarks: our Numba CUDA kernels against CuPy and torch CUDA, on one GPU.

Usage (a machine with an NVIDIA GPU, CuPy, numba-cuda and torch; gputensor installed)::

    python -m benchmarks.gpu_bench [--quick] [--out table.md]     (from the checkout)

Measures, against the card's device-to-device copy bandwidth measured in the same run:
elementwise add/mul/broadcast on 256 MB inputs (ours vs CuPy vs torch); the fused Adam step
over 100M float32 parameters (28 bytes per parameter) vs ``torch.optim.Adam(fused=True)``;
our matmul at 4096x4096 float32 vs cuBLAS; the MLP 784-512-512-10 batch-128 Adam training
step vs torch eager; and for every backend hook which implementation (Numba or CuPy) is
faster, so ``USE_OUR_KERNEL`` in gputensor/backends/cuda_backend.py can follow the numbers.
step vs torch eager; layer_norm and softmax/log_softmax forward + backward (our row kernels vs
the CuPy formulas vs torch); and for every backend hook which implementation (Numba or CuPy) is
faster, so ``USE_OUR_KERNEL`` in gputensor/backends/cuda.py can follow the numbers; and the
host time per launch (gpu_bench_launch.py): Numba's launch against our raw launch through
CuPy and CuPy's own kernels, for a 3-array kernel and an optimizer step over 100 parameters.
Device times come from CUDA events around several back-to-back launches (so the host's
launch cost overlaps the GPU work), medians of a few rounds after a warm-up; the MLP step is
timed on the wall clock between synchronisations, as a user sees it. Prints a Markdown
table with the card's name and the date (also written to ``--out``).
"""

from __future__ import annotations

import argparse
import datetime
import math
import statistics
import sys
import time
import traceback

import numpy as np

from .gpu_bench_conv import bench_conv
from .gpu_bench_graphs import bench_cuda_graphs
from .gpu_bench_kernels import bench_kernels
from .gpu_bench_launch import bench_launch

MB = 1 << 20
N = 256 * MB // 4  # float32 elements in 256 MB
ADAM_PARAMS = 100_000_000
MATMUL_SIZE = 4096
MLP_SIZES = (784, 512, 512, 10)
MLP_BATCH = 128
ADAM_BYTES = 28  # per parameter: read p, g, m, v; write p, m, v
CE_SHAPES = ((128, 10), (8192, 1000))  # (rows, classes) of the cross-entropy hook timings
# (rows, n) of the layer_norm/softmax row-kernel timings: a CPU-sized case, an attention-sized
# one (batch 8 x 16 heads x 512 queries over 512 keys) and a wide layer
ROW_SHAPES = ((256, 1024), (8 * 16 * 512, 512), (4096, 8192))
SMALL = 128 * 512  # elements of a small (MLP-sized) activation, where launch cost decides


class Timer:
    """Median device seconds per call of ``fn``: events around ``reps`` back-to-back calls."""

    def __init__(self, rounds: int, cupy, torch=None):
        self.rounds = rounds
        self.cupy = cupy
        self.torch = torch

    def __call__(self, fn, reps: int = 10, warmup: int = 2, events: str = "cupy") -> float:
        for _ in range(warmup):
            fn()
        self.sync()
        samples = []
        for _ in range(self.rounds):
            if events == "torch":
                start = self.torch.cuda.Event(enable_timing=True)
                end = self.torch.cuda.Event(enable_timing=True)
            else:
                start, end = self.cupy.cuda.Event(), self.cupy.cuda.Event()
            start.record()
            for _ in range(reps):
                fn()
            end.record()
            end.synchronize()
            if events == "torch":
                ms = start.elapsed_time(end)
            else:
                ms = self.cupy.cuda.get_elapsed_time(start, end)
            samples.append(ms / 1e3 / reps)
        return statistics.median(samples)

    def wall(self, fn, reps: int = 20, warmup: int = 5) -> float:
        """Median wall seconds per call, synchronising before and after each round."""
        for _ in range(warmup):
            fn()
        self.sync()
        samples = []
        for _ in range(self.rounds):
            start = time.perf_counter()
            for _ in range(reps):
                fn()
            self.sync()
            samples.append((time.perf_counter() - start) / reps)
        return statistics.median(samples)

    def sync(self):
        self.cupy.cuda.Device().synchronize()
        if self.torch is not None:
            self.torch.cuda.synchronize()


class Report:
    """Rows of the results table and the per-hook Numba-vs-CuPy choices."""

    def __init__(self):
        self.rows = []  # (measurement, ours, reference, target, met)
        self.hooks = []  # (hook, numba seconds, cupy seconds)
        self.notes = []

    def row(self, what, ours, reference="", target="", met=None):
        verdict = "" if met is None else ("yes" if met else "NO")
        self.rows.append((what, ours, reference, target, verdict))

    def hook(self, name, numba_s, cupy_s):
        self.hooks.append((name, numba_s, cupy_s))

    def markdown(self, header: str) -> str:
        lines = [header, "", "| measurement | ours | reference | target | met |",
                 "|---|---|---|---|---|"]
        lines += [f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in self.rows]
        lines += ["", "| backend hook | Numba | CuPy | faster |", "|---|---|---|---|"]
        for name, numba_s, cupy_s in self.hooks:
            faster = "Numba" if numba_s < cupy_s else "CuPy"
            lines.append(f"| {name} | {ms(numba_s)} | {ms(cupy_s)} | {faster} |")
        lines += [""] + [f"- {note}" for note in self.notes]
        return "\n".join(lines).rstrip() + "\n"


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"


def gbps(nbytes: float, seconds: float) -> float:
    return nbytes / seconds / 1e9


def section(report: Report, name: str, fn, *args) -> None:
    """Run one benchmark section; a failure becomes a row instead of ending the run."""
    try:
        fn(report, *args)
    except Exception as error:  # a section that cannot run on this machine is reported
        report.row(name, f"error: {type(error).__name__}: {str(error)[:120]}")
        traceback.print_exc(file=sys.stderr)


def bench_copy(report, timer, cupy) -> float:
    """Device-to-device copy of 256 MB; returns the best bandwidth (bytes/s) measured."""
    a = cupy.random.random(N, dtype=cupy.float32)
    b = cupy.empty_like(a)
    nbytes = 2 * a.nbytes  # read + write
    t_kernel = timer(lambda: cupy.copyto(b, a))
    t_memcpy = timer(lambda: b.data.copy_from_device_async(a.data, a.nbytes))
    best = max(nbytes / t_kernel, nbytes / t_memcpy)
    report.row("copy bandwidth, 256 MB (the reference)", f"{best / 1e9:.0f} GB/s",
               f"cupy.copyto {gbps(nbytes, t_kernel):.0f} GB/s, "
               f"memcpy {gbps(nbytes, t_memcpy):.0f} GB/s")
    return best


def bench_elementwise(report, timer, cupy, torch, copy_bw):
    """Ours vs CuPy vs torch on 256 MB inputs, as % of copy bandwidth."""
    from gputensor.kernels.cuda.elementwise import elementwise

    x = cupy.random.random(N, dtype=cupy.float32)
    y = cupy.random.random(N, dtype=cupy.float32)
    out = cupy.empty_like(x)
    rows, cols = N // 1024, 1024
    xb, yb, outb = x.reshape(rows, cols), y[:cols], out.reshape(rows, cols)
    side = math.isqrt(N)  # 8192 x 8192 float32 = 256 MB
    xt, yt, outt = x.reshape(side, side).T, y.reshape(side, side), out.reshape(side, side)
    cases = [  # name, ours, cupy, torch (built below), bytes moved
        ("add", lambda: elementwise("add", out, x, y), lambda: cupy.add(x, y, out=out), 3),
        ("mul", lambda: elementwise("mul", out, x, y), lambda: cupy.multiply(x, y, out=out), 3),
        ("broadcast add (N/1024, 1024) + (1024,)", lambda: elementwise("add", outb, xb, yb),
         lambda: cupy.add(xb, yb, out=outb), 2),
        ("add, transposed input", lambda: elementwise("add", outt, xt, yt),
         lambda: cupy.add(xt, yt, out=outt), 3),
    ]
    if torch is not None:
        tx, ty = torch.as_tensor(x, device="cuda"), torch.as_tensor(y, device="cuda")
        tout = torch.empty_like(tx)
        torch_fns = [lambda: torch.add(tx, ty, out=tout), lambda: torch.mul(tx, ty, out=tout),
                     lambda: torch.add(tx.view(rows, cols), ty[:cols], out=tout.view(rows, cols)),
                     lambda: torch.add(tx.view(side, side).T, ty.view(side, side),
                                       out=tout.view(side, side))]
    for k, (name, ours_fn, cupy_fn, arrays) in enumerate(cases):
        nbytes = arrays * 256 * MB
        t_ours, t_cupy = timer(ours_fn), timer(cupy_fn)
        ref = f"CuPy {nbytes / t_cupy / copy_bw * 100:.0f}%"
        if torch is not None:
            t_torch = timer(torch_fns[k], events="torch")
            ref += f", torch {nbytes / t_torch / copy_bw * 100:.0f}%"
        share = nbytes / t_ours / copy_bw
        target = k < 3  # the targets: add/mul/broadcast
        report.row(f"elementwise {name}, 256 MB (% of copy bandwidth)",
                   f"{share * 100:.0f}% ({gbps(nbytes, t_ours):.0f} GB/s)", ref,
                   ">= 90%" if target else "", share >= 0.9 if target else None)
        report.hook(f"elementwise {name}", t_ours, t_cupy)


def _cupy_way(name):
    """The CuPy implementation the backend uses when a hook is not our kernel."""
    from gputensor.backends import array_ops

    return getattr(array_ops, name)


def bench_hooks(report, timer, cupy):
    """sum_to_shape and activation_backward: ours vs the CuPy way, 256 MB inputs."""
    from gputensor.kernels.cuda.activations import activation_backward
    from gputensor.kernels.cuda.reduce import sum_to_shape

    cupy_sum = _cupy_way("sum_to_shape")
    x = cupy.random.random(N, dtype=cupy.float32)
    for shape_in, shape_out in [((N // 4096, 4096), (4096,)), ((4096, N // 4096), (4096, 1)),
                                ((N,), ())]:
        a = x.reshape(shape_in)
        t_ours = timer(lambda a=a, s=shape_out: sum_to_shape(a, s), reps=5)
        t_cupy = timer(lambda a=a, s=shape_out: cupy_sum(a, s), reps=5)
        report.hook(f"sum_to_shape {shape_in} -> {shape_out}", t_ours, t_cupy)
    formula = _cupy_way("activation_formula")
    g = cupy.random.random(N, dtype=cupy.float32)
    for kind in ("relu", "sigmoid", "tanh"):
        t_ours = timer(lambda k=kind: activation_backward(k, g, x), reps=5)
        t_cupy = timer(lambda k=kind: formula(cupy, k, g, x), reps=5)
        report.hook(f"activation_backward {kind}, 256 MB", t_ours, t_cupy)
    # at the MLP's size the launch cost decides: wall time, host included
    small_g, small_y = g[:SMALL].reshape(MLP_BATCH, -1), x[:SMALL].reshape(MLP_BATCH, -1)
    t_ours = timer.wall(lambda: activation_backward("relu", small_g, small_y))
    t_cupy = timer.wall(lambda: formula(cupy, "relu", small_g, small_y))
    report.hook(f"activation_backward relu, {tuple(small_g.shape)}, wall", t_ours, t_cupy)


def bench_cross_entropy(report, timer):
    """cross_entropy forward + backward through gputensor: our fused kernels vs CuPy's way."""
    import gputensor
    from gputensor import backends

    backend = backends.backend_for("cuda")
    default = backend.use_our_kernel["cross_entropy"]
    try:
        for rows, classes in CE_SHAPES:
            x = gputensor.randn(rows, classes, device="cuda", requires_grad=True)
            y = gputensor.randint(0, classes, (rows,), device="cuda")

            def step(x=x, y=y):
                x.grad = None
                gputensor.nn.functional.cross_entropy(x, y).backward()

            seconds = {}
            for ours in (True, False):
                backend.choose("cross_entropy", ours)
                seconds[ours] = timer.wall(step)
            report.hook(f"cross_entropy forward+backward ({rows}, {classes}), wall",
                        seconds[True], seconds[False])
    finally:
        backend.choose("cross_entropy", default)


def bench_rows(report, timer, torch):
    """layer_norm and softmax/log_softmax forward + backward through gputensor: our row
    kernels (one block per row) vs the CuPy formulas, and torch CUDA."""
    import gputensor
    from gputensor import backends

    backend = backends.backend_for("cuda")
    defaults = dict(backend.use_our_kernel)
    cases = [("layer_norm", "layer_norm", lambda lib, x, w, b: lib.nn.functional.layer_norm(
                  x, (x.shape[-1],), w, b)),
             ("softmax", "softmax", lambda lib, x, w, b: lib.softmax(x, -1)),
             ("log_softmax", "softmax", lambda lib, x, w, b: lib.log_softmax(x, -1))]
    try:
        for rows, n in ROW_SHAPES:
            for name, hook, fn in cases:
                seconds = {}
                for lib, ours in ((gputensor, True), (gputensor, False), (torch, None)):
                    if lib is None:
                        continue
                    x = lib.randn(rows, n, device="cuda", requires_grad=True)
                    w = lib.randn(n, device="cuda", requires_grad=True)
                    b = lib.randn(n, device="cuda", requires_grad=True)
                    g = lib.randn(rows, n, device="cuda")

                    def step(lib=lib, x=x, w=w, b=b, g=g, fn=fn):
                        x.grad = w.grad = b.grad = None
                        fn(lib, x, w, b).backward(g)

                    if ours is not None:
                        backend.choose(hook, ours)
                    seconds[ours] = timer.wall(step)
                report.hook(f"{name} forward+backward ({rows}, {n}) float32, wall",
                            seconds[True], seconds[False])
                if None in seconds:
                    report.row(f"{name} forward+backward ({rows}, {n}) float32 (x torch)",
                               f"{seconds[True] / seconds[None]:.2f}x ({ms(seconds[True])})",
                               f"torch {ms(seconds[None])}, CuPy formula "
                               f"{ms(seconds[False])}")
    finally:
        for hook in ("layer_norm", "softmax"):
            backend.choose(hook, defaults[hook])


GELU_SIZES = (1 << 18, 1 << 26)  # float32 elements: the CPU benchmark's size, 256 MB


def bench_gelu(report, timer, torch):
    """gelu (erf and tanh forms) forward + backward through gputensor: our fused kernels
    (kernels/cuda/gelu.py, one launch each way) vs the CuPy formula, and torch CUDA."""
    import gputensor
    from gputensor import backends

    backend = backends.backend_for("cuda")
    default = backend.use_our_kernel["gelu"]
    try:
        for n in GELU_SIZES:
            for form in ("none", "tanh"):
                seconds = {}
                for lib, ours in ((gputensor, True), (gputensor, False), (torch, None)):
                    if lib is None:  # no CUDA build of torch
                        continue
                    x = lib.randn(n, device="cuda", requires_grad=True)
                    g = lib.randn(n, device="cuda")

                    def step(lib=lib, x=x, g=g, form=form):
                        x.grad = None
                        lib.nn.functional.gelu(x, approximate=form).backward(g)

                    if ours is not None:
                        backend.choose("gelu", ours)
                    seconds[ours] = timer.wall(step)
                report.hook(f"gelu {form} forward+backward {n} float32, wall", seconds[True],
                            seconds[False])
                if None in seconds:
                    report.row(f"gelu {form} forward+backward {n} float32 (x torch)",
                               f"{seconds[True] / seconds[None]:.2f}x ({ms(seconds[True])})",
                               f"torch {ms(seconds[None])}, CuPy formula "
                               f"{ms(seconds[False])}")
    finally:
        backend.choose("gelu", default)


def _adam_scalars(step=1, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """The Adam rule's scalars and flags by name, as gputensor.optim.Adam passes them."""
    scalars = {"beta1_c": 1 - beta1, "beta1": beta1, "beta2": beta2, "beta2_c": 1 - beta2,
               "eps": eps, "weight_decay": 0.0, "decay": 1.0,
               "step_size": lr / (1 - beta1 ** step),
               "bias_correction2_sqrt": (1 - beta2 ** step) ** 0.5}
    return scalars, {"amsgrad": False, "maximize": False, "decoupled": False}


def bench_adam(report, timer, cupy, torch, copy_bw):
    """Fused Adam over 100M float32 parameters: our kernel, the CuPy way, torch fused."""
    from gputensor.backends.flat_step import ArrayList, run_step
    from gputensor.kernels.cuda import optim as optim_kernels

    n = ADAM_PARAMS
    p = cupy.random.random(n, dtype=cupy.float32)
    g = cupy.random.random(n, dtype=cupy.float32)
    m, v = cupy.zeros_like(p), cupy.zeros_like(p)
    scalars, flags = _adam_scalars()
    arrays = {"param": ArrayList([p]), "grad": ArrayList([g]), "exp_avg": m, "exp_avg_sq": v}
    t_ours = timer(lambda: run_step(optim_kernels, "adam", arrays, scalars, flags), reps=5)
    b1c, b1, b2, b2c, eps = (scalars[k] for k in ("beta1_c", "beta1", "beta2", "beta2_c", "eps"))
    step_size, bc2 = scalars["step_size"], scalars["bias_correction2_sqrt"]

    def cupy_adam():  # the same update in CuPy expressions (several kernels)
        m[...] = b1 * m + b1c * g
        v[...] = b2 * v + b2c * g * g
        p[...] -= step_size * m / (cupy.sqrt(v) / bc2 + eps)

    t_cupy = timer(cupy_adam, reps=3)
    report.hook("optimizer_step adam, 100M float32", t_ours, t_cupy)
    share = ADAM_BYTES * n / t_ours / copy_bw
    ref, faster = "", None
    if torch is not None:
        tp = torch.nn.Parameter(torch.as_tensor(p, device="cuda").clone())
        tp.grad = torch.as_tensor(g, device="cuda").clone()
        opt = torch.optim.Adam([tp], lr=1e-3, fused=True)
        t_torch = timer(opt.step, reps=5, events="torch")
        faster = t_ours < t_torch
        ref = (f"torch fused {ms(t_torch)} "
               f"({ADAM_BYTES * n / t_torch / copy_bw * 100:.0f}%)")
    report.row("fused Adam step, 100M float32 (% of copy bandwidth at 28 B/param)",
               f"{share * 100:.0f}% ({ms(t_ours)})", ref, ">= 85%, faster than torch fused",
               share >= 0.85 and faster is not False)


def bench_adam_stack(report, timer, copy_bw):
    """The whole optimizer stack: gputensor.optim.Adam.step on a 100M-element CUDA parameter."""
    import gputensor

    param = gputensor.nn.Parameter(gputensor.zeros(ADAM_PARAMS, device="cuda"))
    param.sum().backward()
    opt = gputensor.optim.Adam([param], lr=1e-3)
    t_stack = timer(opt.step, reps=5)
    report.row("gputensor.optim.Adam.step on cuda, 100M float32 (% of copy bandwidth)",
               f"{ADAM_BYTES * ADAM_PARAMS / t_stack / copy_bw * 100:.0f}% ({ms(t_stack)})")


def bench_matmul(report, timer, cupy, torch):
    """Our tiled float32 matmul vs cuBLAS at 4096 x 4096, TFLOP/s."""
    from gputensor.kernels.cuda.matmul import matmul

    size = MATMUL_SIZE
    a = cupy.random.random((size, size), dtype=cupy.float32)
    b = cupy.random.random((size, size), dtype=cupy.float32)
    out = cupy.empty_like(a)
    flops = 2 * size ** 3
    t_ours = timer(lambda: matmul(a, b, out=out), reps=3)
    t_cublas = timer(lambda: cupy.matmul(a, b, out=out), reps=3)
    error = float(cupy.abs(matmul(a, b) - cupy.matmul(a, b)).max())
    ref = f"cuBLAS (CuPy) {flops / t_cublas / 1e12:.1f} TFLOP/s"
    if torch is not None:
        ta, tb = torch.as_tensor(a, device="cuda"), torch.as_tensor(b, device="cuda")
        t_torch = timer(lambda: torch.matmul(ta, tb), reps=3, events="torch")
        ref += f", torch {flops / t_torch / 1e12:.1f}"
    share = t_cublas / t_ours
    report.row(f"matmul {size}x{size} float32 (% of cuBLAS)",
               f"{share * 100:.0f}% ({flops / t_ours / 1e12:.1f} TFLOP/s, max err {error:.1e})",
               ref, ">= 50%", share >= 0.5)
    report.hook(f"matmul {size}x{size} float32", t_ours, t_cublas)


def bench_mlp(report, timer, torch, rounds):
    """The MLP 784-512-512-10, batch 128, one Adam training step: gputensor vs torch eager."""
    import gputensor

    rng = np.random.default_rng(0)
    d_in, h1, h2, d_out = MLP_SIZES
    x_np = rng.standard_normal((MLP_BATCH, d_in)).astype(np.float32)
    y_np = rng.integers(0, d_out, MLP_BATCH)

    def build(lib):
        nn = lib.nn
        model = nn.Sequential(nn.Linear(d_in, h1), nn.ReLU(), nn.Linear(h1, h2), nn.ReLU(),
                              nn.Linear(h2, d_out)).to("cuda")
        opt = lib.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()
        x = lib.tensor(x_np).to("cuda")
        y = lib.tensor(y_np).to("cuda")

        def step():
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()

        return step

    t_ours = timer.wall(build(gputensor))
    if torch is None:
        report.row("MLP 784-512-512-10 batch 128 Adam step", ms(t_ours), "torch: not installed")
        return
    t_torch = timer.wall(build(torch))
    ratio = t_ours / t_torch
    report.row("MLP 784-512-512-10 batch 128 Adam step (x torch eager)",
               f"{ratio:.2f}x ({ms(t_ours)})", f"torch eager {ms(t_torch)}", "<= 1.2x",
               ratio <= 1.2)


def free(cupy, torch) -> None:
    """Return cached device memory of finished sections to the driver."""
    cupy.get_default_memory_pool().free_all_blocks()
    if torch is not None:
        torch.cuda.empty_cache()


def card_header(cupy) -> str:
    """``## <card name>, <date>`` plus the versions that produced the numbers."""
    import numba

    props = cupy.cuda.runtime.getDeviceProperties(0)
    name = props["name"]
    name = name.decode() if isinstance(name, bytes) else name
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    try:
        import numba_cuda
        numba_cuda_version = numba_cuda.__version__
    except Exception:
        numba_cuda_version = "?"
    try:
        import torch
        torch_version = torch.__version__
    except Exception:
        torch_version = "not installed"
    driver = cupy.cuda.runtime.driverGetVersion()
    return (f"## {name}, {date}\n\nCuPy {cupy.__version__}, numba {numba.__version__}, "
            f"numba-cuda {numba_cuda_version}, torch {torch_version}, CUDA driver {driver}")


def main(argv=None) -> int:
    """Run every section and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds per measurement")
    parser.add_argument("--out", help="also write the Markdown table to this file")
    args = parser.parse_args(argv)
    import cupy

    try:
        import torch
        if not torch.cuda.is_available():
            torch = None
    except ImportError:
        torch = None
    rounds = 3 if args.quick else 7
    timer = Timer(rounds, cupy, torch)
    report = Report()
    header = card_header(cupy)
    copy_bw = None
    try:
        copy_bw = bench_copy(report, timer, cupy)
    except Exception as error:
        report.row("copy bandwidth", f"error: {error}")
    if copy_bw:
        section(report, "elementwise", bench_elementwise, timer, cupy, torch, copy_bw)
        free(cupy, torch)
    section(report, "host time per launch", bench_launch, timer, cupy)
    section(report, "sum_to_shape / activation_backward", bench_hooks, timer, cupy)
    section(report, "cross_entropy", bench_cross_entropy, timer)
    section(report, "layer_norm / softmax rows", bench_rows, timer, torch)
    section(report, "gelu", bench_gelu, timer, torch)
    free(cupy, torch)
    if copy_bw:
        section(report, "fused Adam", bench_adam, timer, cupy, torch, copy_bw)
        free(cupy, torch)
        section(report, "gputensor.optim.Adam on cuda", bench_adam_stack, timer, copy_bw)
    free(cupy, torch)
    section(report, "matmul", bench_matmul, timer, cupy, torch)
    section(report, "MLP training step", bench_mlp, timer, torch, rounds)
    section(report, "CUDA graph training steps", bench_cuda_graphs, timer, torch)
    section(report, "conv2d / max_pool2d", bench_conv, timer, torch)
    free(cupy, torch)
    section(report, "cross entropy / matmul / strided kernels", bench_kernels, timer, cupy,
            torch)
    if torch is None:
        report.notes.append("torch CUDA unavailable: torch columns skipped")
    report.notes.append(f"medians of {rounds} rounds after warm-up; device times from CUDA "
                        "events around back-to-back launches; MLP step on the wall clock")
    table = report.markdown(header)
    print(table)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
