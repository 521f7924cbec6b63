"""CPU tensors meeting CUDA ones where torch allows it: 0-d CPU operands, copy_ and setitem.

Each case runs on gputensor with ``x`` on the CUDA device and the other operands on the CPU,
and on torch all on the CPU (no torch CUDA here): values, dtypes and gradients must agree,
the result must be on CUDA and each gradient on its input's device.
"""

import numpy as np
import pytest
import torch

import gputensor
from helpers import assert_same, rand_array

MIXED = ("Expected all tensors to be on the same device, but found at least two devices, "
         "cuda:0 and cpu!")


def _run(lib, fn, x_np, s_np, dev, x_dtype="float32", s_dtype="float32"):
    """``fn(lib, x, s)`` with x on ``dev`` and s on the CPU; (out, x.grad, s.grad)."""
    grad_x, grad_s = x_dtype.startswith("float"), s_dtype.startswith("float")
    x = lib.tensor(x_np, dtype=getattr(lib, x_dtype), device=dev, requires_grad=grad_x)
    s = lib.tensor(s_np, dtype=getattr(lib, s_dtype), requires_grad=grad_s)
    out = fn(lib, x, s)
    if out.requires_grad:
        (out * lib.arange(out.numel(), dtype=out.dtype, device=out.device)
         .reshape(out.shape)).sum().backward()
    return out, x, s


def _compare(fn, x_np, s_np, out_device="cuda:0", **dtypes):
    tol = 2e-3 if "float16" in dtypes.values() else 1e-5  # torch computes half in float
    ours, x, s = _run(gputensor, fn, x_np, s_np, "cuda", **dtypes)
    theirs, tx, ts = _run(torch, fn, x_np, s_np, "cpu", **dtypes)
    assert str(ours.device) == out_device
    assert_same(ours, theirs, rtol=tol)
    assert (ours.grad_fn is None) == (theirs.grad_fn is None)
    if theirs.grad_fn is not None:
        assert ours.grad_fn.name().split("::")[-1] == theirs.grad_fn.name().split("::")[-1]
    for mine, ref, device in ((x, tx, "cuda:0"), (s, ts, "cpu")):
        assert (mine.grad is None) == (ref.grad is None)
        if ref.grad is not None:
            assert str(mine.grad.device) == device
            assert_same(mine.grad, ref.grad, rtol=tol)


SCALAR_CASES = {
    "mul": lambda lib, x, s: x * s,
    "rmul": lambda lib, x, s: s * x,
    "add": lambda lib, x, s: x + s,
    "radd_alpha": lambda lib, x, s: lib.add(s, x, alpha=2),
    "sub": lambda lib, x, s: x - s,
    "div": lambda lib, x, s: x / s,
    "pow": lambda lib, x, s: x.abs() ** s,
    "rpow": lambda lib, x, s: s.abs() ** x,
    "maximum": lambda lib, x, s: lib.maximum(s, x),
    "where": lambda lib, x, s: lib.where(x > 0, x, s),
    "inplace_add": lambda lib, x, s: (x * 1).add_(s),
}


@pytest.mark.parametrize("name", list(SCALAR_CASES))
def test_a_0d_cpu_tensor_joins_a_cuda_op(name):
    _compare(SCALAR_CASES[name], rand_array((2, 3)), rand_array(()) + 3.0)


@pytest.mark.parametrize("x_dtype, s_dtype", [("float32", "float64"), ("float16", "float64"),
                                              ("int64", "float64"), ("int32", "int64"),
                                              ("float64", "float32")])
def test_a_0d_cpu_tensor_promotes_as_a_0d_tensor(x_dtype, s_dtype):
    x_np, s_np = rand_array((2, 3), low=1.0, high=3.0), rand_array((), low=1.0, high=3.0)
    for fn in (SCALAR_CASES["mul"], SCALAR_CASES["radd_alpha"], SCALAR_CASES["where"]):
        _compare(fn, x_np, s_np, x_dtype=x_dtype, s_dtype=s_dtype)


def test_two_0d_tensors_meet_on_cuda():
    _compare(lambda lib, x, s: x * s + s, rand_array(()), rand_array(()))


def _graph(node):
    return [None if n is None else n.name().split("::")[-1] for n, _ in node.next_functions]


def test_a_cpu_scalar_feeds_its_own_node(cuda_device):
    graphs = []
    for lib, dev in ((torch, "cpu"), (gputensor, cuda_device)):
        x = lib.ones(3, device=dev, requires_grad=True)
        leaf = lib.tensor(2.0, requires_grad=True)
        a = lib.tensor(1.5, requires_grad=True)
        computed = a * lib.tensor(3.0)  # a CPU scalar with history
        out = x * leaf + x * computed
        # torch links the CPU scalar's own node, no copy node between
        first, second = (n for n, _ in out.grad_fn.next_functions)
        graphs.append([_graph(out.grad_fn), _graph(first), _graph(second),
                       _graph(second.next_functions[1][0])])
        out.sum().backward()
        assert leaf.grad.device.type == "cpu" and a.grad.device.type == "cpu"
        assert (leaf.grad.item(), a.grad.item()) == (3.0, 9.0)
    assert graphs[0] == graphs[1]
    x = gputensor.ones(3, device=cuda_device, requires_grad=True)
    s = gputensor.tensor(2.0, requires_grad=True) * 1
    out = x * s
    s.add_(1)  # the CPU scalar changed after the op saved it: torch's error on backward
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


MIXED_CASES = {
    "add_1d": lambda lib, a, b, s: a + b,
    "one_element_1d": lambda lib, a, b, s: a * b[:1],
    "cpu_first": lambda lib, a, b, s: b - a,
    "cuda_0d_with_cpu": lambda lib, a, b, s: b * a[0, 0],
    "where_cpu_cond": lambda lib, a, b, s: lib.where(b > 0, a, s),
    "inplace_cpu_with_cuda_0d": lambda lib, a, b, s: b.add_(a[0, 0]),
    "index_put_1d": lambda lib, a, b, s: a.__setitem__(lib.tensor([0], device="cuda"), b[0]),
}


@pytest.mark.parametrize("name", list(MIXED_CASES))
def test_other_cpu_tensors_still_raise_torchs_error(name):
    a = gputensor.tensor(rand_array((2, 3)), device="cuda")
    b_np = rand_array((2, 3))
    b, s = gputensor.tensor(b_np), gputensor.tensor(1.5)
    with pytest.raises(RuntimeError) as info:
        MIXED_CASES[name](gputensor, a, b, s)
    assert str(info.value) == MIXED
    assert np.array_equal(b.numpy(), b_np) and b._version_value == 0


COPY_CASES = {
    "copy_to_cuda": (lambda lib, x, s: (x * 1).copy_(s), (2, 3), (2, 3)),
    "copy_broadcast": (lambda lib, x, s: (x * 1).copy_(s), (2, 3), (3,)),
    "copy_0d": (lambda lib, x, s: (x * 1).copy_(s), (2, 3), ()),
    "setitem_row": (lambda lib, x, s: _set(x * 1, 0, s), (2, 3), (3,)),
    "setitem_column_0d": (lambda lib, x, s: _set(x * 1, (slice(None), 1), s), (2, 3), ()),
    "setitem_view_broadcast": (lambda lib, x, s: _set(x * 1, slice(0, 2), s), (3, 3), (1, 3)),
    "index_put_0d": (lambda lib, x, s: _set(x * 1, lib.tensor([0, 2], device=x.device), s),
                     (3, 2), ()),
}


def _set(t, index, value):
    t[index] = value
    return t


@pytest.mark.parametrize("name", list(COPY_CASES))
def test_copy_from_cpu_into_cuda(name):
    fn, x_shape, s_shape = COPY_CASES[name]
    _compare(fn, rand_array(x_shape), rand_array(s_shape))


def test_copy_casts_across_devices():
    _compare(lambda lib, x, s: (x * 1).copy_(s), rand_array((2, 3)),
             rand_array((2, 3), low=-9, high=9), s_dtype="int64")


def test_copy_from_cuda_into_cpu():
    def fn(lib, x):
        target = lib.zeros(2, 3, dtype=lib.float64, requires_grad=True) * 1
        target.copy_(x * 2)
        (target * lib.arange(6.0, dtype=lib.float64).reshape(2, 3)).sum().backward()
        return target

    x_np = rand_array((3,))
    x = gputensor.tensor(x_np, device="cuda", requires_grad=True)
    tx = torch.tensor(x_np, requires_grad=True)
    out, ref = fn(gputensor, x), fn(torch, tx)
    assert str(out.device) == "cpu" and out.grad_fn.name().endswith("CopyBackwards")
    assert_same(out, ref)
    assert str(x.grad.device) == "cuda:0"
    assert_same(x.grad, tx.grad)


def test_copy_across_devices_checks_shapes_first():
    with pytest.raises(RuntimeError) as theirs:
        torch.zeros(2, 3).copy_(torch.ones(4))
    target = gputensor.zeros(2, 3, device="cuda")
    with pytest.raises(RuntimeError) as ours:
        target.copy_(gputensor.ones(4))
    assert str(ours.value) == str(theirs.value)
    assert target._version_value == 0


def test_cpu_index_tensors_index_cuda_tensors(cuda_device):
    data = rand_array((3, 4))
    x, expected = gputensor.tensor(data, device=cuda_device), torch.tensor(data)
    cpu_mask, cpu_rows = gputensor.tensor(data > 0), gputensor.tensor([2, 0, 2])
    got = [x[cpu_mask], x[cpu_rows], x[cpu_rows, 1:3], x[gputensor.tensor(1)]]
    want = [expected[torch.tensor(data > 0)], expected[torch.tensor([2, 0, 2])],
            expected[torch.tensor([2, 0, 2]), 1:3], expected[torch.tensor(1)]]
    for ours, theirs in zip(got, want):
        assert ours.device.type == "cuda" and ours.tolist() == theirs.tolist()
    x[cpu_mask] = 0.5
    x[cpu_rows[:1], 0] = -1.0
    expected[torch.tensor(data > 0)] = 0.5
    expected[torch.tensor([2]), 0] = -1.0
    assert x.tolist() == expected.tolist()
    with pytest.raises(IndexError, match="index 7 is out of bounds for dimension 0 with size 3"):
        x[gputensor.tensor([0, 7])]


def test_a_cuda_index_cannot_index_a_cpu_tensor(cuda_device):
    x = gputensor.zeros(3)
    with pytest.raises(RuntimeError) as info:
        x[gputensor.tensor([0, 1], device=cuda_device)]
    assert str(info.value) == ("indices should be either on cpu or on the same device as the "
                               "indexed tensor (cpu)")
