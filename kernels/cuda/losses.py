"""Cross entropy over rows of logits: one launch forward, one launch backward.

Forward, a team of threads per row (a whole block when the row is long, a warp's worth of
lanes when it is short: ``threads_for``): the team strides over the row's classes
(consecutive threads read consecutive logits) keeping an online softmax state, the running
max ``m`` and the sum ``s`` of ``exp(x - m)`` (``m' = max(m, x)``, ``s' = s * exp(m - m') +
exp(x - m')``); the team's states merge in shared memory, and a second coalesced pass
writes the log-probabilities ``logp = (x - m) - log(s)`` (torch's log_softmax output, kept
for backward). Lane 0 then writes the row's loss ``-(w[t] * logp[t])`` and target weight
``w[t]`` (1 without class weights); a row whose target is ``ignore_index`` gets 0 for both.
A NaN logit makes its row's loss NaN, as in torch (a NaN wins every max), and so does an
infinite max (``x - max`` is NaN there). Sums are in another order than the array
formula's, so results agree with it to rounding, not bit for bit.

Targets out of range are checked on the device: the kernel sets ``bad[0] = 1`` and
``bad[1]`` to an offending target (the row's loss is NaN, its weight 0; nothing is read
out of bounds). The host decides when to look (gputensor/backends/cuda_backend.py): at
once when simulated (the error is raised by the call, as on the CPU), and on a GPU only at
the next point where the host waits for the device anyway (a value read back, an explicit
synchronize), as torch's device-side assert surfaces asynchronously; so a training step
makes the host wait for nothing.

Backward, one thread per element (coalesced: consecutive threads, consecutive elements;
the per-row values are read by whole runs of threads at once): ``grad = k * w[t] *
(exp(logp) - (c == t))``, ``k`` the incoming gradient's factor (one for every row, or one
per row for reduction='none'); ignored rows get 0.

Logits are C-contiguous (rows, classes) float32 or float64; targets int64; weights, when
given, one per class in the logits' dtype.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import cuda

from ..templates import specialize
from . import launch

DTYPES = ("float32", "float64")
TEAM_THREADS = launch.BLOCK  # threads of a block: one row's team, or several rows' teams
WARP_LANES = 32 if launch.REAL_SIZES else 8  # the short rows' team (a warp on a GPU)
# rows up to this many classes take WARP_LANES threads each; longer rows a whole block
WARP_MAX_CLASSES = WARP_LANES * 32
if launch.SIMULATED:
    math = launch.SimMath()  # noqa: F811 (NaN and inf where Python's math would raise)


@cuda.jit(device=True, inline="always")
def merge_states(m, s, m2, s2, minus_inf):
    """Online softmax states ``(max, sum of exp(x - max))`` merged: ``(m, s)`` and ``(m2, s2)``."""
    if m2 > m or m2 != m2:  # the larger max first; a NaN wins
        m, s, m2, s2 = m2, s2, m, s
    if m2 == m and m == minus_inf:  # both empty so far (or -inf only): nothing to rescale
        return m, s + s2
    # exp(m2 - m) is 0 below a finite max, NaN for two infinite maxima (as torch's NaN)
    return m, s + s2 * math.exp(m2 - m)


def forward_kernel(x, targets, weight, has_weight, ignore_index, loss, row_weight, logp, bad,
                   rows, classes, one, minus_inf):
    """Per row: log-probabilities into ``logp``, the loss and the target's weight; ``bad``
    flags a target out of range."""
    # launch: block (LANES, TEAM_THREADS // LANES), a team of LANES threads per row; grid
    # min(row groups, launch.max_blocks(kernel, TEAM_THREADS)) striding over groups of
    # TEAM_THREADS // LANES rows; CuPy's stream
    top = cuda.shared.array(TEAM_THREADS, ACC)  # noqa: F821 (bound per dtype)
    total = cuda.shared.array(TEAM_THREADS, ACC)  # noqa: F821
    lane = cuda.threadIdx.x
    team = cuda.threadIdx.y
    first = team * LANES  # noqa: F821 (bound per variant): the team's scratch slots
    teams = TEAM_THREADS // LANES  # noqa: F821
    zero = one - one
    for group in range(cuda.blockIdx.x, (rows + teams - 1) // teams, cuda.gridDim.x):
        r = group * teams + team
        live = r < rows
        base = r * classes
        m = minus_inf
        s = zero
        if live:
            for c in range(lane, classes, LANES):  # noqa: F821
                m, s = merge_states(m, s, x[base + c], one, minus_inf)
        top[first + lane] = m
        total[first + lane] = s
        cuda.syncthreads()
        step = LANES // 2  # noqa: F821
        while step > 0:
            if lane < step:
                m, s = merge_states(top[first + lane], total[first + lane],
                                    top[first + lane + step], total[first + lane + step],
                                    minus_inf)
                top[first + lane] = m
                total[first + lane] = s
            cuda.syncthreads()
            step //= 2
        m = top[first]
        s = total[first]
        cuda.syncthreads()  # the scratch is reused by the next group
        if live:
            # + (m - m): NaN for an infinite max, as torch's sum of exp(x - max) is then NaN
            log_total = math.log(s) + (m - m)
            for c in range(lane, classes, LANES):  # noqa: F821
                logp[base + c] = (x[base + c] - m) - log_total
            if lane == 0:
                t = targets[r]
                if t == ignore_index:
                    loss[r] = zero
                    row_weight[r] = zero
                elif t < 0 or t >= classes:
                    bad[1] = t
                    bad[0] = 1
                    loss[r] = math.sqrt(-one)  # NaN
                    row_weight[r] = zero
                else:
                    w = weight[t] if has_weight else one
                    loss[r] = -(w * ((x[base + t] - m) - log_total))
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


def _variant(lanes: int, dtype: str):
    """The forward kernel with a team of ``lanes`` threads per row, for ``dtype``."""
    return specialize(forward_kernel, {"LANES": lanes, "ACC": getattr(numba, dtype)},
                      f"forward_kernel_{lanes}_{dtype}")


FORWARD_SIGNATURES = {t: f"void({t}[::1], int64[::1], {t}[::1], boolean, int64, {t}[::1], "
                         f"{t}[::1], {t}[::1], int64[::1], int64, int64, {t}, {t})"
                      for t in DTYPES}
BACKWARD_SIGNATURES = [f"void({t}[::1], int64[::1], {t}[::1], {t}[::1], boolean, int64, "
                       f"{t}[::1], int64, int64, {t})" for t in DTYPES]
FORWARD = {(lanes, t): _variant(lanes, t) for lanes in (TEAM_THREADS, WARP_LANES)
           for t in DTYPES}
_VARIANT_NAMES = {TEAM_THREADS: "block", WARP_LANES: "warp"}
KERNELS = ([(f"losses.cross_entropy_forward_{_VARIANT_NAMES[lanes]}_{t}", fn,
             [FORWARD_SIGNATURES[t]]) for (lanes, t), fn in FORWARD.items()]
           + [("losses.cross_entropy_backward", backward_kernel, BACKWARD_SIGNATURES)])


def threads_for(classes: int) -> int:
    """Threads per row of the forward kernel: a warp's worth for short rows, else a block."""
    return WARP_LANES if classes <= WARP_MAX_CLASSES else TEAM_THREADS


def cross_entropy_forward(x, targets, weight, ignore_index: int, bad=None,
                          threads_per_row=None):
    """``(loss, row_weight, logp)`` for 2-D logits ``x``: per-row losses and target weights,
    and the log-probabilities (x's shape). New contiguous arrays of x's dtype.

    ``bad``: a 2-element int64 device array the kernel flags an out-of-range target in
    (``bad[0] = 1``, ``bad[1]`` the target); None checks the targets here, raising
    IndexError (a host read). ``threads_per_row``: WARP_LANES or TEAM_THREADS (default:
    ``threads_for(classes)``).
    """
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
    check_here = bad is None
    if check_here:
        bad = xp.zeros(2, dtype=np.int64)
    has_weight = weight is not None
    weight = launch.contiguous(weight) if has_weight else xp.empty(1, dtype=dtype)
    lanes = threads_for(classes) if threads_per_row is None else threads_per_row
    kernel = launch.compiled(FORWARD[(lanes, dtype.name)], FORWARD_SIGNATURES[dtype.name])
    teams = TEAM_THREADS // lanes
    grid = min(launch.ceil_div(rows, teams), launch.max_blocks(kernel, TEAM_THREADS))
    launch.configure(kernel, grid, (lanes, teams))(
        launch.inp(x.reshape(-1)), launch.inp(targets), launch.inp(weight), has_weight,
        int(ignore_index), loss, row_weight, logp.reshape(-1), bad, rows, classes,
        dtype.type(1), dtype.type(-np.inf))
    if check_here:
        raise_bad_target(bad)
    return loss, row_weight, logp


def raise_bad_target(bad) -> None:
    """Raise torch's IndexError if ``bad`` (see ``cross_entropy_forward``) flags a target;
    one read of the device (two when it does)."""
    if int(bad[0]):
        raise IndexError(f"Target {int(bad[1])} is out of bounds.")


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
