"""gputensor.special: torch.special's namespace (erf, erfc, erfinv, expit, logit)."""

from __future__ import annotations

from .ops.special import erf, erfc, erfinv, expit, logit

__all__ = ["erf", "erfc", "erfinv", "expit", "logit"]
