"""GELU forward and backward on CUDA: one grid-stride launch each, from ``kernels/gelu.py``.

The element functions of ``kernels/gelu.py`` (torch's formulas, written once) bound to the
device's ``math.exp``/``math.erf``/``math.tanh``; the form (erf or tanh) is a kernel of its
own. Inputs are contiguous float32/float64 arrays of one shape; results are new arrays.
"""

from __future__ import annotations

import math

from numba import cuda

from .. import gelu as gelu_functions
from ..templates import specialize
from . import launch

DTYPES = ("float32", "float64")


@cuda.jit(device=True, inline="always")
def erf_ignoring_gauss(z, gauss):
    """erf(z) by the device's ``math.erf`` (``gauss``, e^(-z^2), not needed)."""
    return math.erf(z)


_DEVICE_MATH = {"EXP": math.exp, "ERF": math.erf, "TANH": math.tanh,
                "ERF_GIVEN_GAUSS": erf_ignoring_gauss}
_FORWARD = cuda.jit(device=True, inline="always")(
    specialize(gelu_functions.gelu_forward_value, _DEVICE_MATH))
_BACKWARD = cuda.jit(device=True, inline="always")(
    specialize(gelu_functions.gelu_backward_value, _DEVICE_MATH))


def forward_kernel(y, x, n, half, one, alpha, beta, kappa):
    """``y[i] = gelu(x[i])`` over contiguous 1-D buffers of ``n`` elements."""
    # launch: 1-D grid-stride, one wave; grid launch.grid_size(n, kernel=...), block
    # launch.BLOCK, CuPy's stream
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        y[i] = FORWARD(x[i], USE_TANH, half, one, alpha, beta, kappa)  # noqa: F821


def backward_kernel(dx, g, x, n, half, one, alpha, beta, kappa):
    """``dx[i] = g[i] * gelu'(x[i])`` over contiguous 1-D buffers of ``n`` elements."""
    # launch: as forward_kernel
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        dx[i] = BACKWARD(g[i], x[i], USE_TANH, half, one, alpha, beta, kappa)  # noqa: F821


def _bind(kernel, use_tanh: bool):
    """A copy of ``kernel`` for one form, named after it."""
    form = "tanh" if use_tanh else "erf"
    return specialize(kernel, {"USE_TANH": use_tanh, "FORWARD": _FORWARD,
                               "BACKWARD": _BACKWARD}, f"gelu_{kernel.__name__}_{form}")


FORWARD_KERNELS = {use_tanh: _bind(forward_kernel, use_tanh) for use_tanh in (False, True)}
BACKWARD_KERNELS = {use_tanh: _bind(backward_kernel, use_tanh) for use_tanh in (False, True)}
FORWARD_SIGNATURES = [f"void({t}[::1], {t}[::1], int64, {t}, {t}, {t}, {t}, {t})"
                      for t in DTYPES]
BACKWARD_SIGNATURES = [f"void({t}[::1], {t}[::1], {t}[::1], int64, {t}, {t}, {t}, {t}, {t})"
                       for t in DTYPES]
KERNELS = ([(f"gelu.forward_{'tanh' if k else 'erf'}", fn, FORWARD_SIGNATURES)
            for k, fn in FORWARD_KERNELS.items()]
           + [(f"gelu.backward_{'tanh' if k else 'erf'}", fn, BACKWARD_SIGNATURES)
              for k, fn in BACKWARD_KERNELS.items()])


def _constants(dtype, use_tanh: bool):
    """``(half, one, alpha, beta, kappa)`` in ``dtype`` (see kernels/cpu/activations.py)."""
    kind = dtype.type
    beta = gelu_functions.TANH_BETA if use_tanh else gelu_functions.INV_SQRT_2PI
    return (kind(0.5), kind(1), kind(gelu_functions.SQRT1_2), kind(beta),
            kind(gelu_functions.TANH_KAPPA))


def gelu_forward(x, use_tanh: bool):
    """gelu of a float32/float64 device array; a new contiguous array of its shape."""
    dtype = launch.check_float(x)
    xp = launch.array_module(x)
    x = launch.contiguous(x)
    y = xp.empty(x.shape, dtype=dtype)
    n = int(x.size)
    if n:
        kernel = launch.compiled(FORWARD_KERNELS[use_tanh],
                                 FORWARD_SIGNATURES[DTYPES.index(dtype.name)])
        launch.configure(kernel, launch.grid_size(n, kernel=kernel), launch.BLOCK)(
            y.reshape(-1), launch.inp(x.reshape(-1)), n, *_constants(dtype, use_tanh))
    return y


def gelu_backward(g, x, use_tanh: bool):
    """The input gradient of gelu at ``x`` for ``g`` (device arrays of one shape)."""
    dtype = launch.check_float(g, x)
    if tuple(g.shape) != tuple(x.shape):
        raise ValueError(f"gelu_backward: g has shape {tuple(g.shape)}, x has {tuple(x.shape)}")
    xp = launch.array_module(x)
    g, x = launch.contiguous(g), launch.contiguous(x)
    dx = xp.empty(x.shape, dtype=dtype)
    n = int(x.size)
    if n:
        kernel = launch.compiled(BACKWARD_KERNELS[use_tanh],
                                 BACKWARD_SIGNATURES[DTYPES.index(dtype.name)])
        launch.configure(kernel, launch.grid_size(n, kernel=kernel), launch.BLOCK)(
            dx.reshape(-1), launch.inp(g.reshape(-1)), launch.inp(x.reshape(-1)), n,
            *_constants(dtype, use_tanh))
    return dx


__all__ = ["gelu_forward", "gelu_backward", "KERNELS"]
