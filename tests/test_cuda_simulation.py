"""The simulated device is as strict as a real one: its arrays are no NumPy arrays, and every
simulated kernel launch checks its arguments against the kernel's signature (Numba's real
dispatcher does not). A simulated run also covers the real GPU's block and tile sizes."""

import operator
import os
import subprocess
import sys

import numba
import numpy as np
import pytest

from gputensor import backends
from gputensor.backends import simcupy
from gputensor.kernels.cuda import elementwise, launch

pytestmark = pytest.mark.skipif(not backends.simulating_cuda(), reason="a real GPU run")


@pytest.fixture
def xp():
    """The simulated CuPy, with the kernels' launcher told about its arrays."""
    backends.backend_for("cuda").kernel_module("launch")
    return simcupy.xp


def test_simulated_arrays_refuse_every_door_to_the_host(xp):
    a = xp.arange(4, dtype=np.float32)
    with pytest.raises(TypeError, match=r"Implicit conversion to a NumPy array is not allowed\. "
                                        r"Please use `\.get\(\)`"):
        np.asarray(a)
    with pytest.raises(TypeError):
        memoryview(a)
    with pytest.raises(TypeError):
        operator.index(a[1].astype(np.int64))
    with pytest.raises(TypeError, match="Unsupported type"):
        np.ones(4, np.float32) + a
    with pytest.raises(numba.core.errors.TypingError):  # a CPU kernel given a device array
        numba.njit(lambda v: v.sum())(a)
    assert not isinstance(a, np.ndarray) and isinstance(a, xp.ndarray)
    assert a.get().tolist() == [0, 1, 2, 3] and float(a.sum()) == 6.0


def _exp_launch(xp, n=5):
    """A float32 exp kernel of elementwise.py and valid arguments for it."""
    kernel = launch.compiled(elementwise.UNARY_KERNELS["exp"], elementwise.UNARY_SIGNATURES[0])
    out, x = xp.empty(n, np.float32), xp.arange(n, dtype=np.float32)
    args = [out, launch.inp(x), 0, launch.pad((n,), 1), launch.pad((1,)), 1, n, True,
            np.float32(1)]
    return kernel[1, launch.BLOCK, launch.stream()], args, out


def test_a_checked_launch_runs(xp):
    config, args, out = _exp_launch(xp)
    config(*args)
    np.testing.assert_allclose(out.get(), np.exp(np.arange(5, dtype=np.float32)), rtol=1e-6)


@pytest.mark.parametrize("position,value,message", [
    (0, np.empty(5, np.float32), r"argument 0 \(out\) must be a device array, got numpy"),
    (0, "float64", r"argument 0 \(out\) must be a 1-D C-contiguous device array of float32"),
    (1, "strided", r"argument 1 \(x\) must be a 1-D C-contiguous device array of float32"),
    (3, (1, 5), r"argument 3 \(shape\) must be a tuple of 8 int64"),
    (6, 5.0, r"argument 6 \(n\) must be a int64 number"),
    (7, 1, r"argument 7 \(contiguous\) must be a boolean number"),
])
def test_a_launch_with_a_wrong_argument_names_it(xp, position, value, message):
    config, args, _ = _exp_launch(xp)
    if isinstance(value, str) and value == "float64":
        value = xp.empty(5, np.float64)
    elif isinstance(value, str):
        value = xp.arange(10, dtype=np.float32)[::2]
    args[position] = value
    with pytest.raises(TypeError, match=message):
        config(*args)


def test_a_launch_with_too_few_arguments_or_another_devices_array_fails(xp):
    config, args, _ = _exp_launch(xp)
    with pytest.raises(TypeError, match=r"takes 9 arguments"):
        config(*args[:-1])
    simcupy.configure(2)
    try:
        with simcupy.Device(1):
            args[0] = xp.empty(5, np.float32)
        with pytest.raises(ValueError, match="array device = 1 while current = 0"):
            config(*args)
    finally:
        simcupy.configure(1)


REAL_SIZES_RUN = """
import numpy as np
import gputensor
from gputensor import backends
from gputensor.kernels.cuda import activations, elementwise, launch, losses, matmul, reduce

backend = backends.backend_for("cuda")
backend.kernel_module("launch")
xp = backend.xp
assert launch.REAL_SIZES and launch.BLOCK == launch.REAL_BLOCK == 256
assert (matmul.TX, matmul.TY, matmul.TM, matmul.TN, matmul.BK) == (16, 16, 8, 8, 8)
assert (losses.WARP_LANES, losses.TEAM_THREADS) == (32, 256)
rng = np.random.default_rng(0)
a, b = rng.standard_normal((5, 8), np.float32), rng.standard_normal((8, 3), np.float32)
for variant in matmul.VARIANTS:
    product = matmul.matmul(xp.asarray(a), xp.asarray(b), variant=variant).get()
    np.testing.assert_allclose(product, a @ b, rtol=1e-5, atol=1e-5)
logits = rng.standard_normal((3, 40))
labels = np.array([0, 39, 7])
for lanes in (losses.WARP_LANES, losses.TEAM_THREADS):  # 32 and 256 threads per row
    loss, _, logp = losses.cross_entropy_forward(xp.asarray(logits), xp.asarray(labels), None,
                                                 -100, threads_per_row=lanes)
    shifted = logits - logits.max(1, keepdims=True)
    expected = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    np.testing.assert_allclose(logp.get(), expected, rtol=1e-12)
    np.testing.assert_allclose(loss.get(), -expected[np.arange(3), labels], rtol=1e-12)
x = rng.standard_normal((3, 300))
total = reduce.sum_to_shape(xp.asarray(x), (3, 1)).get()  # sum_blocks: 256-thread blocks
np.testing.assert_allclose(total, x.sum(1, keepdims=True), rtol=1e-12)
out = elementwise.elementwise("add", xp.empty((3, 300)), xp.asarray(x), xp.asarray(x[0]))
np.testing.assert_allclose(out.get(), x + x[0], rtol=1e-12)
g = activations.activation_backward("tanh", xp.asarray(x), xp.asarray(x))
np.testing.assert_allclose(g.get(), x * (1 - x * x), rtol=1e-12)
print("ok")
"""


def test_kernels_run_with_the_real_block_and_tile_sizes():
    env = dict(os.environ, GPUTENSOR_SIMULATE_CUDA="1", GPUTENSOR_SIMULATE_REAL_SIZES="1")
    done = subprocess.run([sys.executable, "-c", REAL_SIZES_RUN], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.stdout.strip() == "ok", done.stdout + done.stderr
