"""The raw launch (kernels/cuda/raw_launch.py): Numba-compiled kernels launched through CuPy.

Without a GPU: every registered kernel signature's flattened arguments are checked against
the ``.param`` list of its PTX for sm_90 and against Numba's own flattening
(``_Kernel._prepare_args``), both in subprocesses without the simulator; the flattening of
arrays and scalars is checked on CuPy-like stand-ins; ``launch.configure`` is checked to
route a raw kernel through its loaded function, and to fall back to Numba's launch (one
warning) when loading fails. On a GPU (``gpu`` marker), kernels run both ways and agree
bit for bit.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings

import numpy as np
import pytest
from kernel_params import REAL_GPU, SIMULATED
from numba import cuda

from gputensor.kernels.cuda import elementwise, launch, ptx, raw_launch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _unsimulated_env() -> dict:
    """The environment of a subprocess that compiles for a real GPU (no simulator)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMBA_ENABLE_CUDASIM", "GPUTENSOR_SIMULATE_CUDA")}
    env["PYTHONPATH"] = os.pathsep.join([ROOT, os.path.join(ROOT, "tests"),
                                         env.get("PYTHONPATH", "")])
    return env


def _registered_pairs() -> set:
    kernels, failures = ptx.registered_kernels()
    assert not failures
    return {(name, sig) for name, _, sigs in kernels for sig in sigs}


# ---- every kernel signature, against its PTX and against Numba's flattening ----
def test_every_kernel_launch_layout_matches_its_ptx_entry():
    proc = subprocess.run([sys.executable, "-m", "gputensor.kernels.cuda.raw_launch"],
                          env=_unsimulated_env(), capture_output=True, text=True, timeout=600,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    matched = set(re.findall(r"^ok\s+(\S+)\s+(void\(.*\))$", proc.stdout, re.MULTILINE))
    expected = _registered_pairs()
    assert expected <= matched, sorted(expected - matched)
    assert f"{len(expected)}/{len(expected)} kernel signatures" in proc.stdout


def test_flattening_is_numbas_for_every_kernel_signature():
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "raw_launch_oracle.py")],
                          env=_unsimulated_env(), capture_output=True, text=True, timeout=300,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert f"checked {len(_registered_pairs())}" in proc.stdout


# ---- flattening on CuPy-like stand-ins ----
def test_a_contiguous_array_flattens_to_numbas_array_fields():
    flatten = raw_launch.flattener("void(float32[::1])")
    array = raw_launch.SampleArray(0x1000, (5,), np.float32)
    # meminfo, parent, nitems, itemsize, data, shape, strides (bytes)
    assert flatten(array) == (0, 0, 5, 4, 0x1000, 5, 4)


def test_a_2d_array_passes_shape_then_strides_in_bytes():
    flatten = raw_launch.flattener("void(int64[:, ::1])")
    array = raw_launch.SampleArray(0x2000, (3, 4), np.int64)
    assert flatten(array) == (0, 0, 12, 8, 0x2000, 3, 4, 32, 8)
    strided = raw_launch.SampleArray(0x3000, (2, 3), np.float64, strides=(48, 16))
    assert raw_launch.flattener("void(float64[:, :])")(strided) == (
        0, 0, 6, 8, 0x3000, 2, 3, 48, 16)


def test_an_empty_array_passes_zero_items():
    flatten = raw_launch.flattener("void(float64[::1])")
    assert flatten(raw_launch.SampleArray(0, (0,), np.float64)) == (0, 0, 0, 8, 0, 0, 8)


def test_scalars_are_converted_to_their_width():
    flatten = raw_launch.flattener(
        "void(boolean, int32, int64, float32, float64, UniTuple(int64, 3))")
    values = flatten(True, np.int64(7), np.int32(-3), 0.1, np.float32(2.5), (1, np.int32(2), 3))
    assert [type(v) for v in values] == [np.bool_, np.int32, int, np.float32, float,
                                         int, int, int]
    assert values == (True, 7, -3, np.float32(0.1), 2.5, 1, 2, 3)
    widths = [raw_launch.value_layout(v) for v in values]
    assert widths == [("int", 1), ("int", 4), ("int", 8), ("float", 4), ("float", 8),
                      ("int", 8), ("int", 8), ("int", 8)]


def test_a_tuple_of_mixed_types_flattens_item_by_item():
    flatten = raw_launch.flattener("void(Tuple((float32, int32, boolean)))")
    assert [raw_launch.value_layout(v) for v in flatten((1.5, 2, False))] == [
        ("float", 4), ("int", 4), ("int", 1)]


def test_python_scalars_would_go_as_eight_bytes():
    # what CuPy does with unconverted values: the reason every narrow scalar is converted
    assert raw_launch.value_layout(True) == ("int", 8)
    assert raw_launch.value_layout(1.5) == ("float", 8)
    assert raw_launch.value_layout(np.float32(1.5)) == ("float", 4)


def test_an_unsupported_argument_type_is_refused():
    with pytest.raises(NotImplementedError, match="no flattening"):
        raw_launch.flattener("void(complex64)")


# ---- reading the PTX entry ----
PTX = """
.visible .entry _Z6kernelPf(
	.param .u64 _Z6kernelPf_param_0,
	.param .u8 _Z6kernelPf_param_1,
	.param .f32 _Z6kernelPf_param_2,
	.param .align 8 .b8 _Z6kernelPf_param_3[16]
)
{
	ret;
}
"""


def test_the_ptx_entry_and_its_parameters_are_read():
    assert raw_launch.entry_name(PTX) == "_Z6kernelPf"
    assert raw_launch.param_layout(PTX) == [("int", 8), ("int", 1), ("float", 4),
                                            ("bytes", 16)]
    with pytest.raises(ValueError, match="no .entry"):
        raw_launch.entry_name(".version 8.0")


def test_layout_problems_name_each_mismatch():
    good = (np.int64(1), np.bool_(True), np.float32(1))
    assert raw_launch.layout_problems(PTX.replace("[16]", "").replace(".b8", ".b64"),
                                      good + (2,)) == []
    problems = raw_launch.layout_problems(PTX, (1, True, 1.0))
    assert "4 parameters" in problems[0]
    assert any("parameter 1: PTX int of 1 bytes, launch passes int of 8" in p for p in problems)
    assert any("parameter 2: PTX float of 4 bytes, launch passes float of 8" in p
               for p in problems)


# ---- the launch path ----
def _exp_arguments(xp, n):
    out, x = xp.zeros(n, np.float32), xp.arange(n, dtype=np.float32)
    return out, [out, launch.inp(x), 0, launch.pad((n,), 1), launch.pad((1,)), 1, n, True,
                 np.float32(1)]


def _raw_exp_kernel():
    """A ``RawKernel`` around the exp kernel's (simulated) dispatcher."""
    pyfunc, signature = elementwise.UNARY_KERNELS["exp"], elementwise.UNARY_SIGNATURES[0]
    return raw_launch.RawKernel(cuda.jit(signature)(pyfunc), pyfunc, signature)


@pytest.mark.skipif(not SIMULATED, reason="checks the simulated launch path")
def test_a_simulated_kernel_is_launched_the_numba_way():
    kernel = launch.compiled(elementwise.UNARY_KERNELS["exp"], elementwise.UNARY_SIGNATURES[0])
    assert not isinstance(kernel, raw_launch.RawKernel)
    from kernel_params import array_module
    xp = array_module("numpy")
    out, args = _exp_arguments(xp, 5)
    launch.configure(kernel, 1, launch.BLOCK)(*args)
    np.testing.assert_allclose(out.get(), np.exp(np.arange(5, dtype=np.float32)), rtol=1e-6)


def test_configure_launches_a_raw_kernel_through_its_function(monkeypatch):
    calls = []
    monkeypatch.setattr(raw_launch, "load_function",
                        lambda dispatcher, signature: lambda *a: calls.append(a))
    monkeypatch.setattr(launch, "_current_device", lambda: 0)
    kernel = _raw_exp_kernel()
    array = raw_launch.SampleArray(0x5000, (7,), np.float32)
    launch.configure(kernel, 3, 32)(array, array, 0, launch.pad((7,), 1), launch.pad((1,)), 1,
                                    7, True, np.float32(1))
    (grid, block, values), = calls
    assert (grid, block) == ((3,), (32,))
    assert values == kernel.flatten(array, array, 0, launch.pad((7,), 1), launch.pad((1,)), 1,
                                    7, True, np.float32(1))
    launch.configure(kernel, (2, 2), (8, 4))(array, array, 0, launch.pad((7,), 1),
                                             launch.pad((1,)), 1, 7, True, np.float32(1))
    assert calls[1][:2] == ((2, 2), (8, 4))


@pytest.mark.skipif(not SIMULATED, reason="the fallback runs the kernel in the simulator")
def test_a_kernel_that_fails_to_load_warns_once_and_launches_the_numba_way(monkeypatch):
    def refuse(dispatcher, signature):
        raise RuntimeError("CUDA_ERROR_UNSUPPORTED_PTX_VERSION")

    monkeypatch.setattr(raw_launch, "load_function", refuse)
    monkeypatch.setattr(raw_launch, "FAILED_DEVICES", set())
    monkeypatch.setattr(launch, "_current_device", lambda: 0)
    kernel = _raw_exp_kernel()
    n = 6
    out, x = np.zeros(n, np.float32), np.arange(n, dtype=np.float32)
    args = [out, x, 0, launch.pad((n,), 1), launch.pad((1,)), 1, n, True, np.float32(1)]
    with pytest.warns(RuntimeWarning, match="UNSUPPORTED_PTX_VERSION.*Numba's launch"):
        launch.configure(kernel, 1, launch.BLOCK)(*args)
    np.testing.assert_allclose(out, np.exp(x), rtol=1e-6)
    with warnings.catch_warnings():  # once per device: not for this kernel, nor another
        warnings.simplefilter("error")
        launch.configure(kernel, 1, launch.BLOCK)(*args)
        launch.configure(_raw_exp_kernel(), 1, launch.BLOCK)(*args)
    np.testing.assert_allclose(out, np.exp(x), rtol=1e-6)


def test_compiled_picks_the_raw_launch_unless_told_otherwise(monkeypatch):
    pyfunc, signature = elementwise.UNARY_KERNELS["exp"], elementwise.UNARY_SIGNATURES[1]
    monkeypatch.setattr(launch, "SIMULATED", False)
    monkeypatch.setattr(launch, "_COMPILED", {})
    monkeypatch.setattr(launch, "NUMBA_LAUNCH", False)
    raw = launch.compiled(pyfunc, signature)
    assert isinstance(raw, raw_launch.RawKernel) and raw.signature == signature
    monkeypatch.setattr(launch, "_COMPILED", {})
    monkeypatch.setattr(launch, "NUMBA_LAUNCH", True)
    plain = launch.compiled(pyfunc, signature)
    assert not isinstance(plain, raw_launch.RawKernel)


def test_the_environment_variable_forces_numbas_launch():
    code = "from gputensor.kernels.cuda import launch; print(launch.NUMBA_LAUNCH)"
    for value, expected in (("1", "True"), ("0", "False")):
        env = dict(os.environ, GPUTENSOR_NUMBA_LAUNCH=value)
        env["PYTHONPATH"] = os.pathsep.join([ROOT, env.get("PYTHONPATH", "")])
        proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, timeout=120, cwd=ROOT)
        assert proc.stdout.strip() == expected, proc.stderr


# ---- on a GPU: both launch paths, bit for bit ----
def _cases(xp, rows, cols):
    """``(name, run)``: entry points of several kernel modules on fixed random inputs."""
    from gputensor.kernels.cuda import activations, gelu, losses, matmul, reduce
    from gputensor.kernels.cuda import rows as row_kernels

    rng = np.random.default_rng(0)
    x = xp.asarray(rng.standard_normal((rows, cols)).astype(np.float32))
    y = xp.asarray(rng.standard_normal((rows, cols)))
    targets = xp.asarray(rng.integers(0, cols, rows))
    return [
        ("elementwise", lambda: elementwise.elementwise("add", xp.empty_like(x), x, x[:1])),
        ("activation_backward", lambda: activations.activation_backward("tanh", y, y * 0.5)),
        ("gelu", lambda: gelu.gelu_forward(x, True)),
        ("cross_entropy", lambda: losses.cross_entropy_forward(x, targets, None, -100)),
        ("layer_norm", lambda: row_kernels.layer_norm_forward(y, None, None, 1e-5)),
        ("softmax", lambda: row_kernels.softmax_forward(x, None, True)),
        ("sum_to_shape", lambda: reduce.sum_to_shape(y, (1, cols))),
        ("matmul", lambda: matmul.matmul(x, xp.ascontiguousarray(x.T))),
    ]


def _both_ways_agree(monkeypatch, xp, rows, cols):
    """Run every case through the default launch and through Numba's; compare the bytes."""
    def results(run):
        out = run()
        return [a.get() for a in (out if isinstance(out, tuple) else (out,))]

    for name, run in _cases(xp, rows, cols):
        monkeypatch.setattr(launch, "NUMBA_LAUNCH", False)
        monkeypatch.setattr(launch, "_COMPILED", {})
        default = results(run)
        kernels = list(launch._COMPILED.values())
        assert kernels, name
        if not SIMULATED:  # launched through CuPy, none fell back to Numba's launch
            device = xp.cuda.runtime.getDevice()
            assert all(isinstance(k, raw_launch.RawKernel) for k in kernels), name
            assert all(k._functions.get(device) is not None for k in kernels), name
        monkeypatch.setattr(launch, "NUMBA_LAUNCH", True)
        monkeypatch.setattr(launch, "_COMPILED", {})
        numba = results(run)
        assert all(not isinstance(k, raw_launch.RawKernel) for k in launch._COMPILED.values())
        for ours, theirs in zip(default, numba, strict=True):
            assert ours.dtype == theirs.dtype and ours.shape == theirs.shape, name
            assert ours.tobytes() == theirs.tobytes(), name


@pytest.mark.skipif(not SIMULATED, reason="the simulated run of the GPU comparison's cases")
def test_the_comparison_cases_run_on_the_simulated_device(monkeypatch):
    from kernel_params import array_module
    _both_ways_agree(monkeypatch, array_module("numpy"), 3, 4)


@pytest.mark.gpu
@pytest.mark.skipif(not REAL_GPU, reason="needs a real NVIDIA GPU with CuPy")
def test_raw_and_numba_launches_agree_bit_for_bit(monkeypatch):
    import cupy
    _both_ways_agree(monkeypatch, cupy, 37, 29)
