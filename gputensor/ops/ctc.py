"""Connectionist temporal classification loss (torch's ctc_loss), batched over samples with
the alpha / beta recursions run one time step at a time in log space."""

from __future__ import annotations

import math

from ..autograd.function import Op
from .losses import check_reduction

__all__ = ["ctc_loss"]


def _logsumexp(xp, terms, axis=None):
    """log(sum(exp(terms))) of stacked ``terms`` along ``axis``; -inf where all are -inf."""
    top = terms.max(axis=axis)
    safe = xp.where(xp.isfinite(top), top, 0)
    total = xp.exp(terms - xp.expand_dims(safe, axis)).sum(axis=axis)
    positive = total > 0
    return xp.where(positive, safe + xp.log(xp.where(positive, total, 1)), -math.inf)


def _shift(xp, a, by, fill=-math.inf):
    """``a`` moved ``by`` places along its last axis (right when positive), ``fill`` in the
    places it leaves."""
    out = xp.full(a.shape, fill, a.dtype)
    if by > 0 and a.shape[-1] > by:
        out[..., by:] = a[..., :-by]
    elif by < 0 and a.shape[-1] > -by:
        out[..., :by] = a[..., -by:]
    return out


class CtcLoss(Op):
    """Per-sample negative log likelihood of the targets under CTC."""

    @staticmethod
    def forward(ctx, lp, labels, input_lengths, target_lengths, blank, zero_infinity):
        xp = ctx.xp
        steps, batch, _ = lp.shape
        max_len = max(target_lengths, default=0)
        width = 2 * max_len + 1
        ext = xp.full((batch, width), blank, xp.int64)  # blank, l1, blank, l2, ..., blank
        ext[:, 1::2] = labels[:, :max_len]
        position = xp.arange(width)[None, :]
        lengths = xp.asarray(target_lengths, dtype=xp.int64)[:, None]
        valid = position < 2 * lengths + 1
        skip = (ext != blank) & (ext != _shift(xp, ext, 2, -1))  # s-2 -> s allowed
        skip[:, :2] = False
        last = (position == 2 * lengths) | ((position == 2 * lengths - 1) & (lengths > 0))
        ends = xp.asarray(input_lengths, dtype=xp.int64)
        lp_ext = xp.take_along_axis(lp, xp.broadcast_to(ext, (steps, batch, width)), 2)
        neg_inf = xp.asarray(-math.inf, lp.dtype)
        alpha = xp.full((steps, batch, width), -math.inf, lp.dtype)
        alpha[0] = xp.where(valid & (position < 2), lp_ext[0], neg_inf)
        for t in range(1, steps):
            prev = alpha[t - 1]
            came = xp.stack([prev, _shift(xp, prev, 1),
                             xp.where(skip, _shift(xp, prev, 2), neg_inf)])
            alpha[t] = xp.where(valid, _logsumexp(xp, came, 0) + lp_ext[t], neg_inf)
        final = alpha[ends - 1, xp.arange(batch)]
        nll = -_logsumexp(xp, xp.where(last, final, neg_inf), 1)
        beta = xp.full((steps, batch, width), -math.inf, lp.dtype)
        following = beta[0]
        for t in range(steps - 1, -1, -1):
            went = xp.stack([following, _shift(xp, following, -1),
                             xp.where(_shift(xp, skip, -2, False), _shift(xp, following, -2),
                                      neg_inf)])
            inner = xp.where(valid, _logsumexp(xp, went, 0) + lp_ext[t], neg_inf)
            at_end = xp.where(last, lp_ext[t], neg_inf)
            here = (t == ends - 1)[:, None]
            before = (t < ends - 1)[:, None]
            beta[t] = xp.where(here, at_end, xp.where(before, inner, neg_inf))
            following = beta[t]
        ctx.save_for_backward(lp)
        ctx.alpha_beta, ctx.ext, ctx.nll, ctx.ends = alpha + beta, ext, nll, ends
        ctx.zero_infinity = zero_infinity
        return nll.astype(lp.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (lp,) = ctx.saved_tensors
        xp = ctx.xp
        steps, batch, classes = lp.shape
        onehot = ctx.ext[:, :, None] == xp.arange(classes)[None, None, :]  # (N, S', C)
        terms = xp.where(onehot[None], ctx.alpha_beta[..., None], -math.inf)
        per_class = _logsumexp(xp, terms, 2)  # log sum of alpha * beta over s with l'[s] = c
        nll = ctx.nll[None, :, None]
        # d nll / d lp for log-softmax inputs (torch's formula): softmax - posterior
        grad = xp.exp(lp) - xp.exp(per_class + nll - lp)
        grad = grad * g.reshape(1, -1, 1)
        inside = xp.arange(steps)[:, None, None] < ctx.ends[None, :, None]
        grad = xp.where(inside, grad, 0)
        if ctx.zero_infinity:
            grad = xp.where(xp.isinf(nll), 0, grad)
        return grad.astype(lp.dtype, copy=False), None, None, None, None, None


def _lengths(values, name) -> list:
    if hasattr(values, "tolist"):
        values = values.tolist()
    if isinstance(values, int):
        raise TypeError(f"ctc_loss(): argument '{name}' must be tuple of ints, not int")
    return [int(v) for v in values]


def _padded_targets(targets, target_lengths, batch):
    """The concatenated 1-D targets as (N, max length) rows, padded with zeros (a gather on
    the targets' device)."""
    width = max(target_lengths, default=0)
    index, keep, start = [], [], 0
    for length in target_lengths:
        index.append([start + k if k < length else 0 for k in range(width)])
        keep.append([1 if k < length else 0 for k in range(width)])
        start += length
    if not width or not targets.numel():
        return targets.new_zeros((batch, width))
    return targets[targets.new_tensor(index)] * targets.new_tensor(keep)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """The CTC loss of ``log_probs`` (T, N, C) (log-softmax outputs) for ``targets``."""
    reduction = check_reduction(reduction)
    unbatched = log_probs.dim() == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
        if targets.dim() == 1:
            targets = targets.unsqueeze(0)
    steps, batch, classes = log_probs.shape
    input_lengths = _lengths(input_lengths, "input_lengths")
    target_lengths = _lengths(target_lengths, "target_lengths")
    if len(input_lengths) != batch:
        raise RuntimeError("input_lengths must be of size batch_size")
    if len(target_lengths) != batch:
        raise RuntimeError("target_lengths must be of size batch_size")
    if not 0 <= blank < classes:
        raise RuntimeError("blank must be in label range")
    for length in input_lengths:
        if length > steps:
            raise RuntimeError(f"Expected input_lengths to have value at most {steps}, but got "
                               f"value {length} (while checking arguments for "
                               "ctc_loss_allocate_outputs)")
    if targets.dim() == 1:
        targets = _padded_targets(targets, target_lengths, batch)
    needed = max(target_lengths, default=0)
    if targets.shape[1] < needed:
        raise RuntimeError(f"Expected tensor to have size at least {needed} at dimension 1, "
                           f"but got size {targets.shape[1]} for argument #2 'targets' (while "
                           "checking arguments for ctc_loss_allocate_outputs)")
    labels = targets.long() if targets.is_floating_point() else targets
    loss = CtcLoss.apply(log_probs, labels, input_lengths, target_lengths, blank,
                         zero_infinity)
    if zero_infinity:
        loss = loss.where(loss != math.inf, loss.new_zeros(()))
    if reduction == "mean":
        divisors = loss.new_tensor(target_lengths).clamp_min(1)
        return (loss / divisors).mean()
    if reduction == "sum":
        return loss.sum()
    return loss.squeeze(0) if unbatched else loss
