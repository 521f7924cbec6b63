"""Adagrad (torch.optim.Adagrad), one fused kernel per step."""

from __future__ import annotations

from .flags import check_fused_flags
from .flat import FusedOptimizer
from .optimizer import check_lr


class Adagrad(FusedOptimizer):
    """Adagrad (Duchi et al.), with learning-rate decay, weight decay and maximize."""

    rule = "adagrad"

    def __init__(self, params, lr=1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        check_lr(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError("Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        check_fused_flags(fused, foreach, differentiable)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value,
                    "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        for index, group in enumerate(self.param_groups):  # torch creates the state up front
            names_inits = self._state_names(group)
            for pack in self._group_packs(index, group).packs:
                for i, p in enumerate(pack.params):
                    pack.reset(i, names_inits)
                    pack.publish(i, self.state[p], ["sum"])

    def _state_names(self, group):
        # torch initialises the sum from the optimizer's default, whatever the group says
        return [("sum", self.defaults["initial_accumulator_value"])]

    def _rule_values(self, group, step):
        clr = float(group["lr"]) / (1 + (step - 1) * group["lr_decay"])
        return ({"clr": clr, "weight_decay": group["weight_decay"], "eps": group["eps"]},
                {"maximize": group["maximize"]})
