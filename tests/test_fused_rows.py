"""The layer norm and softmax row kernels (CPU and CUDA, one source) compared with torch.

Each kernel test runs on the CPU kernels (``kernels/cpu/rows.py``, NumPy arrays), on the CUDA
kernels under Numba's simulator (simulated CuPy arrays) and on a real GPU (``gpu``, skipped
elsewhere): values and gradients against torch's ``layer_norm``, ``softmax`` and
``log_softmax`` (with the masks applied the torch way), float32 and float64. Then the ops
through the backend hooks: both choices of each hook agree with torch, and the kernel runs
when chosen.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch
from kernel_params import XPS, array_module

import gputensor
from gputensor import backends
from gputensor.kernels.cpu import rows as cpu_rows
from gputensor.kernels.cpu.thread_choice import thread_choice
from helpers import check_op, rand_array

DTYPES = ["float32", "float64"]
EPS = 1e-3  # a one-element row is x - mean = 0 up to rounding, which 1 / sqrt(eps) scales
SHAPES = [(3, 37), (2, 1), (1, 70), (0, 4)]  # rows, n: odd n, one column, a long row, no rows


@pytest.fixture(params=[pytest.param("cpu", id="cpu")] + XPS)
def kernels(request):
    """``(row kernel module, array module)``: the CPU kernels, then the CUDA ones."""
    if request.param == "cpu":
        return cpu_rows, np
    xp = array_module(request.param)
    return importlib.import_module("gputensor.kernels.cuda.rows"), xp


def tol(dtype, grad=False):
    """Comparison tolerances for a dtype (for gradients: check_op's, in float32)."""
    if dtype == "float32":
        return {"rtol": 1e-4 if grad else 1e-5, "atol": 1e-5}
    return {"rtol": 1e-12, "atol": 1e-12}


def host(xp, array):
    """A device array's values on the host."""
    return array if xp is np else xp.asnumpy(array)


def leaf(array):
    """A torch leaf that requires grad."""
    return torch.tensor(array, requires_grad=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
def test_layer_norm_forward_and_backward(kernels, shape, dtype, affine):
    module, xp = kernels
    rows, n = shape
    x, g = rand_array(shape, dtype, -3, 3), rand_array(shape, dtype)
    w = rand_array((n,), dtype) if affine in ("both", "weight") else None
    b = rand_array((n,), dtype) if affine in ("both", "bias") else None
    device = [None if a is None else xp.asarray(a) for a in (x, g, w, b)]
    y, mean, rstd = module.layer_norm_forward(device[0], device[2], device[3], EPS)
    tx, tw, tb = (None if a is None else leaf(a) for a in (x, w, b))
    expected = torch.nn.functional.layer_norm(tx, (n,), tw, tb, eps=EPS)
    np.testing.assert_allclose(host(xp, y), expected.detach().numpy(), **tol(dtype))
    if rows:
        torch_mean = torch.tensor(x).mean(1).numpy()
        torch_rstd = torch.rsqrt(torch.tensor(x).var(1, unbiased=False) + EPS).numpy()
        np.testing.assert_allclose(host(xp, mean), torch_mean, **tol(dtype))
        np.testing.assert_allclose(host(xp, rstd), torch_rstd, **tol(dtype))
    expected.backward(torch.tensor(g))
    dx, dw, db = module.layer_norm_backward(device[1], device[0], mean, rstd, device[2],
                                            (True, w is not None, b is not None))
    np.testing.assert_allclose(host(xp, dx), tx.grad.numpy(), **tol(dtype, grad=True))
    for ours, theirs in ((dw, tw), (db, tb)):
        if theirs is None:
            assert ours is None
        else:
            np.testing.assert_allclose(host(xp, ours), theirs.grad.numpy(),
                                       **tol(dtype, grad=True))


def test_layer_norm_weight_gradient_over_many_rows(kernels):
    """More rows than one thread sums: CUDA splits each column's rows in chunks (atomics)."""
    test_layer_norm_forward_and_backward(kernels, (33, 5), "float64", "both")


def test_layer_norm_backward_gives_only_what_is_asked(kernels):
    module, xp = kernels
    x = xp.asarray(rand_array((2, 5), "float32"))
    w = xp.asarray(rand_array((5,), "float32"))
    _, mean, rstd = module.layer_norm_forward(x, w, None, EPS)
    dx, dw, db = module.layer_norm_backward(x, x, mean, rstd, w, (False, False, True))
    assert dx is None and dw is None and db is not None


def masked_input(x, mask):
    """torch's input to softmax for a kernel mask: x + mask, or x with ~keep set to -inf."""
    if mask is None:
        return x
    rows = x.shape[0] // mask.shape[0]
    tiled = torch.tensor(np.tile(mask, (rows, 1)))
    if mask.dtype == np.bool_:
        return x.masked_fill(~tiled, -np.inf)
    return x + tiled


def make_mask(kind, mask_rows, n, dtype):
    """A mask of ``mask_rows`` rows: None, additive (with -inf entries) or boolean."""
    if kind == "none":
        return None
    rng = np.random.default_rng(5)
    keep = rng.random((mask_rows, n)) < 0.7
    keep[:, 0] = True  # each row keeps an element
    if kind == "bool":
        return keep
    return np.where(keep, rng.standard_normal((mask_rows, n)), -np.inf).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("mask_kind", ["none", "additive", "bool"])
def test_softmax_forward_and_backward(kernels, shape, dtype, log, mask_kind):
    module, xp = kernels
    rows, n = shape
    x, g = rand_array(shape, dtype, -3, 3), rand_array(shape, dtype)
    # odd rows: a mask row each; even rows: one for two rows, as a broadcast (L, S) mask
    mask = make_mask(mask_kind, rows if rows % 2 else max(rows // 2, 1), n, dtype)
    device_mask = None if mask is None else xp.asarray(mask)
    y = module.softmax_forward(xp.asarray(x), device_mask, log)
    tx = leaf(x)
    expected = (torch.log_softmax if log else torch.softmax)(masked_input(tx, mask), -1)
    np.testing.assert_allclose(host(xp, y), expected.detach().numpy(), **tol(dtype))
    expected.backward(torch.tensor(g))
    dx = module.softmax_backward(xp.asarray(g), y, device_mask, log)
    np.testing.assert_allclose(host(xp, dx), tx.grad.numpy(), **tol(dtype, grad=True))


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # the simulator's -inf - -inf
@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
def test_softmax_special_rows(kernels, log):
    module, xp = kernels
    inf = np.inf
    x = np.array([[-inf, -inf, -inf], [1.0, np.nan, 2.0], [inf, 1.0, 0.0], [1e4, -1e4, 3e4]],
                 dtype=np.float32)
    y = module.softmax_forward(xp.asarray(x), None, log)
    expected = (torch.log_softmax if log else torch.softmax)(torch.tensor(x), -1)
    np.testing.assert_allclose(host(xp, y), expected.numpy(), rtol=1e-6, equal_nan=True)


@pytest.mark.parametrize("rows", [9, 37])  # fewer rows than PARAMETER_CHUNKS, and more
def test_cpu_parallel_build_matches(monkeypatch, rows):
    """The multi-threaded CPU loops (taken from SERIAL_BELOW elements) give the same results."""
    x = rand_array((rows, 300), "float64")
    w, b = rand_array((300,), "float64"), rand_array((300,), "float64")
    serial = cpu_rows.layer_norm_forward(x, w, b, EPS)
    serial_grads = cpu_rows.layer_norm_backward(x, x, serial[1], serial[2], w, (True,) * 3)
    serial_softmax = cpu_rows.softmax_forward(x, None, False)
    monkeypatch.setattr(cpu_rows, "SERIAL_BELOW", 1)
    monkeypatch.setattr(thread_choice, "force", True)
    parallel = cpu_rows.layer_norm_forward(x, w, b, EPS)
    parallel_grads = cpu_rows.layer_norm_backward(x, x, parallel[1], parallel[2], w,
                                                  (True,) * 3)
    assert ("layer_norm_forward_loop", np.dtype("float64"), True) in cpu_rows._COMPILED
    for ours, theirs in zip(parallel + parallel_grads, serial + serial_grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cpu_rows.softmax_forward(x, None, False), serial_softmax,
                               rtol=1e-12)


# ---- through the ops: each choice of the hooks matches torch ---------------------------
def LOG(lib, x):  # noqa: N802 (a case of the table)
    """log_softmax over the last dim of a 2-D input."""
    return lib.log_softmax(x, 1)


OP_CASES = {
    "layer_norm": [
        (lambda lib, x, w, b: lib.nn.functional.layer_norm(x, (3, 4), w, b, eps=1e-3),
         [(2, 3, 4), (3, 4), (3, 4)]),
        (lambda lib, x, w: lib.nn.functional.layer_norm(x, (5,), w), [(4, 5), (5,)]),
        (lambda lib, x: lib.nn.functional.layer_norm(x, (6,)), [(6,)]),
    ],
    "softmax": [
        (lambda lib, x: x.softmax(-1), [(2, 3, 5)]),
        (LOG, [(4, 6)]),
        (lambda lib, x: lib.softmax(x, 1, dtype=lib.float64), [(3, 5)]),
        (lambda lib, x: x.softmax(0), [(3, 5)]),  # not the last dim: the formula
    ],
}


OP_CASES["softmax_backward"] = [case for case in OP_CASES["softmax"] if case[0] is not LOG]
OP_CASES["log_softmax_backward"] = [(LOG, [(4, 6)]), OP_CASES["softmax"][-1]]
HOOK_FUNCTIONS = {"layer_norm": "layer_norm_forward", "softmax": "softmax_forward",
                  "softmax_backward": "softmax_backward",
                  "log_softmax_backward": "softmax_backward"}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hook", sorted(OP_CASES))
@pytest.mark.parametrize("ours", [True, False], ids=["kernel", "formula"])
def test_ops_match_torch_with_either_choice(hook, ours, dtype, device, monkeypatch):
    backend = backends.backend_for(device)
    monkeypatch.setitem(backend.use_our_kernel, hook, ours)
    module = backend.row_kernels()
    calls = []
    original = getattr(module, HOOK_FUNCTIONS[hook])
    monkeypatch.setattr(module, HOOK_FUNCTIONS[hook],
                        lambda *a: calls.append(1) or original(*a))
    for fn, shapes in OP_CASES[hook]:
        before = len(calls)
        check_op(fn, *[rand_array(s, dtype, -2, 2) for s in shapes], device=device)
        last_dim = fn is not OP_CASES["softmax"][-1][0]
        assert (len(calls) > before) == (ours and last_dim)


def test_softmax_output_changed_in_place_fails_backward(device):
    """The kernel's backward reads the saved output: changing it in place is caught."""
    backend = backends.backend_for(device)
    x = gputensor.randn(2, 3, device=device, requires_grad=True)
    saved = dict(backend.use_our_kernel)
    try:
        backend.use_our_kernel.update(softmax=True, softmax_backward=True,
                                      log_softmax_backward=True)
        y = x.softmax(-1)
        y.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
    finally:
        backend.use_our_kernel.update(saved)
