"""GELU forward and backward per element, each written once: the source of the fused kernels.

Plain scalar Python with torch's formulas (``GeluKernel.cpp``), in the element's dtype; the
names ``EXP``, ``ERF``, ``TANH`` and ``ERF_GIVEN_GAUSS`` are bound per target
(``kernels/cpu/activations.py``: vectorisable float32 forms; ``kernels/cuda/gelu.py``: the
device's math functions). ``ERF_GIVEN_GAUSS(z, gauss)`` is erf(z) where ``gauss`` =
e^(-z^2) is at hand (the backward has it for the pdf): a form of erf built on e^(-z^2) (the
CPU's float32 one) takes it instead of computing a second exponential; others ignore it.
Constants arrive as arguments of the element's dtype so one compiled signature per dtype
stays in that dtype.
"""

from __future__ import annotations

import math

SQRT1_2 = 1 / math.sqrt(2)  # erf form: Phi(x) = 0.5 (1 + erf(x / sqrt 2))
INV_SQRT_2PI = 2 / math.sqrt(math.pi) * SQRT1_2 * 0.5  # phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
TANH_BETA = math.sqrt(2) * 2 / math.sqrt(math.pi) * 0.5  # sqrt(2 / pi)
TANH_KAPPA = 0.044715


def gelu_forward_value(x, use_tanh, half, one, alpha, beta, kappa):
    """gelu(x): ``x Phi(x)``, or torch's tanh form when ``use_tanh``."""
    if use_tanh:
        inner = beta * (x + kappa * (x * x * x))
        return half * x * (one + TANH(inner))  # noqa: F821 (bound per target)
    return x * half * (one + ERF(x * alpha))  # noqa: F821


def gelu_backward_value(g, x, use_tanh, half, one, alpha, beta, kappa):
    """The input gradient of gelu at ``x`` for output gradient ``g``."""
    if use_tanh:
        # d = 0.5 (1 + t) + 0.5 x (1 - t^2) beta (1 + 3 kappa x^2), t = tanh(inner)
        x_sq = x * x
        inner = beta * (x + kappa * x_sq * x)
        t = TANH(inner)  # noqa: F821
        inner_slope = beta * (one + (kappa + kappa + kappa) * x_sq)
        return g * (half * (one + t) + half * x * (one - t * t) * inner_slope)
    # d gelu = Phi(x) + x phi(x)
    gauss = EXP(x * x * -half)  # noqa: F821 (e^(-x^2 / 2) = e^(-z^2), z = x / sqrt 2)
    cdf = half * (one + ERF_GIVEN_GAUSS(x * alpha, gauss))  # noqa: F821
    pdf = beta * gauss  # (beta carries 1 / sqrt(2 pi) here)
    return g * (cdf + x * pdf)
