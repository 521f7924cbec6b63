"""Adadelta, Adamax, NAdam and RAdam (torch.optim), one fused kernel per step each."""

from __future__ import annotations

from .adam import _to_scalar, check_adam_options
from .flags import check_fused_flags
from .flat import FusedOptimizer
from .optimizer import check_lr


class Adadelta(FusedOptimizer):
    """Adadelta (Zeiler 2012): step sizes from running averages of squared updates."""

    rule = "adadelta"
    capturable_xla = (False, False)

    def __init__(self, params, lr=1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach=None, *, capturable=False, maximize=False,
                 differentiable=False):
        check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        check_fused_flags(None, foreach, differentiable)
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "capturable": capturable, "foreach": foreach,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _state_names(self, group):
        return [("square_avg", 0), ("acc_delta", 0)]

    @staticmethod
    def _segment_key(step):
        return True  # the update does not depend on the step count

    def _rule_values(self, group, step):
        rho = group["rho"]
        return ({"lr": float(group["lr"]), "rho": rho, "rho_c": 1 - rho, "eps": group["eps"],
                 "weight_decay": group["weight_decay"]}, {"maximize": group["maximize"]})


class Adamax(FusedOptimizer):
    """Adamax (Kingma & Ba): Adam with the infinity norm in place of the second moment."""

    rule = "adamax"

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach=None, *, maximize=False, differentiable=False,
                 capturable=False):
        check_adam_options(lr, betas, eps, weight_decay)
        check_fused_flags(None, foreach, differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def _state_names(self, group):
        return [("exp_avg", 0), ("exp_inf", 0)]

    def _rule_values(self, group, step):
        beta1, beta2 = (float(b) for b in group["betas"])
        return ({"beta1_c": 1 - beta1, "beta1": beta1, "beta2": beta2, "eps": group["eps"],
                 "weight_decay": group["weight_decay"],
                 "clr": float(group["lr"]) / (1 - beta1 ** step)},
                {"maximize": group["maximize"]})


def _nadam_mu(beta1, momentum_decay, step):
    """NAdam's momentum coefficient mu_t."""
    return beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))


class NAdam(FusedOptimizer):
    """NAdam (Dozat 2016): Adam with Nesterov momentum and a momentum-decay schedule."""

    rule = "nadam"
    capturable_state = ("params, mu_products and state_steps",
                        "params, mu_products, and state_steps")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        check_adam_options(lr, betas, eps, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        check_fused_flags(None, foreach, differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _state_names(self, group):
        return [("exp_avg", 0), ("exp_avg_sq", 0)]

    def _host_names(self, group):
        return [("mu_product", 1.0)]

    def _new_mu_product(self, pack, i, group, step):
        beta1 = float(group["betas"][0])
        mu = _nadam_mu(beta1, group["momentum_decay"], step)
        values = pack.host["mu_product"]
        return mu, values[i] * values.dtype.type(mu)  # torch's 0-d tensor times a float

    def _pack_values(self, pack, i, group, step):
        beta1, beta2 = (float(b) for b in group["betas"])
        lr = float(_to_scalar(group["lr"]))
        mu, mu_product = self._new_mu_product(pack, i, group, step)
        mu_product = float(mu_product)
        mu_next = _nadam_mu(beta1, group["momentum_decay"], step + 1)
        weight_decay = group["weight_decay"]
        return ({"beta1_c": 1 - beta1, "beta1": beta1, "beta2": beta2, "beta2_c": 1 - beta2,
                 "eps": group["eps"], "weight_decay": weight_decay,
                 "decay": 1 - lr * weight_decay, "bias_correction2": 1 - beta2 ** step,
                 "grad_step": -lr * (1.0 - mu) / (1.0 - mu_product),
                 "avg_step": (-lr * mu_next) / (1.0 - mu_product * mu_next)},
                {"maximize": group["maximize"], "decoupled": group["decoupled_weight_decay"]})

    def _advance(self, pack, lo, hi, group, step) -> None:
        values = pack.host["mu_product"]
        mu = _nadam_mu(float(group["betas"][0]), group["momentum_decay"], step)
        values[lo:hi] = values[lo:hi] * values.dtype.type(mu)


class RAdam(FusedOptimizer):
    """RAdam (Liu et al. 2019): Adam with its early variance rectified."""

    rule = "radam"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        check_adam_options(lr, betas, eps, weight_decay)
        check_fused_flags(None, foreach, differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _state_names(self, group):
        return [("exp_avg", 0), ("exp_avg_sq", 0)]

    def _rule_values(self, group, step):
        beta1, beta2 = (float(b) for b in group["betas"])
        lr = float(_to_scalar(group["lr"]))
        weight_decay = group["weight_decay"]
        bias_correction2 = 1 - beta2 ** step
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        rectify = bool(rho_t > 5.0)
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5 if rectify else 1.0
        return ({"beta1_c": 1 - beta1, "beta1": beta1, "beta2": beta2, "beta2_c": 1 - beta2,
                 "eps": group["eps"], "weight_decay": weight_decay,
                 "decay": 1 - lr * weight_decay, "lr": lr,
                 "bias_correction1": 1 - beta1 ** step,
                 "bias_correction2_sqrt": bias_correction2 ** 0.5, "rect": rect},
                {"maximize": group["maximize"], "decoupled": group["decoupled_weight_decay"],
                 "rectify": rectify})


__all__ = ["Adadelta", "Adamax", "NAdam", "RAdam"]
