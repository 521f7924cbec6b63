"""nn.utils against torch: gradient clipping and parameters to a vector and back."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import gputensor
from gputensor import backends
from helpers import LIBS, assert_same, check_error, lib_device, rand_array

SHAPES = [(3, 4), (5,), (2, 1, 3)]


def _params(lib, device, arrays, grads, dtypes=None):
    """Parameters holding ``arrays`` with ``.grad`` set to ``grads`` (None: no grad)."""
    params = []
    for i, (a, g) in enumerate(zip(arrays, grads)):
        dtype = getattr(lib, dtypes[i]) if dtypes else lib.float32
        p = lib.nn.Parameter(lib.tensor(a, dtype=dtype, device=lib_device(lib, device)))
        if g is not None:
            p.grad = lib.tensor(g, dtype=dtype, device=lib_device(lib, device))
        params.append(p)
    return params


def _both(device, fn, scale=1.0, with_none=False, dtypes=None):
    """``fn(lib, params)`` on both libraries; compare its result and the gradients after.

    Half gradients are compared to half's precision: torch multiplies a half tensor by a
    float 0-d tensor in float and rounds once, gputensor's mul rounds the factor first.
    """
    rng = np.random.default_rng(7)
    arrays = [rand_array(s, rng=rng) for s in SHAPES]
    grads = [scale * rand_array(s, rng=rng) for s in SHAPES]
    if with_none:
        grads[1] = None
    results = {}
    for lib in LIBS:
        params = _params(lib, device, arrays, grads, dtypes)
        results[lib] = (fn(lib, params), params)
    (ours, our_params), (theirs, their_params) = results[gputensor], results[torch]
    if theirs is None:
        assert ours is None
    else:
        assert str(ours.device).startswith(device)
        assert_same(ours, theirs, rtol=1e-5)
    for o, t in zip(our_params, their_params):
        assert (o.grad is None) == (t.grad is None)
        if t.grad is not None:
            assert_same(o.grad, t.grad, rtol=1e-3 if t.dtype == torch.float16 else 1e-5)


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, 0, math.inf, -math.inf, "inf"])
@pytest.mark.parametrize("scale", [0.01, 10.0])
def test_clip_grad_norm(norm_type, scale, device):
    _both(device, lambda lib, ps: lib.nn.utils.clip_grad_norm_(ps, 1.5, norm_type), scale)


def test_clip_grad_norm_skips_parameters_without_grad_and_takes_one_tensor(device):
    _both(device, lambda lib, ps: lib.nn.utils.clip_grad_norm_(ps, 0.5), 10.0, with_none=True)
    _both(device, lambda lib, ps: lib.nn.utils.clip_grad_norm_(ps[0], 0.5), 10.0)
    _both(device, lambda lib, ps: lib.nn.utils.clip_grad_norm_(iter(ps), 0.5, foreach=True),
          10.0)


def test_clip_grad_norm_mixed_dtypes(device):
    dtypes = ["float32", "float64", "float16"]
    _both(device, lambda lib, ps: lib.nn.utils.clip_grad_norm_(ps, 0.5), 3.0, dtypes=dtypes)
    _both(device, lambda lib, ps: lib.nn.utils.clip_grad_norm_(ps[::-1], 0.5, math.inf), 3.0,
          dtypes=dtypes)


def test_get_total_norm_and_clip_grads_with_norm(device):
    def fn(lib, ps):
        total = lib.nn.utils.get_total_norm([p.grad for p in ps], 3.0)
        assert lib.nn.utils.clip_grads_with_norm_(ps, 0.25, total) is None
        return total
    _both(device, fn, 5.0)
    _both(device, lambda lib, ps: lib.nn.utils.get_total_norm(ps[0].grad), 5.0)


def test_clip_grad_value(device):
    _both(device, lambda lib, ps: lib.nn.utils.clip_grad_value_(ps, 0.7), 3.0, with_none=True)
    _both(device, lambda lib, ps: lib.nn.utils.clip_grad_value_(ps[2], 1), 3.0)


def test_no_gradients_give_a_zero_norm():
    assert_same(gputensor.nn.utils.clip_grad_norm_([], 1.0),
                torch.nn.utils.clip_grad_norm_([], 1.0))
    for lib in LIBS:
        p = lib.nn.Parameter(lib.ones(2))
        assert lib.nn.utils.clip_grad_norm_([p], 1.0).item() == 0.0
        with pytest.warns(UserWarning, match="`parameters` is an empty generator"):
            lib.nn.utils.clip_grad_norm_((p for p in []), 1.0)


def test_deprecated_clip_grad_norm_warns():
    for lib in LIBS:
        p = lib.nn.Parameter(lib.ones(2))
        p.grad = lib.ones(2) * 3
        with pytest.warns(FutureWarning) as record:
            norm = lib.nn.utils.clip_grad_norm(p, 1.0)
        assert abs(norm.item() - math.sqrt(18)) < 1e-5
        assert str(record[0].message) == (
            "`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
            "`torch.nn.utils.clip_grad_norm_`.")


def _param_with_grad(lib, grad):
    p = lib.nn.Parameter(lib.zeros(len(grad)))
    p.grad = lib.tensor(grad)
    return p


@pytest.mark.parametrize("case", [
    lambda lib: lib.nn.utils.clip_grad_norm_(_param_with_grad(lib, [1.0, math.nan]), 1.0,
                                             error_if_nonfinite=True),
    lambda lib: lib.nn.utils.clip_grad_norm_(_param_with_grad(lib, [1.0, math.inf]), 1.0, 1,
                                             error_if_nonfinite=True),
    lambda lib: lib.nn.utils.clip_grad_norm_(
        [_param_with_grad(lib, []), _param_with_grad(lib, [1.0])], 1.0, math.inf),
    lambda lib: lib.nn.utils.clip_grad_norm_(_param_with_grad(lib, [1.0]), 1.0, "x"),
    lambda lib: lib.nn.utils.vector_to_parameters([1.0], [lib.ones(1)]),
    lambda lib: lib.nn.utils.vector_to_parameters(lib.ones(1), [lib.ones(2)]),
    lambda lib: lib.nn.utils.parameters_to_vector([]),
])
def test_errors(case, device):
    check_error(case, device=device)


def test_nonfinite_norm_scales_anyway(device):
    def fn(lib, ps):
        ps[0].grad[0, 0] = math.inf
        return lib.nn.utils.clip_grad_norm_(ps, 1.0)
    _both(device, fn)


def test_parameters_to_vector_and_back(device):
    rng = np.random.default_rng(3)
    arrays = [rand_array(s, rng=rng) for s in SHAPES]
    vecs = {}
    for lib in LIBS:
        params = _params(lib, device, arrays, [None] * len(arrays))
        vec = lib.nn.utils.parameters_to_vector(params)
        vecs[lib] = vec
        assert vec.grad_fn.name().endswith("CatBackward0")
        lib.nn.utils.vector_to_parameters(vec.detach() * 2, params)
        for p, a in zip(params, arrays):
            assert tuple(p.shape) == a.shape and p.requires_grad and p.is_leaf
            np.testing.assert_allclose(p.detach().cpu().numpy(), 2 * a, rtol=1e-6)
    assert_same(vecs[gputensor], vecs[torch])


def test_clipping_on_cuda_reads_nothing_back(cuda_device):
    """The total norm and the clip stay on the device: no value read back to the host."""
    if not backends.simulating_cuda():
        pytest.skip("counted by the simulated device")
    from gputensor.backends import simcupy
    model = gputensor.nn.Linear(4, 3).to(cuda_device)
    model(gputensor.randn(2, 4, device=cuda_device)).sum().backward()
    before = simcupy.host_reads[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        norm = gputensor.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        gputensor.nn.utils.clip_grad_norm_(model.parameters(), 0.1, norm_type=math.inf)
        gputensor.nn.utils.clip_grad_value_(model.parameters(), 0.05)
    assert simcupy.host_reads[0] == before
    assert norm.device == model.weight.device
