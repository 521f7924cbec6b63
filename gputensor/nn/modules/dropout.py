"""Dropout layers: ``Dropout``, the channel-wise ``Dropout1d/2d/3d`` and the alpha forms."""

from __future__ import annotations

from .. import functional as F  # noqa: N812 - torch's spelling
from .module import Module

__all__ = ["AlphaDropout", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d",
           "FeatureAlphaDropout"]


class _DropoutNd(Module):
    """A dropout layer's ``p`` and ``inplace``."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def extra_repr(self) -> str:
        """What torch prints inside this layer's parentheses."""
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Randomly zero elements with probability ``p`` in training mode; identity in eval."""

    def forward(self, input):
        """``F.dropout(input, p, training, inplace)``."""
        return F.dropout(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Randomly zero whole channels of a (N, C, L) or (C, L) input while training."""

    def forward(self, input):
        """``F.dropout1d``."""
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Randomly zero whole channels of a (N, C, H, W) input while training."""

    def forward(self, input):
        """``F.dropout2d``."""
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Randomly zero whole channels of a (N, C, D, H, W) input while training."""

    def forward(self, input):
        """``F.dropout3d``."""
        return F.dropout3d(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Dropout for selu networks: keeps zero mean and unit variance."""

    def forward(self, input):
        """``F.alpha_dropout``."""
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels."""

    def forward(self, input):
        """``F.feature_alpha_dropout``."""
        return F.feature_alpha_dropout(input, self.p, self.training)
