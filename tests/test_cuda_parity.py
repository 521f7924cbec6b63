"""The same code on "cuda" and on "cpu" gives the same values, dtypes and gradients.

A representative table of ops (elementwise, reductions, matmul, indexing, shape ops, losses,
activations), a small model trained with each optimizer, and a checkpoint round trip. The
simulated device (tests/conftest.py) runs the dispatch and our Numba kernels on the CPU;
the ``gpu`` variants run the same bodies with CuPy on a real GPU. Shapes are tiny: the
simulator runs every CUDA thread in Python.
"""

import zlib

import numpy as np
import pytest

import gputensor
from gputensor import backends
from helpers import rand_array

RTOL, ATOL = 1e-5, 1e-6  # float32 on a GPU: other summation orders, the same within this
F = gputensor.nn.functional


def _labels(dev):
    return gputensor.tensor([2, 0, 1], device=dev)


# name -> (fn(dev, *tensors), input shapes); every input is a float32 leaf that needs grad
OPS = {
    "add": (lambda d, x, y: x + y, [(3, 4), (3, 4)]),
    "sub_broadcast": (lambda d, x, y: x - y, [(3, 1), (4,)]),
    "mul_scalar": (lambda d, x: 2 * x + 1, [(3, 4)]),
    "rsub": (lambda d, x: 1 - x, [(3, 4)]),
    "div": (lambda d, x, y: x / (y.abs() + 0.5), [(3, 4), (3, 4)]),
    "pow": (lambda d, x, y: (x.abs() + 0.5) ** y, [(3, 4), (3, 4)]),
    "neg_abs": (lambda d, x: -x.abs(), [(5,)]),
    "exp_log": (lambda d, x: x.exp() + (x.abs() + 0.1).log(), [(3, 4)]),
    "sqrt_sin": (lambda d, x: (x.abs() + 0.1).sqrt() * x.sin(), [(3, 4)]),
    "relu": (lambda d, x: x.relu(), [(3, 4)]),
    "sigmoid": (lambda d, x: x.sigmoid(), [(3, 4)]),
    "tanh": (lambda d, x: x.tanh(), [(3, 4)]),
    "relu_strided": (lambda d, x: x.t()[::2].relu() * 3, [(3, 4)]),
    "tanh_0d": (lambda d, x: x.sum().tanh(), [(3,)]),
    "gelu_silu_elu": (lambda d, x: F.gelu(x) + F.silu(x) + F.elu(x), [(3, 4)]),
    "leaky_relu": (lambda d, x: F.leaky_relu(x, 0.1), [(3, 4)]),
    "clamp": (lambda d, x: x.clamp(-0.5, 0.5), [(3, 4)]),
    "maximum_where": (lambda d, x, y: gputensor.where(x > 0, gputensor.maximum(x, y), y),
                      [(3, 4), (3, 4)]),
    "compare": (lambda d, x, y: (x > y).float() + (x == x).float(), [(3, 4), (3, 4)]),
    "sum": (lambda d, x: x.sum(), [(3, 4)]),
    "sum_dim": (lambda d, x: x.sum(1), [(3, 4)]),
    "mean_keepdim": (lambda d, x: x.mean(0, keepdim=True), [(3, 4)]),
    "max_dim": (lambda d, x: x.max(1).values, [(3, 4)]),
    "var_std": (lambda d, x: x.var(1) + x.std(0).sum(), [(3, 4)]),
    "prod_amax": (lambda d, x: x.prod(1) + x.amax(0).sum(), [(3, 4)]),
    "logsumexp": (lambda d, x: x.logsumexp(1), [(3, 4)]),
    "softmax": (lambda d, x: x.softmax(1), [(3, 4)]),
    "log_softmax": (lambda d, x: F.log_softmax(x, dim=0), [(3, 4)]),
    "matmul": (lambda d, x, y: x @ y, [(3, 4), (4, 5)]),
    "matmul_transposed": (lambda d, x, y: x.t() @ y, [(4, 3), (4, 5)]),
    "matmul_batched": (lambda d, x, y: x @ y, [(2, 3, 4), (4, 2)]),
    "bmm": (lambda d, x, y: gputensor.bmm(x, y), [(2, 3, 4), (2, 4, 2)]),
    "matvec": (lambda d, x, y: x @ y, [(3, 4), (4,)]),
    "linear": (lambda d, x, w, b: F.linear(x, w, b), [(3, 4), (2, 4), (2,)]),
    "slice": (lambda d, x: x[1:, ::2], [(3, 4)]),
    "index_tensor": (lambda d, x: x[gputensor.tensor([2, 0, 2], device=d)], [(3, 4)]),
    "index_mask": (lambda d, x: x[x > 0], [(3, 4)]),
    "index_mixed": (lambda d, x: x[gputensor.tensor([1, 0], device=d), 1:3], [(3, 4)]),
    "setitem": (lambda d, x, y: _setitem(x, y), [(3, 4), (4,)]),
    "reshape_view": (lambda d, x: x.reshape(2, 6).view(12)[:5], [(3, 4)]),
    "permute": (lambda d, x: x.permute(2, 0, 1).contiguous(), [(2, 3, 4)]),
    "transpose_flatten": (lambda d, x: x.transpose(0, 1).flatten(), [(3, 4)]),
    "cat_stack": (lambda d, x, y: gputensor.cat([x, gputensor.stack([y, y])]), [(2, 4), (4,)]),
    "expand": (lambda d, x: x.expand(3, 4) * 2, [(1, 4)]),
    "squeeze_unsqueeze": (lambda d, x: x.unsqueeze(0).squeeze(2), [(3, 1)]),
    "chunk_split": (lambda d, x: x.chunk(2, 1)[1] + x.split(2, 1)[0], [(3, 4)]),
    "inplace": (lambda d, x, y: (x * 1).mul_(2).add_(y).relu_(), [(3, 4), (3, 4)]),
    "layer_norm": (lambda d, x, w, b: F.layer_norm(x, (4,), w, b), [(3, 4), (4,), (4,)]),
    "embedding": (lambda d, w: F.embedding(gputensor.tensor([[1, 0], [2, 2]], device=d), w),
                  [(3, 4)]),
    "dropout_eval": (lambda d, x: F.dropout(x, 0.5, training=False), [(3, 4)]),
    "mse_loss": (lambda d, x, y: F.mse_loss(x, y), [(3, 4), (3, 4)]),
    "l1_loss": (lambda d, x, y: F.l1_loss(x, y, reduction="sum"), [(3, 4), (3, 4)]),
    "smooth_l1_huber": (lambda d, x, y: F.smooth_l1_loss(x, y) + F.huber_loss(x, y),
                        [(3, 4), (3, 4)]),
    "cross_entropy": (lambda d, x: F.cross_entropy(x, _labels(d)), [(3, 4)]),
    "cross_entropy_smoothing": (lambda d, x: F.cross_entropy(x, _labels(d),
                                                             label_smoothing=0.1), [(3, 4)]),
    "cross_entropy_weight_ignore": (
        lambda d, x: F.cross_entropy(x, gputensor.tensor([2, 1, 3], device=d), ignore_index=1,
                                     weight=gputensor.tensor([0.5, 2.0, 1.0, 1.5], device=d),
                                     reduction="sum"), [(3, 4)]),
    "cross_entropy_none_3d": (
        lambda d, x: F.cross_entropy(x, gputensor.tensor([[0, 3, 1], [2, 2, 0]], device=d),
                                     reduction="none"), [(2, 4, 3)]),
    "nll_loss": (lambda d, x: F.nll_loss(F.log_softmax(x, 1), _labels(d)), [(3, 4)]),
    "bce": (lambda d, x, y: F.binary_cross_entropy(x.sigmoid(), y.sigmoid()), [(3, 4), (3, 4)]),
    "bce_with_logits": (lambda d, x, y: F.binary_cross_entropy_with_logits(x, y.sigmoid()),
                        [(3, 4), (3, 4)]),
}


def _setitem(x, y):
    out = x * 1
    out[1] = y
    out[0, ::2] = 0.5
    return out


def _run(name, dev, arrays, seed_rng):
    """(outputs, leaf gradients) of OPS[name] on ``dev``; the backward seed is random."""
    fn, _ = OPS[name]
    leaves = [gputensor.tensor(a, device=dev, requires_grad=True) for a in arrays]
    out = fn(dev, *leaves)
    assert out.device.type == gputensor.device(dev).type
    if out.requires_grad:
        seed = rand_array(tuple(out.shape), rng=seed_rng)
        (out * gputensor.tensor(seed, device=dev)).sum().backward()
    grads = [None if leaf.grad is None else leaf.grad for leaf in leaves]
    for g in grads:
        assert g is None or g.device == out.device
    return out, grads


def _assert_same(ours, expected):
    """Same dtype, shape and values (within float32's tolerance), on any devices."""
    assert ours.dtype is expected.dtype and ours.shape == expected.shape
    np.testing.assert_allclose(ours.detach().cpu().numpy(), expected.detach().cpu().numpy(),
                               RTOL, ATOL)


def run_and_compare(name, dev):
    """OPS[name] on the CPU and on ``dev`` with the same inputs and backward seed; asserts
    the same outputs and gradients and returns ``(out, grads, out_cpu)`` of the two runs."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    arrays = [rand_array(shape, rng=rng) for shape in OPS[name][1]]
    out_cpu, grads_cpu = _run(name, "cpu", arrays, np.random.default_rng(7))
    out, grads = _run(name, dev, arrays, np.random.default_rng(7))
    _assert_same(out, out_cpu)
    for g, g_cpu in zip(grads, grads_cpu):
        assert (g is None) == (g_cpu is None)
        if g_cpu is not None:
            _assert_same(g, g_cpu)
    return out, grads, out_cpu


@pytest.mark.parametrize("name", list(OPS))
def test_op_on_cuda_matches_cpu(name, cuda_device):
    out_cuda, _, out_cpu = run_and_compare(name, cuda_device)
    assert out_cuda.device.type == "cuda" and out_cpu.device.type == "cpu"
    assert (out_cuda.grad_fn is None) == (out_cpu.grad_fn is None)
    if out_cpu.grad_fn is not None:
        assert out_cuda.grad_fn.name() == out_cpu.grad_fn.name()


@pytest.mark.parametrize("dtype", ["float64", "float16", "int64", "int32", "bool"])
def test_other_dtypes_on_cuda_match_cpu(dtype, cuda_device):
    data = rand_array((3, 4), dtype)
    results = []
    for dev in ("cpu", cuda_device):
        x = gputensor.tensor(data, device=dev)
        y = gputensor.tensor(data[::-1].copy(), device=dev)
        outs = [x + y, x * y, (x == y), x.sum(0), x.t().reshape(-1)]
        if dtype != "bool":
            outs += [x.relu(), x.max(1).values, x.abs()]
        if dtype.startswith("float"):
            outs += [x.sigmoid(), x.tanh(), x.softmax(1)]
        results.append(outs)
    for on_cpu, on_cuda in zip(*results):
        assert on_cuda.dtype is on_cpu.dtype and on_cuda.device.type == "cuda"
        np.testing.assert_allclose(on_cuda.cpu().numpy().astype(np.float64),
                                   on_cpu.numpy().astype(np.float64), 1e-3, 1e-3)


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
