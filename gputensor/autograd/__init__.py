"""Reverse-mode automatic differentiation: Function, backward, grad, grad mode."""

from .engine import backward, grad
from .function import Function
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck
from .variable import Variable

__all__ = ["Function", "GradcheckError", "backward", "enable_grad", "grad", "gradcheck",
           "is_grad_enabled", "no_grad", "set_grad_enabled", "Variable"]
