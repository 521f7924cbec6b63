"""The CUDA kernels' 32-bit-index variants and their 64-bit fallbacks give the same results.

The launchers take the 32-bit-index kernel when every size and offset fits; lowering the
limit makes them take the 64-bit one on the same small inputs. Simulated (and on a real GPU
with the ``gpu`` variant).
"""

import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from kernel_params import host

from gputensor.kernels.cuda import elementwise, launch, matmul, reduce


@pytest.mark.parametrize("layouts", [("contiguous", "contiguous"), ("transposed", "flipped")])
def test_matmul_index_widths_agree_bit_for_bit(layouts, xp, monkeypatch):
    rng = np.random.default_rng(5)
    a_ref = rng.standard_normal((9, 11)).astype(np.float32)
    b_ref = rng.standard_normal((11, 7)).astype(np.float32)
    a = xp.asarray(a_ref.T.copy()).T if layouts[0] == "transposed" else xp.asarray(a_ref)
    b = xp.asarray(b_ref[:, ::-1].copy())[:, ::-1] if layouts[1] == "flipped" else xp.asarray(b_ref)
    narrow = host(matmul.matmul(a, b))
    monkeypatch.setattr(matmul, "INT32_LIMIT", 0)
    wide = host(matmul.matmul(a, b))
    assert (matmul.MATMUL["int64", matmul.VARIANT], matmul.SIGNATURES["int64"]) in launch._COMPILED
    np.testing.assert_array_equal(narrow, wide)
    np.testing.assert_allclose(narrow, a_ref.astype(np.float64) @ b_ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shapes", [((9, 11), (11, 7)), ((2, 5, 13), (13, 6))], ids=str)
def test_matmul_variants_agree_bit_for_bit(shapes, xp):
    rng = np.random.default_rng(6)
    a_ref, b_ref = (rng.standard_normal(s).astype(np.float32) for s in shapes)
    a, b = xp.asarray(a_ref), xp.asarray(b_ref)
    results = [host(matmul.matmul(a, b, variant=v)) for v in matmul.VARIANTS]
    assert len(results) == 2
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_allclose(results[0], a_ref.astype(np.float64) @ b_ref, rtol=1e-5,
                               atol=1e-5)


def _both_widths(monkeypatch, run):
    """``run()`` with the uint32-index kernels, then with the int64 ones (host copies)."""
    narrow = host(run())
    monkeypatch.setattr(launch, "INDEX32_LIMIT", -1)
    wide = host(run())
    monkeypatch.undo()
    return narrow, wide


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_strided_elementwise_index_widths_agree_bit_for_bit(dtype, xp, monkeypatch):
    rng = np.random.default_rng(2)
    x_ref = rng.standard_normal((3, 4, 5)).astype(dtype)
    y_ref = rng.standard_normal((5, 4)).astype(dtype)
    x = xp.asarray(x_ref).transpose(2, 0, 1)[:, ::-1]  # (5, 3, 4), strided and flipped
    y = xp.asarray(y_ref)[:, None, :]  # broadcast along the middle dimension
    out = xp.empty((5, 3, 4), dtype=dtype)
    for op, args in (("exp", (x,)), ("add", (x, y)), ("pow", (y, x))):
        narrow, wide = _both_widths(
            monkeypatch, lambda op=op, args=args: elementwise.elementwise(op, out, *args))
        np.testing.assert_array_equal(narrow, wide)
    x_host = x_ref.transpose(2, 0, 1)[:, ::-1]
    np.testing.assert_allclose(narrow, y_ref[:, None, :] ** x_host, rtol=1e-6)


@pytest.mark.parametrize("shape_in,shape_out", [((6, 70), (6, 1)), ((4, 3, 5), (3, 1)),
                                                ((2, 3, 80), (1,))])
def test_sum_to_shape_index_widths_agree_bit_for_bit(shape_in, shape_out, xp, monkeypatch):
    x = xp.asarray(np.random.default_rng(4).standard_normal(shape_in))
    narrow, wide = _both_widths(monkeypatch, lambda: reduce.sum_to_shape(x, shape_out))
    np.testing.assert_array_equal(narrow, wide)
    np.testing.assert_allclose(narrow, host(x).sum(axis=tuple(
        d for d in range(len(shape_in)) if d < len(shape_in) - len(shape_out)
        or shape_out[d - len(shape_in) + len(shape_out)] == 1)).reshape(shape_out), rtol=1e-12)


REGISTERS = """
from gputensor.kernels.cuda import ptx
for result in ptx.compile_all(modules=("matmul",), jobs=1, registers=True):
    print(result.kernel, result.ok, result.registers)
"""


@pytest.mark.skipif(shutil.which("ptxas") is None, reason="needs ptxas (CUDA toolkit) on PATH")
def test_the_default_matmul_fits_two_blocks_per_sm_without_spilling():
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMBA_ENABLE_CUDASIM", "GPUTENSOR_SIMULATE_CUDA")}
    done = subprocess.run([sys.executable, "-c", REGISTERS], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert matmul.VARIANT == "loop"
    found = re.fullmatch(r"True (\d+) registers, (\d+) bytes spilled",
                         report["matmul.matmul_float32_int32_loop"])
    assert found, report
    registers, spilled = (int(g) for g in found.groups())
    assert registers * matmul.THREADS * 2 <= 65536 and spilled == 0
