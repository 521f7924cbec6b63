"""Array-generic helpers the backends share: written against any ``xp`` (NumPy or CuPy)."""

from __future__ import annotations


def sum_to_shape(array, shape):
    """Sum a broadcast gradient back down to ``shape`` (the array itself if it has it)."""
    if array.shape == shape:
        return array
    lead = array.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and array.shape[i + lead] != 1)
    out = array.sum(axis=axes, keepdims=True) if axes else array
    if lead:
        out = out.reshape(shape)
    return out


def activation_formula(xp, kind: str, g, y):
    """The input gradient of activation ``kind`` from its output ``y``, in ``xp`` operations."""
    if kind == "relu":
        # d relu = 1 where y > 0 (and where y is NaN, as torch's threshold_backward)
        return xp.where(y <= 0, 0, g).astype(y.dtype, copy=False)
    if kind == "sigmoid":
        return g * y * (1 - y)  # d sigmoid = y * (1 - y)
    if kind == "tanh":
        return g * (1 - y * y)  # d tanh = 1 - y^2
    raise ValueError(f"unknown activation {kind!r}: expected relu, sigmoid or tanh")


_ACCUMULATE_UFUNCS = {"sum": "add", "prod": "multiply", "amax": "maximum", "amin": "minimum"}


def scatter_accumulate(xp, target, positions, values, how: str) -> None:
    """Combine ``values`` into 1-D ``target`` at ``positions`` in place, repeats included.

    ``how`` is sum, prod, amax or amin. Written with sorting and a segmented scan (no
    ``ufunc.at``), so it runs on any ``xp`` and any dtype.
    """
    if positions.size == 0:
        return
    combine = getattr(xp, _ACCUMULATE_UFUNCS[how])
    order = xp.argsort(positions)
    pos, vals = positions[order], values[order]
    step = 1
    while step < pos.size:  # each value combined with those before it in its run
        same_run = pos[step:] == pos[:-step]
        vals = xp.concatenate([vals[:step], xp.where(
            same_run, combine(vals[step:], vals[:-step]), vals[step:])])
        step *= 2
    last = xp.concatenate([pos[1:] != pos[:-1], xp.ones(1, dtype=bool)])
    ends = pos[last]
    target[ends] = combine(target[ends], vals[last])
