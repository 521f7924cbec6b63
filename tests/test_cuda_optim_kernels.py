"""The fused CUDA optimizer kernels against the CPU kernels and the NumPy reference.

Each case runs a few steps of one rule on tiny flat buffers three ways: the CUDA entry
(``kernels.cuda.optim.optimizer_step``: the simulator on NumPy arrays here, CuPy arrays on
a real GPU), the CPU entry on copies, and the vectorised NumPy reference of
tests/test_fused_kernels.py. The ``gpu`` variants run the same bodies on CuPy arrays.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from kernel_params import REAL_GPU, SIMULATED, XPS
from test_fused_kernels import CASES  # (rule, NumPy reference, options) of every combination

from gputensor.kernels.cpu import optim as cpu_optim
from gputensor.kernels.cuda import optim as cuda_optim

DTYPES = ["float32", "float64"]
N = 37  # elements, fewer than the simulator's 2 x 32 threads (grid-stride: see below)
STEPS = 3


def _xp(name):
    if name == "cupy":
        import cupy
        return cupy
    return np


def _host(a):
    """A NumPy copy of a NumPy or CuPy array."""
    return np.array(a.get() if hasattr(a, "get") else a)


# ---- the optimizers' kernel arguments (as gputensor.optim's _launch methods build them) ----
def _state(name, options, dtype):
    """Fresh state buffers of rule ``name``, keyed by the reference's names."""
    zeros = [np.zeros(N, dtype) for _ in range(3)]
    if name == "SGD":
        return {"buf": zeros[0]}
    if name == "Adam":
        return {"m": zeros[0], "v": zeros[1], "vmax": zeros[2]}
    if name == "RMSprop":
        return {"sq": zeros[0], "buf": zeros[1], "ga": zeros[2]}
    return {"sum": np.full(N, options.get("initial_accumulator_value", 0), dtype)}


def _step_args(name, o, t, p, g, st):
    """(rule, arrays, scalars, flags) of step ``t``; unused state slots get the gradient."""
    lr, wd, maximize = o["lr"], o.get("weight_decay", 0), o.get("maximize", False)
    if name == "SGD":
        momentum = o.get("momentum", 0)
        return ("sgd", (p, g, st["buf"] if momentum else g),
                (lr, momentum, 1 - o.get("dampening", 0), wd),
                (o.get("nesterov", False), maximize, t == 1))
    if name == "Adam":
        (b1, b2), amsgrad = o.get("betas", (0.9, 0.999)), o.get("amsgrad", False)
        return ("adam", (p, g, st["m"], st["v"], st["vmax"] if amsgrad else g),
                (1 - b1, b1, b2, 1 - b2, o.get("eps", 1e-8), wd, 1 - lr * wd,
                 lr / (1 - b1 ** t), math.sqrt(1 - b2 ** t)),
                (amsgrad, maximize, o.get("decoupled", False)))
    if name == "RMSprop":
        alpha, momentum, centered = o.get("alpha", 0.99), o.get("momentum", 0), o["centered"]
        return ("rmsprop", (p, g, st["sq"], st["buf"] if momentum > 0 else g,
                            st["ga"] if centered else g),
                (lr, alpha, 1 - alpha, o.get("eps", 1e-8), wd, momentum), (centered, maximize))
    clr = lr / (1 + (t - 1) * o.get("lr_decay", 0))
    return "adagrad", (p, g, st["sum"]), (clr, wd, o.get("eps", 1e-10)), (maximize,)


def _assert_kernels_agree(device, host, dtype):
    """The CUDA buffers equal the CPU kernel's: bit for bit in the simulator (both compute in
    the buffers' dtype, operation by operation); within rounding on a GPU (NVVM fuses FMAs)."""
    for key, a in device.items():
        if SIMULATED:
            np.testing.assert_array_equal(_host(a), host[key], err_msg=key)
        else:
            tol = dict(rtol=1e-12, atol=1e-14) if dtype == "float64" else dict(rtol=1e-5,
                                                                                atol=1e-6)
            np.testing.assert_allclose(_host(a), host[key], err_msg=key, **tol)
        assert a.dtype == np.dtype(dtype)


def _run_case(name, ref, options, dtype, xp):
    rng = np.random.default_rng(3)
    host = {"p": rng.uniform(-1, 1, N).astype(dtype), **_state(name, options, dtype)}
    device = {key: xp.array(a) for key, a in host.items()}
    value, ref_state = host["p"].astype(np.float64), {}
    ref_options = {k: v for k, v in options.items()}
    for t in range(1, STEPS + 1):
        g = rng.uniform(-1, 1, N).astype(dtype)
        host["g"], device["g"] = g.copy(), xp.array(g)
        cpu_optim.optimizer_step(*_step_args(name, options, t, host["p"], host["g"], host))
        cuda_optim.optimizer_step(*_step_args(name, options, t, device["p"], device["g"],
                                              device))
        value = ref(value, g.astype(np.float64), ref_state, t, **ref_options)
        _assert_kernels_agree(device, host, dtype)
        np.testing.assert_array_equal(_host(device["g"]), g)  # gradients are read only
        tol = dict(rtol=1e-11, atol=1e-12) if dtype == "float64" else dict(rtol=2e-5, atol=2e-6)
        np.testing.assert_allclose(_host(device["p"]), value, **tol)


@pytest.mark.parametrize("xp", XPS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,ref,options", CASES,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)])
def test_step_matches_cpu_kernel_and_numpy_reference(name, ref, options, dtype, xp):
    _run_case(name, ref, options, dtype, _xp(xp))


@pytest.mark.parametrize("xp", XPS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_lookahead_sync_matches_cpu_kernel_and_numpy_reference(dtype, xp):
    xp = _xp(xp)
    rng = np.random.default_rng(4)
    alpha = 0.3
    host = {"slow": rng.uniform(-1, 1, N).astype(dtype)}
    device = {"slow": xp.array(host["slow"])}
    slow = host["slow"].astype(np.float64)
    for _ in range(STEPS):
        fast = rng.uniform(-1, 1, N).astype(dtype)
        host["fast"], device["fast"] = fast.copy(), xp.array(fast)
        cpu_optim.optimizer_step("lookahead", (host["slow"], host["fast"]), (alpha,), ())
        cuda_optim.optimizer_step("lookahead", (device["slow"], device["fast"]), (alpha,), ())
        slow = slow + alpha * (fast.astype(np.float64) - slow)
        _assert_kernels_agree(device, host, dtype)
        tol = dict(rtol=1e-12) if dtype == "float64" else dict(rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(_host(device["slow"]), slow, **tol)
        np.testing.assert_allclose(_host(device["fast"]), slow, **tol)


# ---- launch details ------------------------------------------------------------------
@pytest.mark.parametrize("xp", XPS)
def test_one_thread_grid_strides_over_every_element(xp):
    xp = _xp(xp)
    rng = np.random.default_rng(5)
    host = [rng.uniform(-1, 1, N) for _ in range(2)] + [rng.uniform(0, 1, N)]
    device = [xp.array(a) for a in host]
    cpu_optim.optimizer_step("adagrad", host, (0.1, 0.01, 1e-10), (False,))
    kernel = cuda_optim.compiled_kernel("adagrad", np.float64)
    kernel[1, 1](*device, 0.1, 0.01, 1e-10, False)
    _assert_kernels_agree(dict(enumerate(device)), dict(enumerate(host)), "float64")


@pytest.mark.parametrize("xp", XPS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_empty_buffers_launch_nothing(dtype, xp):
    xp = _xp(xp)
    arrays = [xp.zeros(0, dtype) for _ in range(5)]
    cuda_optim.optimizer_step("adam", arrays, (0.1, 0.9, 0.999, 0.001, 1e-8, 0, 1, 0.1, 0.1),
                              (False, False, False))
    assert all(a.shape == (0,) for a in arrays)


@pytest.mark.gpu
@pytest.mark.skipif(not REAL_GPU, reason="needs a real NVIDIA GPU with CuPy (the simulator "
                    "launches on its default stream)")
def test_launches_on_cupys_current_stream():
    xp = _xp("cupy")
    p = xp.ones(N, xp.float32)
    g = xp.full(N, 0.5, xp.float32)
    stream = xp.cuda.Stream(non_blocking=True)
    with stream:
        for _ in range(3):  # queued on `stream` behind each other, no host wait between
            cuda_optim.optimizer_step("sgd", (p, g, g), (0.1, 0, 1, 0), (False, False, True))
    stream.synchronize()
    np.testing.assert_allclose(_host(p), np.full(N, 1 - 3 * 0.05, np.float32), rtol=1e-6)


def test_rules_and_arguments_match_the_cpu_kernels():
    assert {name: spec[1:] for name, spec in cuda_optim.RULE_KERNELS.items()} == \
        {name: spec[1:] for name, spec in cpu_optim.KERNELS.items()}


def test_every_kernel_is_registered_for_float32_and_float64():
    registry = {name: (fn, sigs) for name, fn, sigs in cuda_optim.KERNELS}
    assert len(registry) == len(cuda_optim.KERNELS)
    assert set(registry) == {f"optim.{name}" for name in cuda_optim.RULE_KERNELS}
    for name, (kernel, n_arrays, n_scalars, n_flags) in cuda_optim.RULE_KERNELS.items():
        fn, sigs = registry[f"optim.{name}"]
        assert fn.__code__ is kernel.__code__
        assert sigs == [cuda_optim.signature(name, d) for d in ("float32", "float64")]
        assert sigs[0] == "void(" + ", ".join(["float32[::1]"] * n_arrays + ["float32"] * n_scalars
                                              + ["boolean"] * n_flags) + ")"


@pytest.mark.parametrize("dtype", DTYPES)
def test_each_signature_compiles_once(dtype):
    first = cuda_optim.compiled_kernel("lookahead", dtype)
    assert cuda_optim.compiled_kernel("lookahead", np.dtype(dtype)) is first
