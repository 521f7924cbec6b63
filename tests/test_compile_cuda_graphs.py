"""gputensor.compile(mode="reduce-overhead"): the replay launched as a CUDA graph (simulated
CUDA emulates the stream capture: tests/test_cuda_simulation.py-style arrays, recorded
operations re-run on each launch), its static inputs and outputs, guards, and the cases it
refuses with torch's "skipping cudagraphs due to ..." reasons."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from compile_cases import data, mlp, same
from kernel_params import SIMULATED

import gputensor
from gputensor.backends import sim_graphs, simcupy
from helpers import made_on, to_numpy

SIMULATED_ONLY = pytest.mark.skipif(not SIMULATED, reason="the simulated CuPy's capture "
                                    "emulation")


def _training_step(device, optimizer_of, batch=3, dropout=0.0):
    model = mlp(gputensor, dropout).to(device)
    optimizer = optimizer_of(model.parameters())

    def step(x, y):
        optimizer.zero_grad()
        loss = gputensor.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss
    return model, optimizer, step


OPTIMIZERS = {
    "sgd_momentum": lambda params: gputensor.optim.SGD(params, lr=0.1, momentum=0.9),
    "adam": lambda params: gputensor.optim.Adam(params, lr=0.01),
}


def _batches(device, n, batch=3):
    return [tuple(t.to(device) for t in data(gputensor, batch=batch, seed=seed))
            for seed in range(n)]


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_training_step_is_eager_bit_for_bit(cuda_device, name):
    eager_model, eager_optimizer, eager = _training_step(cuda_device, OPTIMIZERS[name])
    model, optimizer, step = _training_step(cuda_device, OPTIMIZERS[name])
    compiled = gputensor.compile(step, mode="reduce-overhead")
    for x, y in _batches(cuda_device, 7):  # a new batch each call: copied into the graph's
        same(compiled(x, y).detach().cpu(), eager(x, y).detach().cpu())
        for ours, ref in zip(model.parameters(), eager_model.parameters()):
            same(ours.detach().cpu(), ref.detach().cpu())
            same(ours.grad.cpu(), ref.grad.cpu())
            assert ours._version.value == ref._version.value
    (report,) = compiled.compile_report()
    kind = type(optimizer).__name__
    assert report["cuda_graph"] == "captured" and report["cuda_graph_reason"] is None
    assert report["cuda_graph_launches"] == 7 - 4  # traced twice, warm-up, capture
    assert report["outside_graph"] == [f"{kind}.zero_grad()", f"{kind}.step()"]
    assert report["cuda_graph_captures"] == 1
    state, eager_state = optimizer.state_dict(), eager_optimizer.state_dict()
    for ours, ref in zip(state["state"].values(), eager_state["state"].values()):
        for key in ref:
            same(ours[key].cpu(), ref[key].cpu())


@SIMULATED_ONLY
def test_a_launch_computes_the_step():
    """Without the launch, the capture alone changes nothing (as on a GPU)."""
    model, _, step = _training_step("cuda", OPTIMIZERS["sgd_momentum"])
    compiled = gputensor.compile(step, mode="reduce-overhead")
    batches = _batches("cuda", 5)
    for x, y in batches[:4]:
        compiled(x, y)
    before = [p.detach().cpu() for p in model.parameters()]
    loss = compiled(*batches[3]).detach().cpu()
    graph = compiled._entries[0].graphed.graph
    graph.launch = lambda stream=None: None
    same(compiled(*batches[4]).detach().cpu(), loss)  # the static output, not updated
    after = [p.detach().cpu() for p in model.parameters()]
    assert not all(np.array_equal(to_numpy(a), to_numpy(b)) for a, b in zip(before, after))


def test_outputs_are_overwritten_by_the_next_call(cuda_device):
    with made_on(gputensor, cuda_device):
        weight = gputensor.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3))

    def forward(x):
        return (x @ weight).tanh()

    compiled = gputensor.compile(forward, mode="reduce-overhead")
    xs = [gputensor.tensor(np.random.default_rng(i).standard_normal((2, 4), np.float32))
          .to(cuda_device) for i in range(6)]
    outs = [compiled(x) for x in xs]
    for x, out in zip(xs[:3], outs[:3]):  # traced twice, then the warm-up replay
        same(out.cpu(), forward(x).cpu())
    assert outs[3]._data is outs[4]._data is outs[5]._data  # the graph's static output
    for out in outs[3:]:  # overwritten by each call after it
        same(out.cpu(), forward(xs[5]).cpu())
    assert compiled.compile_report()[0]["cuda_graph"] == "captured"


def test_a_bad_target_in_a_graph_is_raised_at_the_next_host_wait(cuda_device):
    model, _, step = _training_step(cuda_device, OPTIMIZERS["sgd_momentum"])
    compiled = gputensor.compile(step, mode="reduce-overhead")
    batches = _batches(cuda_device, 5)
    for x, y in batches:
        compiled(x, y).item()
    assert compiled.compile_report()[0]["cuda_graph"] == "captured"
    x, y = batches[0]
    bad = y.clone()
    bad[1] = 9  # four classes
    loss = compiled(x, bad)  # launched: the kernel flags it on the device
    with pytest.raises(IndexError, match="Target 9 is out of bounds."):
        loss.item()
    compiled(x, y).item()  # the flag was cleared


def test_guard_miss_traces_and_captures_again(cuda_device):
    model, _, step = _training_step(cuda_device, OPTIMIZERS["adam"])
    eager_model, _, eager = _training_step(cuda_device, OPTIMIZERS["adam"])
    compiled = gputensor.compile(step, mode="reduce-overhead")
    for batch in (3, 3, 3, 3, 3, 5, 5, 5, 5, 5, 3):
        x, y = _batches(cuda_device, 1, batch)[0]
        same(compiled(x, y).detach().cpu(), eager(x, y).detach().cpu())
    for ours, ref in zip(model.parameters(), eager_model.parameters()):
        same(ours.detach().cpu(), ref.detach().cpu())
    reports = compiled.compile_report()
    assert [r["cuda_graph"] for r in reports] == ["captured", "captured"]
    assert [r["cuda_graph_launches"] for r in reports] == [2, 1]


def test_a_rebound_parameter_array_captures_again(cuda_device):
    model, _, step = _training_step(cuda_device, OPTIMIZERS["sgd_momentum"])
    eager_model, _, eager = _training_step(cuda_device, OPTIMIZERS["sgd_momentum"])
    compiled = gputensor.compile(step, mode="reduce-overhead")
    batches = _batches(cuda_device, 9)
    for k, (x, y) in enumerate(batches):
        if k == 5:
            for m in (model, eager_model):
                m[0].weight.data = m[0].weight.data * 0.5  # same shape: a new array
        same(compiled(x, y).detach().cpu(), eager(x, y).detach().cpu())
    for ours, ref in zip(model.parameters(), eager_model.parameters()):
        same(ours.detach().cpu(), ref.detach().cpu())
    (report,) = compiled.compile_report()
    assert report["cuda_graph"] == "captured" and report["cuda_graph_captures"] == 2


def test_cpu_ignores_the_mode_as_torch():
    def fn(x):
        return x * 2 + 1

    x = gputensor.arange(4.0)
    compiled = gputensor.compile(fn, mode="reduce-overhead")
    outs = [compiled(x) for _ in range(5)]
    theirs = torch.compile(fn, mode="reduce-overhead")  # runs on the CPU, without graphs
    ref = [theirs(torch.arange(4.0)) for _ in range(2)]
    assert ref[0].data_ptr() != ref[1].data_ptr()
    assert len({id(out._data) for out in outs}) == 5  # each call's own output
    for out in outs:
        np.testing.assert_array_equal(to_numpy(out), ref[0].numpy())
    (report,) = compiled.compile_report()
    assert report["state"] == "replayed"
    assert report["cuda_graph"] == "refused"
    assert report["cuda_graph_reason"] == "skipping cudagraphs due to cpu device"


def test_default_mode_has_no_graph(cuda_device):
    _, _, step = _training_step(cuda_device, OPTIMIZERS["sgd_momentum"])
    compiled = gputensor.compile(step)
    for x, y in _batches(cuda_device, 5):
        compiled(x, y)
    assert "cuda_graph" not in compiled.compile_report()[0]


def test_dropout_is_refused(cuda_device):
    model, _, step = _training_step(cuda_device, OPTIMIZERS["sgd_momentum"], dropout=0.3)
    eager_model, _, eager = _training_step(cuda_device, OPTIMIZERS["sgd_momentum"],
                                           dropout=0.3)
    compiled = gputensor.compile(step, mode="reduce-overhead")
    for x, y in _batches(cuda_device, 5):
        gputensor.manual_seed(3)
        loss = compiled(x, y)
        gputensor.manual_seed(3)
        same(loss.detach().cpu(), eager(x, y).detach().cpu())
    (report,) = compiled.compile_report()
    assert report["cuda_graph"] == "refused"
    assert report["cuda_graph_reason"].startswith("skipping cudagraphs due to dropout")


def test_optimizer_step_between_the_ops_is_refused(cuda_device):
    model = mlp(gputensor).to(cuda_device)
    optimizer = gputensor.optim.SGD(model.parameters(), lr=0.1)
    eager_model = mlp(gputensor).to(cuda_device)
    eager_optimizer = gputensor.optim.SGD(eager_model.parameters(), lr=0.1)

    def two_steps(model, optimizer, x, y):
        for k in range(2):
            optimizer.zero_grad()
            loss = gputensor.nn.functional.cross_entropy(model(x[k:k + 2]), y[k:k + 2])
            loss.backward()
            optimizer.step()
        return loss

    compiled = gputensor.compile(two_steps, mode="reduce-overhead")
    for x, y in _batches(cuda_device, 5, batch=4):
        same(compiled(model, optimizer, x, y).detach().cpu(),
             two_steps(eager_model, eager_optimizer, x, y).detach().cpu())
    (report,) = compiled.compile_report()
    assert report["cuda_graph"] == "refused"
    assert report["cuda_graph_reason"] == (
        "skipping cudagraphs due to host calls between the ops (SGD.step(), SGD.zero_grad()): "
        "their scalars are host values baked into a launch")


def test_host_read_in_an_op_fails_the_capture(cuda_device):
    """binary_cross_entropy checks its input's range on the host: the capture fails and the
    replay goes on without a graph."""
    with made_on(gputensor, cuda_device):
        x = gputensor.tensor([[0.5, -1.0], [2.0, 0.1]])
        target = gputensor.tensor([[1.0, 0.0], [1.0, 1.0]])

    def bce(x, target):
        return gputensor.nn.functional.binary_cross_entropy(x.sigmoid(), target)

    compiled = gputensor.compile(bce, mode="reduce-overhead")
    for _ in range(6):
        same(compiled(x, target).cpu(), bce(x, target).cpu())
    (report,) = compiled.compile_report()
    assert report["cuda_graph"] == "refused"
    reason = report["cuda_graph_reason"]
    assert reason.startswith("skipping cudagraphs due to a failed capture (")
    assert not SIMULATED or reason == (
        "skipping cudagraphs due to a failed capture (RuntimeError: "
        f"{sim_graphs.CAPTURE_UNSUPPORTED} (a value read back to the host))")


def test_mutated_argument_is_refused(cuda_device):
    def bump(x):
        x.add_(1)
        return x * 2

    xs = [gputensor.zeros(3, device=cuda_device) for _ in range(2)]
    compiled = gputensor.compile(bump, mode="reduce-overhead")
    for _ in range(6):
        same(compiled(xs[0]).cpu(), bump(xs[1]).cpu())
        same(xs[0].cpu(), xs[1].cpu())
        assert xs[0]._version.value == xs[1]._version.value
    (report,) = compiled.compile_report()
    assert report["cuda_graph_reason"] == "skipping cudagraphs due to mutated inputs (1 instances)"


def test_argument_requiring_grad_is_refused(cuda_device):
    with made_on(gputensor, cuda_device):
        weight = gputensor.ones(3, requires_grad=True)

    def fn(x):
        (x * weight).sum().backward()
        return weight.grad

    compiled = gputensor.compile(fn, mode="reduce-overhead")
    for _ in range(5):
        x = gputensor.ones(3, device=cuda_device, requires_grad=True)
        compiled(x)
        same(x.grad.cpu(), weight.detach().cpu())
    (report,) = compiled.compile_report()
    assert report["cuda_graph_reason"] == ("skipping cudagraphs due to an argument that "
                                           "requires grad (its .grad would be the graph's)")


@SIMULATED_ONLY
def test_simulated_capture_undoes_its_writes_and_checks_host_reads():
    x = gputensor.ones(3, device="cuda")._data
    stream = simcupy.Stream(non_blocking=True)
    stream.begin_capture()
    x += 1
    y = x * 2
    graph = stream.end_capture()
    np.testing.assert_array_equal(x.get(), np.ones(3, np.float32))  # nothing ran yet
    assert np.isnan(y.get()).all()
    graph.launch()
    np.testing.assert_array_equal(y.get(), np.full(3, 4, np.float32))
    graph.launch()
    np.testing.assert_array_equal(x.get(), np.full(3, 3, np.float32))
    np.testing.assert_array_equal(y.get(), np.full(3, 6, np.float32))
    stream.begin_capture()
    float(x[0])
    with pytest.raises(RuntimeError, match="cudaErrorStreamCaptureUnsupported"):
        stream.end_capture()
    stream.begin_capture()
    simcupy.xp.asarray(np.ones(2))
    with pytest.raises(RuntimeError, match="a copy from host memory"):
        stream.end_capture()


def test_compiled_module_inference_and_its_grad_graph(cuda_device):
    model = mlp(gputensor).to(cuda_device)
    compiled = gputensor.compile(model, mode="reduce-overhead")
    xs = [x for x, _ in _batches(cuda_device, 6)]
    with gputensor.no_grad():
        for x in xs:
            same(compiled(x).cpu(), model(x).cpu())
    for x in xs[:4]:  # with grad: the outputs carry grad_fn, replayed op by op
        out = compiled(x)
        assert type(out.grad_fn).__name__ == "AddmmBackward0"
    inference, with_grad = compiled.compile_report()
    assert inference["cuda_graph"] == "captured" and inference["cuda_graph_launches"] == 2
    assert with_grad["cuda_graph_reason"] == ("skipping cudagraphs due to outputs that carry an "
                                              "autograd graph (replayed op by op)")
