"""SGD with momentum, dampening, Nesterov, weight decay and maximize (torch.optim.SGD)."""

from __future__ import annotations

from .flags import check_fused_flags
from .flat import FusedOptimizer
from .optimizer import check_lr


class SGD(FusedOptimizer):
    """Stochastic gradient descent (optionally with momentum), one fused kernel per step."""

    rule = "sgd"
    has_step = False

    def __init__(self, params, lr=1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        check_lr(lr)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        check_fused_flags(fused, foreach, differentiable)
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)

    def _state_names(self, group):
        return [("momentum_buffer", 0)] if group["momentum"] != 0 else []

    @staticmethod
    def _segment_key(step):
        return step > 0  # a new momentum buffer starts as the gradient

    def _rule_values(self, group, step):
        return ({"lr": float(group["lr"]), "momentum": group["momentum"],
                 "dampening_c": 1 - group["dampening"], "weight_decay": group["weight_decay"]},
                {"nesterov": group["nesterov"], "maximize": group["maximize"],
                 "first": step == 1})
