"""Adam and AdamW (torch.optim.Adam / AdamW), one fused kernel per step."""

from __future__ import annotations

from .._tensor import Tensor
from .flags import check_fused_flags
from .flat import FusedOptimizer
from .optimizer import check_lr


def _to_scalar(x):
    """A one-element tensor as a 0-d tensor, numbers as they are (torch's _to_scalar)."""
    if isinstance(x, Tensor) and x.dim() != 0:
        return x.squeeze()
    return x



def check_adam_options(lr, betas, eps, weight_decay) -> None:
    """torch's checks of the Adam family's learning rate, betas, epsilon and weight decay."""
    check_lr(lr)
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")

class Adam(FusedOptimizer):
    """Adam (Kingma & Ba), with amsgrad, maximize and L2 or decoupled weight decay."""

    rule = "adam"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay: float = 0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        check_adam_options(lr, betas, eps, weight_decay)
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, beta in enumerate(betas):
            if isinstance(beta, Tensor) and beta.numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
        check_fused_flags(fused, foreach, differentiable)
        defaults = {"lr": lr, "betas": tuple(map(_to_scalar, betas)), "eps": eps,
                    "weight_decay": weight_decay, "amsgrad": amsgrad, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _state_names(self, group):
        names = [("exp_avg", 0), ("exp_avg_sq", 0)]
        if group["amsgrad"]:
            names.append(("max_exp_avg_sq", 0))
        return names

    def _rule_values(self, group, step):
        beta1, beta2 = (float(b) for b in group["betas"])
        lr = float(group["lr"])
        weight_decay = group["weight_decay"]
        return ({"beta1_c": 1 - beta1, "beta1": beta1, "beta2": beta2, "beta2_c": 1 - beta2,
                 "eps": group["eps"], "weight_decay": weight_decay,
                 "decay": 1 - lr * weight_decay, "step_size": lr / (1 - beta1 ** step),
                 "bias_correction2_sqrt": (1 - beta2 ** step) ** 0.5},
                {"amsgrad": group["amsgrad"], "maximize": group["maximize"],
                 "decoupled": group["decoupled_weight_decay"]})


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter); weight_decay defaults to 1e-2."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
