"""Pickling and copying in memory, compared with torch: tensors (every dtype, views,
requires_grad, CUDA), Parameters, Modules, optimizers and schedulers; copy.copy and
copy.deepcopy; tensors through worker processes."""

from __future__ import annotations

import concurrent.futures
import copy
import multiprocessing
import pickle
import warnings

import numpy as np
import pytest
import torch

import gputensor
from helpers import assert_same, dtype_name

DTYPES = ["float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64",
          "uint8", "bool"]
VIEWS = [lambda t: t, lambda t: t.t(), lambda t: t[1:, ::2], lambda t: t[0], lambda t: t[:0]]


def _both(dtype, shape=(4, 6)):
    array = np.asarray(np.arange(int(np.prod(shape))).reshape(shape) % 5)
    ours = gputensor.tensor(array).to(getattr(gputensor, dtype))
    return ours, torch.tensor(array).to(getattr(torch, dtype))


def _round_trip(obj, protocol=pickle.HIGHEST_PROTOCOL):
    return pickle.loads(pickle.dumps(obj, protocol=protocol))


def _devices_for(dtype, device):
    if device != "cpu" and dtype == "bfloat16":
        pytest.skip("CuPy has no bfloat16 arrays: bfloat16 tensors live on the CPU only")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("make_view", VIEWS)
def test_tensor_round_trip_as_torchs(dtype, make_view, device):
    _devices_for(dtype, device)
    ours, theirs = _both(dtype)
    ours, theirs = make_view(ours.to(device)), make_view(theirs)
    back, expected = _round_trip(ours), _round_trip(theirs)
    assert dtype_name(back) == dtype_name(expected)
    assert_same(back.cpu().double(), expected.double())
    assert back.device == ours.device
    assert back.requires_grad is expected.requires_grad is False
    if device == "cpu":
        assert back.stride() == expected.stride()
        assert back.is_contiguous() == expected.is_contiguous()


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_every_protocol(protocol):
    ours = gputensor.arange(12.0).reshape(3, 4)[:, 1:]
    assert_same(_round_trip(ours, protocol), _round_trip(torch.arange(12.0).reshape(3, 4)[:, 1:]))


def test_protocol_5_sends_arrays_out_of_band():
    ours = gputensor.arange(1000.0)
    buffers = []
    data = pickle.dumps(ours, protocol=5, buffer_callback=buffers.append)
    assert len(buffers) == 1 and len(data) < 1000
    back = pickle.loads(data, buffers=buffers)
    assert_same(back, torch.arange(1000.0))


def test_requires_grad_grad_and_graph_as_torchs(device):
    results = []
    for lib in (gputensor, torch):
        x = lib.ones(2, 3, requires_grad=True, device=device if lib is gputensor else "cpu")
        (x * 2).sum().backward()
        y = x * 3
        back_x, back_y = _round_trip(x), _round_trip(y)
        results.append([(t.requires_grad, t.is_leaf, t.grad is None, t.grad_fn is None)
                        for t in (back_x, back_y)])
        copied = copy.deepcopy(x)
        assert copied.grad.cpu().tolist() == [[2.0] * 3] * 2 and copied.grad is not x.grad
        assert copied.requires_grad and copied.is_leaf
        with pytest.raises(RuntimeError, match="Only Tensors created explicitly by the user"):
            copy.deepcopy(y)
    assert results[0] == results[1]


def test_copy_shares_memory_and_deepcopy_does_not_as_torch():
    for lib in (gputensor, torch):
        x = lib.zeros(3, requires_grad=True)
        shallow, deep = copy.copy(x), copy.deepcopy(x)
        assert shallow is not x and shallow.requires_grad and shallow.is_leaf
        with lib.no_grad():
            x[0] = 1.0
        assert shallow[0].item() == 1.0 and deep[0].item() == 0.0
        y = x * 2
        copied = copy.copy(y)
        assert copied.requires_grad and copied.grad_fn is None


def test_pickled_tensors_own_their_memory():
    for lib in (gputensor, torch):
        base = lib.arange(6.0)
        view = base[2:4]
        base2, view2 = _round_trip((base, view))
        view2[0] = 100.0
        base[0] = -1.0
        assert base2.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
        assert view.tolist() == [2.0, 3.0]


def test_parameter_round_trip_keeps_class_and_attributes():
    for lib in (gputensor, torch):
        p = lib.nn.Parameter(lib.ones(2))
        p.note = "kept"
        back = _round_trip(p)
        assert type(back) is lib.nn.Parameter and back.requires_grad and back.note == "kept"
        assert repr(back).startswith("Parameter containing:")
        frozen = _round_trip(lib.nn.Parameter(lib.ones(2), requires_grad=False))
        assert not frozen.requires_grad


def test_backward_hooks_are_left_out_with_torchs_warning():
    texts = []
    for lib in (gputensor, torch):
        x = lib.ones(2, requires_grad=True)
        x.register_hook(lambda g: g)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            back = _round_trip(x)
        texts.append(str(caught[0].message).split(" at 0x")[0])
        back.sum().backward()
        assert back.grad.tolist() == [1.0, 1.0]
    assert texts[0] == texts[1]


def _model(lib, device="cpu"):
    lib.manual_seed(0)
    return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.ReLU(),
                             lib.nn.Linear(4, 2)).to(device)


def test_module_round_trip(device):
    model = _model(gputensor, device)
    model(gputensor.randn(5, 3, device=device))  # running stats change
    back = _round_trip(model)
    assert repr(back) == repr(model)
    for (name, a), (name2, b) in zip(model.state_dict().items(), back.state_dict().items()):
        assert name == name2 and a.device == b.device
        assert a.cpu().tolist() == b.cpu().tolist()
    assert all(p.requires_grad for p in back.parameters())
    x = gputensor.randn(5, 3, device=device)
    assert model(x).cpu().tolist() == back(x).cpu().tolist()


@pytest.mark.parametrize("make_optimizer", [
    lambda lib, ps: lib.optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda lib, ps: lib.optim.Adam(ps, lr=0.01),
    lambda lib, ps: lib.optim.AdamW(ps, lr=0.01),
    lambda lib, ps: lib.optim.RMSprop(ps, lr=0.01),
    lambda lib, ps: lib.optim.Adagrad(ps, lr=0.01),
])
def test_optimizer_and_scheduler_continue_after_deepcopy_and_pickle(make_optimizer):
    def train(lib, model, opt, sched, steps):
        lib.manual_seed(1)
        for _ in range(steps):
            opt.zero_grad()
            model(lib.randn(5, 3)).pow(2).sum().backward()
            opt.step()
            sched.step()

    for lib in (gputensor, torch):
        model = _model(lib)
        opt = make_optimizer(lib, model.parameters())
        sched = lib.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        train(lib, model, opt, sched, 2)
        copied = copy.deepcopy((model, opt, sched))
        assert copied[1].param_groups[0]["params"][0] is copied[0][0].weight
        assert copied[2].optimizer is copied[1]
        pickled = _round_trip((model, opt, sched))
        assert pickled[1].param_groups[0]["params"][0] is pickled[0][0].weight
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for triple in (copied, pickled, (model, opt, sched)):
                train(lib, *triple, 2)  # the copies carry the state: they step as the original
        for other in (copied, pickled):
            for a, b in zip(other[0].parameters(), model.parameters()):
                assert a.tolist() == b.tolist()
            assert other[2].get_last_lr() == sched.get_last_lr()


def _double(t):
    return t * 2


def test_tensors_through_a_process_pool():
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        results = list(pool.map(_double, [gputensor.arange(3.0), gputensor.ones(2, 2).t()],
                                timeout=20))
    assert results[0].tolist() == [0.0, 2.0, 4.0]
    assert results[1].tolist() == [[2.0, 2.0], [2.0, 2.0]]


def _send_model(queue):
    queue.put(_model(gputensor))


def test_a_module_from_a_child_process():
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_send_model, args=(queue,))
    child.start()
    received = queue.get(timeout=20)
    child.join(timeout=20)
    assert child.exitcode == 0
    expected = _model(gputensor)
    x = gputensor.randn(4, 3)
    expected.train(), received.train()
    assert received(x).tolist() == expected(x).tolist()


def _zero_output_hook(module, args, output):
    return output * 0


def test_module_hooks_pickle_as_torchs():
    for lib in (gputensor, torch):
        model = lib.nn.Linear(2, 2)
        model.register_forward_hook(_zero_output_hook)
        model.register_buffer("extra", lib.ones(1))
        for back in (_round_trip(model), copy.deepcopy(model)):
            assert back(lib.ones(1, 2)).tolist() == [[0.0, 0.0]]
            assert [name for name, _ in back.named_buffers()] == ["extra"]
        model.register_forward_hook(lambda *args: None)
        with pytest.raises((pickle.PicklingError, AttributeError)):  # a local function
            pickle.dumps(model)
