"""Sliding-window geometry shared by convolution and pooling: im2col and col2im by kernel
offset (kh*kw strided slice copies or slice-adds, each one array operation on any ``xp``)."""

from __future__ import annotations

__all__ = ["col2im", "im2col", "pad_channels_first", "window_slices", "windows",
           "windows_summed"]


def window_slices(offset_h, offset_w, out_h, out_w, stride):
    """The two slices that pick, for every output position, the element at kernel offset
    (``offset_h``, ``offset_w``) (already multiplied by the dilation)."""
    sh, sw = stride
    return (slice(offset_h, offset_h + sh * (out_h - 1) + 1, sh),
            slice(offset_w, offset_w + sw * (out_w - 1) + 1, sw))


def pad_channels_first(xp, x, pads, fill=0):
    """``x`` (N, C, H, W) as a new (C, N, H + top + bottom, W + left + right) array with
    ``fill`` around it; ``pads`` is ((top, bottom), (left, right))."""
    (top, bottom), (left, right) = pads
    n, c, h, w = x.shape
    out = xp.empty((c, n, h + top + bottom, w + left + right), dtype=x.dtype)
    if top or bottom or left or right:
        out.fill(fill)
    out[:, :, top:top + h, left:left + w] = x.transpose(1, 0, 2, 3)
    return out


def im2col(xp, padded, kernel, stride, dilation, out_size):
    """The (C, kh, kw, N, oh, ow) windows of ``padded`` (C, N, Hp, Wp), one slice copy per
    kernel offset."""
    (kh, kw), (dh, dw), (oh, ow) = kernel, dilation, out_size
    c, n = padded.shape[:2]
    cols = xp.empty((c, kh, kw, n, oh, ow), dtype=padded.dtype)
    for i in range(kh):
        for j in range(kw):
            rows, columns = window_slices(i * dh, j * dw, oh, ow, stride)
            cols[:, i, j] = padded[:, :, rows, columns]
    return cols


def col2im(xp, cols, padded_size, stride, dilation):
    """The sum of windows ``cols`` (C, kh, kw, N, oh, ow) back in place: a (C, N, Hp, Wp)
    array, one slice-add per kernel offset."""
    c, kh, kw, n, oh, ow = cols.shape
    (dh, dw) = dilation
    out = xp.zeros((c, n) + tuple(padded_size), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            rows, columns = window_slices(i * dh, j * dw, oh, ow, stride)
            out[:, :, rows, columns] += cols[:, i, j]
    return out


def windows(backend, padded, kernel, stride, dilation, out_size):
    """``im2col`` by the backend's compiled loop where it has one, else by the formula."""
    cols = backend.im2col(padded, kernel, stride, dilation, out_size)
    return im2col(backend.xp, padded, kernel, stride, dilation, out_size) if cols is None \
        else cols


def windows_summed(backend, cols, padded_size, stride, dilation):
    """``col2im`` by the backend's compiled loop where it has one, else by the formula."""
    out = backend.col2im(cols, padded_size, stride, dilation)
    return col2im(backend.xp, cols, padded_size, stride, dilation) if out is None else out
