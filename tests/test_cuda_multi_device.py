"""Two CUDA devices: tensors on "cuda:1" compute there, whatever device is current.

The simulated variant runs two simulated devices whose arrays refuse operands of another
device than the current one (as CuPy's do), so an op that forgets to make its tensors'
device current fails here; the ``gpu`` variant needs a machine with two GPUs.
"""


import numpy as np
import pytest
import test_functional
import test_indexing
import test_losses
import test_ops_linalg
import test_ops_pointwise
import test_ops_reduce
import test_ops_shape
import test_setitem
from test_cuda_training import OPTIMIZERS, _assert_same, _model, _train

import gputensor
from gputensor import backends
from helpers import rand_array

F = gputensor.nn.functional


def _on(t, index):
    """Whether tensor ``t`` says it is on cuda:index and its array really is there."""
    return t.device == gputensor.device("cuda", index) and t._data.device.id == index


def _rows(test, names, **parameters):
    """{"<test>-<name>": (test, its parameters)} for rows of an op table."""
    return {f"{test.__name__[5:]}-{name}": (test, {"name": name, **parameters})
            for name in names}


# rows of the op tables (test function, its parameters), run on the second device
ROWS = {
    **_rows(test_ops_pointwise.test_unary_float, test_ops_pointwise.UNARY, shape=(3, 4),
            layout="strided"),
    **_rows(test_ops_pointwise.test_binary_float, test_ops_pointwise.BINARY,
            shapes=((2, 1, 3), (4, 1)), layout="contiguous"),
    **_rows(test_ops_reduce.test_full_reductions, sorted(test_ops_reduce.NO_DIM), shape=(3, 4)),
    **_rows(test_ops_reduce.test_reductions_along_one_dim, sorted(test_ops_reduce.ONE_DIM),
            shape=(3, 4), keepdim=False),
    **_rows(test_ops_shape.test_multi_input_shape_ops, test_ops_shape.MULTI,
            layout="transposed"),
    **_rows(test_indexing.test_getitem, ["long", "mask_full", "longs_broadcast",
                                         "slice_long_slice", "mask_dim1"], layout="strided"),
    **_rows(test_setitem.test_setitem, ["long_rows", "mask_2d", "block", "longs"],
            layout="contiguous", x_grad=True),
    "matmul": (test_ops_linalg.test_matmul_dtypes,
               {"shapes": ((5, 2, 3), (3, 4)), "dtype": "float64"}),
    "bmm": (test_ops_linalg.test_named_products, {"op": "bmm", "shapes": ((2, 2, 3), (2, 3, 4))}),
    "linear": (test_functional.test_linear, {"dtype": "float32", "shape": (2, 4, 3), "bias": True}),
    "layer_norm": (test_functional.test_layer_norm,
                   {"dtype": "float32", "shape": (2, 3, 4), "norm": (3, 4), "affine": "both"}),
    "embedding": (test_functional.test_embedding,
                  {"dtype": "float32", "index_dtype": "int64", "options": {"padding_idx": 2}}),
    "cross_entropy": (test_losses.test_cross_entropy_and_nll_indices,
                      {"shape": (6, 5), "target_shape": (6,), "dtype": "float32",
                       "reduction": "mean", "weighted": True}),
    "bce_with_logits": (test_losses.test_binary_cross_entropy_with_logits,
                        {"dtype": "float32", "reduction": "sum", "weights": "both"}),
}


@pytest.mark.parametrize("row", list(ROWS))
def test_op_tables_on_the_second_device(row, second_cuda_device):
    """The op tables' checks (helpers.check_op: results and gradients on the device,
    compared with torch) with "cuda:1" the device under test and cuda:0 current."""
    test, parameters = ROWS[row]
    test(**parameters, device=second_cuda_device)
    assert gputensor.cuda.current_device() == 0


def test_ops_outside_autograd_run_on_their_device(second_cuda_device):
    dev = second_cuda_device
    data = rand_array((3, 4))
    x, x_cpu = gputensor.tensor(data, device=dev), gputensor.tensor(data)
    checks = [
        lambda t: t > 0, lambda t: (t > 0).any(1), lambda t: (t > 0).all(), lambda t: t.argmax(1),
        lambda t: t.argmin(), lambda t: gputensor.where(t > 0)[1], lambda t: t.isnan(),
        lambda t: F.one_hot((t > 0).long().sum(1), 5), lambda t: t.eq(t.t().t()),
    ]
    for check in checks:
        got, expected = check(x), check(x_cpu)
        assert _on(got, 1) and got.tolist() == expected.tolist()
    y, y_cpu = x.clone(), x_cpu.clone()
    for t in (y, y_cpu):
        t[t > 0] = 0.5
        t[gputensor.tensor([0, 2], device=t.device), 1:3] = -1.0
        t.mul_(2).clamp_(-1.5, 0.75)
    assert _on(y, 1) and y.tolist() == y_cpu.tolist()
    gputensor.manual_seed(3)
    dropped = F.dropout(x, 0.5, training=True)
    gputensor.manual_seed(3)
    assert _on(dropped, 1) and dropped.tolist() == F.dropout(x_cpu, 0.5, training=True).tolist()
    weight = gputensor.tensor(rand_array((5, 4)) * 3, device=dev)
    out = F.embedding(gputensor.tensor([1, 3], device=dev), weight, max_norm=1.0)
    assert _on(out, 1) and _on(weight, 1)
    assert (weight[1] ** 2).sum().sqrt().item() == pytest.approx(1.0, rel=1e-4)
    assert gputensor.cuda.current_device() == 0


@pytest.mark.parametrize("name", ["sgd_nesterov", "adam", "rmsprop", "lookahead"])
def test_training_on_the_second_device_matches_cpu(name, second_cuda_device):
    cpu_model, model = _model(0), _model(0).to(second_cuda_device)
    cpu_opt, opt = OPTIMIZERS[name](cpu_model.parameters()), OPTIMIZERS[name](model.parameters())
    np.testing.assert_allclose(_train(model, opt, second_cuda_device, 3),
                               _train(cpu_model, cpu_opt, "cpu", 3), 1e-5)
    for p, q in zip(model.parameters(), cpu_model.parameters()):
        assert _on(p, 1) and _on(p.grad, 1)
        _assert_same(p, q)
    for entry in opt.state.values():
        assert all(_on(v, 1) for k, v in entry.items() if k != "step")
    opt.zero_grad(set_to_none=False)
    assert all(_on(p.grad, 1) and not p.grad.any() for p in model.parameters())
    assert gputensor.cuda.current_device() == 0


def test_moving_a_model_between_devices_keeps_training(second_cuda_device):
    cpu_model, model = _model(1), _model(1).to("cuda:0")
    cpu_opt = gputensor.optim.Adam(cpu_model.parameters(), lr=0.01)
    opt = gputensor.optim.Adam(model.parameters(), lr=0.01)
    _train(cpu_model, cpu_opt, "cpu", 2)
    _train(model, opt, "cuda:0", 2)
    model.to(second_cuda_device)
    assert all(_on(p, 1) and _on(p.grad, 1) for p in model.parameters())
    np.testing.assert_allclose(_train(model, opt, second_cuda_device, 2, start=2),
                               _train(cpu_model, cpu_opt, "cpu", 2, start=2), 1e-5)
    for p, q in zip(model.parameters(), cpu_model.parameters()):
        _assert_same(p, q)
    assert all(_on(v, 1) for entry in opt.state.values() for k, v in entry.items()
               if k != "step")


def test_copies_between_devices_carry_gradients(second_cuda_device):
    x = gputensor.tensor([1.0, -2.0, 3.0], device=second_cuda_device, requires_grad=True)
    y = x.to("cuda:0")
    assert _on(y, 0) and y.grad_fn.name() == "ToCopyBackward0"
    (y * y).sum().backward()
    assert _on(x.grad, 1) and x.grad.tolist() == [2.0, -4.0, 6.0]
    z = gputensor.zeros(3, device="cuda:0")
    z.copy_(x.detach())
    assert _on(z, 0) and z.tolist() == [1.0, -2.0, 3.0]
    assert _on(z.cuda(1), 1) and _on(x.cuda(), 0)


def test_mixing_two_cuda_devices_raises_and_changes_nothing(second_cuda_device):
    a = gputensor.ones(3, device="cuda:0")
    b = gputensor.ones(3, device=second_cuda_device)
    text = ("Expected all tensors to be on the same device, but found at least two devices, "
            "cuda:0 and cuda:1!")
    with pytest.raises(RuntimeError) as info:
        a + b
    assert str(info.value) == text
    with pytest.raises(RuntimeError) as info:
        a.add_(b)
    assert str(info.value) == text and a.tolist() == [1.0] * 3


def test_the_current_device_decides_what_cuda_means(second_cuda_device):
    cuda = gputensor.cuda
    assert cuda.device_count() == 2 and cuda.current_device() == 0
    assert gputensor.device("cuda").index is None
    with cuda.device(1):
        assert cuda.current_device() == 1
        made = [gputensor.zeros(2, device="cuda"), gputensor.tensor([1.0], device="cuda"),
                gputensor.ones(2).cuda(), _model(0).cuda()[0].weight]
        assert all(_on(t, 1) for t in made)
        with cuda.device("cuda:0"):
            assert _on(gputensor.ones(1, device="cuda"), 0)
        assert cuda.current_device() == 1
        gputensor.set_default_device("cuda")
        try:  # the default device "cuda" follows the current device, as in torch
            assert _on(gputensor.ones(1), 1) and gputensor.get_default_device().index == 1
            with cuda.device(0):
                assert _on(gputensor.ones(1), 0)
        finally:
            gputensor.set_default_device(None)
    assert cuda.current_device() == 0 and _on(gputensor.ones(1, device="cuda"), 0)
    cuda.set_device(1)
    try:
        assert cuda.current_device() == 1 and _on(gputensor.ones(1, device="cuda"), 1)
        x = gputensor.ones(2, device="cuda:0", requires_grad=True)
        (x * 3).sum().backward()  # an op and its backward on device 0 while 1 is current
        assert _on(x.grad, 0) and x.grad.tolist() == [3.0, 3.0]
        assert cuda.current_device() == 1
    finally:
        cuda.set_device(gputensor.device("cuda:0"))
    assert cuda.current_device() == 0
    cuda.synchronize(1)
    assert isinstance(cuda.get_device_name(1), str)
    cuda.reset_peak_memory_stats(1)
    assert cuda.max_memory_allocated("cuda:1") >= cuda.memory_allocated(1) >= 0
    assert cuda.memory_reserved(gputensor.device("cuda", 1)) >= cuda.memory_allocated(1)


def test_a_missing_device_index_is_torchs_error(second_cuda_device):
    text = "CUDA error: invalid device ordinal"
    for make in (lambda: gputensor.ones(1, device="cuda:2"),
                 lambda: gputensor.ones(1).to("cuda:5"),
                 lambda: gputensor.cuda.set_device(2),
                 lambda: gputensor.cuda.device(2).__enter__(),
                 lambda: gputensor.cuda.memory_allocated(2)):
        with pytest.raises(RuntimeError, match=text):
            make()
    assert gputensor.cuda.current_device() == 0


def test_printing_and_checkpoints_name_the_device(second_cuda_device, tmp_path):
    x = gputensor.tensor([1.0, 2.0], device=second_cuda_device)
    assert repr(x) == "tensor([1., 2.], device='cuda:1')"
    path = tmp_path / "x.st"
    gputensor.save({"x": x}, path)
    assert _on(gputensor.load(path)["x"], 1)
    back = gputensor.load(path, map_location={"cuda:1": "cuda:0"})["x"]
    assert _on(back, 0) and back.tolist() == [1.0, 2.0]


def test_a_checkpoint_from_a_missing_device_is_torchs_error(second_cuda_device, tmp_path,
                                                            monkeypatch):
    path = tmp_path / "x.st"
    gputensor.save([gputensor.ones(2, device=second_cuda_device)], path)
    monkeypatch.setattr(backends.backend_for("cuda"), "_device_count", 1)  # a one-GPU machine
    with pytest.raises(RuntimeError) as info:
        gputensor.load(path)
    assert str(info.value) == (
        "Attempting to deserialize object on CUDA device 1 but gputensor.cuda.device_count() "
        "is 1. Please use gputensor.load with map_location to map your storages to an existing "
        "device.")
    assert _on(gputensor.load(path, map_location={"cuda:1": "cuda:0"})[0], 0)
