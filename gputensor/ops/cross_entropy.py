"""nll_loss and cross_entropy (log_softmax fused in): one op each, with explicit backward.

Inputs are (N, C), (C,) or (N, C, d1, ...); each op works on a (rows, C) view with the
class dim last, so every case runs the same code.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.devices import check_same_device
from ..autograd.function import Op
from ..dtypes import is_float_array_dtype
from .common import result_dtype, type_name
from .losses import check_reduction, grad_scale, reduce_loss, refuse_grad, resolve_reduction
from .reduce import acc_dtype

__all__ = ["nll_loss", "cross_entropy"]


def _rows(xp, x):
    """x as (rows, C) with the class dim (1, or 0 for 1-D) last."""
    if x.ndim == 2:
        return x
    if x.ndim == 1:
        return x[None]
    return xp.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _unrows(xp, g2, shape):
    """The inverse of ``_rows`` for an array of the input's shape."""
    if len(shape) == 2:
        return g2
    if len(shape) == 1:
        return g2[0]
    moved = (shape[0],) + tuple(shape[2:]) + (shape[1],)
    return xp.moveaxis(g2.reshape(moved), -1, 1)


def _log_softmax_parts(xp, x2):
    """(x - max, exp(x - max), sum of exp, log of the sum) along the class dim."""
    if x2.shape[0] == 0 or x2.shape[1] == 0:
        zeros = xp.zeros(x2.shape[0], x2.dtype)
        return x2, xp.exp(x2), zeros, xp.log(zeros)
    shifted = x2 - x2.max(axis=1, keepdims=True)
    e = xp.exp(shifted)
    total = e.sum(axis=1)
    return shifted, e, total, xp.log(total)


class NllLoss(Op):
    """-w[t] x[t] per row (x = log_softmax(input) when ``fused``), label smoothing in CE.

    Reduction 'mean' divides by the summed target weights of the rows not ignored.
    """

    kernel_targets = None  # set when the backend's fused kernel ran (cross_entropy_rows)

    # constants (the weights, their totals) and, from the saved input, softmax's parts
    recomputed_when_lifted = ("wt", "count", "weight", "smooth_total", 0, 1)

    @staticmethod
    def forward(ctx, x, target, weight, reduction, ignore_index, smoothing, fused, out_shape):
        xp = ctx.xp
        dt = x.dtype
        x2 = _rows(xp, x).astype(acc_dtype(dt), copy=False)
        t = target.reshape(-1)
        parts = None
        if fused and not smoothing:  # the backend may run it as one fused kernel
            parts = ctx.backend.cross_entropy_rows(
                x2, t, None if weight is None else weight.astype(x2.dtype, copy=False),
                ignore_index)
        if parts is not None:
            loss, wt, logp = parts
            ctx.save_for_backward(logp, None, x)
            ctx.kernel_targets, ctx.ignore_index, ctx.wt = t, ignore_index, wt
        else:
            _check_targets(t, x2.shape[1], ignore_index)
            loss, wt = NllLoss._formula(ctx, xp, x, x2, t, weight, ignore_index, smoothing,
                                        fused)
        count = wt.sum()
        ctx.x_shape, ctx.count, ctx.reduction = x.shape, count, reduction
        loss = loss.astype(dt, copy=False)
        if reduction == "none":
            return loss.reshape(out_shape)
        return reduce_loss(xp, loss, reduction, count)

    @staticmethod
    def _formula(ctx, xp, x, x2, t, weight, ignore_index, smoothing, fused):
        """Per-row losses and target weights by array ops; keeps what backward needs."""
        rows_n, classes = x2.shape
        valid = t != ignore_index
        ts = xp.where(valid, t, 0)
        rows = xp.arange(rows_n)
        if weight is None:
            wt = valid.astype(x2.dtype)
        else:
            weight = weight.astype(x2.dtype, copy=False)
            wt = xp.where(valid, weight[ts], 0).astype(x2.dtype, copy=False)
        if fused:
            shifted, e, total, log_total = _log_softmax_parts(xp, x2)
            picked = shifted[rows, ts] - log_total
            ctx.save_for_backward(e, total, x)
        else:
            picked = x2[rows, ts]
            ctx.save_for_backward(x)  # as torch, so a second backward raises
        loss = xp.where(valid, -wt * picked, 0)
        if smoothing:
            if weight is None:
                smooth = classes * log_total - shifted.sum(axis=1)
                norm = classes
            else:
                smooth = log_total * weight.sum() - (shifted * weight).sum(axis=1)
                norm = weight.sum()
            loss = (1 - smoothing) * loss + xp.where(valid, smooth, 0) * (smoothing / classes)
            ctx.smooth_total = norm
        ctx.rows, ctx.ts, ctx.valid, ctx.wt = rows, ts, valid, wt
        ctx.weight, ctx.fused, ctx.smoothing = weight, fused, smoothing
        return loss, wt

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        c = grad_scale(g, ctx.reduction, ctx.count)
        if ctx.reduction == "none":
            c = c.reshape(-1)
        lifted = ctx.backend.lifted
        if ctx.kernel_targets is not None and not lifted:
            logp = ctx.saved_tensors[0]
            grad = ctx.backend.cross_entropy_rows_backward(logp, ctx.kernel_targets, ctx.wt, c,
                                                           ctx.ignore_index)
            return _unrows(xp, grad, ctx.x_shape), None, None, None, None, None, None, None
        if ctx.kernel_targets is not None:  # (lifted) the formula's rows, as _formula keeps
            ts = ctx.kernel_targets
            valid = ts != ctx.ignore_index
            rows, ts, wt, eps = xp.arange(ts.shape[0]), xp.where(valid, ts, 0), ctx.wt, 0
            ctx.fused, ctx.weight = True, None
        else:
            rows, ts, valid, wt = ctx.rows, ctx.ts, ctx.valid, ctx.wt
            eps = ctx.smoothing
        # ignored rows get no gradient, even when the mean divides by a zero weight
        c = xp.where(valid, c, 0).astype(wt.dtype, copy=False)
        picked = c * wt * (1 - eps)
        if not ctx.fused:  # d nll / dx[t] = -w[t]
            ctx.saved_tensors  # noqa: B018 - torch's check of x changed in place
            grad = xp.zeros((rows.shape[0], ctx.x_shape[-1] if len(ctx.x_shape) < 2
                             else ctx.x_shape[1]), dtype=wt.dtype)
            grad[rows, ts] = -picked
        else:
            # d ce / dx = softmax * sum(a) - a, a the target coefficients of each row
            e, total, x = ctx.saved_tensors
            if lifted:
                e, total = _log_softmax_parts(xp, _rows(xp, x))[1:3]
            spread = c * (eps / e.shape[1]) if eps else None
            row_sum = wt * (1 - eps)
            if eps:
                row_sum = row_sum + valid * (eps / e.shape[1]) * ctx.smooth_total
            grad = e * (c * row_sum / total)[:, None]
            grad[rows, ts] -= picked
            if eps:
                grad -= spread[:, None] * (1 if ctx.weight is None else ctx.weight)
        return _unrows(xp, grad, ctx.x_shape), None, None, None, None, None, None, None


class NllLoss2D(NllLoss):
    """nll_loss of 4-D inputs (and of 3-D or 5-D+ inputs when reduced)."""

    opname = "NllLoss2D"


class NllLossView(NllLoss):
    """nll_loss of 3-D or 5-D+ inputs with reduction='none'."""

    opname = "View"


class CrossEntropySmoothed(NllLoss):
    """cross_entropy with label smoothing: torch's last node adds the smoothing term."""

    opname = "Add"


class CrossEntropyProbs(Op):
    """-sum_c w_c y_c log_softmax(x)_c per row, for class-probability targets."""

    opname = "Neg"

    @staticmethod
    def forward(ctx, x, y, weight, reduction, smoothing, out_shape):
        xp = ctx.xp
        dt = result_dtype(x, y)
        work = acc_dtype(dt)
        x2 = _rows(xp, x).astype(work, copy=False)
        y2 = _rows(xp, y).astype(work, copy=False)
        classes = x2.shape[1]
        shifted, _, _, log_total = _log_softmax_parts(xp, x2)
        if smoothing:
            y2 = y2 * (1 - smoothing) + smoothing / classes
        a = y2 if weight is None else y2 * weight.astype(work, copy=False)
        a_sum = a.sum(axis=1)
        loss = (log_total * a_sum - (a * shifted).sum(axis=1)).astype(dt, copy=False)
        ctx.save_for_backward(shifted, log_total, a, a_sum)
        ctx.targets = y2 if weight is not None else None
        ctx.x_shape, ctx.weight, ctx.reduction = x.shape, weight, reduction
        ctx.smoothing, ctx.count = smoothing, x2.shape[0]
        if reduction == "none":
            return loss.reshape(out_shape)
        return reduce_loss(xp, loss, reduction, ctx.count)

    @staticmethod
    def backward(ctx, g):
        shifted, log_total, a, a_sum = ctx.saved_tensors
        xp = ctx.xp
        c = grad_scale(g, ctx.reduction, ctx.count)
        c = (c.reshape(-1, 1) if ctx.reduction == "none" else c).astype(a.dtype, copy=False)
        log_p = shifted - log_total[:, None]
        grad_x = grad_y = None
        if ctx.needs_input_grad[0]:
            # d ce / dx = softmax * sum(a) - a
            grad_x = _unrows(xp, c * (xp.exp(log_p) * a_sum[:, None] - a), ctx.x_shape)
        if ctx.needs_input_grad[1]:
            # d ce / dy = -(1 - smoothing) w log_softmax(x)
            scale = -(1 - ctx.smoothing) * c
            if ctx.weight is not None:
                scale = scale * ctx.weight.astype(a.dtype, copy=False)
            grad_y = _unrows(xp, scale * log_p, ctx.x_shape)
        grad_w = None
        if ctx.needs_input_grad[2]:
            grad_w = -(c * ctx.targets * log_p).sum(axis=0)  # d ce / dw = -y log_softmax(x)
        return grad_x, grad_y, grad_w, None, None, None


class CrossEntropyProbsMean(CrossEntropyProbs):
    """Probability-target cross_entropy with reduction='mean' (a division last)."""

    opname, variant = "Div", 1


def _shape_text(shape):
    return "[" + ", ".join(str(n) for n in shape) + "]"


def _check_nll(x, target, weight, ignore_index):
    """torch's checks of nll_loss_nd, in its order, on arrays."""
    nd = x.ndim
    if nd < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {nd})")
    target_batch = target.shape[0] if target.ndim else 0
    if nd != 1 and x.shape[0] != target_batch:
        raise ValueError(f"Expected input batch_size ({x.shape[0]}) to match target batch_size "
                         f"({target_batch}).")
    classes = x.shape[1] if nd > 1 else x.shape[0]
    if nd <= 2:
        if target.ndim > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if nd == 1 and target.ndim == 1 and target.shape[0] != 1:
            raise ValueError("For 1D input, 1D target must have size 1, but got target size: "
                             f"{target.shape[0]}")
        if weight is not None and (weight.ndim != 1 or weight.size != classes):
            raise RuntimeError(f"weight tensor should be defined either for all {classes} classes "
                               "or no classes but got weight tensor of shape: "
                               f"{_shape_text(weight.shape)}")
    else:
        if nd != 4 and tuple(target.shape[1:]) != tuple(x.shape[2:]):
            expected = (x.shape[0],) + tuple(x.shape[2:])
            raise RuntimeError(f"Expected target size {_shape_text(expected)}, got "
                               f"{_shape_text(target.shape)}")
        if nd == 4 and target.ndim != 3:
            raise RuntimeError("only batches of spatial targets supported (3D tensors) but got "
                               f"targets of dimension: {target.ndim}")
        if weight is not None and weight.size != classes:
            raise RuntimeError("weight tensor should be defined either for all or no classes")
        if nd == 4 and tuple(target.shape) != (x.shape[0],) + tuple(x.shape[2:]):
            raise RuntimeError(f"size mismatch (got input: {_shape_text(x.shape)} , target: "
                               f"{_shape_text(target.shape)}")
    if target.dtype not in (np.int64, np.uint8):
        raise RuntimeError("expected target dtype to be Long or Byte, but got "
                           f"{type_name(target.dtype)}")
    if weight is not None and weight.dtype != x.dtype:
        raise RuntimeError(f"expected scalar type {type_name(x.dtype)} but found "
                           f"{type_name(weight.dtype)}")


def _check_targets(target, classes, ignore_index):
    """torch's IndexError for the first target that is neither a class nor ignore_index.

    Run by the op's array formula; the CUDA backend's fused kernel checks on the device
    (kernels/cuda/losses.py), so that the host need not wait for the device each call.
    """
    if target.size:
        bad = (target != ignore_index) & ((target < 0) | (target >= classes))
        if bool(bad.any()):
            raise IndexError(f"Target {int(target[bad].reshape(-1)[0])} is out of bounds.")


def _index_op(nd, reduction):
    if nd <= 2:
        return NllLoss
    if nd == 4 or reduction != "none":
        return NllLoss2D
    return NllLossView


def _index_loss(op, input, target, weight, reduction, ignore_index, smoothing, fused):
    refuse_grad("nll_loss_forward", "weight", weight)
    x, t = input._data, target._data
    with input._on_device():
        _check_nll(x, t, None if weight is None else weight._data, ignore_index)
    out_shape = tuple(t.shape) if x.ndim > 2 else tuple(x.shape[:1]) if x.ndim == 2 else ()
    w = None if weight is None else weight._data
    return op.apply(input, t, w, reduction, int(ignore_index), float(smoothing), fused,
                    out_shape)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log likelihood of log-probabilities ``input`` at class indices ``target``."""
    reduction = check_reduction(resolve_reduction(size_average, reduce, reduction))
    check_same_device(input, target, weight)
    op = _index_op(input.ndim, reduction)
    return _index_loss(op, input, target, weight, reduction, ignore_index, 0.0, False)


def _check_log_softmax(x, class_dim):
    if not is_float_array_dtype(x.dtype):
        last = "_lastdim" if class_dim == x.ndim - 1 or x.ndim == 0 else ""
        raise NotImplementedError(f'"log_softmax{last}_kernel_impl" not implemented for '
                                  f"'{type_name(x.dtype)}'")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """log_softmax then nll_loss, fused; targets are class indices or class probabilities."""
    reduction = check_reduction(resolve_reduction(size_average, reduce, reduction))
    check_same_device(input, target, weight)
    x, t = input._data, target._data
    class_dim = 0 if x.ndim == 1 else 1
    smoothing = float(label_smoothing)
    if x.shape == t.shape:
        if not is_float_array_dtype(t.dtype):
            raise RuntimeError("Expected floating point type for target with class probabilities, "
                               f"got {type_name(t.dtype)}")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        classes = x.shape[class_dim] if x.ndim else 1
        if weight is not None and (weight.ndim != 1 or weight.numel() != classes):
            raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all "
                               f"{classes} classes or no classes but got weight tensor of "
                               f"shape: {_shape_text(weight.shape)}")
        _check_log_softmax(x, class_dim)
        if smoothing > 1.0:
            raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                               f"{_float_text(label_smoothing)}")
        out_shape = tuple(x.shape[:1]) + tuple(x.shape[2:]) if x.ndim > 1 else ()
        op = CrossEntropyProbsMean if reduction == "mean" else CrossEntropyProbs
        return op.apply(input, target, weight, reduction, max(smoothing, 0.0), out_shape)
    if smoothing > 0.0:
        if smoothing > 1.0:
            raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                               f"{_float_text(label_smoothing)}")
        _check_log_softmax(x, class_dim)
        return _index_loss(CrossEntropySmoothed, input, target, weight, reduction, ignore_index,
                           smoothing, True)
    _check_log_softmax(x, class_dim)
    op = _index_op(x.ndim, reduction)
    return _index_loss(op, input, target, weight, reduction, ignore_index, 0.0, True)


def _float_text(value) -> str:
    """A float as torch's C++ streams print it (1.5, 2, 0.25)."""
    value = float(value)
    return str(int(value)) if value.is_integer() and math.isfinite(value) else f"{value:g}"

