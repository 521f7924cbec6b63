"""Fused margin losses with their own backward (as torch's kernels): soft margin, multi-class
margin and multi-label margin."""

from __future__ import annotations

from .. import dtypes
from ..autograd.function import Op
from .common import as_array
from .losses import check_reduction, grad_scale, reduce_loss, resolve_reduction

__all__ = ["soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss"]


class SoftMarginLoss(Op):
    """log(1 + exp(-y x)), reduced."""

    @staticmethod
    def forward(ctx, x, y, reduction):
        xp = ctx.xp
        z = -y * x
        ctx.save_for_backward(x, y)
        ctx.reduction = reduction
        loss = as_array(xp, xp.logaddexp(0, z)).astype(x.dtype, copy=False)
        return reduce_loss(xp, loss, reduction)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        xp = ctx.xp
        g = grad_scale(g, ctx.reduction, x.size)
        sig = xp.exp(-xp.logaddexp(0, y * x))  # sigmoid(-y x)
        grad_x = (-y * sig * g).astype(x.dtype, copy=False)  # d/dx = -y sigmoid(-y x)
        grad_y = (-x * sig * g).astype(x.dtype, copy=False) if ctx.needs_input_grad[1] \
            else None
        return grad_x, grad_y, None


def soft_margin_loss(input, target, size_average=None, reduce=None,  # noqa: A002
                     reduction="mean"):
    """Two-class logistic loss log(1 + exp(-target * input))."""
    reduction = check_reduction(resolve_reduction(size_average, reduce, reduction))
    return SoftMarginLoss.apply(input, target, reduction)


def _check_long(target) -> None:
    if target.dtype is not dtypes.int64:
        name = {"float32": "Float", "float64": "Double", "int32": "Int"}.get(
            str(target.dtype).split(".")[-1], str(target.dtype))
        raise RuntimeError(f"expected scalar type Long but found {name}")


def _check_targets(xp, y, n_classes) -> None:
    if y.size and bool(((y < 0) | (y >= n_classes)).any()):
        raise RuntimeError("target out of range")


class MultiMarginLoss(Op):
    """sum over j != y of max(0, margin - x[y] + x[j])^p (weighted by w[y]) / C, per sample."""

    @staticmethod
    def forward(ctx, x, y, p, margin, w, reduction):
        xp = ctx.xp
        x2 = x.reshape(1, -1) if x.ndim <= 1 else x
        y1 = y.reshape(-1)
        n_classes = x2.shape[1]
        _check_targets(xp, y1, n_classes)
        picked = xp.take_along_axis(x2, y1[:, None], 1)
        z = margin - picked + x2
        others = y1[:, None] != xp.arange(n_classes)[None, :]
        hinge = xp.where(others & (z > 0), z, 0).astype(x.dtype, copy=False)
        loss = hinge * hinge if p == 2 else hinge
        scale = None
        if w is not None:
            scale = w.astype(x.dtype, copy=False)[y1][:, None]
            loss = loss * scale
        ctx.save_for_backward(hinge, y1, scale)
        ctx.shape, ctx.p, ctx.reduction = x.shape, p, reduction
        per_sample = (loss.sum(1) / n_classes).astype(x.dtype, copy=False)
        if x.ndim <= 1 and reduction == "none":
            per_sample = per_sample.reshape(())
        return reduce_loss(xp, per_sample, reduction)

    @staticmethod
    def backward(ctx, g):
        hinge, y1, scale = ctx.saved_tensors
        xp = ctx.xp
        n, n_classes = hinge.shape
        g = grad_scale(g, ctx.reduction, n)
        g = g.reshape(-1, 1) if getattr(g, "ndim", 0) else g
        # d/dx[j] of max(0, z_j)^p: (z_j > 0) or 2 z_j; x[y] gets minus their sum
        d = (hinge > 0).astype(hinge.dtype) if ctx.p == 1 else 2 * hinge
        if scale is not None:
            d = d * scale
        d = d * g / n_classes
        rows = d.sum(1, keepdims=True)
        onehot = y1[:, None] == xp.arange(n_classes)[None, :]
        grad = (d - onehot * rows).astype(hinge.dtype, copy=False)
        return grad.reshape(ctx.shape), None, None, None, None, None


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None,  # noqa: A002
                      size_average=None, reduce=None, reduction="mean"):
    """Multi-class hinge loss of scores ``input`` (N, C) at class indices ``target``."""
    reduction = check_reduction(resolve_reduction(size_average, reduce, reduction))
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    _check_long(target)
    n_classes = input.shape[-1] if input.dim() else 1
    batch = input.shape[0] if input.dim() == 2 else 1
    if input.dim() > 2 or target.numel() != batch or target.dim() > 1:
        raise RuntimeError(
            "multi_margin_loss: target tensor should be 1-D with size equal to the number of "
            f"input samples (batch size). Expected target size [{batch}], but got "
            f"{list(target.shape)}. Input has shape {list(input.shape)}.")
    if weight is not None and weight.numel() != n_classes:
        raise RuntimeError(f"inconsistent weight size, expected {n_classes} but got "
                           f"{list(weight.shape)}")
    return MultiMarginLoss.apply(input, target, p, float(margin), weight, reduction)


class MultilabelMarginLoss(Op):
    """sum over targets j and non-targets k of max(0, 1 - (x[y_j] - x[k])) / C, per sample;
    a sample's targets end at its first negative entry."""

    @staticmethod
    def forward(ctx, x, y, reduction):
        xp = ctx.xp
        x2 = x.reshape(1, -1) if x.ndim <= 1 else x
        y2 = y.reshape(x2.shape)
        n_classes = x2.shape[1]
        valid = xp.cumprod(y2 >= 0, axis=1).astype(bool)
        if bool((valid & (y2 >= n_classes)).any()):
            raise RuntimeError("argument #2 'target' is out of range")
        targets = xp.where(valid, y2, 0)
        onehot = (targets[:, :, None] == xp.arange(n_classes)) & valid[:, :, None]
        is_target = onehot.any(axis=1)
        picked = xp.take_along_axis(x2, targets, 1)
        z = 1 - picked[:, :, None] + x2[:, None, :]
        active = valid[:, :, None] & ~is_target[:, None, :] & (z > 0)
        loss = xp.where(active, z, 0).sum(axis=(1, 2)) / n_classes
        ctx.save_for_backward(active, onehot)
        ctx.shape, ctx.reduction, ctx.dtype = x.shape, reduction, x.dtype
        per_sample = as_array(xp, loss).astype(x.dtype, copy=False)
        if x.ndim <= 1 and reduction == "none":
            per_sample = per_sample.reshape(())
        return reduce_loss(xp, per_sample, reduction)

    @staticmethod
    def backward(ctx, g):
        active, onehot = ctx.saved_tensors
        n, _, n_classes = active.shape
        dtype = ctx.dtype
        g = grad_scale(g, ctx.reduction, n)
        g = g.reshape(-1, 1) if getattr(g, "ndim", 0) else g
        d = active.astype(dtype)
        # x[k] gains +1 per active pair (j, k); x[y_j] loses 1 per active pair
        grad = d.sum(1) - (onehot * d.sum(2)[:, :, None]).sum(1)
        return (grad * g / n_classes).astype(dtype, copy=False).reshape(ctx.shape), None, None


def multilabel_margin_loss(input, target, size_average=None, reduce=None,  # noqa: A002
                           reduction="mean"):
    """Multi-label hinge loss: each sample's target classes against its other classes."""
    reduction = check_reduction(resolve_reduction(size_average, reduce, reduction))
    _check_long(target)
    if input.dim() > 2 or tuple(input.shape) != tuple(target.shape):
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: "
                           f"{list(input.shape)}")
    return MultilabelMarginLoss.apply(input, target, reduction)


