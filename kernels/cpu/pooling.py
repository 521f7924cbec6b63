"""2-D max pooling forward on the CPU: one ``prange`` worker per plane, each window scanned
in torch's order (first maximum; a NaN always taken, so the last NaN wins; elements outside
the input skipped). float32 and float64 are compiled on first use and cached on disk."""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

__all__ = ["max_pool2d_planes"]


@numba.njit(parallel=True, cache=True)
def _max_pool_loop(x, values, indices, offsets, kh, kw, sh, sw, ph, pw, dh, dw):
    planes, h, w = x.shape
    oh, ow = values.shape[1], values.shape[2]
    for p in prange(planes):
        for r in range(oh):
            top = r * sh - ph
            for c in range(ow):
                left = c * sw - pw
                best = x[p, 0, 0]
                best_offset = -1
                best_index = 0
                for i in range(kh):
                    y = top + i * dh
                    if y < 0 or y >= h:
                        continue
                    for j in range(kw):
                        col = left + j * dw
                        if col < 0 or col >= w:
                            continue
                        v = x[p, y, col]
                        if best_offset < 0 or v > best or v != v:
                            best = v
                            best_offset = i * kw + j
                            best_index = y * w + col
                values[p, r, c] = best
                indices[p, r, c] = best_index
                offsets[p, r, c] = best_offset


def max_pool2d_planes(x, kernel, stride, pads, dilation, out_size):
    """``(values, flat indices, kernel offsets)`` of max pooling each plane of C-contiguous
    3-D ``x`` (planes, H, W)."""
    shape = (x.shape[0],) + tuple(out_size)
    values = np.empty(shape, dtype=x.dtype)
    indices = np.empty(shape, dtype=np.int64)
    offsets = np.empty(shape, dtype=np.int32)
    _max_pool_loop(x, values, indices, offsets, kernel[0], kernel[1], stride[0], stride[1],
                   pads[0], pads[1], dilation[0], dilation[1])
    return values, indices, offsets
