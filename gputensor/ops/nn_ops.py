"""Layers' differentiable ops: linear, embedding, layer_norm, batch_norm."""

from __future__ import annotations

import math

import numpy as np

from .._tensor_core import FLOAT_TYPE_NAMES
from ..autograd.function import Op
from ..autograd.grad_mode import no_grad
from ..dtypes import is_float_array_dtype
from .common import type_name
from .linalg import _check_mm, matmul
from .reduce import acc_dtype
from .shape import t as transpose

__all__ = ["linear", "embedding", "layer_norm", "batch_norm"]


# ---- linear ------------------------------------------------------------------------------
class Addmm(Op):
    """input @ weight.T + bias in one op (bias may be None); any input rank, folded to 2-D.

    The subclasses only carry torch's grad_fn name for each input rank and layout.
    """

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        if x.ndim == 2:
            out = ctx.backend.matmul(x, w.T)
        else:
            out = ctx.backend.matmul(x.reshape(-1, x.shape[-1]), w.T)
            out = out.reshape(x.shape[:-1] + (w.shape[0],))
        if b is not None:
            out += b
        return out

    @staticmethod
    def backward(ctx, g):
        # d(x W^T + b) = g W (for x), g^T x (for W), g (for b)
        x, w = ctx.saved_tensors
        mm = ctx.backend.matmul
        needs = ctx.needs_input_grad
        x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
        g2 = g if g.ndim == 2 else g.reshape(-1, w.shape[0])
        grad_x = grad_w = None
        if needs[0]:
            grad_x = mm(g2, w)
            if x.ndim != 2:
                grad_x = grad_x.reshape(x.shape)
        if needs[1]:
            grad_w = mm(g2.T, x2)
        return grad_x, grad_w, (g2 if needs[2] else None)


class Mm(Addmm):
    """2-D linear without bias."""


class LinearView(Addmm):
    """Linear on a contiguous input of rank other than 2, with bias."""

    opname = "View"


class LinearUnsafeView(Addmm):
    """Linear on an input of rank 3 or more, without bias."""

    opname = "UnsafeView"


class LinearAdd(Addmm):
    """Linear on a non-contiguous input of rank other than 2, with bias."""

    opname = "Add"


class LinearSqueeze(Addmm):
    """Linear on a 1-D input without bias."""

    opname, variant = "Squeeze", 4


def _shape_text(shape):
    return "[" + ", ".join(str(n) for n in shape) + "]"


def _check_linear(x, w, b):
    """torch's errors for linear's operands (addmm's wording for 2-D weights)."""
    rows = math.prod(x.shape[:-1])
    if b is not None:
        if b.dtype != w.dtype:
            raise RuntimeError("self and mat2 must have the same dtype, but got "
                               f"{type_name(b.dtype)} and {type_name(w.dtype)}")
        if x.dtype != w.dtype:
            raise RuntimeError("mat1 and mat2 must have the same dtype, but got "
                               f"{type_name(x.dtype)} and {type_name(w.dtype)}")
    if x.shape[-1] != w.shape[1]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{x.shape[-1]} and "
                           f"{w.shape[1]}x{w.shape[0]})")
    if b is None:
        _check_mm((rows, x.shape[-1]), (w.shape[1], w.shape[0]), x.dtype, w.dtype)
        return
    target = (rows, w.shape[0])
    bshape = b.shape
    for i in range(1, len(bshape) + 1):
        n, want = bshape[-i], target[-i] if i <= 2 else 1
        if n != want and n != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({want}) must match the existing size ({n}) at "
                f"non-singleton dimension {2 - i}.  Target sizes: {_shape_text(target)}.  Tensor "
                f"sizes: {_shape_text(bshape)}")


def linear(input, weight, bias=None):
    """input @ weight.T + bias (one fused op; AddmmBackward0 for 2-D input)."""
    x, w = input._data, weight._data
    if x.ndim == 2 and w.ndim == 2:
        if x.dtype != w.dtype or x.shape[1] != w.shape[1]:
            _check_linear(x, w, None if bias is None else bias._data)
        if bias is None:
            return Mm.apply(input, weight, None)
        b = bias._data
        if b.dtype != w.dtype or b.shape != (w.shape[0],):
            _check_linear(x, w, b)
        return Addmm.apply(input, weight, bias)
    if x.ndim == 0 or w.ndim == 0:
        raise RuntimeError("both arguments to linear need to be at least 1D, but they are "
                           f"{x.ndim}D and {w.ndim}D")
    if w.ndim != 2:
        out = matmul(input, transpose(weight))
        return out if bias is None else out + bias
    _check_linear(x, w, None if bias is None else bias._data)
    if bias is None:
        return (LinearSqueeze if x.ndim == 1 else LinearUnsafeView).apply(input, weight, None)
    return (LinearView if input.is_contiguous() else LinearAdd).apply(input, weight, bias)


# ---- embedding ---------------------------------------------------------------------------
class Embedding(Op):
    """Rows of ``weight`` picked by integer indices; gradients add up per row."""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        ctx.save_for_backward(indices)
        ctx.num = weight.shape[0]
        ctx.padding_idx, ctx.scale = padding_idx, scale_grad_by_freq
        return ctx.xp.take(weight, indices, axis=0)

    @staticmethod
    def backward(ctx, g):
        # d weight[idx] = scatter-add of g into the picked rows (none into padding_idx)
        xp = ctx.xp
        (indices,) = ctx.saved_tensors
        idx = indices.reshape(-1)
        g2 = g.reshape((idx.shape[0],) + g.shape[indices.ndim:])  # rows of embedding_dim
        if ctx.scale:
            counts = xp.bincount(idx, minlength=ctx.num)
            g2 = g2 / counts[idx][:, None].astype(g2.dtype)
        grad = xp.zeros((ctx.num, g2.shape[1]), dtype=g.dtype)
        xp.add.at(grad, idx, g2)
        if ctx.padding_idx is not None:
            grad[ctx.padding_idx] = 0
        return grad, None, None, None


SPARSE_EMBEDDING_ERROR = "sparse gradients (sparse=True) are not supported: use sparse=False"


def _renorm_rows(weight, indices, max_norm, norm_type):
    """torch's embedding_renorm_: rows used by ``indices`` rescaled to norm <= max_norm.

    As torch, each row's norm is taken in the weight's dtype, the factor
    ``max_norm / (norm + 1e-7)`` worked out in double and rounded to the weight's dtype.
    """
    with weight._on_device():
        w = weight._data
        xp = weight._backend.xp
        rows = xp.unique(indices.reshape(-1))
        picked = w[rows]
        if norm_type == 2:
            norms = xp.sqrt((picked * picked).sum(axis=1))
        else:
            norms = (xp.abs(picked) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
        norms = norms.astype(np.float64)
        scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(w.dtype)
        with no_grad():
            w[rows] = picked * scale[:, None]
            weight._version.value += 1


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Look up rows of ``weight`` (num_embeddings, dim) at the integer indices ``input``."""
    if padding_idx is not None:
        if padding_idx > 0:
            assert padding_idx < weight.size(0), "Padding_idx must be within num_embeddings"
        elif padding_idx < 0:
            assert padding_idx >= -weight.size(0), "Padding_idx must be within num_embeddings"
            padding_idx = weight.size(0) + padding_idx
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    idx = input._data
    if idx.dtype not in (np.int64, np.int32):
        name = FLOAT_TYPE_NAMES[idx.dtype.name]
        where = ("#1", "embedding") if max_norm is None else ("#2", "embedding_renorm_")
        raise RuntimeError(f"Expected tensor for argument {where[0]} 'indices' to have one of the "
                           "following scalar types: Long, Int; but got gputensor."
                           f"{name} instead (while checking arguments for {where[1]})")
    with input._on_device():
        if idx.size and (idx.min() < 0 or idx.max() >= weight.shape[0]):
            raise IndexError("index out of range in self")
    if sparse:
        raise NotImplementedError(SPARSE_EMBEDDING_ERROR)
    if max_norm is not None:
        _renorm_rows(weight, idx, float(max_norm), float(norm_type))
    return Embedding.apply(weight, idx, padding_idx, bool(scale_grad_by_freq))


# ---- normalization -----------------------------------------------------------------------
class NativeLayerNorm(Op):
    """(x - mean) / sqrt(var + eps) * weight + bias over the trailing ``n`` elements."""

    @staticmethod
    def forward(ctx, x, w, b, norm_shape, eps):
        ctx.shape, ctx.norm_shape, ctx.eps = x.shape, norm_shape, eps
        fused = ctx.backend.layer_norm_rows(x.reshape(-1, math.prod(norm_shape)),
                                            _flat_or_none(w), _flat_or_none(b), eps)
        ctx.fused = fused is not None
        if ctx.fused:  # the backend's row kernel; its backward takes the saved mean and rstd
            out, mean, rstd = fused
            ctx.save_for_backward(x, mean, rstd, w)
            return out.reshape(x.shape)
        xhat, rstd = NativeLayerNorm.normalized(ctx, x)
        ctx.save_for_backward(xhat, rstd, w, x)
        out = xhat
        if w is not None:
            out = out * w.reshape(-1)
        if b is not None:
            out = out + b.reshape(-1)
        return out.astype(x.dtype, copy=False).reshape(x.shape)

    recomputed_when_lifted = (0, 1, 2)  # xhat and rstd (or mean and rstd), from x

    @staticmethod
    def normalized(ctx, x):
        """(xhat, rstd) over rows of the trailing ``norm_shape`` elements, in float32 at least."""
        x2 = x.reshape(-1, math.prod(ctx.norm_shape)).astype(acc_dtype(x.dtype), copy=False)
        xc = x2 - x2.mean(axis=1, keepdims=True)
        rstd = 1 / ctx.xp.sqrt((xc * xc).mean(axis=1, keepdims=True) + ctx.eps)
        return xc * rstd, rstd

    @staticmethod
    def backward(ctx, g):
        # dx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)), gh = g * weight
        needs = ctx.needs_input_grad
        lifted = ctx.backend.lifted
        if ctx.fused and not lifted:
            return NativeLayerNorm._fused_backward(ctx, g, needs)
        if lifted:  # a backward that builds a graph: from x
            x, w = (ctx.saved_tensors[i] for i in ((0, 3) if ctx.fused else (3, 2)))
            xhat, rstd = NativeLayerNorm.normalized(ctx, x)
        else:
            xhat, rstd, w = ctx.saved_tensors[:3]
        g2 = g.reshape(xhat.shape).astype(xhat.dtype, copy=False)
        grad_x = grad_w = grad_b = None
        if needs[0]:
            gh = g2 if w is None else g2 * w.reshape(-1)
            grad_x = rstd * (gh - gh.mean(axis=1, keepdims=True)
                             - xhat * (gh * xhat).mean(axis=1, keepdims=True))
            grad_x = grad_x.reshape(ctx.shape)
        if w is not None and needs[1]:
            grad_w = (g2 * xhat).sum(axis=0).reshape(w.shape)
        if needs[2]:
            grad_b = g2.sum(axis=0).reshape(ctx.norm_shape)
        return grad_x, grad_w, grad_b, None, None

    @staticmethod
    def _fused_backward(ctx, g, needs):
        """The gradients by the backend's row kernel, from the saved mean and rstd."""
        x, mean, rstd, w = ctx.saved_tensors
        x2 = x.reshape(mean.shape[0], -1)
        grad_x, grad_w, grad_b = ctx.backend.layer_norm_rows_backward(
            g.reshape(x2.shape), x2, mean, rstd, _flat_or_none(w),
            (needs[0], w is not None and needs[1], needs[2]))
        return (None if grad_x is None else grad_x.reshape(ctx.shape),
                None if grad_w is None else grad_w.reshape(w.shape),
                None if grad_b is None else grad_b.reshape(ctx.norm_shape), None, None)


def _flat_or_none(array):
    """A parameter's array flattened (None stays None)."""
    return None if array is None else array.reshape(-1)


def _mixed_dtype(x_dtype, params):
    for p in params:
        if p is not None and p.dtype != x_dtype:
            if x_dtype == np.float32:
                raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of "
                                   "Float")
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize over the trailing dims ``normalized_shape``, then scale and shift."""
    if isinstance(normalized_shape, int) or not isinstance(normalized_shape, (tuple, list)):
        raise TypeError("layer_norm(): argument 'normalized_shape' (position 2) must be tuple of "
                        f"ints, not {type(normalized_shape).__name__}")
    shape = tuple(int(n) for n in normalized_shape)
    text = _shape_text(shape)
    if not shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                           f"containing at least one element, but got normalized_shape = {text}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got "
                               f"{name} of shape {_shape_text(p.shape)} and normalized_shape = "
                               f"{text}")
    if tuple(input.shape[input.ndim - len(shape):]) != shape or input.ndim < len(shape):
        star = ", ".join(["*"] + [str(n) for n in shape])
        raise RuntimeError(f"Given normalized_shape={text}, expected input with shape [{star}], "
                           f"but got input of size{_shape_text(input.shape)}")
    if not is_float_array_dtype(input._data.dtype):
        raise NotImplementedError('"LayerNormKernelImpl" not implemented for '
                                  f"'{type_name(input._data.dtype)}'")
    _mixed_dtype(input._data.dtype, [p._data for p in (weight, bias) if p is not None])
    return NativeLayerNorm.apply(input, weight, bias, shape, float(eps))


class NativeBatchNorm(Op):
    """Normalize each channel (dim 1) by batch statistics (training) or given ones (eval).

    Outputs: the result, then the batch mean and biased variance (no gradient), which
    batch_norm uses to update the running statistics.
    """

    @staticmethod
    def forward(ctx, x, w, b, mean, var, training, eps):
        axes = (0,) + tuple(range(2, x.ndim))
        shape = [1] * x.ndim
        shape[1] = x.shape[1]
        ctx.axes, ctx.shape, ctx.training, ctx.eps = axes, shape, training, eps
        if not training:
            ctx.running = (mean.reshape(shape), var.reshape(shape))
        xhat, invstd, mean, var = NativeBatchNorm.normalized(ctx, x)
        ctx.save_for_backward(xhat, invstd, w, x)
        out = xhat
        if w is not None:
            out = out * w.reshape(shape)
        if b is not None:
            out = out + b.reshape(shape)
        ctx.non_differentiable = (1, 2)
        return (out.astype(x.dtype, copy=False), mean.reshape(-1), var.reshape(-1))

    recomputed_when_lifted = (0, 1)  # xhat and invstd, from x

    @staticmethod
    def normalized(ctx, x):
        """(xhat, invstd, mean, var) by channel: batch statistics (training) or running ones."""
        xa = x.astype(acc_dtype(x.dtype), copy=False)
        if ctx.training:
            mean = xa.mean(axis=ctx.axes, keepdims=True)
            xc = xa - mean
            var = (xc * xc).mean(axis=ctx.axes, keepdims=True)
        else:
            mean, var = ctx.running
            xc = xa - mean
        invstd = 1 / ctx.xp.sqrt(var + ctx.eps)
        return xc * invstd, invstd, mean, var

    @staticmethod
    def backward(ctx, g, _g_mean, _g_var):
        # training: dx = invstd * (gh - mean(gh) - xhat * mean(gh * xhat)), gh = g * weight;
        # eval: dx = invstd * gh
        xhat, invstd, w, x = ctx.saved_tensors
        if ctx.backend.lifted:  # a backward that builds a graph: from x
            xhat, invstd = NativeBatchNorm.normalized(ctx, x)[:2]
        needs = ctx.needs_input_grad
        axes, shape = ctx.axes, ctx.shape
        g = g.astype(xhat.dtype, copy=False)
        grad_x = grad_w = grad_b = None
        if needs[0]:
            gh = g if w is None else g * w.reshape(shape)
            if ctx.training:
                gh = gh - gh.mean(axis=axes, keepdims=True) \
                    - xhat * (gh * xhat).mean(axis=axes, keepdims=True)
            grad_x = gh * invstd
        if w is not None and needs[1]:
            grad_w = (g * xhat).sum(axis=axes)
        if needs[2]:
            grad_b = g.sum(axis=axes)
        return grad_x, grad_w, grad_b, None, None, None, None


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalization over dim 1; when training, updates the running statistics."""
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be "
                         "None")
    if training:
        size = input.shape
        per_channel = math.prod(size) // size[1] if input.ndim > 1 and size[1] else 0
        if input.ndim > 1 and size[1] and per_channel == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {size}")
    elif running_mean is None:
        raise RuntimeError("running_mean must be defined in evaluation mode")
    channels = input.shape[1] if input.ndim > 1 else 0
    for name, p in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if p is not None and p.numel() != channels:
            raise RuntimeError(f"{name} should contain {channels} elements not {p.numel()}")
    dt = input._data.dtype
    if not is_float_array_dtype(dt):
        raise NotImplementedError(f"\"batch_norm\" not implemented for '{type_name(dt)}'")
    _mixed_dtype(dt, [p._data for p in (running_mean, running_var, weight, bias)
                      if p is not None])
    stats = (None, None) if training else (running_mean._data, running_var._data)
    out, mean, var = NativeBatchNorm.apply(input, weight, bias, *stats, bool(training),
                                           float(eps))
    if training and running_mean is not None:
        update_running_stats(running_mean._data, running_var._data, mean._data, var._data,
                             input.numel() // channels, float(momentum))
        running_mean._version.value += 1
        running_var._version.value += 1
    return out


def update_running_stats(rm, rv, mean, var, n: int, m: float) -> None:
    """Batch norm's running statistics updated in place (arrays) from a batch's ``mean`` and
    biased ``var`` over ``n`` values per channel, with momentum ``m``."""
    rm[...] = (1 - m) * rm + m * mean.astype(rm.dtype, copy=False)
    rv[...] = (1 - m) * rv + m * (var * (n / max(n - 1, 1))).astype(rv.dtype, copy=False)
