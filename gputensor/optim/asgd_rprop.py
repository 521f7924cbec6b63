"""ASGD and Rprop (torch.optim.ASGD / Rprop), one fused kernel per step each."""

from __future__ import annotations

from .adam import _to_scalar
from .flags import check_fused_flags
from .flat import FusedOptimizer
from .optimizer import check_lr


class ASGD(FusedOptimizer):
    """Averaged stochastic gradient descent (Polyak & Juditsky 1992)."""

    rule = "asgd"
    capturable_state = ("params, mus, etas, and state_steps",) * 2

    def __init__(self, params, lr=1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, foreach=None, maximize=False,
                 differentiable=False, capturable=False):
        check_lr(lr)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        check_fused_flags(None, foreach, differentiable)
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def _state_names(self, group):
        return [("ax", 0)]

    def _host_names(self, group):
        return [("eta", float(_to_scalar(group["lr"]))), ("mu", 1.0)]

    def _pack_values(self, pack, i, group, step):
        eta = float(pack.host["eta"][i])
        mu = float(pack.host["mu"][i])
        return ({"eta": eta, "decay": 1 - group["lambd"] * eta, "mu": mu,
                 "weight_decay": group["weight_decay"]},
                {"maximize": group["maximize"], "average": mu != 1})

    def _advance(self, pack, lo, hi, group, step) -> None:
        lr = float(_to_scalar(group["lr"]))
        pack.host["eta"][lo:hi] = lr / ((1 + group["lambd"] * lr * step) ** group["alpha"])
        pack.host["mu"][lo:hi] = 1 / max(1, step - group["t0"])


class Rprop(FusedOptimizer):
    """Resilient backpropagation: per-element step sizes adapted to the gradient's sign."""

    rule = "rprop"
    capturable_xla = (True, True)

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        check_fused_flags(None, foreach, differentiable)
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def _state_names(self, group):
        return [("prev", 0), ("step_size", float(_to_scalar(group["lr"])))]

    @staticmethod
    def _segment_key(step):
        return True  # the update does not depend on the step count

    def _rule_values(self, group, step):
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        return ({"etaminus": etaminus, "etaplus": etaplus, "one": 1.0, "zero": 0.0,
                 "step_size_min": step_size_min, "step_size_max": step_size_max},
                {"maximize": group["maximize"]})
