"""The fused optimizer kernels, written once for both targets.

Each kernel applies one rule of ``kernels.rules`` to every element of a few same-length
contiguous 1-D buffers, in place. The loop is ``for i in LOOP(n)``: ``kernels/cpu`` binds
``LOOP`` to ``numba.prange`` (a parallel loop), ``kernels/cuda`` to a grid-stride range;
``build`` binds it and the rules compiled for the same target.
"""

from __future__ import annotations

from ._rebind import compile_rules, rebind


def sgd_kernel(p, g, buf, lr, momentum, dampening_c, weight_decay, nesterov, maximize, first):
    """SGD over flat buffers; ``buf`` is written only when momentum != 0."""
    write_buf = momentum != 0
    for i in LOOP(p.shape[0]):  # noqa: F821 (bound by build)
        pi, bi = _sgd(p[i], g[i], buf[i], lr, momentum, dampening_c,  # noqa: F821
                      weight_decay, nesterov, maximize, first)
        p[i] = pi
        if write_buf:
            buf[i] = bi


def adam_kernel(p, g, m, v, vmax, beta1_c, beta1, beta2, beta2_c, eps, weight_decay, decay,
                step_size, bias_correction2_sqrt, amsgrad, maximize, decoupled):
    """Adam/AdamW over flat buffers; ``vmax`` is written only with amsgrad."""
    for i in LOOP(p.shape[0]):  # noqa: F821
        pi, mi, vi, wi = _adam(p[i], g[i], m[i], v[i], vmax[i], beta1_c,  # noqa: F821
                               beta1, beta2, beta2_c, eps, weight_decay, decay, step_size,
                               bias_correction2_sqrt, amsgrad, maximize, decoupled)
        p[i] = pi
        m[i] = mi
        if amsgrad:
            vmax[i] = wi
        v[i] = vi


def rmsprop_kernel(p, g, square_avg, buf, grad_avg, lr, alpha, alpha_c, eps, weight_decay,
                   momentum, centered, maximize):
    """RMSprop over flat buffers; ``buf``/``grad_avg`` written only when in use."""
    write_buf = momentum > 0
    for i in LOOP(p.shape[0]):  # noqa: F821
        pi, si, bi, ai = _rmsprop(p[i], g[i], square_avg[i], buf[i],  # noqa: F821
                                  grad_avg[i], lr, alpha, alpha_c, eps, weight_decay,
                                  momentum, centered, maximize)
        if write_buf:
            buf[i] = bi
        if centered:
            grad_avg[i] = ai
        square_avg[i] = si
        p[i] = pi


def adagrad_kernel(p, g, state_sum, clr, weight_decay, eps, maximize):
    """Adagrad over flat buffers."""
    for i in LOOP(p.shape[0]):  # noqa: F821
        pi, si = _adagrad(p[i], g[i], state_sum[i], clr, weight_decay, eps,  # noqa: F821
                          maximize)
        p[i] = pi
        state_sum[i] = si


def lookahead_kernel(slow, fast, alpha):
    """Lookahead sync over flat buffers."""
    for i in LOOP(slow.shape[0]):  # noqa: F821
        si, fi = _lookahead(slow[i], fast[i], alpha)  # noqa: F821
        slow[i] = si
        fast[i] = fi


# rule -> (kernel, number of buffers, number of float scalars, number of flags)
_SPECS = {
    "sgd": (sgd_kernel, 3, 4, 3),
    "adam": (adam_kernel, 5, 9, 3),
    "rmsprop": (rmsprop_kernel, 5, 6, 2),
    "adagrad": (adagrad_kernel, 3, 3, 1),
    "lookahead": (lookahead_kernel, 2, 1, 0),
}


def build(loop, decorate) -> dict:
    """``{rule: (kernel, buffers, scalars, flags)}``: the kernels with ``LOOP`` bound to
    ``loop`` and each rule to its version compiled with ``decorate`` (not yet compiled)."""
    names = {f"_{name}": fn for name, fn in compile_rules(decorate).items()}
    names["LOOP"] = loop
    return {name: (rebind(fn, names), *counts) for name, (fn, *counts) in _SPECS.items()}
