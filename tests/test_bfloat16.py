"""bfloat16 on the CPU (ml_dtypes arrays) against torch: rounding, promotion, arithmetic,
reductions, matmul, gradients and printed text; on CUDA a clear error."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gputensor
from helpers import LIBS, assert_same, torch_text

# values whose float32 -> bfloat16 rounding is a tie, a carry, tiny or large
DATA = np.array([1.00390625, 1.01171875, 3.14159, 1e-5, 123456.7, -2.5], dtype=np.float32)
DATA2 = np.array([0.3, -1.7, 2.2, 5.5, -0.01, 7.0], dtype=np.float32)

OPS = {
    "convert": lambda lib, a, b: a,
    "back to float": lambda lib, a, b: a.float(),
    "add": lambda lib, a, b: a + b,
    "mul": lambda lib, a, b: a * b,
    "div": lambda lib, a, b: a / b,
    "scalar mul": lambda lib, a, b: a * 3.3,
    "scalar rsub": lambda lib, a, b: 1 - a,
    "int tensor": lambda lib, a, b: a + lib.arange(6),
    "float16 promotes to float32": lambda lib, a, b: a + b.half(),
    "float32 wins": lambda lib, a, b: a + b.float(),
    "exp": lambda lib, a, b: b.exp(),
    "sigmoid": lambda lib, a, b: a.sigmoid(),
    "sqrt": lambda lib, a, b: a.abs().sqrt(),
    "pow": lambda lib, a, b: a ** 2,
    "sum": lambda lib, a, b: a.sum(),
    "mean": lambda lib, a, b: b.mean(),
    "max": lambda lib, a, b: a.max(),
    "softmax": lambda lib, a, b: b.softmax(0),
    "mm": lambda lib, a, b: a.reshape(2, 3) @ b.reshape(3, 2),
    "linear": lambda lib, a, b: lib.nn.functional.linear(a.reshape(2, 3), b.reshape(2, 3)),
    "compare": lambda lib, a, b: a > b,
    "to long": lambda lib, a, b: a.long(),
    "where": lambda lib, a, b: lib.where(a > 1, a, 0.0),
    "cat": lambda lib, a, b: lib.cat([a, b]),
    "zeros": lambda lib, a, b: lib.zeros(2, dtype=lib.bfloat16),
    "tensor from list": lambda lib, a, b: lib.tensor([1.5, 2.7], dtype=lib.bfloat16),
    "to(dtype)": lambda lib, a, b: lib.tensor(DATA).to(lib.bfloat16),
}


def assert_exact(ours, theirs):
    """Same dtype and shape, the same values bit for bit (compared as float32: torch's numpy()
    refuses bfloat16, and every bfloat16 value is a float32 one)."""
    assert str(ours.dtype) == str(theirs.dtype).replace("torch", "gputensor")
    if theirs.dtype == torch.bfloat16:
        ours, theirs = ours.float(), theirs.float()
    assert_same(ours, theirs, rtol=0, atol=0)


def _run(lib, fn):
    a = lib.tensor(DATA).bfloat16()
    b = lib.tensor(DATA2).to(dtype=lib.bfloat16)
    return fn(lib, a, b)


@pytest.mark.parametrize("name", sorted(OPS))
def test_values_dtype_and_text_as_torch(name):
    ours, theirs = (_run(lib, OPS[name]) for lib in LIBS)
    assert_exact(ours, theirs)
    assert torch_text(repr(ours)) == repr(theirs)


def test_the_dtype_itself():
    assert repr(gputensor.bfloat16) == "gputensor.bfloat16"
    assert str(gputensor.bfloat16) == str(torch.bfloat16).replace("torch", "gputensor")
    for lib in LIBS:
        assert lib.bfloat16.itemsize == 2
        assert lib.bfloat16.is_floating_point
        assert lib.promote_types(lib.bfloat16, lib.float16) == lib.float32
        assert lib.promote_types(lib.float16, lib.bfloat16) == lib.float32
        assert lib.promote_types(lib.bfloat16, lib.int64) == lib.bfloat16
        assert lib.promote_types(lib.bfloat16, lib.float64) == lib.float64
    assert gputensor.ones(2).bfloat16().type() == "gputensor.BFloat16Tensor"
    assert gputensor.ones(2).bfloat16().element_size() == 2


def test_rounding_to_nearest_even_on_many_values():
    rng = np.random.default_rng(0)
    data = (rng.standard_normal(4000) * 10.0 ** rng.integers(-8, 8, 4000)).astype(np.float32)
    ours = gputensor.tensor(data).bfloat16().float().numpy()
    theirs = torch.tensor(data).bfloat16().float().numpy()
    np.testing.assert_array_equal(ours, theirs)


def test_gradient_as_torch():
    results = []
    for lib in LIBS:
        w = lib.tensor([1.5, -0.3, 2.2], dtype=lib.bfloat16, requires_grad=True)
        out = (w * w * 1.7).sum()
        out.backward()
        results.append((out, w.grad))
    (out, grad), (t_out, t_grad) = results
    assert_exact(out, t_out)
    assert_exact(grad, t_grad)
    assert torch_text(repr(out)) == repr(t_out)


def test_cuda_refuses_bfloat16_with_a_clear_error(cuda_device):
    with pytest.raises(TypeError, match="bfloat16 is not supported on CUDA"):
        gputensor.ones(2).bfloat16().to(cuda_device)
    with pytest.raises(TypeError, match="bfloat16 is not supported on CUDA"):
        gputensor.zeros(2, dtype=gputensor.bfloat16, device=cuda_device)
    with pytest.raises(TypeError, match="bfloat16 is not supported on CUDA"):
        gputensor.ones(2, device=cuda_device).bfloat16()
