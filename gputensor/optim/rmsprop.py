"""RMSprop (torch.optim.RMSprop), one fused kernel per step."""

from __future__ import annotations

from .flags import check_fused_flags
from .flat import FusedOptimizer
from .optimizer import check_lr


class RMSprop(FusedOptimizer):
    """RMSprop (Hinton), with momentum, centering, weight decay and maximize."""

    rule = "rmsprop"
    capturable_xla = (True, True)

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay: float = 0,
                 momentum: float = 0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        check_fused_flags(None, foreach, differentiable)
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay,
                    "capturable": capturable, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _state_names(self, group):
        names = [("square_avg", 0)]
        if group["momentum"] > 0:
            names.append(("momentum_buffer", 0))
        if group["centered"]:
            names.append(("grad_avg", 0))
        return names

    @staticmethod
    def _segment_key(step):
        return True  # the update does not depend on the step count

    def _rule_values(self, group, step):
        alpha = group["alpha"]
        return ({"lr": float(group["lr"]), "alpha": alpha, "alpha_c": 1 - alpha,
                 "eps": group["eps"], "weight_decay": group["weight_decay"],
                 "momentum": group["momentum"]},
                {"centered": group["centered"], "maximize": group["maximize"]})
