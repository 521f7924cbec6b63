"""Binary cross entropy as fused ops: on probabilities, and on logits (stable for any x)."""

from __future__ import annotations

from ..autograd.function import Op
from ..dtypes import is_float_array_dtype
from .common import as_array, check_broadcast, result_dtype, type_name
from .losses import check_reduction, grad_scale, reduce_loss, refuse_grad, resolve_reduction

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits"]


class BinaryCrossEntropy(Op):
    """-w (y log x + (1 - y) log(1 - x)), each log clamped at -100 as torch does."""

    @staticmethod
    def forward(ctx, x, y, w, reduction):
        xp = ctx.xp
        bad_input, bad_target = ~((x >= 0) & (x <= 1)), ~((y >= 0) & (y <= 1))
        if bool((bad_input | bad_target).any()):  # torch checks element by element
            first = int((bad_input | bad_target).reshape(-1).argmax())
            which = "input" if bool(bad_input.reshape(-1)[first]) else "target"
            raise RuntimeError(f"all elements of {which} should be between 0 and 1")
        loss = (y - 1) * xp.maximum(xp.log1p(-x), -100) - y * xp.maximum(xp.log(x), -100)
        if w is not None:
            w = w.astype(x.dtype, copy=False)
            loss = loss * w
        ctx.save_for_backward(x, y, w)
        ctx.reduction = reduction
        return reduce_loss(xp, as_array(xp, loss).astype(x.dtype, copy=False), reduction)

    @staticmethod
    def backward(ctx, g):
        x, y, w = ctx.saved_tensors
        xp = ctx.xp
        g = grad_scale(g, ctx.reduction, x.size)
        if w is not None:
            g = g * w
        grad_x = grad_y = None
        if ctx.needs_input_grad[0]:
            # d bce / dx = (x - y) / (x (1 - x)), the denominator kept >= 1e-12
            grad_x = g * (x - y) / xp.maximum((1 - x) * x, 1e-12)
        if ctx.needs_input_grad[1]:
            grad_y = -g * xp.log(x / (1 - x))  # d bce / dy = -logit(x)
        return grad_x, grad_y, None, None


def _broadcast_weight(target_shape, weight_shape):
    """torch.broadcast_shapes(target, weight), with its error message."""
    n = max(len(target_shape), len(weight_shape))
    out = [1] * n
    for index, shape in enumerate((target_shape, weight_shape)):
        for i in range(-1, -1 - len(shape), -1):
            if shape[i] == 1 or shape[i] == out[i]:
                continue
            if out[i] != 1:
                expected = ", ".join(str(v) for v in out)
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {shape[i]} at {i}! "
                    f"Mismatching argument at index {index} had gputensor.Size({list(shape)}); "
                    f"but expected shape should be broadcastable to [{expected}]")
            out[i] = shape[i]
    return tuple(out)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """Binary cross entropy of probabilities ``input`` against ``target``."""
    reduction = resolve_reduction(size_average, reduce, reduction)
    reduction = check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input "
                         f"size ({input.shape}) is deprecated. Please ensure they have the same "
                         "size.")
    if weight is not None:
        shape = _broadcast_weight(tuple(target.shape), tuple(weight.shape))
        if shape != tuple(input.shape):
            raise RuntimeError(f"output with shape {list(input.shape)} doesn't match the "
                               f"broadcast shape {list(shape)}")
    x_dt, y_dt = input._data.dtype, target._data.dtype
    if y_dt != x_dt:
        raise RuntimeError(f"Found dtype {type_name(y_dt)} but expected {type_name(x_dt)}")
    if not is_float_array_dtype(x_dt):
        raise NotImplementedError(f"\"binary_cross_entropy\" not implemented for "
                                  f"'{type_name(x_dt)}'")
    refuse_grad("binary_cross_entropy", "weight", weight)
    return BinaryCrossEntropy.apply(input, target, weight, reduction)


class BinaryCrossEntropyWithLogits(Op):
    """(1 - y) x - (1 + (pos_weight - 1) y) log sigmoid(x), times weight; stable for any x."""

    @staticmethod
    def forward(ctx, x, y, w, pos_w, reduction):
        xp = ctx.xp
        dt = result_dtype(x, y)
        x, y = x.astype(dt, copy=False), y.astype(dt, copy=False)
        w = None if w is None else w.astype(dt, copy=False)
        pos_w = None if pos_w is None else pos_w.astype(dt, copy=False)
        log_sig = xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))
        if pos_w is not None:
            log_sig = log_sig * (1 + (pos_w - 1) * y)
        loss = (1 - y) * x - log_sig
        if w is not None:
            loss = loss * w
        ctx.save_for_backward(x, y, w, pos_w)
        ctx.reduction, ctx.count = reduction, loss.size
        return reduce_loss(xp, as_array(xp, loss).astype(dt, copy=False), reduction)

    @staticmethod
    def backward(ctx, g):
        x, y, w, pos_w = ctx.saved_tensors
        xp = ctx.xp
        g = grad_scale(g, ctx.reduction, ctx.count)
        if w is not None:
            g = g * w
        grad_x = grad_y = None
        if ctx.needs_input_grad[0]:
            e = xp.exp(-xp.abs(x))
            sig = xp.where(x >= 0, 1 / (1 + e), e / (1 + e))
            if pos_w is None:
                grad_x = g * (sig - y)  # d/dx = sigmoid(x) - y
            else:
                t = pos_w * y  # d/dx = (t + 1 - y) sigmoid(x) - t
                grad_x = g * ((t + 1 - y) * sig - t)
        if ctx.needs_input_grad[1]:
            if pos_w is None:
                grad_y = -g * x  # d/dy = -x
            else:  # d/dy = log sigmoid(-x) - pos_weight log sigmoid(x)
                soft = xp.log1p(xp.exp(-xp.abs(x)))
                grad_y = g * ((xp.minimum(-x, 0) - soft) - pos_w * (xp.minimum(x, 0) - soft))
        return grad_x, grad_y, None, None, None


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Sigmoid plus binary cross entropy in one numerically stable op."""
    reduction = resolve_reduction(size_average, reduce, reduction)
    reduction = check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    x_dt = input._data.dtype
    if not is_float_array_dtype(x_dt):
        raise NotImplementedError(f"\"log_sigmoid_cpu\" not implemented for '{type_name(x_dt)}'")
    y_dt = target._data.dtype
    if not is_float_array_dtype(y_dt):
        raise RuntimeError(f"result type {type_name(result_dtype(input._data, target._data))} "
                           f"can't be cast to the desired output type {type_name(y_dt)}")
    shape = tuple(input.shape)
    if pos_weight is not None:
        check_broadcast(tuple(pos_weight.shape), shape)
        n = max(len(shape), pos_weight.ndim)
        pshape = (1,) * (n - pos_weight.ndim) + tuple(pos_weight.shape)
        shape = tuple(max(a, b) for a, b in zip((1,) * (n - len(shape)) + shape, pshape))
    if weight is not None:
        check_broadcast(shape, tuple(weight.shape))
    refuse_grad("binary_cross_entropy_with_logits", "weight", weight)
    refuse_grad("binary_cross_entropy_with_logits", "pos_weight", pos_weight)
    return BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight, reduction)
