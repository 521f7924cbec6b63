"""Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"), one fused kernel
per step."""

from __future__ import annotations

from .flat import FusedOptimizer
from .optimizer import check_lr, check_nonnegative


class Lion(FusedOptimizer):
    """Lion: steps of size lr along the sign of an interpolated momentum; decoupled decay."""

    rule = "lion"
    has_step = False

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
        check_lr(lr)
        for i, beta in enumerate(betas):
            if not 0.0 <= beta <= 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        check_nonnegative(weight_decay, "weight_decay")
        super().__init__(params, {"lr": lr, "betas": tuple(betas),
                                  "weight_decay": weight_decay})

    def _state_names(self, group):
        return [("exp_avg", 0)]

    @staticmethod
    def _segment_key(step):
        return True  # the update does not depend on the step count

    def _rule_values(self, group, step):
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        return ({"lr": lr, "decay": 1 - lr * group["weight_decay"], "beta1": beta1,
                 "beta1_c": 1 - beta1, "beta2": beta2, "beta2_c": 1 - beta2}, {})
