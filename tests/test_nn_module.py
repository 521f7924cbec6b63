"""nn.Module and nn.Parameter against torch: registration, traversal, state dicts, hooks, repr."""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch

import gputensor
import gputensor.nn
from helpers import (
    LIBS,
    assert_same,
    check_error,
    copy_weights,
    make_net,
    my_cool_net,
    rand_array,
    torch_text,
)


# ---- Parameter -------------------------------------------------------------------------
def test_parameter_repr_and_flags():
    data = rand_array((2, 3))
    ours, theirs = gputensor.nn.Parameter(gputensor.tensor(data)), torch.nn.Parameter(
        torch.tensor(data))
    assert torch_text(repr(ours)) == repr(theirs)
    assert str(ours) == repr(ours)
    assert ours.requires_grad and ours.is_leaf and isinstance(ours, gputensor.Tensor)
    frozen = gputensor.nn.Parameter(gputensor.tensor([1, 2]), requires_grad=False)
    assert repr(frozen) == repr(torch.nn.Parameter(torch.tensor([1, 2]), requires_grad=False))
    assert repr(gputensor.nn.Parameter()) == repr(torch.nn.Parameter())
    for shape in ((4, 30), (40, 40)):  # wrapped rows and a summarised print
        data = rand_array(shape) * 100
        assert torch_text(repr(gputensor.nn.Parameter(gputensor.tensor(data)))) == repr(
            torch.nn.Parameter(torch.tensor(data)))


def test_parameter_shares_storage_and_becomes_leaf():
    x = gputensor.tensor(rand_array((3,)), requires_grad=True)
    y = x * 2
    p = gputensor.nn.Parameter(y)
    assert p.is_leaf and p.grad_fn is None and p.requires_grad
    base = gputensor.zeros(3)
    p = gputensor.nn.Parameter(base)
    base.add_(1)
    assert p.tolist() == [1.0, 1.0, 1.0]
    assert p._version_value == base._version_value
    for derived in (p + 1, p.detach(), p.data, p.clone()):
        assert type(derived) is gputensor.Tensor


def test_parameter_errors():
    check_error(lambda lib: lib.nn.Parameter(lib.tensor([1, 2])))
    check_error(lambda lib: lib.nn.Parameter([1.0, 2.0]))


def test_parameter_deepcopy():
    p = gputensor.nn.Parameter(gputensor.tensor([1.0, 2.0]))
    q = copy.deepcopy(p)
    assert type(q) is gputensor.nn.Parameter and q.requires_grad
    q.data.add_(1)
    assert p.tolist() == [1.0, 2.0]


# ---- registration -------------------------------------------------------------------------
def test_registration_by_assignment():
    for lib in LIBS:
        m = lib.nn.Module()
        m.w = lib.nn.Parameter(lib.ones(2))
        m.sub = lib.nn.Linear(2, 2)
        m.register_buffer("buf", lib.zeros(2))
        m.plain = lib.zeros(1)  # a plain tensor attribute is neither parameter nor buffer
        assert [n for n, _ in m.named_parameters()] == ["w", "sub.weight", "sub.bias"]
        assert [n for n, _ in m.named_buffers()] == ["buf"]
        m.w = None
        m.sub = None
        m.buf = None
        assert list(m.named_parameters()) == [] and list(m.named_buffers()) == []
        assert m.w is None and m.sub is None and m.buf is None
        assert "w" in m._parameters and "sub" in m._modules and "buf" in m._buffers
        m.w = lib.nn.Parameter(lib.ones(1))
        del m.w, m.sub, m.buf, m.plain
        assert not hasattr(m, "w") and not hasattr(m, "sub") and not hasattr(m, "buf")
        m.x = lib.nn.Linear(1, 1)
        m.x = lib.nn.Parameter(lib.ones(1))  # re-assigning moves the name to parameters
        assert "x" not in m._modules and "x" in m._parameters


@pytest.mark.parametrize("case", [
    lambda lib, m: setattr(m, "weight", lib.zeros(2, 3)),
    lambda lib, m: setattr(m, "weight", 3),
    lambda lib, m: m.missing_attribute,
    lambda lib, m: m.register_buffer("weight", lib.zeros(1)),
    lambda lib, m: m.register_buffer("a.b", lib.zeros(1)),
    lambda lib, m: m.register_buffer("", lib.zeros(1)),
    lambda lib, m: m.register_buffer(3, lib.zeros(1)),
    lambda lib, m: m.register_buffer("x", 3),
    lambda lib, m: m.register_parameter("x", lib.zeros(1)),
    lambda lib, m: m.register_parameter("bias", lib.nn.Parameter(lib.ones(1))
                                        .mul(2).requires_grad_(False)),
    lambda lib, m: m.register_parameter("a.b", None),
    lambda lib, m: m.add_module("x", 3),
    lambda lib, m: m.add_module("weight", lib.nn.ReLU()),
    lambda lib, m: m.add_module("a.b", lib.nn.ReLU()),
    lambda lib, m: m.add_module("", lib.nn.ReLU()),
    lambda lib, m: m.add_module(1, lib.nn.ReLU()),
    lambda lib, m: delattr(m, "nope"),
    lambda lib, m: lib.nn.Module(3),
    lambda lib, m: lib.nn.Module(foo=3),
    lambda lib, m: lib.nn.Module()(1),
])
def test_registration_errors(case):
    def run(lib):
        m = lib.nn.Linear(3, 2)
        m.register_buffer("buf", lib.zeros(1))
        case(lib, m)
    check_error(run)


def test_assignment_errors_on_buffers_and_children():
    def buffer_case(lib):
        m = lib.nn.Module()
        m.register_buffer("buf", lib.zeros(1))
        m.buf = 3

    def child_case(lib):
        m = lib.nn.Module()
        m.child = lib.nn.ReLU()
        m.child = 3
    check_error(buffer_case)
    check_error(child_case)


def test_assignment_before_init():
    for lib in LIBS:
        class Early(lib.nn.Module):
            def __init__(self, what):
                self.x = what
                super().__init__()
        for what in (lib.nn.Parameter(lib.ones(1)), lib.nn.ReLU()):
            with pytest.raises(AttributeError) as info:
                Early(what)
            assert "before Module.__init__() call" in str(info.value)


# ---- traversal ------------------------------------------------------------------------------
def test_named_orders_match_torch():
    ours, theirs = make_net(gputensor), make_net(torch)
    for method in ("named_parameters", "named_buffers", "named_modules", "named_children"):
        assert ([n for n, _ in getattr(ours, method)()]
                == [n for n, _ in getattr(theirs, method)()]), method
    for kwargs in ({"recurse": False}, {"prefix": "model"}, {"remove_duplicate": False}):
        for method in ("named_parameters", "named_buffers"):
            assert ([n for n, _ in getattr(ours, method)(**kwargs)]
                    == [n for n, _ in getattr(theirs, method)(**kwargs)]), (method, kwargs)
    assert ([n for n, _ in ours.named_modules(prefix="m", remove_duplicate=False)]
            == [n for n, _ in theirs.named_modules(prefix="m", remove_duplicate=False)])
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))
    assert len(list(ours.parameters(recurse=False))) == 1
    assert len(list(ours.buffers())) == len(list(theirs.buffers()))
    assert len(list(ours.children())) == len(list(theirs.children()))
    assert len(list(ours.modules())) == len(list(theirs.modules()))


def test_shared_parameter_listed_once():
    for lib in LIBS:
        a, b = lib.nn.Linear(2, 2), lib.nn.Linear(2, 2)
        b.weight = a.weight
        seq = lib.nn.Sequential(a, b)
        names = [n for n, _ in seq.named_parameters()]
        assert names == ["0.weight", "0.bias", "1.bias"]
        assert len(list(seq.named_parameters(remove_duplicate=False))) == 4


def test_get_submodule_and_parameter():
    ours = make_net(gputensor)
    assert type(ours.get_submodule("body.0")).__name__ == "Linear"
    assert ours.get_parameter("body.0.weight") is ours.body[0].weight
    assert ours.get_submodule("") is ours
    for target in ("body.nope", "first.scale"):
        check_error(lambda lib, t: make_net(lib).get_submodule(t), target)
    check_error(lambda lib: make_net(lib).get_parameter("first.fc"))


def test_dir_lists_parameters_buffers_and_children():
    m = make_net(gputensor)
    names = dir(m.first)
    for key in ("fc", "scale", "count", "scratch", "forward", "training"):
        assert key in names
    assert dir(gputensor.nn.Sequential(gputensor.nn.ReLU())).count("0") == 0


# ---- modes, grads, conversion -----------------------------------------------------------------
def test_train_eval_flags():
    for lib in LIBS:
        net = make_net(lib)
        assert all(m.training for m in net.modules())
        assert net.eval() is net
        assert not any(m.training for m in net.modules())
        net.train()
        assert all(m.training for m in net.modules())
        net.first.train(False)
        assert not net.first.fc.training and net.body.training
    check_error(lambda lib: lib.nn.Linear(1, 1).train("yes"))


def test_zero_grad_and_requires_grad():
    x = rand_array((4, 3))
    for set_to_none in (True, False):
        results = []
        for lib in LIBS:
            net = make_net(lib)
            net(lib.tensor(x)).sum().backward()
            net.zero_grad(set_to_none=set_to_none)
            results.append([None if p.grad is None else p.grad.abs().sum().item()
                            for p in net.parameters()])
        assert results[0] == results[1]
    net = make_net(gputensor)
    assert net.requires_grad_(False) is net
    assert not any(p.requires_grad for p in net.parameters())
    net.requires_grad_()
    assert all(p.requires_grad for p in net.parameters())


def test_apply_visits_children_first():
    orders = []
    for lib in LIBS:
        seen = []
        net = make_net(lib)
        assert net.apply(lambda m, seen=seen: seen.append(type(m).__name__)) is net
        orders.append(seen)
    assert orders[0] == orders[1]


def test_to_dtype_keeps_parameter_identity_and_converts_grads():
    net = gputensor.nn.BatchNorm1d(3)
    lin = gputensor.nn.Linear(3, 3)
    seq = gputensor.nn.Sequential(lin, net)
    seq(gputensor.randn(4, 3)).sum().backward()
    params = list(seq.parameters())
    assert seq.to(gputensor.float64) is seq
    assert [id(p) for p in seq.parameters()] == [id(p) for p in params]
    assert all(p.dtype is gputensor.float64 and p.grad.dtype is gputensor.float64
               and isinstance(p, gputensor.nn.Parameter) for p in params)
    assert net.running_mean.dtype is gputensor.float64
    assert net.num_batches_tracked.dtype is gputensor.int64
    assert seq.float() is seq and lin.weight.dtype is gputensor.float32
    seq.double()
    assert lin.bias.dtype is gputensor.float64
    seq.half()
    assert lin.weight.dtype is gputensor.float16
    seq.to(dtype=gputensor.float32).to("cpu").cpu()
    assert lin.weight.dtype is gputensor.float32 and lin.weight.device.type == "cpu"
    out = lin(gputensor.randn(2, 3))
    assert out.dtype is gputensor.float32


def test_to_errors():
    check_error(lambda lib: lib.nn.Linear(2, 2).to(lib.int64))


def test_cuda_without_a_gpu_changes_nothing(cuda_unavailable):
    lin = gputensor.nn.Linear(2, 2)
    weight = lin.weight
    before = weight.detach().clone()
    with pytest.raises((RuntimeError, AssertionError)):
        lin.cuda()
    with pytest.raises((RuntimeError, AssertionError)):
        lin.to("cuda")
    assert lin.weight is weight and lin.weight.device.type == "cpu"
    assert lin.weight.tolist() == before.tolist()


def test_deepcopy_module():
    net = make_net(gputensor)
    other = copy.deepcopy(net)
    assert other.first is other.again
    assert [n for n, _ in other.named_parameters()] == [n for n, _ in net.named_parameters()]
    with gputensor.no_grad():
        other.bias.add_(1)
    assert net.bias.tolist() == [0.0, 0.0]


# ---- calling and hooks ------------------------------------------------------------------------
def test_forward_hooks_match_torch():
    x = rand_array((2, 3))
    outs = []
    for lib in LIBS:
        lin = lib.nn.Linear(3, 3)
        calls = []
        h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
        h2 = lin.register_forward_hook(lambda m, args, out: out + 1)
        h3 = lin.register_forward_hook(lambda m, args, out, c=calls: c.append("late"))
        lin.register_forward_hook(lambda m, args, out, c=calls: c.append("first"), prepend=True)
        lin.register_forward_pre_hook(lambda m, args, kwargs: ((args[0] - 1,), kwargs),
                                      with_kwargs=True)
        lin.register_forward_hook(lambda m, args, kwargs, out: out * 3, with_kwargs=True)
        with lib.no_grad():
            lin.weight.copy_(lib.ones(3, 3))
            lin.bias.zero_()
        first = lin(lib.tensor(x))
        h1.remove()
        h2.remove()
        h3.remove()
        h3.remove()  # removing twice is harmless
        second = lin(lib.tensor(x))
        outs.append((first, second, calls))
    (o1, o2, ocalls), (t1, t2, tcalls) = outs
    assert_same(o1, t1)
    assert_same(o2, t2)
    assert ocalls == tcalls


def test_hook_handle_as_context_manager():
    lin = gputensor.nn.Identity()
    with lin.register_forward_hook(lambda m, a, out: out * 0):
        assert lin(gputensor.ones(2)).tolist() == [0.0, 0.0]
    assert lin(gputensor.ones(2)).tolist() == [1.0, 1.0]
    pre = lin.register_forward_pre_hook(lambda m, args: gputensor.zeros(1))
    assert lin(gputensor.ones(2)).tolist() == [0.0]
    pre.remove()


def test_always_call_hook_runs_when_forward_raises():
    seen = []
    for lib in LIBS:
        class Broken(lib.nn.Module):
            def forward(self, x):
                raise ValueError("broken forward")
        m = Broken()
        m.register_forward_hook(lambda mod, a, out, s=seen: s.append(("plain", out)))
        m.register_forward_hook(lambda mod, a, out, s=seen: s.append(("always", out)),
                                always_call=True)
        with pytest.raises(ValueError, match="broken forward"):
            m(lib.ones(1))
    assert seen == [("always", None), ("always", None)]


def test_bad_pre_hook_result():
    check_error(lambda lib: _bad_hook(lib))


def _bad_hook(lib):
    m = lib.nn.Identity()
    m.register_forward_pre_hook(lambda m, a, k: 5, with_kwargs=True)
    m(lib.ones(1))


# ---- repr ---------------------------------------------------------------------------------------
def test_nested_repr_matches_torch():
    for build in (make_net, _repr_zoo):
        assert torch_text(repr(build(gputensor))) == repr(build(torch))


def _repr_zoo(lib):
    nn = lib.nn

    class Multi(nn.Module):
        def extra_repr(self):
            return "first line\nsecond line"

    class Custom(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = Multi()
            self.lin = nn.Linear(2, 2, bias=False)
            self.nothing = None

        def extra_repr(self):
            return "size=7"
    return nn.Sequential(OrderedDict([
        ("custom", Custom()),
        ("multi", Multi()),
        ("stack", nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.ReLU(), nn.Tanh(),
                                 nn.Sequential(nn.ReLU()), nn.Sequential(nn.ReLU())])),
        ("dict", nn.ModuleDict({"a": nn.Identity(), "b": nn.Dropout(0.1)})),
        ("empty_list", nn.ModuleList()),
        ("empty_seq", nn.Sequential()),
    ]))


# ---- the seed notebook's MyCoolNet ----------------------------------------------------------
@pytest.mark.parametrize("batch", [None, 4])
def test_my_cool_net_matches_torch(batch):
    theirs, ours = my_cool_net(torch), my_cool_net(gputensor)
    copy_weights(ours, theirs)
    assert torch_text(repr(ours)) == repr(theirs)
    x = np.array([1., 2, 3, 4, 5], dtype=np.float32) if batch is None else rand_array((batch, 5))
    out_t, out_o = theirs(torch.tensor(x)), ours(gputensor.tensor(x))
    assert_same(out_o, out_t)
    assert out_o.grad_fn.name() == out_t.grad_fn.name() == "SigmoidBackward0"
    out_t.sum().backward()
    out_o.sum().backward()
    for (name, p_o), (_, p_t) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_same(p_o.grad, p_t.grad, rtol=1e-4, atol=1e-6), name
