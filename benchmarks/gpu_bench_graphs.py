"""GPU benchmark rows for CUDA graphs, run as one section of benchmarks/gpu_bench.py:
training steps of the MLP 784-512-512-10 (Adam) and of MyCoolNet (SGD momentum) as
gputensor eager, compiled and compiled with ``mode="reduce-overhead"`` (a CUDA graph),
against torch eager and torch's whole-step CUDA graph; wall time per step."""

from __future__ import annotations

import numpy as np

MLP_SIZES = (784, 512, 512, 10)
MLP_BATCH = 128


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms"


def _graph_models(lib, capturable=False):
    """{name: (model, optimizer, loss, x, y)}: the MLP 784-512-512-10 batch 128 with Adam,
    and the seed tour's MyCoolNet (5-10-15-10-5, one sample) with SGD momentum
    (``capturable``: torch's Adam keeps its step on the device, for torch's CUDA graph)."""
    rng = np.random.default_rng(0)
    nn = lib.nn
    d_in, h1, h2, d_out = MLP_SIZES
    mlp = nn.Sequential(nn.Linear(d_in, h1), nn.ReLU(), nn.Linear(h1, h2), nn.ReLU(),
                        nn.Linear(h2, d_out)).to("cuda")
    capturable = {"capturable": True} if capturable else {}
    small = nn.Sequential(nn.Linear(5, 10), nn.ReLU(), nn.Linear(10, 15), nn.ReLU(),
                          nn.Linear(15, 10), nn.ReLU(), nn.Linear(10, 5), nn.Sigmoid())
    small = small.to("cuda")
    return {
        "MLP 784-512-512-10 batch 128 Adam step": (
            mlp, lib.optim.Adam(mlp.parameters(), lr=1e-3, **capturable), nn.CrossEntropyLoss(),
            lib.tensor(rng.standard_normal((MLP_BATCH, d_in)).astype(np.float32)).to("cuda"),
            lib.tensor(rng.integers(0, d_out, MLP_BATCH)).to("cuda")),
        "MyCoolNet 5-10-15-10-5 SGD momentum step": (
            small, lib.optim.SGD(small.parameters(), lr=0.1, momentum=0.8),
            lambda out, y: ((y - out) ** 2).sum(),
            lib.tensor(rng.standard_normal(5).astype(np.float32)).to("cuda"),
            lib.zeros(5).to("cuda")),
    }


def _train_step(model, opt, loss_fn):
    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def _torch_graphed_step(torch, model, opt, loss_fn, x, y):
    """The whole step captured as one CUDA graph, as torch's docs' "whole network capture"."""
    static_x, static_y = x.clone(), y.clone()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm-up on a side stream
        for _ in range(3):
            _train_step(model, opt, loss_fn)(static_x, static_y)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    opt.zero_grad(set_to_none=True)
    with torch.cuda.graph(graph):
        static_loss = loss_fn(model(static_x), static_y)
        static_loss.backward()
        opt.step()

    def step(x, y):
        static_x.copy_(x)
        static_y.copy_(y)
        graph.replay()
        return static_loss
    return step


def bench_cuda_graphs(report, timer, torch):
    """Training steps of a small and a tiny model: gputensor eager, compiled, compiled with
    mode="reduce-overhead" (one CUDA graph per step plus the optimizer's launch), torch eager
    and torch's whole-step CUDA graph; wall time per step."""
    import gputensor

    libs = [gputensor] + ([torch] if torch is not None else [])
    for name in _graph_models(gputensor):
        seconds, notes = {}, []
        for lib in libs:
            kinds = ("eager", "compiled", "reduce-overhead") if lib is gputensor \
                else ("eager", "CUDA graph")
            for kind in kinds:
                model, opt, loss_fn, x, y = _graph_models(lib, kind == "CUDA graph")[name]
                step = _train_step(model, opt, loss_fn)
                if kind == "compiled":
                    step = gputensor.compile(step)
                elif kind == "reduce-overhead":
                    step = gputensor.compile(step, mode="reduce-overhead")
                elif kind == "CUDA graph":
                    step = _torch_graphed_step(torch, model, opt, loss_fn, x, y)
                seconds[lib.__name__, kind] = timer.wall(lambda s=step, x=x, y=y: s(x, y))
                if kind == "reduce-overhead":
                    report_ = step.compile_report()[0]
                    notes.append(f"graph {report_.get('cuda_graph')}"
                                 + (f" ({report_['cuda_graph_reason']})"
                                    if report_.get("cuda_graph_reason") else ""))
        ours = seconds["gputensor", "reduce-overhead"]
        reference = ", ".join(f"{lib} {kind} {_ms(t)}" for (lib, kind), t in seconds.items()
                              if (lib, kind) != ("gputensor", "reduce-overhead"))
        graphed = seconds.get(("torch", "CUDA graph"))
        ratio = "" if graphed is None else f"{ours / graphed:.2f}x torch graph, "
        report.row(f"{name}, compiled reduce-overhead; {'; '.join(notes)}",
                   f"{ratio}{_ms(ours)}", reference)
