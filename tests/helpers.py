"""Shared test helpers: run the same code on gputensor and torch and compare everything.

The op checkers (``check_op``, ``check_error``) take the device under test: gputensor's
inputs, and every tensor the compared code makes, are made there, while torch, the oracle,
runs on the CPU. Results come back with ``.cpu()`` for the comparison, so the checkers hold
no assumption about how a device stores its arrays.
"""

from __future__ import annotations

import contextlib
import re

import numpy as np
import torch

import gputensor

LAYOUTS = ("contiguous", "transposed", "strided", "expanded")
LIBS = (gputensor, torch)
_RNG = np.random.default_rng(1234)
_DEVICE_SUFFIX = re.compile(r", device='cuda:\d+'")
_CUDA_KERNEL = re.compile(r'"(\w+)_cuda"')  # torch's kernel names: "abs_cuda", "abs_cpu"
_CUDA_TYPE = re.compile(r"\bcuda\.(\w+Tensor)\b")  # torch.cuda.FloatTensor, torch.FloatTensor


def rand_array(shape, dtype="float32", low=-2.0, high=2.0, rng=None):
    """Random data of a NumPy dtype: floats in [low, high), small ints, or bools."""
    rng = rng or _RNG
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return rng.uniform(low, high, size=shape).astype(dtype)
    if dtype.kind == "b":
        return rng.random(size=shape) > 0.5
    lo = 0 if dtype.kind == "u" else int(low) - 3
    return rng.integers(lo, int(high) + 4, size=shape).astype(dtype)


def lib_device(lib, device) -> str:
    """Where ``lib`` runs in a comparison: gputensor on ``device``, torch on the CPU."""
    return device if lib is gputensor else "cpu"


@contextlib.contextmanager
def made_on(lib, device):
    """Inside, ``lib``'s new tensors are made on ``lib_device(lib, device)`` by default."""
    if lib is not gputensor or device == "cpu":
        yield
        return
    saved = gputensor.get_default_device()
    gputensor.set_default_device(device)
    try:
        yield
    finally:
        gputensor.set_default_device(None if saved.type == "cpu" else saved)


def run_on(lib, device, fn, *args):
    """``fn(lib, *args)`` with ``lib``'s new tensors made on its side of the comparison."""
    with made_on(lib, device):
        return fn(lib, *args)


def make_input(lib, array, layout="contiguous", requires_grad=False, device="cpu"):
    """(leaf, operand): ``operand`` has array's values and shape in the given memory layout.

    gputensor's leaf is made on ``device``; torch's on the CPU.
    """
    dtype = getattr(lib, str(array.dtype) if array.dtype != np.bool_ else "bool")
    dev = lib_device(lib, device)
    if layout == "transposed" and array.ndim >= 2:
        leaf = lib.tensor(np.ascontiguousarray(np.swapaxes(array, -1, -2)), dtype=dtype,
                          device=dev, requires_grad=requires_grad)
        return leaf, leaf.transpose(-1, -2)
    if layout == "strided" and array.ndim >= 1:
        wide = np.repeat(array, 2, axis=-1)
        leaf = lib.tensor(wide, dtype=dtype, device=dev, requires_grad=requires_grad)
        return leaf, leaf[..., ::2]
    if layout == "expanded" and array.ndim >= 1 and array.shape[0] > 0:
        leaf = lib.tensor(array[:1], dtype=dtype, device=dev, requires_grad=requires_grad)
        return leaf, leaf.expand(*array.shape)
    leaf = lib.tensor(array, dtype=dtype, device=dev, requires_grad=requires_grad)
    return leaf, leaf


def dtype_name(t) -> str:
    """'float32' for a gputensor or torch tensor."""
    return str(t.dtype).split(".")[-1]


def to_numpy(t):
    """The values of a gputensor or torch tensor, on any device, as a NumPy array."""
    return np.asarray(t.detach().cpu().numpy())


def torch_text(text: str) -> str:
    """Our printed text or message as torch's on the CPU would read: torch's name, no device
    suffix, CPU kernel and type names."""
    text = _DEVICE_SUFFIX.sub("", text.replace("gputensor", "torch"))
    return _CUDA_TYPE.sub(r"\1", _CUDA_KERNEL.sub(r'"\1_cpu"', text))


def _tensors(out):
    items = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in items if isinstance(o, (torch.Tensor, gputensor.Tensor))]


def grad_fn_names(out):
    """The grad_fn name (or None) of each tensor in ``out`` (a tensor, tuple or list), as torch
    spells it."""
    return [None if t.grad_fn is None else torch_text(t.grad_fn.name()) for t in _tensors(out)]


def assert_on(ours, device):
    """Every gputensor tensor in ``ours`` (a tensor, tuple or list) is on ``device`` ("cuda":
    any CUDA device, "cuda:1": that one)."""
    expected = gputensor.device(device)
    for t in _tensors(ours):
        found = t.device if expected.index is not None else t.device.type
        assert found == (expected if expected.index is not None else expected.type), \
            f"a result on {t.device}, expected {device}"


def assert_same(ours, theirs, rtol=1e-5, atol=1e-6, check_dtype=True):
    """Values, shape and dtype equal (tuples compared item by item), on any device."""
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            assert_same(o, t, rtol, atol, check_dtype)
        return
    if not isinstance(theirs, torch.Tensor):
        assert ours == theirs or np.isclose(ours, theirs, rtol=rtol, atol=atol)
        return
    assert isinstance(ours, gputensor.Tensor), f"expected a Tensor, got {type(ours)}"
    assert tuple(ours.shape) == tuple(theirs.shape), (ours.shape, theirs.shape)
    if check_dtype:
        assert dtype_name(ours) == dtype_name(theirs), (ours.dtype, theirs.dtype)
    np.testing.assert_allclose(to_numpy(ours).astype(np.float64),
                               to_numpy(theirs).astype(np.float64), rtol=rtol, atol=atol,
                               equal_nan=True)


def _float_outputs(out):
    return [o for o in _tensors(out) if o.dtype.is_floating_point and o.requires_grad]


def check_op(fn, *arrays, device="cpu", layout="contiguous", grad=True, rtol=1e-5, atol=1e-6,
             grad_rtol=1e-4, grad_atol=1e-5):
    """Run ``fn(lib, *operands)`` on both libraries; compare outputs, grad_fn names and input
    gradients, ours computed on ``device`` and torch's on the CPU.

    Float inputs require grad when ``grad``; the backward seed is the same random array
    for both libraries. Tensors that ``fn`` makes are made on the device too.
    """
    results = {}
    for lib in LIBS:
        with made_on(lib, device):
            leaves, operands = [], []
            for a in arrays:
                if isinstance(a, np.ndarray):
                    leaf, op = make_input(lib, a, layout, grad and a.dtype.kind == "f", device)
                    leaves.append(leaf)
                    operands.append(op)
                else:
                    operands.append(a)
            results[lib] = (leaves, fn(lib, *operands))
    (our_leaves, ours), (torch_leaves, theirs) = results[gputensor], results[torch]
    assert_on(ours, device)
    assert_same(ours, theirs, rtol, atol)
    assert grad_fn_names(ours) == grad_fn_names(theirs)
    if not grad:
        return
    torch_outs, our_outs = _float_outputs(theirs), _float_outputs(ours)
    assert len(torch_outs) == len(our_outs)
    if not torch_outs:
        return
    seeds = [rand_array(tuple(t.shape), dtype_name(t)) for t in torch_outs]
    torch.autograd.backward(torch_outs, [torch.from_numpy(s.copy()) for s in seeds])
    gputensor.autograd.backward(our_outs, [gputensor.tensor(s, device=device) for s in seeds])
    for o, t in zip(our_leaves, torch_leaves):
        if t.grad is None:
            assert o.grad is None or not np.any(to_numpy(o.grad))
        else:
            assert o.grad is not None, "missing gradient"
            assert_on(o.grad, device)
            assert_same(o.grad, t.grad, grad_rtol, grad_atol)


def check_error(fn, *args, device="cpu"):
    """Both libraries raise the same exception type with the same message (ours on
    ``device``, tensors that ``fn`` makes made there; torch on the CPU)."""
    errors = []
    for lib in LIBS:
        try:
            run_on(lib, device, fn, *args)
        except Exception as e:  # noqa: BLE001 - comparing whatever torch raises
            errors.append(e)
        else:
            errors.append(None)
    ours, theirs = errors
    assert theirs is not None, "torch did not raise"
    assert ours is not None, f"gputensor did not raise; torch raised {theirs!r}"
    assert type(ours) is type(theirs) or isinstance(ours, type(theirs)), (ours, theirs)
    assert torch_text(str(ours)) == str(theirs), (str(ours), str(theirs))


def my_cool_net(torch):
    """Section 3 of the seed notebook, verbatim but for the library passed in."""
    class MyCoolNet(torch.nn.Module):
        def __init__(self, in_size, out_size):
            super(MyCoolNet, self).__init__()

            self.lin1 = torch.nn.Linear(in_size, 10)
            self.lin2 = torch.nn.Linear(10, 15)
            self.lin3 = torch.nn.Linear(15, 10)
            self.lin4 = torch.nn.Linear(10, out_size)
            self.relu = torch.nn.ReLU()
            self.sig = torch.nn.Sigmoid()

        def forward(self, x):
            hidden = self.relu(self.lin1(x))
            hidden = self.relu(self.lin2(hidden))
            hidden = self.relu(self.lin3(hidden))
            output = self.sig(self.lin4(hidden))

            return output
    return MyCoolNet(in_size=5, out_size=5)


def copy_weights(ours, theirs):
    """Load torch module ``theirs``'s state into our module ``ours``."""
    ours.load_state_dict({k: gputensor.tensor(v.detach().numpy())
                          for k, v in theirs.state_dict().items()})


def make_net(lib):
    """A nested net with a buffer, a non-persistent buffer, a shared module and None slots."""
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)
            self.act = nn.ReLU()
            self.register_buffer("count", lib.zeros(2))
            self.register_buffer("scratch", lib.ones(1), persistent=False)
            self.scale = nn.Parameter(lib.ones(3))
            self.empty = None

        def forward(self, x):
            return self.act(self.fc(x)) * self.scale

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.first = Block()
            self.body = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3))
            self.again = self.first  # shared: listed once by parameters()/named_modules()
            self.heads = nn.ModuleList([nn.Linear(3, 2), nn.Linear(3, 2)])
            self.register_parameter("nothing", None)
            self.register_buffer("none_buffer", None)
            self.bias = nn.Parameter(lib.zeros(2))

        def forward(self, x):
            h = self.body(self.first(x))
            return self.heads[0](h) + self.heads[1](h) + self.bias

    return Net()
