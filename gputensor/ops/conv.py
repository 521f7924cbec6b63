"""Convolution: conv1d, conv2d and their transposes, by im2col and one matrix product per
group (forward and backward side by side; 1-D runs as 2-D with a height of 1)."""

from __future__ import annotations

import warnings

from .._tensor_core import FLOAT_TYPE_NAMES
from ..autograd.function import Op
from . import views
from .conv_geometry import pad_channels_first, windows, windows_summed

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d"]


def _matmul(backend, a, b):
    """(G, m, k) @ (G, k, n); one 2-D product when there is a single group."""
    if a.shape[0] == 1:
        return backend.matmul(a[0], b[0])[None]
    return backend.matmul(a, b)


def _as_2d(x):
    """A (N, C, L) array as (N, C, 1, L); 4-D arrays as they are."""
    return x[:, :, None, :] if x.ndim == 3 else x


class Convolution(Op):
    """Cross-correlation of ``x`` with ``w`` (+ bias) over 1 or 2 spatial dims, or its
    transpose; ``pads`` is ((top, bottom), (left, right)), other settings are 2-tuples."""

    @staticmethod
    def forward(ctx, x, w, b, stride, pads, dilation, transposed, output_padding, groups):
        xp = ctx.xp
        ctx.settings = stride, pads, dilation, groups
        ctx.shapes = x.shape, w.shape
        x4, w4 = _as_2d(x), _as_2d(w)
        kernel = w4.shape[2:]
        if transposed:
            out, keep = _transposed_forward(ctx, x4, w4, kernel, output_padding)
        else:
            out, keep = _forward(ctx, x4, w4, kernel)
        ctx.save_for_backward(x, w)
        ctx.keep, ctx.transposed = keep, transposed
        if b is not None:
            out += b.reshape(1, -1, 1, 1)
        out = xp.ascontiguousarray(out)
        return out[:, :, 0, :] if x.ndim == 3 else out

    @staticmethod
    def backward(ctx, g):
        # y = W * x (a linear map of x and of W): dx = W^T * g, dW = g * x^T, db = sum of g
        x, w = ctx.saved_tensors
        needs = ctx.needs_input_grad
        g4 = _as_2d(g)
        if ctx.transposed:
            grad_x, grad_w = _transposed_backward(ctx, g4, _as_2d(x), _as_2d(w), needs)
        else:
            grad_x, grad_w = _backward(ctx, g4, _as_2d(w), needs)
        grad_b = g4.sum(axis=(0, 2, 3)) if needs[2] else None
        x_shape, w_shape = ctx.shapes
        if grad_x is not None:
            grad_x = grad_x.reshape(x_shape)
        if grad_w is not None:
            grad_w = grad_w.reshape(w_shape)
        return grad_x, grad_w, grad_b, None, None, None, None, None, None


def _forward(ctx, x, w, kernel):
    """out = W (G, Og, K) @ cols (G, K, N*L) per group, from the padded input's windows."""
    xp, backend = ctx.xp, ctx.backend
    stride, pads, dilation, groups = ctx.settings
    n, c, h, wd = x.shape
    o = w.shape[0]
    padded = pad_channels_first(xp, x, pads)
    out_size = _out_size(padded.shape[2:], kernel, stride, dilation)
    cols = windows(backend, padded, kernel, stride, dilation, out_size)
    ctx.geometry = padded.shape[2:], out_size
    cols2 = cols.reshape(groups, w[0].size, n * out_size[0] * out_size[1])
    out = _matmul(backend, w.reshape(groups, o // groups, -1), cols2)
    out = out.reshape((o, n) + out_size).transpose(1, 0, 2, 3)
    return out, cols2


def _backward(ctx, g, w, needs):
    """dW = g (G, Og, N*L) @ cols^T; dx = col2im(W^T @ g) cropped to the input."""
    xp, backend = ctx.xp, ctx.backend
    stride, pads, dilation, groups = ctx.settings
    cols2 = ctx.keep
    padded_size, out_size = ctx.geometry
    o, n = w.shape[0], g.shape[0]
    gt = xp.ascontiguousarray(g.transpose(1, 0, 2, 3))
    gt = gt.reshape(groups, o // groups, n * out_size[0] * out_size[1])
    w3 = w.reshape(groups, o // groups, -1)
    grad_x = grad_w = None
    if needs[1]:  # as (cols @ g^T)^T: BLAS splits the long reduction better this way round
        grad_w = _matmul(backend, cols2, gt.transpose(0, 2, 1)).transpose(0, 2, 1)
    if needs[0]:
        grad_cols = _matmul(backend, w3.transpose(0, 2, 1), gt)
        c = groups * w.shape[1]
        grad_cols = grad_cols.reshape((c,) + w.shape[2:] + (n,) + out_size)
        full = windows_summed(backend, grad_cols, padded_size, stride, dilation)
        (top, _), (left, _) = pads
        h, wd = ctx.shapes[0][2:] if len(ctx.shapes[0]) == 4 else (1, ctx.shapes[0][2])
        grad_x = full[:, :, top:top + h, left:left + wd].transpose(1, 0, 2, 3)
        grad_x = xp.ascontiguousarray(grad_x)
    return grad_x, grad_w


def _out_size(padded_size, kernel, stride, dilation):
    return tuple((p - d * (k - 1) - 1) // s + 1
                 for p, k, s, d in zip(padded_size, kernel, stride, dilation))


def _transposed_forward(ctx, x, w, kernel, output_padding):
    """cols = W^T (G, Og*K, Cg) @ x (G, Cg, N*H*W), summed into place by col2im, cropped."""
    xp, backend = ctx.xp, ctx.backend
    stride, pads, dilation, groups = ctx.settings
    n, c, h, wd = x.shape
    og = w.shape[1]
    xt = xp.ascontiguousarray(x.transpose(1, 0, 2, 3)).reshape(groups, c // groups, n * h * wd)
    cols = _matmul(backend, w.reshape(groups, c // groups, -1).transpose(0, 2, 1), xt)
    cols = cols.reshape((groups * og,) + tuple(kernel) + (n, h, wd))
    full_size = tuple((i - 1) * s + d * (k - 1) + 1 + op for i, s, d, k, op in
                      zip((h, wd), stride, dilation, kernel, output_padding))
    full = windows_summed(backend, cols, full_size, stride, dilation)
    (top, bottom), (left, right) = pads
    out = full[:, :, top:full_size[0] - bottom, left:full_size[1] - right]
    ctx.geometry = full_size, (h, wd)
    return out.transpose(1, 0, 2, 3), None


def _transposed_backward(ctx, g, x, w, needs):
    """The windows of the gradient (re-padded to the full size): dx = W @ cols,
    dW = x @ cols^T, per group."""
    xp, backend = ctx.xp, ctx.backend
    stride, pads, dilation, groups = ctx.settings
    full_size, in_size = ctx.geometry
    n, c = x.shape[:2]
    (top, _), (left, _) = pads
    padded = xp.zeros((g.shape[1], n) + full_size, dtype=g.dtype)
    oh, ow = g.shape[2:]
    padded[:, :, top:top + oh, left:left + ow] = g.transpose(1, 0, 2, 3)
    cols = windows(backend, padded, w.shape[2:], stride, dilation, in_size)
    cols = cols.reshape(groups, w[0].size, n * in_size[0] * in_size[1])
    grad_x = grad_w = None
    if needs[0]:
        grad_x = _matmul(backend, w.reshape(groups, c // groups, -1), cols)
        grad_x = grad_x.reshape((c, n) + in_size).transpose(1, 0, 2, 3)
        grad_x = xp.ascontiguousarray(grad_x)
    if needs[1]:
        xt = xp.ascontiguousarray(x.transpose(1, 0, 2, 3))
        xt = xt.reshape(groups, c // groups, n * in_size[0] * in_size[1])
        grad_w = _matmul(backend, xt, cols.transpose(0, 2, 1))
    return grad_x, grad_w


# ---- argument checks, as torch words them --------------------------------------------------
def _list_text(values) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"


def expand_param(name, value, count):
    """``value`` (an int or a sequence of 1 or ``count`` ints) as a ``count``-tuple."""
    if isinstance(value, int):
        return (value,) * count
    value = tuple(value)
    if len(value) == 1:
        return value * count
    if len(value) != count:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {count} "
                           "values to match the convolution dimensions, but got "
                           f"{name}={_list_text(value)}")
    return value


def _check_shapes(x, w, b, groups, padding, dilation, transposed):
    """torch's checks of the operands' shapes (check_shape_forward)."""
    ws, xs = tuple(w.shape), tuple(x.shape)
    if w.ndim != x.ndim:
        raise RuntimeError(f"Expected {w.ndim}-dimensional input for {w.ndim}-dimensional "
                           f"weight {_list_text(ws)}, but got {x.ndim}-dimensional input of "
                           f"size {_list_text(xs)} instead")
    if ws[0] < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at "
                           f"dimension 0, but got weight of size {_list_text(ws)} instead")
    if ws[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{_list_text(ws)}] instead")
    if transposed:
        if xs[1] != ws[0]:
            raise RuntimeError(f"Given transposed=1, weight of size {_list_text(ws)}, expected "
                               f"input{_list_text(xs)} to have {ws[0]} channels, but got "
                               f"{xs[1]} channels instead")
        if b is not None and (b.ndim != 1 or b.shape[0] != ws[1] * groups):
            raise RuntimeError(f"Given transposed=1, weight of size {_list_text(ws)}, expected "
                               f"bias to be 1-dimensional with {ws[1] * groups} elements, but "
                               f"got bias of size {_list_text(b.shape)} instead")
        return
    if xs[1] != ws[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {_list_text(ws)}, expected "
                           f"input{_list_text(xs)} to have {ws[1] * groups} channels, but got "
                           f"{xs[1]} channels instead")
    if b is not None and (b.ndim != 1 or b.shape[0] != ws[0]):
        raise RuntimeError(f"Given weight of size {_list_text(ws)}, expected bias to be "
                           f"1-dimensional with {ws[0]} elements, but got bias of size "
                           f"{_list_text(b.shape)} instead")
    sizes = [xs[i + 2] + sum(padding[i]) for i in range(w.ndim - 2)]
    kernel = [dilation[i] * (ws[i + 2] - 1) + 1 for i in range(w.ndim - 2)]
    if any(s < k for s, k in zip(sizes, kernel)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({' x '.join(map(str, sizes))}). "
            f"Kernel size: ({' x '.join(map(str, kernel))}). Kernel size can't be greater than "
            "actual input size")


def _check_dtypes(x, w, b):
    """torch's errors for a weight or bias of another dtype than the input."""
    if w.dtype != x.dtype:
        cuda = "cuda." if x.device.type == "cuda" else ""
        raise RuntimeError(
            f"Input type (gputensor.{cuda}{FLOAT_TYPE_NAMES[x._data.dtype.name]}) and weight "
            f"type (gputensor.{cuda}{FLOAT_TYPE_NAMES[w._data.dtype.name]}) should be the same "
            "or input should be a MKLDNN tensor and weight is a dense tensor")
    if b is not None and b.dtype != x.dtype:
        raise RuntimeError(f"Input type ({_c_name(x.dtype)}) and bias type ({_c_name(b.dtype)}) "
                           "should be the same")


_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
            "bfloat16": "c10::BFloat16"}


def _c_name(dtype) -> str:
    """The C++ name torch prints for a dtype (float, double)."""
    name = str(dtype).split(".")[-1]
    return _C_NAMES.get(name, name)


def _padding_pairs(padding, w, stride, dilation, dims):
    """``padding`` (ints, 'valid' or 'same') as (before, after) per spatial dim."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * dims
        if padding != "same":
            raise RuntimeError(f"Invalid padding string: '{padding}'")
        if any(s != 1 for s in stride):
            raise RuntimeError("padding='same' is not supported for strided convolutions")
        totals = [d * (k - 1) for d, k in zip(dilation, w.shape[2:])]
        if any(t % 2 for t in totals):
            warnings.warn("Using padding='same' with even kernel lengths and odd dilation may "
                          "require a zero-padded copy of the input be created", stacklevel=4)
        return tuple((t // 2, t - t // 2) for t in totals)
    padding = expand_param("padding", padding, dims)
    return tuple((p, p) for p in padding)


def _convolution(name, dims, input, weight, bias, stride, padding, dilation, groups,
                 transposed=False, output_padding=0):
    """The checks and batching shared by the conv functions, then the Convolution op."""
    if input.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to "
                           f"{name}, but got input of size: {_list_text(input.shape)}")
    unbatched = input.ndim == dims + 1
    if unbatched:
        input = views.unsqueeze(input, 0)
    count = weight.ndim - 2

    def expand(name, value):  # ints take the function's rank first, as torch's int[2]
        return expand_param(name, (value,) * dims if isinstance(value, int) else value, count)

    stride, dilation = expand("stride", stride), expand("dilation", dilation)
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if not isinstance(padding, str):
        padding = expand("padding", padding)
    pads = _padding_pairs(padding, weight, stride, dilation, count)
    output_padding = expand("output_padding", output_padding)
    if any(p < 0 for pair in pads for p in pair):
        raise RuntimeError("negative padding is not supported")
    if any(p < 0 for p in output_padding):
        raise RuntimeError("negative output_padding is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("non-positive dilation is not supported")
    _check_shapes(input, weight, bias, groups, pads, dilation, transposed)
    _check_dtypes(input, weight, bias)
    if count == 1:
        stride, dilation = (1,) + stride, (1,) + dilation
        pads, output_padding = ((0, 0),) + pads, (0,) + output_padding
    if transposed:
        _check_transposed(input, weight, stride, pads, dilation, output_padding, count)
    out = Convolution.apply(input, weight, bias, stride, pads, dilation, transposed,
                            output_padding, groups)
    return views.squeeze(out, 0) if unbatched else out


def _check_transposed(x, w, stride, pads, dilation, output_padding, count):
    """torch's errors for a transposed convolution's output padding and output size (the
    settings as 2-D ones)."""
    if any(op >= s and op >= d for op, s, d in
                                zip(output_padding, stride, dilation)):
        raise RuntimeError(
            "output padding must be smaller than either stride or dilation, but got "
            f"output_padding_height: {output_padding[0]} output_padding_width: "
            f"{output_padding[1]} stride_height: {stride[0]} stride_width: {stride[1]} "
            f"dilation_height: {dilation[0]} dilation_width: {dilation[1]}")
    if count == 1:
        return  # (torch gives an empty result for a 1-D output size of 0)
    sizes = x.shape[2:]
    outs = [(i - 1) * s - sum(p) + d * (k - 1) + 1 + op for i, s, p, d, k, op in
            zip(sizes, stride, pads, dilation, w.shape[2:], output_padding)]
    if any(o < 1 for o in outs):
        raise RuntimeError(
            f"Given input size per channel: ({' x '.join(map(str, sizes))}). Calculated output "
            f"size per channel: ({' x '.join(map(str, outs))}). Output size is too small")


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation of (N, C, L) or (C, L) ``input`` with (O, C/groups, k) ``weight``."""
    return _convolution("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation of (N, C, H, W) or (C, H, W) ``input`` with (O, C/groups, kh, kw)
    ``weight``."""
    return _convolution("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """The transpose (gradient) of conv1d: (C, O/groups, k) ``weight`` maps C channels to O."""
    if isinstance(padding, str):
        raise TypeError("conv_transpose1d(): argument 'padding' must be tuple of ints, not str")
    return _convolution("conv_transpose1d", 1, input, weight, bias, stride, padding, dilation,
                        groups, True, output_padding)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """The transpose (gradient) of conv2d: (C, O/groups, kh, kw) ``weight`` maps C channels
    to O."""
    if isinstance(padding, str):
        raise TypeError("conv_transpose2d(): argument 'padding' must be tuple of ints, not str")
    return _convolution("conv_transpose2d", 2, input, weight, bias, stride, padding, dilation,
                        groups, True, output_padding)
