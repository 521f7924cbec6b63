"""Gamma and Dirichlet draws with their reparameterised gradients: _standard_gamma,
_standard_gamma_grad, _sample_dirichlet.

The draws are torch's: ATen's CPU Marsaglia-Tsang sampler on the generator's mt19937 stream
(kernels/cpu/gamma.py), element by element in C order, made on the host for every device.
The gradient of a draw with respect to its concentration is torch's implicit
reparameterisation formula (-(d cdf / d alpha) / pdf), with the same approximations.
"""

from __future__ import annotations

import importlib

import numpy as np

from ..autograd.function import Op
from ..random import as_generator
from .common import not_implemented
from .gamma_functions import _digamma64

__all__: list = []

_RATIONAL = ((0.16009398, -0.094634809, 0.025146376, -0.0030648343,
              1, 0.32668115, 0.10406089, 0.0014179084),
             (0.53487893, 0.1298071, 0.065735949, -0.0015649758,
              0.16639465, 0.020070113, -0.0035938915, -0.00058392623),
             (0.040121004, -0.0065914022, -0.0026286047, -0.0013441777,
              0.017050642, -0.0021309326, 0.00085092367, -1.5247877e-07))


def _small_x(xp, alpha, x):
    """The gradient by a Taylor series of the cdf (for x < 0.8)."""
    numer, denom = xp.ones_like(x), alpha
    series1, series2 = numer / denom, numer / (denom * denom)
    for i in range(1, 6):
        numer = numer * (-x / i)
        denom = denom + 1
        series1 = series1 + numer / denom
        series2 = series2 + numer / (denom * denom)
    pow_x_alpha = x ** alpha
    pdf = x ** (alpha - 1) * xp.exp(-x)
    cdf_alpha = (xp.log(x) - _digamma64(xp, alpha)) * pow_x_alpha * series1 - pow_x_alpha * series2
    result = -cdf_alpha / pdf
    return xp.where(xp.isnan(result), 0.0, result)


def _large_alpha(xp, alpha, x):
    """The gradient by a Rice saddle-point expansion (for alpha > 8)."""
    numer_1 = 1 + 24 * alpha * (1 + 12 * alpha)
    numer_2 = (1440 * alpha * alpha + 6 * x * (53 - 120 * x) - 65 * x * x / alpha
               + alpha * (107 + 3600 * x))
    near = numer_1 * numer_2 / (1244160 * alpha * alpha * alpha * alpha)
    denom = xp.sqrt(8 * alpha)
    term2 = denom / (alpha - x)
    term3 = (x - alpha - alpha * xp.log(x / alpha)) ** -1.5
    term23 = xp.where(x < alpha, term2 - term3, term2 + term3)
    term1 = xp.log(x / alpha) * term23 - xp.sqrt(2 / alpha) * (alpha + x) / ((alpha - x) ** 2)
    stirling = 1 + 1 / (12 * alpha) * (1 + 1 / (24 * alpha))
    far = -stirling * x * term1 / denom
    return xp.where((0.9 * alpha <= x) & (x <= 1.1 * alpha), near, far)


def _rational(xp, alpha, x):
    """The gradient by a bivariate rational approximation (otherwise)."""
    u, v = xp.log(x / alpha), xp.log(alpha)
    coef = [c0 + u * (c1 + u * c2) for c0, c1, c2 in zip(*_RATIONAL)]
    p = coef[0] + v * (coef[1] + v * (coef[2] + v * coef[3]))
    q = coef[4] + v * (coef[5] + v * (coef[6] + v * coef[7]))
    return xp.exp(p / q)


def standard_gamma_grad(xp, alpha, x):
    """d x / d alpha for a Gamma(alpha, 1) draw x: -(d cdf / d alpha) / pdf, as torch."""
    alpha64, x64 = alpha.astype(np.float64), x.astype(np.float64)
    with np.errstate(all="ignore"):
        result = xp.where(x64 < 0.8, _small_x(xp, alpha64, x64),
                          xp.where(alpha64 > 8.0, _large_alpha(xp, alpha64, x64),
                                   _rational(xp, alpha64, x64)))
    return result.astype(x.dtype)


class StandardGamma(Op):
    """Draws of Gamma(alpha, 1) (given, made on the host); the implicit gradient."""

    @staticmethod
    def forward(ctx, alpha, draws):
        """The output from the inputs."""
        ctx.save_for_backward(alpha, draws)
        return draws

    @staticmethod
    def backward(ctx, g):
        """The gradient of the inputs from the output's gradient."""
        alpha, draws = ctx.saved_tensors
        return g * standard_gamma_grad(ctx.xp, alpha, draws), None  # d x/d alpha, implicit


_kernels = None


def _gamma_kernels():
    """kernels/cpu/gamma.py, loaded on first use (it imports numba)."""
    global _kernels
    if _kernels is None:
        _kernels = importlib.import_module("gputensor.kernels.cpu.gamma")
    return _kernels


def _host_gamma(alpha, generator, single):
    """float64 Gamma(alpha, 1) draws of ``alpha``'s elements (C order) from torch's stream."""
    if not alpha.dtype.is_floating_point or alpha.dtype.numpy.itemsize < 4:
        raise not_implemented("gamma", alpha.dtype, "cpu")
    host = np.ascontiguousarray(alpha._backend.to_numpy(alpha._data), dtype=np.float64)
    gen = as_generator(generator)
    kept = np.array([gen.next_double_normal])
    out = np.empty(host.size, dtype=np.float64)
    with np.errstate(all="ignore"):
        _gamma_kernels().fill_gamma(gen.mt, gen.meta, kept, host.ravel(), out, single)
    gen.next_double_normal = float(kept[0])
    return out.reshape(host.shape)


def _gamma_draws(alpha, generator):
    """Gamma(alpha, 1) draws for each element of ``alpha``, at least the dtype's tiny."""
    draws = _host_gamma(alpha, generator, alpha.dtype.numpy == np.float32)
    draws = draws.astype(alpha.dtype.numpy)
    return np.maximum(draws, np.finfo(draws.dtype).tiny)


def _standard_gamma(input, generator=None):
    """Draws from Gamma(input, 1), one per element, differentiable in ``input``."""
    draws = _gamma_draws(input, generator)
    with input._on_device():
        device_draws = input._backend.asarray(draws, index=input._device.index)
        return StandardGamma.apply(input, device_draws)


def _standard_gamma_grad(input, output):
    """d output / d input for Gamma(input, 1) draws ``output`` (torch's approximation)."""
    return input._wrap(standard_gamma_grad(input._backend.xp, input._data, output._data))


def _sample_dirichlet(input, generator=None):
    """Draws from Dirichlet(input) along the last dim (float64 gamma draws, normalised, kept
    inside (0, 1) in the input's dtype, as torch); no gradient."""
    draws = np.maximum(_host_gamma(input, generator, False), np.finfo(np.float64).tiny)
    total = draws.sum(axis=-1, keepdims=True)
    dtype = input.dtype.numpy
    with np.errstate(all="ignore"):
        samples = (draws / total).astype(dtype)
    below_one = np.nextafter(dtype.type(1), dtype.type(0))
    samples = np.minimum(below_one, np.maximum(np.finfo(dtype).tiny, samples))
    with input._on_device():
        return input._wrap(input._backend.asarray(samples, index=input._device.index))


# ---- the Dirichlet draw's gradient (torch's dirichlet_grad_one, on arrays) -----------------
_DIRICHLET_RATIONAL = np.array([
    [[[1.003668233, -0.01061107488, -0.0657888334, 0.01201642863],
      [0.6336835991, -0.3557432599, 0.05486251648, -0.001465281033],
      [-0.03276231906, 0.004474107445, 0.002429354597, -0.0001557569013]],
     [[0.221950385, -0.3187676331, 0.01799915743, 0.01074823814],
      [-0.2951249643, 0.06219954479, 0.01535556598, 0.001550077057],
      [0.02155310298, 0.004170831599, 0.001292462449, 6.976601077e-05]],
     [[-0.05980841433, 0.008441916499, 0.01085618172, 0.002319392565],
      [0.02911413504, 0.01400243777, -0.002721828457, 0.000751041181],
      [0.005900514878, -0.001936558688, -9.495446725e-06, 5.385558597e-05]]],
    [[[1, -0.02924021934, -0.04438342661, 0.007285809825],
      [0.6357567472, -0.3473456711, 0.05454656494, -0.002407477521],
      [-0.03301322327, 0.004845219414, 0.00231480583, -0.0002307248149]],
     [[0.5925320577, -0.1757678135, 0.01505928619, 0.000564515273],
      [0.1014815858, -0.06589186703, 0.01272886114, -0.0007316646956],
      [-0.007258481865, 0.001096195486, 0.0003934994223, -4.12701925e-05]],
     [[0.06469649321, -0.0236701437, 0.002902096474, -5.896963079e-05],
      [0.001925008108, -0.002869809258, 0.0008000589141, -6.063713228e-05],
      [-0.0003477407336, 6.959756487e-05, 1.097287507e-05, -1.650964693e-06]]]]).tolist()


def _beta_grad_alpha_small(xp, x, alpha, beta):
    """d x / d alpha for a Beta(alpha, beta) draw x near 0 (a Taylor series)."""
    factor = _digamma64(xp, alpha) - _digamma64(xp, alpha + beta) - xp.log(x)
    numer = xp.ones_like(x)
    series = numer / alpha * (factor + 1 / alpha)
    for i in range(1, 11):
        numer = numer * ((i - beta) * x / i)
        denom = alpha + i
        series = series + numer / denom * (factor + 1 / denom)
    result = x * (1 - x) ** -beta * series
    return xp.where(xp.isnan(result), 0.0, result)


def _beta_grad_beta_small(xp, x, alpha, beta):
    """d x / d beta for a Beta(alpha, beta) draw x near 0 (a Taylor series)."""
    factor = _digamma64(xp, alpha + beta) - _digamma64(xp, beta)
    numer, betas, dbetas = xp.ones_like(x), xp.ones_like(x), xp.zeros_like(x)
    series = factor / alpha
    for i in range(1, 9):
        numer = numer * (-x / i)
        dbetas = dbetas * (beta - i) + betas
        betas = betas * (beta - i)
        series = series + numer / (alpha + i) * (dbetas + factor * betas)
    result = -(1 - x) ** (1 - beta) * series
    return xp.where(xp.isnan(result), 0.0, result)


def _beta_grad_alpha_mid(xp, x, alpha, beta):
    """d x / d alpha for a Beta draw with large alpha and beta (a Rice saddle-point series)."""
    total = alpha + beta
    mean = alpha / total
    std = xp.sqrt(alpha * beta / (total + 1)) / total
    b2 = beta * beta
    poly = 47 * x * b2 * b2 + alpha * (
        (43 + 20 * (16 + 27 * beta) * x) * b2 * beta + alpha * (
            3 * (59 + 180 * beta - 90 * x) * b2 + alpha * (
                (453 + 1620 * beta * (1 - x) - 455 * x) * beta + alpha * (
                    8 * (1 - x) * (135 * beta - 11)))))
    prefactor_num = (1 + 12 * alpha) * (1 + 12 * beta) / (total * total)
    prefactor_den = 12960 * alpha * alpha * alpha * b2 * (1 + 12 * total)
    near = prefactor_num / (1 - x) * poly / prefactor_den
    prefactor = -x / xp.sqrt(2 * alpha * beta / total)
    stirling = ((1 + 1 / (12 * alpha) + 1 / (288 * alpha * alpha))
                * (1 + 1 / (12 * beta) + 1 / (288 * b2))
                / (1 + 1 / (12 * total) + 1 / (288 * total * total)))
    term1_num = 2 * alpha * alpha * (x - 1) + alpha * beta * (x - 1) - x * b2
    axbx = alpha * (x - 1) + beta * x
    term1 = term1_num / (xp.sqrt(2 * alpha / beta) * total ** 1.5 * axbx * axbx)
    term2 = 0.5 * xp.log(alpha / (total * x))
    term3 = xp.sqrt(8 * alpha * beta / total) / (beta * x + alpha * (x - 1))
    term4 = (beta * xp.log(beta / (total * (1 - x)))
             + alpha * xp.log(alpha / (total * x))) ** -1.5
    far = stirling * prefactor * (term1 + term2 * (term3 + xp.where(x < mean, term4, -term4)))
    return xp.where((mean - 0.1 * std <= x) & (x <= mean + 0.1 * std), near, far)


def _dirichlet_rational(xp, x, alpha, total):
    """d x / d alpha by a rational correction to an analytic approximation."""
    beta = total - alpha
    u = xp.log(x)
    a = xp.log(alpha) - u
    b = xp.log(total) - a
    pow_u, pow_a = (1.0, u, u * u), (1.0, a, a * a)
    p = q = 0.0
    for i in range(3):
        for j in range(3):
            ua = pow_u[i] * pow_a[j]
            cp, cq = _DIRICHLET_RATIONAL[0][i][j], _DIRICHLET_RATIONAL[1][i][j]
            p = p + ua * (cp[0] + b * (cp[1] + b * (cp[2] + b * cp[3])))
            q = q + ua * (cq[0] + b * (cq[1] + b * (cq[2] + b * cq[3])))
    approx = x * (_digamma64(xp, total) - _digamma64(xp, alpha)) / beta
    return p / q * approx


def dirichlet_grad(xp, x, alpha, total):
    """torch's scaled reparameterised gradient of a Beta(alpha, total - alpha) draw x."""
    x64, alpha64, total64 = (a.astype(np.float64) for a in (x, alpha, total))
    beta64 = total64 - alpha64
    boundary = total64 * x64 * (1 - x64)
    with np.errstate(all="ignore"):
        result = xp.where(
            (x64 <= 0.5) & (boundary < 2.5), _beta_grad_alpha_small(xp, x64, alpha64, beta64),
            xp.where((x64 >= 0.5) & (boundary < 0.75),
                     -_beta_grad_beta_small(xp, 1 - x64, beta64, alpha64),
                     xp.where((alpha64 > 6) & (beta64 > 6),
                              _beta_grad_alpha_mid(xp, x64, alpha64, beta64),
                              _dirichlet_rational(xp, x64, alpha64, total64))))
    return result.astype(x.dtype)


def _dirichlet_grad(x, alpha, total):
    """torch._dirichlet_grad: the gradient factor of Dirichlet draws ``x``."""
    with x._on_device():
        return x._wrap(dirichlet_grad(x._backend.xp, x._data, alpha._data, total._data))
