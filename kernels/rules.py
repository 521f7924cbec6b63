"""Optimizer update rules as plain scalar Python: the one source the fused kernels are built from.

Each rule maps one element's values (parameter, gradient, state) and the step's scalars to
the new values, returned as a tuple. ``kernels/cpu`` wraps each rule with
``numba.njit(inline="always")`` inside a ``prange`` loop over flat buffers; ``kernels/cuda``
will wrap the same functions as device functions. So that one compiled signature per dtype
stays in that dtype, the rules use no numeric literals in arithmetic: every constant
(``1 - beta`` and the like) arrives precomputed as an argument. Helpers that rules call are
listed in ``HELPERS`` so a compiler can swap in its compiled versions.

The formulas follow torch 2.13's single-tensor (``foreach=False``) implementations.
"""

import math


def lerp(start, end, weight, weight_c):
    """``start + weight * (end - start)`` computed from the nearer end, as torch.lerp does.

    ``weight_c`` is ``1 - weight``.
    """
    if weight < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * weight_c


def sgd(p, g, buf, lr, momentum, dampening_c, weight_decay, nesterov, maximize, first):
    """SGD with momentum; ``dampening_c = 1 - dampening``; ``first``: the buffer is new.

    Returns the new (p, buf); buf is meaningful only when momentum != 0.
    """
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + weight_decay * p
    if momentum != 0:
        if first:
            buf = g
        else:
            buf = buf * momentum + dampening_c * g
        if nesterov:
            g = g + momentum * buf
        else:
            g = buf
    return p - lr * g, buf


def adam(p, g, m, v, vmax, beta1_c, beta1, beta2, beta2_c, eps, weight_decay, decay,
         step_size, bias_correction2_sqrt, amsgrad, maximize, decoupled):
    """Adam / AdamW. ``beta1_c = 1 - beta1``, ``beta2_c = 1 - beta2``, ``decay = 1 - lr*wd``,
    ``step_size = lr / (1 - beta1**t)``, ``bias_correction2_sqrt = sqrt(1 - beta2**t)``.

    Returns the new (p, m, v, vmax); vmax is meaningful only with amsgrad.
    """
    if maximize:
        g = -g
    if weight_decay != 0:
        if decoupled:
            p = p * decay
        else:
            g = g + weight_decay * p
    m = lerp(m, g, beta1_c, beta1)
    v = v * beta2 + beta2_c * g * g
    if amsgrad:
        if v > vmax or v != v:  # torch.maximum: a NaN wins
            vmax = v
        denom = math.sqrt(vmax) / bias_correction2_sqrt + eps
    else:
        denom = math.sqrt(v) / bias_correction2_sqrt + eps
    return p - step_size * (m / denom), m, v, vmax


def rmsprop(p, g, square_avg, buf, grad_avg, lr, alpha, alpha_c, eps, weight_decay, momentum,
            centered, maximize):
    """RMSprop; ``alpha_c = 1 - alpha``.

    Returns the new (p, square_avg, buf, grad_avg); buf is meaningful only with momentum > 0,
    grad_avg only when centered.
    """
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + weight_decay * p
    square_avg = square_avg * alpha + alpha_c * g * g
    if centered:
        grad_avg = lerp(grad_avg, g, alpha_c, alpha)
        avg = math.sqrt(square_avg - grad_avg * grad_avg) + eps
    else:
        avg = math.sqrt(square_avg) + eps
    if momentum > 0:
        buf = buf * momentum + g / avg
        p = p - lr * buf
    else:
        p = p - lr * (g / avg)
    return p, square_avg, buf, grad_avg


def adagrad(p, g, state_sum, clr, weight_decay, eps, maximize):
    """Adagrad; ``clr = lr / (1 + (t - 1) * lr_decay)``. Returns the new (p, state_sum)."""
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + weight_decay * p
    state_sum = state_sum + g * g
    return p - clr * (g / (math.sqrt(state_sum) + eps)), state_sum


def lookahead(slow, fast, alpha):
    """Lookahead sync (Zhang et al. 2019): ``slow += alpha * (fast - slow)``; fast = slow.

    Returns the new (slow, fast).
    """
    slow = slow + alpha * (fast - slow)
    return slow, slow


HELPERS = {"lerp": lerp}
RULES = {"sgd": sgd, "adam": adam, "rmsprop": rmsprop, "adagrad": adagrad,
         "lookahead": lookahead}
