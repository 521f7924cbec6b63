"""Activation modules: ReLU, LeakyReLU, ELU, GELU, SiLU, Sigmoid, Tanh, Softmax, LogSoftmax."""

from __future__ import annotations

from ...ops import pointwise
from .. import functional as F  # noqa: N812 - torch's spelling
from .module import Module

__all__ = ["ELU", "GELU", "LeakyReLU", "LogSoftmax", "ReLU", "SiLU", "Sigmoid", "Softmax",
           "Tanh"]


class ReLU(Module):
    """max(0, x) elementwise."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        """``F.relu``."""
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        """What torch prints inside this layer's parentheses."""
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x for x >= 0, negative_slope * x otherwise."""

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        """``F.leaky_relu``."""
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        """What torch prints inside this layer's parentheses."""
        inplace_str = ", inplace=True" if self.inplace else ""
        return f"negative_slope={self.negative_slope}{inplace_str}"


class ELU(Module):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        """``F.elu``."""
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        """What torch prints inside this layer's parentheses."""
        inplace_str = ", inplace=True" if self.inplace else ""
        return f"alpha={self.alpha}{inplace_str}"


class GELU(Module):
    """x * Phi(x), exactly (``approximate='none'``) or with the tanh formula."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        """``F.gelu``."""
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        """What torch prints inside this layer's parentheses."""
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x * sigmoid(x) (swish)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        """``F.silu``."""
        return F.silu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        """What torch prints inside this layer's parentheses."""
        return "inplace=True" if self.inplace else ""


class Sigmoid(Module):
    """1 / (1 + exp(-x)) elementwise."""

    def forward(self, input):
        """``gputensor.sigmoid``."""
        return pointwise.sigmoid(input)


class Tanh(Module):
    """tanh(x) elementwise."""

    def forward(self, input):
        """``gputensor.tanh``."""
        return pointwise.tanh(input)


class Softmax(Module):
    """exp(x) / sum(exp(x)) along ``dim``."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        """``F.softmax``."""
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        """What torch prints inside this layer's parentheses."""
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``dim``, computed stably."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        """``F.log_softmax``."""
        return F.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        """What torch prints inside this layer's parentheses."""
        return f"dim={self.dim}"
