"""Row functions of layer norm and softmax, each written once: the source of the row kernels.

A row function is plain scalar Python over one row of a contiguous ``(rows, n)`` array (its
arguments are the row's 1-D windows and the row's scalars). A row is taken by ``lanes``
cooperating workers, worker ``lane`` taking elements ``lane, lane + lanes, ...`` (on the CPU
one thread takes a row: lane 0 of 1; on CUDA one block: thread ``t`` of the block). What the
workers combine goes through names bound per target:

- ``ROW_SUM(value, scratch)`` and ``ROW_MAX(value, scratch)``: the sum (the max, a NaN
  winning) of every worker's ``value``, returned to each worker (the value itself on the
  CPU; a shared-memory tree on CUDA, ``scratch`` being the block's shared array);
- ``LARGER(top, value)``: one step of a worker's running max (``larger_or_nan`` on CUDA;
  on the CPU, LLVM's ``maxnum``, which skips a NaN and vectorises);
- ``OPAQUE(value)``: the value itself (on the CPU hidden from LLVM, which would otherwise
  turn the products by ``1 / total`` back into a division per element);
- ``math``: Python's math module (or the simulator's IEEE stand-in).

So that one compiled signature per dtype stays in that dtype, the functions use no numeric
literal in arithmetic: ``zero``, ``one`` and the like arrive as scalars of the row's dtype.
``kernels/cpu/rows.py`` wraps them in a ``prange`` loop over rows, ``kernels/cuda/rows.py``
in a kernel with one block per row.

Masks (softmax): ``mask_kind`` 0 is none, 1 an additive mask (``x + mask``), 2 a boolean
keep mask (False sets the element to -inf before the softmax and gives it a zero gradient,
as ``masked_fill`` would). The mask row used by row ``r`` is ``r % mask_rows`` (a mask of
shape ``(L, S)`` serves every batch and head of ``(B, H, L, S)``).
"""

from __future__ import annotations

import math

from .templates import specialize

ROW_FUNCTIONS = ("layer_norm_forward_row", "layer_norm_backward_row",
                 "layer_norm_column_sums", "layer_norm_accumulate_row",
                 "softmax_forward_row", "softmax_backward_row")


def layer_norm_forward_row(x, weight, bias, y, n, inv_n, eps, one, has_weight, has_bias,
                           lane, lanes, scratch):
    """``y = (x - mean) * rstd * weight + bias`` over the row; returns ``(mean, rstd)``."""
    zero = one - one
    total = zero
    for j in range(lane, n, lanes):
        total += x[j]
    mean = ROW_SUM(total, scratch) * inv_n  # noqa: F821
    squares = zero
    for j in range(lane, n, lanes):
        centered = x[j] - mean
        squares += centered * centered
    # var = mean((x - mean)^2), the biased variance
    rstd = one / math.sqrt(ROW_SUM(squares, scratch) * inv_n + eps)  # noqa: F821
    for j in range(lane, n, lanes):
        value = (x[j] - mean) * rstd
        if has_weight:
            value = value * weight[j]
        if has_bias:
            value = value + bias[j]
        y[j] = value
    return mean, rstd


def layer_norm_backward_row(g, x, weight, dx, mean, rstd, n, inv_n, one, has_weight, lane,
                            lanes, scratch):
    """The row's input gradient from the saved ``mean`` and ``rstd``."""
    # dx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)), gh = g * weight
    zero = one - one
    sum_gh = zero
    sum_gh_xhat = zero
    for j in range(lane, n, lanes):
        gh = g[j] * weight[j] if has_weight else g[j]
        sum_gh += gh
        sum_gh_xhat += gh * ((x[j] - mean) * rstd)
    mean_gh = ROW_SUM(sum_gh, scratch) * inv_n  # noqa: F821
    mean_gh_xhat = ROW_SUM(sum_gh_xhat, scratch) * inv_n  # noqa: F821
    for j in range(lane, n, lanes):
        gh = g[j] * weight[j] if has_weight else g[j]
        dx[j] = rstd * (gh - mean_gh - (x[j] - mean) * rstd * mean_gh_xhat)


def layer_norm_column_sums(g, x, mean, rstd, column, first, stop, n, one):
    """``(sum(g * xhat), sum(g))`` of one column over rows ``first:stop``: its part of the
    weight and bias gradients (CUDA's way: a thread per column and chunk of rows,
    consecutive threads reading consecutive addresses)."""
    # d weight = sum_rows(g * xhat), d bias = sum_rows(g)
    zero = one - one
    sum_g_xhat = zero
    sum_g = zero
    for r in range(first, stop):
        gr = g[r * n + column]
        sum_g_xhat += gr * ((x[r * n + column] - mean[r]) * rstd[r])
        sum_g += gr
    return sum_g_xhat, sum_g


def layer_norm_accumulate_row(g, x, mean, rstd, dweight, dbias, n, lane, lanes):
    """Add one row's part of the weight and bias gradients (``g * xhat`` and ``g``) to the
    running column sums (the CPU's way: rows in order, columns contiguous)."""
    # d weight = sum_rows(g * xhat), d bias = sum_rows(g)
    for j in range(lane, n, lanes):
        dweight[j] += g[j] * ((x[j] - mean) * rstd)
        dbias[j] += g[j]


def softmax_forward_row(x, additive, keep, y, n, mask_kind, log, zero, minus_inf, lane, lanes,
                        scratch):
    """Softmax (``log``: log-softmax) of the masked row into ``y``, shifted by its max.

    A NaN makes the row NaN and a row of -inf gives NaN, as torch's softmax does (the max
    may skip a NaN: the NaN reaches every result through the sum of exponentials). ``y``
    holds the masked row (when masked), then its shifted exponentials (shifted values for
    ``log``), then the result; each worker reads back only the elements it wrote. Each loop
    is branch-free for constant ``mask_kind`` and ``log``, so the CPU's vectorises.
    """
    top = minus_inf
    for j in range(lane, n, lanes):
        value = x[j]
        if mask_kind == 1:
            value = value + additive[j]
            y[j] = value
        elif mask_kind == 2:
            value = value if keep[j] else minus_inf
            y[j] = value
        top = LARGER(top, value)  # noqa: F821 (bound per target)
    top = ROW_MAX(top, scratch)  # noqa: F821
    total = zero
    for j in range(lane, n, lanes):
        shifted = (x[j] if mask_kind == 0 else y[j]) - top
        exp_shifted = math.exp(shifted)
        total += exp_shifted
        y[j] = shifted if log else exp_shifted
    total = ROW_SUM(total, scratch)  # noqa: F821
    if log:
        log_total = math.log(total)
        for j in range(lane, n, lanes):
            y[j] = y[j] - log_total
    else:
        scale = OPAQUE(math.exp(zero) / total)  # noqa: F821 (1 / total: one division a row)
        for j in range(lane, n, lanes):
            y[j] = y[j] * scale


def same_value(value):
    """``value`` (``OPAQUE`` where nothing needs hiding)."""
    return value


def larger_or_nan(top, value):
    """The larger of ``top`` and ``value``, a NaN ``value`` winning (a row max's step)."""
    return value if value > top or value != value else top


def softmax_backward_row(g, y, keep, dx, n, mask_kind, log, zero, lane, lanes, scratch):
    """The row's input gradient from the softmax (``log``: log-softmax) output ``y``."""
    # d softmax = y * (g - sum(g * y)); d log_softmax = g - exp(y) * sum(g)
    total = zero
    if log:
        for j in range(lane, n, lanes):
            total += g[j]
    else:
        for j in range(lane, n, lanes):
            total += g[j] * y[j]
    total = ROW_SUM(total, scratch)  # noqa: F821
    for j in range(lane, n, lanes):
        if log:
            value = g[j] - math.exp(y[j]) * total
        else:
            value = y[j] * (g[j] - total)
        if mask_kind == 2:
            value = value if keep[j] else zero  # a masked-out element does not reach the output
        dx[j] = value


def compile_rows(decorate, names: dict) -> dict:
    """``{name: row function}``: each wrapped by ``decorate`` with the target's ``names``
    bound."""
    return {name: decorate(specialize(globals()[name], names)) for name in ROW_FUNCTIONS}


def mask_parts(xp, mask, dtype):
    """``(additive, keep, mask_rows, mask_kind)``: a mask (None, a float array of ``dtype``
    or a bool array, 2-D ``(mask_rows, n)``) as the row kernels take it; the unused array
    is an empty one, and the float mask is C-contiguous in ``dtype``."""
    empty_keep = xp.empty(0, dtype=xp.bool_)
    if mask is None:
        return xp.empty(0, dtype=dtype), empty_keep, 1, 0
    if mask.dtype == xp.bool_:
        keep = xp.ascontiguousarray(mask).reshape(-1)
        return xp.empty(0, dtype=dtype), keep, int(mask.shape[0]), 2
    additive = xp.ascontiguousarray(mask.astype(dtype, copy=False)).reshape(-1)
    return additive, empty_keep, int(mask.shape[0]), 1
