"""The fused cross-entropy kernels (kernels/cuda/losses.py) vs a NumPy reference and torch.

Every test runs on NumPy arrays under Numba's CUDA simulator ("sim") and on CuPy arrays on
a real GPU ("gpu", skipped elsewhere); shapes are tiny.
"""

import numpy as np
import pytest
import torch
from kernel_params import host

import gputensor
from gputensor import backends
from gputensor.kernels.cuda import losses
from gputensor.kernels.cuda.losses import cross_entropy_backward, cross_entropy_forward

TEAMS = [losses.WARP_LANES, losses.TEAM_THREADS]  # threads per row of the two variants


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
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-12, "atol": 1e-14}
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


@pytest.mark.parametrize("lanes", TEAMS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("classes", [3, 37])
def test_both_forward_variants_match_numpy(lanes, dtype, classes, xp):
    # rows not a multiple of the rows per block; classes fewer and more than the lanes
    rng = np.random.default_rng(classes)
    x = (rng.standard_normal((7, classes)) * 3).astype(dtype)
    t = rng.integers(0, classes, 7)
    t[2] = -100
    w = rng.uniform(0.5, 2.0, classes).astype(dtype)
    loss, row_w, logp = cross_entropy_forward(xp.asarray(x), xp.asarray(t), xp.asarray(w), -100,
                                              threads_per_row=lanes)
    ref_loss, ref_w, ref_logp, _ = _reference(x.astype(np.float64), t, w, -100)
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-12, "atol": 1e-14}
    np.testing.assert_allclose(host(loss), ref_loss, **tol)
    np.testing.assert_allclose(host(row_w), ref_w, **tol)
    np.testing.assert_allclose(host(logp), ref_logp, **tol)


def test_the_variant_follows_the_number_of_classes():
    assert losses.threads_for(losses.WARP_MAX_CLASSES) == losses.WARP_LANES
    assert losses.threads_for(losses.WARP_MAX_CLASSES + 1) == losses.TEAM_THREADS
    assert losses.WARP_LANES < losses.TEAM_THREADS


@pytest.mark.parametrize("lanes", TEAMS)
def test_both_variants_follow_torch_on_infinities_and_nan(lanes, xp):
    inf, nan = np.inf, np.nan
    x = np.array([[-inf, -inf, -inf, -inf], [-inf, 0.0, 1.0, -inf], [inf, 0.0, 1.0, 2.0],
                  [1.0, 2.0, nan, 3.0], [1e4, -1e4, 0.0, 5.0], [-inf, -inf, -inf, 7.0]],
                 dtype=np.float32)
    t = np.array([0, 2, 1, 3, 0, 3])
    loss, _, logp = cross_entropy_forward(xp.asarray(x), xp.asarray(t), None, -100,
                                          threads_per_row=lanes)
    tx = torch.tensor(x)
    expected = torch.nn.functional.cross_entropy(tx, torch.tensor(t), reduction="none")
    np.testing.assert_allclose(host(loss), expected.numpy(), rtol=1e-6)
    np.testing.assert_allclose(host(logp), torch.log_softmax(tx, 1).numpy(), rtol=1e-6)


@pytest.mark.parametrize("lanes", TEAMS)
def test_a_target_out_of_range_is_flagged_on_the_device(lanes, xp):
    x = xp.asarray(np.zeros((4, 3), np.float32))
    t = xp.asarray(np.array([0, 7, -100, 1]))
    with pytest.raises(IndexError, match=r"^Target 7 is out of bounds\.$"):
        cross_entropy_forward(x, t, None, -100, threads_per_row=lanes)
    bad = xp.zeros(2, dtype=np.int64)
    loss, row_w, _ = cross_entropy_forward(x, t, xp.asarray(np.ones(3, np.float32)), -100,
                                           bad=bad, threads_per_row=lanes)
    assert host(bad).tolist() == [1, 7]
    assert np.isnan(host(loss)[1]) and host(row_w).tolist() == [1, 0, 0, 1]
    t = xp.asarray(np.array([0, 2, -100, -3]))
    bad = xp.zeros(2, dtype=np.int64)
    cross_entropy_forward(x, t, None, -100, bad=bad, threads_per_row=lanes)
    assert host(bad).tolist() == [1, -3]


@pytest.fixture
def deferred_checks():
    """The CUDA backend checking cross entropy's targets lazily, as on a real GPU."""
    backend = backends.backend_for("cuda")
    before = backend.defer_target_checks
    backend.defer_target_checks = True
    yield backend
    backend.defer_target_checks = before
    backend._unchecked_targets.clear()


@pytest.mark.parametrize("sync", ["item", "synchronize", "cpu"])
def test_deferred_target_check_raises_at_the_next_sync(sync, deferred_checks):
    from gputensor.backends import simcupy

    x = gputensor.zeros(4, 3, device="cuda", requires_grad=True)
    good, bad = (gputensor.tensor(v, device="cuda") for v in ([0, 2, 1, 1], [0, 2, 5, 1]))
    before = simcupy.host_reads[0]
    loss = gputensor.nn.functional.cross_entropy(x, good)
    loss.backward()
    assert simcupy.host_reads[0] == before  # nothing read back: the host did not wait
    assert loss.item() == pytest.approx(np.log(3))  # a clean flag: no error
    loss = gputensor.nn.functional.cross_entropy(x, bad)  # no error yet, as torch on a GPU
    with pytest.raises(IndexError, match=r"^Target 5 is out of bounds\.$"):
        if sync == "item":
            loss.item()
        elif sync == "synchronize":
            gputensor.cuda.synchronize()
        else:
            x.cpu()
    assert gputensor.nn.functional.cross_entropy(x, good).item() == pytest.approx(np.log(3))
