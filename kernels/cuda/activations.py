"""Fused activation backward: the input gradient from the output gradient and the output.

One pass reads ``g`` and ``y`` and writes the gradient (12 bytes per float32 element):

- relu: ``g`` where ``y > 0``, else 0 (torch's threshold_backward: a NaN ``y`` passes ``g``)
- sigmoid: ``g * (1 - y) * y``
- tanh: ``g * (1 - y * y)``

``y`` and ``g`` are contiguous, of one shape and dtype (float32 or float64).
"""

from __future__ import annotations

from numba import cuda

from ..templates import specialize
from . import launch

DTYPES = ("float32", "float64")


@cuda.jit(device=True, inline="always")
def _relu_grad(g, y, one):
    zero = one - one
    # d relu = 1 where y > 0, else 0 (torch's threshold_backward: y <= 0 gives 0)
    return zero if y <= zero else g


@cuda.jit(device=True, inline="always")
def _sigmoid_grad(g, y, one):
    # d sigmoid = y * (1 - y)
    return g * (one - y) * y


@cuda.jit(device=True, inline="always")
def _tanh_grad(g, y, one):
    # d tanh = 1 - y^2
    return g * (one - y * y)


def backward_kernel(out, g, y, n, one):
    """``out[i] = GRAD(g[i], y[i])`` over contiguous 1-D buffers of ``n`` elements."""
    # launch: 1-D grid-stride, one wave; grid launch.grid_size(n, kernel=...), block
    # launch.BLOCK, CuPy's stream. 4 elements per thread per turn, loads first.
    step = cuda.gridsize(1)
    i = cuda.grid(1)
    while i + 3 * step < n:
        g0 = g[i]
        g1 = g[i + step]
        g2 = g[i + 2 * step]
        g3 = g[i + 3 * step]
        y0 = y[i]
        y1 = y[i + step]
        y2 = y[i + 2 * step]
        y3 = y[i + 3 * step]
        out[i] = GRAD(g0, y0, one)  # noqa: F821 (bound per activation)
        out[i + step] = GRAD(g1, y1, one)  # noqa: F821
        out[i + 2 * step] = GRAD(g2, y2, one)  # noqa: F821
        out[i + 3 * step] = GRAD(g3, y3, one)  # noqa: F821
        i += 4 * step
    while i < n:
        out[i] = GRAD(g[i], y[i], one)  # noqa: F821
        i += step


def _bind(kind, grad):
    """A copy of ``backward_kernel`` whose ``GRAD`` is ``grad``, named ``{kind}_backward``."""
    return specialize(backward_kernel, {"GRAD": grad}, f"{kind}_backward")


BACKWARD = {kind: _bind(kind, grad) for kind, grad in
            [("relu", _relu_grad), ("sigmoid", _sigmoid_grad), ("tanh", _tanh_grad)]}
SIGNATURES = [f"void({t}[::1], {t}[::1], {t}[::1], int64, {t})" for t in DTYPES]
KERNELS = [(f"activations.{kind}_backward", fn, SIGNATURES) for kind, fn in BACKWARD.items()]


def activation_backward(kind: str, g, y):
    """Gradient of activation ``kind`` (relu, sigmoid, tanh) at output ``y`` for gradient ``g``.

    Returns a new contiguous array of ``y``'s shape. NumPy arrays under the simulator,
    CuPy arrays on a GPU.
    """
    pyfunc = BACKWARD.get(kind)
    if pyfunc is None:
        raise ValueError(f"unknown activation {kind!r}; expected one of {sorted(BACKWARD)}")
    dtype = launch.check_float(g, y)
    if tuple(g.shape) != tuple(y.shape):
        raise ValueError(f"activation_backward: g has shape {tuple(g.shape)}, "
                         f"y has {tuple(y.shape)}")
    xp = launch.array_module(y)
    g = launch.contiguous(g)
    y = launch.contiguous(y)
    out = xp.empty(y.shape, dtype=dtype)
    n = int(y.size)
    if n == 0:
        return out
    kernel = launch.compiled(pyfunc, SIGNATURES[DTYPES.index(dtype.name)])
    launch.configure(kernel, launch.grid_size(n, kernel=kernel), launch.BLOCK)(
        out.reshape(-1), launch.inp(g.reshape(-1)), launch.inp(y.reshape(-1)), n,
        dtype.type(1))
    return out
