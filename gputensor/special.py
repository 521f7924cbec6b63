"""gputensor.special: torch.special's namespace (erf, erfc, erfinv, expit, logit, digamma,
gammainc, gammaincc)."""

from __future__ import annotations

from .ops.gamma_functions import digamma, gammainc, gammaincc
from .ops.special import erf, erfc, erfinv, expit, logit

__all__ = ["erf", "erfc", "erfinv", "expit", "logit", "digamma", "gammainc", "gammaincc"]
