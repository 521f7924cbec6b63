"""Sliding windows on the CPU for convolution: im2col (every window's elements laid out by
kernel offset) and col2im (windows summed back in place), one Numba loop each.

The array formulas (gputensor/ops/conv_geometry.py) make one strided slice copy per kernel
offset; with a short image row NumPy copies a few dozen elements at a time. Here each
channel's windows are written (or summed) in one pass, channels split over the threads;
``thread_choice`` picks the threaded or the one-thread build by their latest times. Both
give the formulas' values exactly (col2im adds the offsets in the same order).
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from .thread_choice import thread_choice

__all__ = ["col2im", "im2col"]


def _im2col_loop(padded, cols, sh, sw, dh, dw):
    channels, n = padded.shape[0], padded.shape[1]
    kh, kw, oh, ow = cols.shape[1], cols.shape[2], cols.shape[4], cols.shape[5]
    for c in prange(channels):
        for i in range(kh):
            for j in range(kw):
                left = j * dw
                for b in range(n):
                    for y in range(oh):
                        source = padded[c, b, i * dh + y * sh]
                        target = cols[c, i, j, b, y]
                        if sw == 1:  # (a contiguous run: copied as one)
                            target[:] = source[left:left + ow]
                        else:
                            for x in range(ow):
                                target[x] = source[left + x * sw]


def _col2im_loop(cols, out, sh, sw, dh, dw):
    channels, kh, kw, n, oh, ow = cols.shape
    for c in prange(channels):
        for i in range(kh):
            for j in range(kw):
                left = j * dw
                for b in range(n):
                    for y in range(oh):
                        target = out[c, b, i * dh + y * sh]
                        source = cols[c, i, j, b, y]
                        for x in range(ow):
                            target[left + x * sw] += source[x]


_BUILDS = {name: (numba.njit(cache=True)(fn), numba.njit(parallel=True, cache=True)(fn))
           for name, fn in (("im2col", _im2col_loop), ("col2im", _col2im_loop))}


def im2col(padded, kernel, stride, dilation, out_size):
    """The (C, kh, kw, N, oh, ow) windows of C-contiguous ``padded`` (C, N, Hp, Wp)."""
    c, n = padded.shape[:2]
    cols = np.empty((c,) + tuple(kernel) + (n,) + tuple(out_size), dtype=padded.dtype)
    serial, parallel = _BUILDS["im2col"]
    thread_choice.run(("im2col", padded.dtype), cols.size, serial, parallel, padded, cols,
                      stride[0], stride[1], dilation[0], dilation[1])
    return cols


def col2im(cols, padded_size, stride, dilation):
    """The windows ``cols`` (C, kh, kw, N, oh, ow) summed back into a new (C, N, Hp, Wp)."""
    c, _, _, n = cols.shape[:4]
    out = np.zeros((c, n) + tuple(padded_size), dtype=cols.dtype)
    serial, parallel = _BUILDS["col2im"]
    thread_choice.run(("col2im", cols.dtype), cols.size, serial, parallel,
                      np.ascontiguousarray(cols), out, stride[0], stride[1], dilation[0],
                      dilation[1])
    return out
