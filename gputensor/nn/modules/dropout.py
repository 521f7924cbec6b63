"""``Dropout``: zero elements with probability p while training, scaling the rest by 1/(1-p)."""

from __future__ import annotations

from .. import functional as F  # noqa: N812 - torch's spelling
from .module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """Randomly zero elements with probability ``p`` in training mode; identity in eval."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        """``F.dropout(input, p, training, inplace)``."""
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        """What torch prints inside this layer's parentheses."""
        return f"p={self.p}, inplace={self.inplace}"
