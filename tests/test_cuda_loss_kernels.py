"""The fused cross-entropy kernels (kernels/cuda/losses.py) vs a NumPy reference and torch.

Every test runs on NumPy arrays under Numba's CUDA simulator ("sim") and on CuPy arrays on
a real GPU ("gpu", skipped elsewhere); shapes are tiny.
"""

import numpy as np
import pytest
import torch
from kernel_params import host

from gputensor.kernels.cuda.losses import cross_entropy_backward, cross_entropy_forward


def _reference(x, t, w, ignore):
    """NumPy: per-row loss, row weight, log-probabilities, and d(sum of losses)/dx."""
    top = x.max(axis=1, keepdims=True)
    logp = (x - top) - np.log(np.exp(x - top).sum(axis=1, keepdims=True))
    rows = np.arange(x.shape[0])
    valid = t != ignore
    ts = np.where(valid, t, 0)
    row_w = np.where(valid, 1.0 if w is None else w[ts], 0.0)
    loss = np.where(valid, -row_w * logp[rows, ts], 0.0)
    grad = np.exp(logp) * row_w[:, None]
    grad[rows[valid], ts[valid]] -= row_w[valid]
    return loss, row_w, logp, grad


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_kernels_match_numpy(dtype, weighted, xp):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((6, 5)) * 4).astype(dtype)
    t = np.array([0, 4, 2, -100, 1, 4])
    w = rng.uniform(0.5, 2.0, 5).astype(dtype) if weighted else None
    loss, row_w, logp = cross_entropy_forward(xp.asarray(x), xp.asarray(t),
                                              None if w is None else xp.asarray(w), -100)
    ref_loss, ref_w, ref_logp, ref_grad = _reference(x.astype(np.float64), t, w, -100)
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-12}
    assert loss.dtype == dtype and logp.shape == (6, 5)
    np.testing.assert_allclose(host(loss), ref_loss, **tol)
    np.testing.assert_allclose(host(row_w), ref_w, **tol)
    np.testing.assert_allclose(host(logp), ref_logp, **tol)
    grad = cross_entropy_backward(logp, xp.asarray(t), row_w, xp.ones(1, dtype), -100)
    np.testing.assert_allclose(host(grad), ref_grad, **tol)
    per_row = xp.asarray(np.arange(6, dtype=dtype))  # reduction='none': one factor per row
    grad = cross_entropy_backward(logp, xp.asarray(t), row_w, per_row, -100)
    np.testing.assert_allclose(host(grad), ref_grad * np.arange(6)[:, None], **tol)


def test_cross_entropy_kernel_follows_torch_on_extreme_logits(xp):
    x = np.array([[1e4, -1e4, 0.0], [np.nan, 1.0, 2.0], [-np.inf, 0.0, 1.0],
                  [3.0, 3.0, 3.0]], dtype=np.float32)
    t = np.array([1, 2, 0, 2])
    loss, _, logp = cross_entropy_forward(xp.asarray(x), xp.asarray(t), None, -100)
    expected = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(t),
                                                 reduction="none").numpy()
    np.testing.assert_allclose(host(loss), expected, rtol=1e-6)
    tx = torch.tensor(x, requires_grad=True)
    torch.nn.functional.cross_entropy(tx, torch.tensor(t), reduction="sum").backward()
    grad = cross_entropy_backward(logp, xp.asarray(t), xp.ones(4, np.float32),
                                  xp.ones(1, np.float32), -100)
    np.testing.assert_allclose(host(grad), tx.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_cross_entropy_kernels_on_empty_input(xp):
    loss, row_w, logp = cross_entropy_forward(xp.zeros((0, 3), np.float32),
                                              xp.zeros(0, np.int64), None, -100)
    assert loss.shape == (0,) and logp.shape == (0, 3)
    grad = cross_entropy_backward(logp, xp.zeros(0, np.int64), row_w, xp.ones(1, np.float32),
                                  -100)
    assert grad.shape == (0, 3)
