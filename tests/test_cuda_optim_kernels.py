"""The fused optimizer steps on CUDA against the CPU kernels and the NumPy reference.

Every row of tests/test_fused_kernels.py's CASES (optimizer, NumPy reference, options) runs
a few steps on "cuda" (the simulator here, a real GPU in the ``gpu`` variants) and on the
CPU, through the optimizer classes: the parameters must agree with each other (bit for bit
when simulated) and with the reference. Then the launch details: chunks and grid-stride
loops, empty parameters, CuPy's current stream, the kernel registry.
"""

from __future__ import annotations

import numpy as np
import pytest
from kernel_params import REAL_GPU, SIMULATED
from test_fused_kernels import CASES, _build  # every (optimizer, reference, options) row

import gputensor
from gputensor.backends import flat_step
from gputensor.kernels import rules
from gputensor.kernels.cpu import optim as cpu_optim
from gputensor.kernels.cuda import launch
from gputensor.kernels.cuda import optim as cuda_optim

DTYPES = ["float32", "float64"]
SHAPES = [(37,), (2, 3), ()]  # fewer elements than the simulator's 2 x 32 threads
STEPS = 3


def _host(t):
    """A NumPy copy of a tensor's values."""
    return t.detach().cpu().numpy()


def _assert_devices_agree(on_cuda, on_cpu, dtype):
    """The CUDA parameters equal the CPU kernel's: bit for bit in the simulator (both compute
    in the parameters' dtype, operation by operation); within rounding on a GPU (NVVM fuses
    FMAs)."""
    for a, b in zip(on_cuda, on_cpu):
        assert a.device.type == "cuda" and a.dtype is b.dtype
        if SIMULATED:
            np.testing.assert_array_equal(_host(a), _host(b))
        else:
            tol = dict(rtol=1e-12, atol=1e-14) if dtype == "float64" else dict(rtol=1e-5,
                                                                                atol=1e-6)
            np.testing.assert_allclose(_host(a), _host(b), **tol)


def _params(values, dtype, device):
    return [gputensor.nn.Parameter(gputensor.tensor(v.astype(dtype), device=device))
            for v in values]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,ref,options", CASES,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)])
def test_step_matches_cpu_kernel_and_numpy_reference(name, ref, options, dtype, cuda_device):
    rng = np.random.default_rng(3)
    values = [rng.uniform(-1, 1, s) for s in SHAPES]
    on_cuda, on_cpu = _params(values, dtype, cuda_device), _params(values, dtype, "cpu")
    optimizers = [_build(name, options, on_cuda), _build(name, options, on_cpu)]
    states = [{} for _ in values]
    for t in range(1, STEPS + 1):
        grads = [rng.uniform(-1, 1, s).astype(dtype) for s in SHAPES]
        for params, opt in zip((on_cuda, on_cpu), optimizers):
            for p, g in zip(params, grads):
                p.grad = gputensor.tensor(g, device=p.device)
            opt.step()
        values = [ref(v, g.astype(np.float64), st, t, **options)
                  for v, g, st in zip(values, grads, states)]
        _assert_devices_agree(on_cuda, on_cpu, dtype)
        for p, g in zip(on_cuda, grads):
            np.testing.assert_array_equal(_host(p.grad), g)  # gradients are read only
        tol = dict(rtol=1e-11, atol=1e-12) if dtype == "float64" else dict(rtol=2e-5, atol=2e-6)
        for p, v in zip(on_cuda, values):
            np.testing.assert_allclose(_host(p), v, **tol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_lookahead_sync_matches_cpu_kernel_and_numpy_reference(dtype, cuda_device):
    rng = np.random.default_rng(4)
    values = [rng.uniform(-1, 1, s) for s in SHAPES]
    on_cuda, on_cpu = _params(values, dtype, cuda_device), _params(values, dtype, "cpu")
    optimizers = [gputensor.optim.Lookahead(gputensor.optim.SGD(ps, lr=0.1), k=2, alpha=0.3)
                  for ps in (on_cuda, on_cpu)]
    slow = [v.astype(dtype).astype(np.float64) for v in values]
    for t in range(1, 5):
        grads = [rng.uniform(-1, 1, s).astype(dtype) for s in SHAPES]
        fast = [_host(p).astype(np.float64) - 0.1 * g for p, g in zip(on_cpu, grads)]
        for params, opt in zip((on_cuda, on_cpu), optimizers):
            for p, g in zip(params, grads):
                p.grad = gputensor.tensor(g, device=p.device)
            opt.step()
        _assert_devices_agree(on_cuda, on_cpu, dtype)
        if t % 2 == 0:
            slow = [s + 0.3 * (f - s) for s, f in zip(slow, fast)]
            tol = dict(rtol=1e-12) if dtype == "float64" else dict(rtol=1e-5, atol=1e-6)
            for p, s in zip(on_cuda, slow):
                np.testing.assert_allclose(_host(p), s, **tol)


# ---- launch details ------------------------------------------------------------------
SGD_MOMENTUM = next(c for c in CASES if c[0] == "SGD" and c[2]["momentum"])
LION = next(c for c in CASES if c[0] == "Lion")


@pytest.mark.parametrize("case", [SGD_MOMENTUM, LION], ids=["sgd", "lion"])
def test_tensors_split_into_several_chunks(case, cuda_device, monkeypatch):
    monkeypatch.setattr(flat_step, "CHUNK", 8)  # 37 elements: chunks 0:8 ... 32:37
    test_step_matches_cpu_kernel_and_numpy_reference(*case, "float64", cuda_device)


@pytest.mark.gpu
def test_one_thread_strides_over_every_chunk_and_element():
    import cupy
    rng = np.random.default_rng(5)
    sizes = [20, 3, 0, 11]
    host = {"param": [rng.uniform(-1, 1, n) for n in sizes],
            "grad": [rng.uniform(-1, 1, n) for n in sizes], "sum": rng.uniform(0, 1, 34)}
    values = {"clr": 0.1, "weight_decay": 0.01, "eps": 1e-10, "maximize": False}
    chunks = flat_step.chunk_rows(sizes)
    device = {"param": [cupy.asarray(a) for a in host["param"]],
              "grad": [cupy.asarray(a) for a in host["grad"]], "sum": cupy.asarray(host["sum"])}
    cpu_optim.optimizer_step("adagrad", {"param": cpu_optim.array_list(host["param"]),
                                         "grad": cpu_optim.array_list(host["grad"]),
                                         "sum": host["sum"]},
                             chunks, values, np.dtype(np.float64), 34)
    rule = rules.RULES["adagrad"]
    kernel = cuda_optim.compiled_kernel("adagrad", np.float64)
    launch.configure(kernel, 1, 1)(
        cuda_optim.array_list(device["param"]), cuda_optim.array_list(device["grad"]),
        device["sum"], cupy.asarray(chunks), *[values[s] for s in rule.scalars],
        *[values[f] for f in rule.flags])
    for a, b in zip(device["param"], host["param"]):
        np.testing.assert_allclose(a.get(), b, rtol=1e-12)
    np.testing.assert_allclose(device["sum"].get(), host["sum"], rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_empty_parameters_launch_nothing(dtype, cuda_device):
    params = [gputensor.nn.Parameter(gputensor.zeros(0, 3, dtype=getattr(gputensor, dtype),
                                                     device=cuda_device))]
    opt = gputensor.optim.Adam(params, lr=0.1, amsgrad=True)
    params[0].grad = gputensor.zeros(0, 3, dtype=params[0].dtype, device=cuda_device)
    opt.step()
    assert params[0].shape == (0, 3) and float(opt.state[params[0]]["step"]) == 1


@pytest.mark.gpu
@pytest.mark.skipif(not REAL_GPU, reason="needs a real NVIDIA GPU with CuPy (the simulator "
                    "launches on its default stream)")
def test_launches_on_cupys_current_stream():
    import cupy
    p = gputensor.nn.Parameter(gputensor.ones(37, device="cuda"))
    opt = gputensor.optim.SGD([p], lr=0.1)
    p.grad = gputensor.full((37,), 0.5, device="cuda")
    stream = cupy.cuda.Stream(non_blocking=True)
    with stream:
        for _ in range(3):  # queued on `stream` behind each other, no host wait between
            opt.step()
    stream.synchronize()
    np.testing.assert_allclose(_host(p), np.full(37, 1 - 3 * 0.05, np.float32), rtol=1e-6)


def test_every_rule_has_a_kernel_on_both_devices():
    assert list(cuda_optim.RULE_KERNELS) == list(cpu_optim.KERNELS) == list(rules.RULES)


def test_every_kernel_is_registered_for_float32_and_float64():
    registry = {name: (fn, sigs) for name, fn, sigs in cuda_optim.KERNELS}
    assert len(registry) == len(cuda_optim.KERNELS)
    assert set(registry) == {f"optim.{name}" for name in rules.RULES}
    for name, rule in rules.RULES.items():
        fn, sigs = registry[f"optim.{name}"]
        assert fn is cuda_optim.RULE_KERNELS[name]
        assert sigs == [cuda_optim.signature(name, d) for d in ("float32", "float64")]
        assert sigs[0] == "void(" + ", ".join(
            ["int64[::1]"] * len(rule.tensors) + ["float32[::1]"] * len(rule.buffers)
            + ["int64[:, ::1]"] + ["float32"] * len(rule.scalars)
            + ["boolean"] * len(rule.flags)) + ")"


@pytest.mark.parametrize("dtype", DTYPES)
def test_each_signature_compiles_once(dtype):
    first = cuda_optim.compiled_kernel("lookahead", dtype)
    assert cuda_optim.compiled_kernel("lookahead", np.dtype(dtype)) is first
