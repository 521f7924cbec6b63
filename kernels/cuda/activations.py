"""Fused activation backward: the input gradient from the output gradient and the output.

One pass reads ``g`` and ``y`` and writes the gradient (12 bytes per float32 element):

- relu: ``g`` where ``y > 0``, else 0 (torch's threshold_backward: a NaN ``y`` passes ``g``)
- sigmoid: ``g * (1 - y) * y``
- tanh: ``g * (1 - y * y)``

``y`` and ``g`` are contiguous, of one shape and dtype (float32 or float64).
"""

from __future__ import annotations

from numba import cuda

from . import launch

DTYPES = ("float32", "float64")


def relu_backward(out, g, y, n, one):
    """``out[i] = 0 if y[i] <= 0 else g[i]``."""
    # launch: 1-D grid-stride; grid launch.grid_size(n), block launch.BLOCK, CuPy's stream
    zero = one - one
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        # d relu = 1 where y > 0, else 0
        out[i] = zero if y[i] <= zero else g[i]


def sigmoid_backward(out, g, y, n, one):
    """``out[i] = g[i] * (1 - y[i]) * y[i]``."""
    # launch: 1-D grid-stride; grid launch.grid_size(n), block launch.BLOCK, CuPy's stream
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        yi = y[i]
        # d sigmoid = y * (1 - y)
        out[i] = g[i] * (one - yi) * yi


def tanh_backward(out, g, y, n, one):
    """``out[i] = g[i] * (1 - y[i]**2)``."""
    # launch: 1-D grid-stride; grid launch.grid_size(n), block launch.BLOCK, CuPy's stream
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        yi = y[i]
        # d tanh = 1 - y^2
        out[i] = g[i] * (one - yi * yi)


BACKWARD = {"relu": relu_backward, "sigmoid": sigmoid_backward, "tanh": tanh_backward}
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
    kernel[launch.grid_size(n), launch.BLOCK, launch.stream()](
        out.reshape(-1), launch.inp(g.reshape(-1)), launch.inp(y.reshape(-1)), n,
        dtype.type(1))
    return out
