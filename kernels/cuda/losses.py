"""Cross entropy over rows of logits: one launch forward, one launch backward.

Forward, one thread per row: the row's max, then ``log_total = log(sum(exp(x - max)))``,
the log-probabilities ``logp = (x - max) - log_total`` (written out, as torch's log_softmax
output, for backward), and for the row's target ``t`` the loss ``-(w[t] * logp[t])`` and row
weight ``w[t]`` (1 without class weights); a row whose target is ``ignore_index`` gets 0 for
both. A NaN logit makes its row's loss NaN, as in torch.

Backward, one thread per element: ``grad = k * w[t] * (exp(logp) - (c == t))``, ``k`` the
incoming gradient's factor (one for every row, or one per row for reduction='none');
ignored rows get 0.

Logits are C-contiguous (rows, classes) float32 or float64; targets int64 and in range
(the caller checks); weights, when given, one per class in the logits' dtype.
"""

from __future__ import annotations

import math

from numba import cuda

from . import launch

DTYPES = ("float32", "float64")
if launch.SIMULATED:
    math = launch.SimMath()  # noqa: F811 (NaN and inf where Python's math would raise)


def forward_kernel(x, targets, weight, has_weight, ignore_index, loss, row_weight, logp,
                   rows, classes, one):
    """Per row: log-probabilities into ``logp``, the loss and the target's weight."""
    # launch: 1-D grid-stride over rows, one thread per row; grid
    # launch.grid_size(rows, kernel=...), block launch.BLOCK, CuPy's stream.
    zero = one - one
    for r in range(cuda.grid(1), rows, cuda.gridsize(1)):
        base = r * classes
        top = x[base]
        for c in range(1, classes):
            v = x[base + c]
            if v > top or v != v:  # a NaN wins, so it reaches the loss
                top = v
        total = zero
        for c in range(classes):
            total += math.exp(x[base + c] - top)
        log_total = math.log(total)
        for c in range(classes):
            logp[base + c] = (x[base + c] - top) - log_total
        t = targets[r]
        if t == ignore_index:
            loss[r] = zero
            row_weight[r] = zero
        else:
            w = weight[t] if has_weight else one
            loss[r] = -(w * logp[base + t])
            row_weight[r] = w


def backward_kernel(logp, targets, row_weight, coef, per_row, ignore_index, grad, rows,
                    classes, one):
    """``grad = k * w[t] * (softmax - onehot(t))`` per element; 0 in ignored rows."""
    # launch: 1-D grid-stride over rows * classes elements; grid
    # launch.grid_size(rows * classes, kernel=...), block launch.BLOCK, CuPy's stream.
    zero = one - one
    for i in range(cuda.grid(1), rows * classes, cuda.gridsize(1)):
        r = i // classes
        t = targets[r]
        if t == ignore_index:
            grad[i] = zero
        else:
            scale = (coef[r] if per_row else coef[0]) * row_weight[r]
            value = math.exp(logp[i]) * scale
            if i - r * classes == t:
                value -= scale
            grad[i] = value


FORWARD_SIGNATURES = [f"void({t}[::1], int64[::1], {t}[::1], boolean, int64, {t}[::1], "
                      f"{t}[::1], {t}[::1], int64, int64, {t})" for t in DTYPES]
BACKWARD_SIGNATURES = [f"void({t}[::1], int64[::1], {t}[::1], {t}[::1], boolean, int64, "
                       f"{t}[::1], int64, int64, {t})" for t in DTYPES]
KERNELS = [("losses.cross_entropy_forward", forward_kernel, FORWARD_SIGNATURES),
           ("losses.cross_entropy_backward", backward_kernel, BACKWARD_SIGNATURES)]


def cross_entropy_forward(x, targets, weight, ignore_index: int):
    """``(loss, row_weight, logp)`` for 2-D logits ``x``: per-row losses and target weights,
    and the log-probabilities (x's shape). New contiguous arrays of x's dtype."""
    dtype = launch.check_float(x) if weight is None else launch.check_float(x, weight)
    xp = launch.array_module(x)
    rows, classes = (int(n) for n in x.shape)
    x = launch.contiguous(x)
    targets = launch.contiguous(targets.reshape(-1).astype(xp.int64, copy=False))
    loss = xp.empty(rows, dtype=dtype)
    row_weight = xp.empty(rows, dtype=dtype)
    logp = xp.empty((rows, classes), dtype=dtype)
    if rows == 0 or classes == 0:
        return loss, row_weight, logp
    has_weight = weight is not None
    weight = launch.contiguous(weight) if has_weight else xp.empty(1, dtype=dtype)
    kernel = launch.compiled(forward_kernel, FORWARD_SIGNATURES[DTYPES.index(dtype.name)])
    launch.configure(kernel, launch.grid_size(rows, kernel=kernel), launch.BLOCK)(
        launch.inp(x.reshape(-1)), launch.inp(targets), launch.inp(weight), has_weight,
        int(ignore_index), loss, row_weight, logp.reshape(-1), rows, classes, dtype.type(1))
    return loss, row_weight, logp


def cross_entropy_backward(logp, targets, row_weight, coef, ignore_index: int):
    """The gradient of the logits (logp's shape) for per-row factor(s) ``coef`` (1 or rows)."""
    dtype = launch.check_float(logp, row_weight)
    xp = launch.array_module(logp)
    rows, classes = (int(n) for n in logp.shape)
    grad = xp.empty((rows, classes), dtype=dtype)
    if rows == 0 or classes == 0:
        return grad
    targets = launch.contiguous(targets.reshape(-1).astype(xp.int64, copy=False))
    coef = launch.contiguous(coef.reshape(-1).astype(dtype, copy=False))
    kernel = launch.compiled(backward_kernel, BACKWARD_SIGNATURES[DTYPES.index(dtype.name)])
    launch.configure(kernel, launch.grid_size(rows * classes, kernel=kernel), launch.BLOCK)(
        launch.inp(logp.reshape(-1)), launch.inp(targets), launch.inp(row_weight),
        launch.inp(coef), coef.size > 1, int(ignore_index), grad.reshape(-1), rows, classes,
        dtype.type(1))
    return grad
