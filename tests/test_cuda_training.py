"""A model trained on "cuda" as on "cpu": each optimizer, moves, checkpoints, gradients.

A small model trained with each optimizer, moved after its optimizer was built, saved and
loaded across devices, accumulating gradients, and a step that reads nothing back to the
host; and the fused activation backward hook those steps use. The op tables (test_ops_*.py
and the other files using helpers.check_op) run on "cuda" themselves through the ``device``
fixture. The simulated device (tests/conftest.py) runs the dispatch and our Numba kernels
on the CPU; the ``gpu`` variants run the same bodies with CuPy on a real GPU.
"""

import numpy as np
import pytest

import gputensor
from gputensor import backends
from helpers import rand_array

RTOL, ATOL = 1e-5, 1e-6  # float32 on a GPU: other summation orders, the same within this
F = gputensor.nn.functional


def _assert_same(ours, expected):
    """Same dtype, shape and values (within float32's tolerance), on any devices."""
    assert ours.dtype is expected.dtype and ours.shape == expected.shape
    np.testing.assert_allclose(ours.detach().cpu().numpy(), expected.detach().cpu().numpy(),
                               RTOL, ATOL)


@pytest.mark.parametrize("kind", ["relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_activation_backward_matches_cpu(kind, dtype, cuda_device):
    y = rand_array((2, 3), dtype)
    y[0, 0] = np.nan
    g = rand_array((2, 3), dtype)
    cpu = gputensor.backends.backend_for("cpu")
    cuda = gputensor.backends.backend_for("cuda")
    expected = cpu.activation_backward(kind, g, y)
    got = cuda.activation_backward(kind, cuda.asarray(g), cuda.asarray(y))
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_allclose(cuda.to_numpy(got), expected, 1e-3 if dtype == "float16" else RTOL,
                               equal_nan=True)


# ---- a model, its optimizer, a checkpoint ------------------------------------------------
def _model(seed):
    gputensor.manual_seed(seed)
    return gputensor.nn.Sequential(gputensor.nn.Linear(4, 8), gputensor.nn.ReLU(),
                                   gputensor.nn.Linear(8, 3), gputensor.nn.Tanh())


OPTIMIZERS = {
    "sgd": lambda p: gputensor.optim.SGD(p, lr=0.1),
    "sgd_nesterov": lambda p: gputensor.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True,
                                                  weight_decay=0.01),
    "adam": lambda p: gputensor.optim.Adam(p, lr=0.01),
    "adam_amsgrad": lambda p: gputensor.optim.Adam(p, lr=0.01, amsgrad=True, weight_decay=0.1),
    "adamw": lambda p: gputensor.optim.AdamW(p, lr=0.01),
    "rmsprop": lambda p: gputensor.optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
    "adagrad": lambda p: gputensor.optim.Adagrad(p, lr=0.1),
    "lookahead": lambda p: gputensor.optim.Lookahead(gputensor.optim.Adam(p, lr=0.01), k=2),
}


def _train(model, optimizer, dev, steps, start=0):
    """``steps`` steps of a fixed regression task; the losses as floats."""
    losses = []
    for step in range(start, start + steps):
        rng = np.random.default_rng(step)
        x = gputensor.tensor(rand_array((5, 4), rng=rng), device=dev)
        y = gputensor.tensor(rand_array((5, 3), low=-0.9, high=0.9, rng=rng), device=dev)
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def _assert_same_parameters(cuda_model, cpu_model):
    for (name, p), (name_cpu, q) in zip(cuda_model.named_parameters(),
                                        cpu_model.named_parameters()):
        assert name == name_cpu and isinstance(p, gputensor.nn.Parameter)
        _assert_same(p, q)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_training_on_cuda_matches_cpu(name, cuda_device):
    cpu_model, cuda_model = _model(0), _model(0).to(cuda_device)
    assert all(p.device.type == "cuda" for p in cuda_model.parameters())
    cpu_opt = OPTIMIZERS[name](cpu_model.parameters())
    cuda_opt = OPTIMIZERS[name](cuda_model.parameters())
    cpu_losses = _train(cpu_model, cpu_opt, "cpu", 3)
    cuda_losses = _train(cuda_model, cuda_opt, cuda_device, 3)
    np.testing.assert_allclose(cuda_losses, cpu_losses, RTOL)
    _assert_same_parameters(cuda_model, cpu_model)
    for p, q in zip(cuda_model.parameters(), cpu_model.parameters()):
        _assert_same(p.grad, q.grad)


def test_moving_a_model_after_building_its_optimizer(cuda_device):
    cpu_model, model = _model(1), _model(1)
    cpu_opt = gputensor.optim.Adam(cpu_model.parameters(), lr=0.01)
    opt = gputensor.optim.Adam(model.parameters(), lr=0.01)
    _train(cpu_model, cpu_opt, "cpu", 2)
    _train(model, opt, "cpu", 2)
    weight = model[0].weight
    model.cuda()
    assert model[0].weight is weight and weight.device.type == "cuda"
    assert weight.grad.device.type == "cuda"
    _train(cpu_model, cpu_opt, "cpu", 2, start=2)
    _train(model, opt, cuda_device, 2, start=2)
    _assert_same_parameters(model, cpu_model)
    assert all(s.device.type == "cuda" for st in opt.state.values() for k, s in st.items()
               if k != "step")
    model.cpu()
    assert weight.device.type == "cpu" and weight.grad.device.type == "cpu"
    _train(cpu_model, cpu_opt, "cpu", 1, start=4)
    _train(model, opt, "cpu", 1, start=4)
    np.testing.assert_allclose(weight.detach().numpy(), cpu_model[0].weight.detach().numpy(),
                               RTOL, ATOL)


def test_checkpoint_round_trip_on_cuda(cuda_device, tmp_path):
    model = _model(2).to(cuda_device)
    opt = gputensor.optim.Adam(model.parameters(), lr=0.01)
    _train(model, opt, cuda_device, 2)
    path = tmp_path / "ckpt.st"
    gputensor.save({"model": model.state_dict(), "opt": opt.state_dict()}, path)

    on_cpu = gputensor.load(path, map_location="cpu")
    assert all(t.device.type == "cpu" for t in on_cpu["model"].values())
    loaded = gputensor.load(path)  # where they were saved from
    assert all(t.device == gputensor.device("cuda:0") for t in loaded["model"].values())
    restored = _model(3).to(cuda_device)
    restored.load_state_dict(on_cpu["model"])  # copied onto the parameters' device
    assert all(p.device.type == "cuda" for p in restored.parameters())
    restored.load_state_dict(loaded["model"])
    restored_opt = gputensor.optim.Adam(restored.parameters(), lr=0.01)
    restored_opt.load_state_dict(loaded["opt"])
    _assert_same_parameters(restored, model)

    cpu_copy = _model(3)
    cpu_copy.load_state_dict(on_cpu["model"])
    cpu_opt = gputensor.optim.Adam(cpu_copy.parameters(), lr=0.01)
    cpu_opt.load_state_dict(on_cpu["opt"])
    for m, o, dev in ((model, opt, cuda_device), (restored, restored_opt, cuda_device),
                      (cpu_copy, cpu_opt, "cpu")):
        _train(m, o, dev, 2, start=2)
    _assert_same_parameters(restored, model)
    _assert_same_parameters(model, cpu_copy)


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_a_training_step_on_cuda_reads_nothing_back(loss, cuda_device):
    """No value travels back to the host during a step (each would make the host wait for
    the GPU), except the one check cross_entropy makes that its targets are class indices."""
    if not backends.simulating_cuda():
        pytest.skip("counted by the simulated device")
    from gputensor.backends import simcupy
    model = _model(0).to(cuda_device)
    optimizer = gputensor.optim.Adam(model.parameters(), lr=0.01)
    x = gputensor.randn(5, 4, device=cuda_device)
    if loss == "mse":
        target, loss_fn = gputensor.randn(5, 3, device=cuda_device), F.mse_loss
    else:
        target, loss_fn = gputensor.tensor([0, 2, 1, 1, 0], device=cuda_device), F.cross_entropy
    reads = []
    for _ in range(3):
        before = simcupy.host_reads[0]
        optimizer.zero_grad()
        loss_fn(model(x), target).backward()
        optimizer.step()
        reads.append(simcupy.host_reads[0] - before)
    assert reads == [0 if loss == "mse" else 1] * 3


def test_gradients_accumulate_on_cuda_as_on_cpu(cuda_device):
    grads = {}
    for dev in ("cpu", cuda_device):
        model = _model(0).to(dev)
        optimizer = gputensor.optim.SGD(model.parameters(), lr=0.1)
        x = gputensor.tensor(rand_array((5, 4), rng=np.random.default_rng(1)), device=dev)
        model(x).sum().backward()
        model(x * 2).sum().backward()  # into the existing .grad
        optimizer.zero_grad(set_to_none=False)
        model(x).pow(2).sum().backward()  # into zeroed grads
        free = gputensor.ones(3, device=dev, requires_grad=True)
        for k in range(3):
            (free * k).sum().backward()  # a leaf no optimizer holds
        grads[dev] = [p.grad for p in model.parameters()] + [free.grad]
    for ours, expected in zip(grads[cuda_device], grads["cpu"]):
        assert ours.device.type == "cuda"
        _assert_same(ours, expected)
