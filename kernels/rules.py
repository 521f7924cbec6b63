"""Optimizer update rules, each declared once: the one source the fused kernels are built from.

A rule is plain scalar Python: it maps one element's values (parameter, gradient, state) and
the step's scalars to the new values, returned as a tuple. ``@rule(...)`` declares the role
of each of its arguments by name:

- ``tensors``: the user's arrays (parameters, gradients), one per parameter, read and
  updated where they lie;
- ``buffers``: the optimizer's state, one flat buffer laid out like the parameters;
- then the float scalars, and ``flags`` (booleans) last;
- ``writes``: the arrays the rule returns new values for, in its return order;
- ``optional``: buffers in use only under a condition (a Python expression over the scalars
  and flags); an unused buffer need not be passed and is never read or written.

``kernels/step_loops.py`` generates from a declaration the loop over every element (a
``prange`` loop in ``kernels/cpu``, a grid-stride loop in ``kernels/cuda``); callers pass
the arrays and scalars by these names. So that one compiled signature per dtype stays in
that dtype, the rules use no numeric literals in arithmetic: every constant (``1 - beta``
and the like) arrives precomputed as a scalar. Helpers that rules call are listed in
``HELPERS`` so a compiler can swap in its compiled versions.

The formulas follow torch 2.13's single-tensor (``foreach=False``) implementations.
"""

from __future__ import annotations

import inspect
import math
from typing import NamedTuple


class Rule(NamedTuple):
    """An update rule's declaration: its scalar function and the role of each argument."""

    fn: object
    tensors: tuple
    buffers: tuple
    scalars: tuple
    flags: tuple
    writes: tuple
    optional: dict

    @property
    def name(self) -> str:
        """The rule's name (its function's)."""
        return self.fn.__name__

    @property
    def arguments(self) -> tuple:
        """Every argument name, in the function's order."""
        return self.tensors + self.buffers + self.scalars + self.flags

    def in_use(self, buffer: str, values: dict) -> bool:
        """Whether ``buffer`` is used with these scalars and flags (a dict by name)."""
        condition = self.optional.get(buffer)
        if condition is None:
            return True
        code = _CONDITIONS.get(condition)
        if code is None:
            code = _CONDITIONS[condition] = compile(condition, "<condition>", "eval")
        return bool(eval(code, {}, values))


RULES: dict = {}  # name -> Rule, in declaration order
_CONDITIONS: dict = {}  # an optional buffer's condition -> its compiled code


def rule(*, tensors, buffers=(), flags=(), writes, optional=None):
    """Declare the decorated function an update rule (see the module docstring)."""
    def declare(fn):
        names = tuple(inspect.signature(fn).parameters)
        tensors_, buffers_, flags_ = tuple(tensors), tuple(buffers), tuple(flags)
        scalars = names[len(tensors_) + len(buffers_):len(names) - len(flags_)]
        declared = Rule(fn, tensors_, buffers_, scalars, flags_, tuple(writes),
                        dict(optional or {}))
        if declared.arguments != names or not scalars:
            raise TypeError(f"rule {fn.__name__}: arguments must be the tensors, the buffers, "
                            "at least one float scalar, then the flags")
        if not set(declared.writes) <= set(tensors_ + buffers_):
            raise TypeError(f"rule {fn.__name__}: writes must name tensors or buffers")
        if not set(declared.optional) <= set(buffers_):
            raise TypeError(f"rule {fn.__name__}: only buffers can be optional")
        RULES[fn.__name__] = declared
        return fn
    return declare


def lerp(start, end, weight, weight_c):
    """``start + weight * (end - start)`` computed from the nearer end, as torch.lerp does.

    ``weight_c`` is ``1 - weight``.
    """
    if weight < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * weight_c


@rule(tensors=("param", "grad"), buffers=("momentum_buffer",),
      flags=("nesterov", "maximize", "first"), writes=("param", "momentum_buffer"),
      optional={"momentum_buffer": "momentum != 0"})
def sgd(param, grad, momentum_buffer, lr, momentum, dampening_c, weight_decay, nesterov,
        maximize, first):
    """SGD with momentum; ``dampening_c = 1 - dampening``; ``first``: the buffer is new."""
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param
    if momentum != 0:
        if first:
            momentum_buffer = g
        else:
            momentum_buffer = momentum_buffer * momentum + dampening_c * g
        if nesterov:
            g = g + momentum * momentum_buffer
        else:
            g = momentum_buffer
    return param - lr * g, momentum_buffer


@rule(tensors=("param", "grad"), buffers=("exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
      flags=("amsgrad", "maximize", "decoupled"),
      writes=("param", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
      optional={"max_exp_avg_sq": "amsgrad"})
def adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, beta1_c, beta1, beta2, beta2_c,
         eps, weight_decay, decay, step_size, bias_correction2_sqrt, amsgrad, maximize,
         decoupled):
    """Adam / AdamW. ``beta1_c = 1 - beta1``, ``beta2_c = 1 - beta2``, ``decay = 1 - lr*wd``,
    ``step_size = lr / (1 - beta1**t)``, ``bias_correction2_sqrt = sqrt(1 - beta2**t)``."""
    p = param
    g = -grad if maximize else grad
    if weight_decay != 0:
        if decoupled:
            p = p * decay
        else:
            g = g + weight_decay * p
    exp_avg = lerp(exp_avg, g, beta1_c, beta1)
    exp_avg_sq = exp_avg_sq * beta2 + beta2_c * g * g
    if amsgrad:
        if exp_avg_sq > max_exp_avg_sq or exp_avg_sq != exp_avg_sq:  # torch.maximum: NaN wins
            max_exp_avg_sq = exp_avg_sq
        denom = math.sqrt(max_exp_avg_sq) / bias_correction2_sqrt + eps
    else:
        denom = math.sqrt(exp_avg_sq) / bias_correction2_sqrt + eps
    return p - step_size * (exp_avg / denom), exp_avg, exp_avg_sq, max_exp_avg_sq


@rule(tensors=("param", "grad"), buffers=("square_avg", "momentum_buffer", "grad_avg"),
      flags=("centered", "maximize"),
      writes=("param", "square_avg", "momentum_buffer", "grad_avg"),
      optional={"momentum_buffer": "momentum > 0", "grad_avg": "centered"})
def rmsprop(param, grad, square_avg, momentum_buffer, grad_avg, lr, alpha, alpha_c, eps,
            weight_decay, momentum, centered, maximize):
    """RMSprop; ``alpha_c = 1 - alpha``."""
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param
    square_avg = square_avg * alpha + alpha_c * g * g
    if centered:
        grad_avg = lerp(grad_avg, g, alpha_c, alpha)
        avg = math.sqrt(square_avg - grad_avg * grad_avg) + eps
    else:
        avg = math.sqrt(square_avg) + eps
    if momentum > 0:
        momentum_buffer = momentum_buffer * momentum + g / avg
        p = param - lr * momentum_buffer
    else:
        p = param - lr * (g / avg)
    return p, square_avg, momentum_buffer, grad_avg


@rule(tensors=("param", "grad"), buffers=("sum",), flags=("maximize",),
      writes=("param", "sum"))
def adagrad(param, grad, sum, clr, weight_decay, eps, maximize):
    """Adagrad; ``clr = lr / (1 + (t - 1) * lr_decay)``."""
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param
    sum = sum + g * g
    return param - clr * (g / (math.sqrt(sum) + eps)), sum


@rule(tensors=("param", "grad"), buffers=("exp_avg",), writes=("param", "exp_avg"))
def lion(param, grad, exp_avg, lr, decay, beta1, beta1_c, beta2, beta2_c):
    """Lion (Chen et al. 2023); ``decay = 1 - lr*wd``, ``beta*_c = 1 - beta*``."""
    c = beta1 * exp_avg + beta1_c * grad
    p = param * decay
    if c > 0:
        p = p - lr
    elif c < 0:
        p = p + lr
    elif c != c:  # torch.sign(NaN) is NaN
        p = p + c
    return p, beta2 * exp_avg + beta2_c * grad


@rule(tensors=("param",), buffers=("slow",), writes=("param", "slow"))
def lookahead(param, slow, alpha):
    """Lookahead sync (Zhang et al. 2019): ``slow += alpha * (param - slow)``; param = slow."""
    slow = slow + alpha * (param - slow)
    return slow, slow


@rule(tensors=("param", "grad"), buffers=("square_avg", "acc_delta"), flags=("maximize",),
      writes=("param", "square_avg", "acc_delta"))
def adadelta(param, grad, square_avg, acc_delta, lr, rho, rho_c, eps, weight_decay, maximize):
    """Adadelta (Zeiler); ``rho_c = 1 - rho``."""
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param
    square_avg = square_avg * rho + rho_c * g * g
    delta = math.sqrt(acc_delta + eps) / math.sqrt(square_avg + eps) * g
    acc_delta = acc_delta * rho + rho_c * delta * delta
    return param - lr * delta, square_avg, acc_delta


@rule(tensors=("param", "grad"), buffers=("exp_avg", "exp_inf"), flags=("maximize",),
      writes=("param", "exp_avg", "exp_inf"))
def adamax(param, grad, exp_avg, exp_inf, beta1_c, beta1, beta2, eps, weight_decay, clr,
           maximize):
    """Adamax (the infinity-norm Adam); ``clr = lr / (1 - beta1**t)``."""
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param
    exp_avg = lerp(exp_avg, g, beta1_c, beta1)
    decayed = exp_inf * beta2
    bound = abs(g) + eps
    if bound > decayed or bound != bound:  # torch.maximum: NaN wins
        exp_inf = bound
    else:
        exp_inf = decayed
    return param - clr * (exp_avg / exp_inf), exp_avg, exp_inf


@rule(tensors=("param", "grad"), buffers=("exp_avg", "exp_avg_sq"),
      flags=("maximize", "decoupled"), writes=("param", "exp_avg", "exp_avg_sq"))
def nadam(param, grad, exp_avg, exp_avg_sq, beta1_c, beta1, beta2, beta2_c, eps,
          weight_decay, decay, bias_correction2, grad_step, avg_step, maximize, decoupled):
    """NAdam (Dozat); ``grad_step = -lr (1 - mu_t) / (1 - prod mu)``, ``avg_step = -lr
    mu_{t+1} / (1 - prod mu * mu_{t+1})``, ``bias_correction2 = 1 - beta2**t``."""
    p = param
    g = -grad if maximize else grad
    if weight_decay != 0:
        if decoupled:
            p = p * decay
        else:
            g = g + weight_decay * p
    exp_avg = lerp(exp_avg, g, beta1_c, beta1)
    exp_avg_sq = exp_avg_sq * beta2 + beta2_c * g * g
    denom = math.sqrt(exp_avg_sq / bias_correction2) + eps
    p = p + grad_step * (g / denom)
    return p + avg_step * (exp_avg / denom), exp_avg, exp_avg_sq


@rule(tensors=("param", "grad"), buffers=("exp_avg", "exp_avg_sq"),
      flags=("maximize", "decoupled", "rectify"), writes=("param", "exp_avg", "exp_avg_sq"))
def radam(param, grad, exp_avg, exp_avg_sq, beta1_c, beta1, beta2, beta2_c, eps,
          weight_decay, decay, lr, bias_correction1, bias_correction2_sqrt, rect, maximize,
          decoupled, rectify):
    """RAdam (Liu et al.); ``rectify``: the variance is tractable (rho_t > 5), ``rect`` its
    rectification term."""
    p = param
    g = -grad if maximize else grad
    if weight_decay != 0:
        if decoupled:
            p = p * decay
        else:
            g = g + weight_decay * p
    exp_avg = lerp(exp_avg, g, beta1_c, beta1)
    exp_avg_sq = exp_avg_sq * beta2 + beta2_c * g * g
    corrected = exp_avg / bias_correction1
    if rectify:
        adaptive = bias_correction2_sqrt / (math.sqrt(exp_avg_sq) + eps)
        p = p - corrected * lr * adaptive * rect
    else:
        p = p - corrected * lr
    return p, exp_avg, exp_avg_sq


@rule(tensors=("param", "grad"), buffers=("ax",), flags=("maximize", "average"),
      writes=("param", "ax"))
def asgd(param, grad, ax, eta, decay, mu, weight_decay, maximize, average):
    """Averaged SGD (Polyak & Juditsky); ``decay = 1 - lambd * eta``; ``average``: mu != 1."""
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param
    p = param * decay
    p = p - eta * g
    if average:
        ax = ax + (p - ax) * mu
    else:
        ax = p
    return p, ax


@rule(tensors=("param", "grad"), buffers=("prev", "step_size"), flags=("maximize",),
      writes=("param", "prev", "step_size"))
def rprop(param, grad, prev, step_size, etaminus, etaplus, one, zero, step_size_min,
          step_size_max, maximize):
    """Rprop: the step size grows by etaplus while the gradient keeps its sign, shrinks by
    etaminus when it flips (and that step is skipped); ``one`` is 1, ``zero`` 0."""
    g = -grad if maximize else grad
    product = g * prev
    if product > 0:
        factor = etaplus
    elif product < 0:
        factor = etaminus
    elif product == 0:
        factor = one
    else:  # NaN
        factor = product
    size = step_size * factor
    if size < step_size_min:  # torch.clamp: min first, then max; NaN stays
        size = step_size_min
    if size > step_size_max:
        size = step_size_max
    if factor == etaminus:
        g = zero
    if g > 0:
        p = param - size
    elif g < 0:
        p = param + size
    else:  # sign(0) = 0, sign(NaN) = NaN
        p = param - g * size
    return p, g, size


HELPERS = {"lerp": lerp}
