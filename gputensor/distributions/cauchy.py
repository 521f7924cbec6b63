"""The Cauchy (Lorentz) distribution."""

import math
from math import inf, nan

from . import _ops as ops
from . import constraints
from .distribution import LocScale

__all__ = ["Cauchy"]


class Cauchy(LocScale):
    """Samples from a Cauchy (Lorentz) distribution."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    @property
    def mean(self):
        """The mean of the distribution."""
        return ops.full(self._extended_shape(), nan, dtype=self.loc.dtype, device=self.loc.device)

    @property
    def mode(self):
        """The mode of the distribution."""
        return self.loc

    @property
    def variance(self):
        """The variance of the distribution."""
        return ops.full(self._extended_shape(), inf, dtype=self.loc.dtype, device=self.loc.device)

    def rsample(self, sample_shape=ops.Size()):
        """A reparameterised sample of sample_shape + batch_shape + event_shape."""
        shape = self._extended_shape(sample_shape)
        eps = ops.empty(shape, dtype=self.loc.dtype, device=self.loc.device).cauchy_()
        return self.loc + eps * self.scale

    def log_prob(self, value):
        """The log density (or mass) at ``value``."""
        if self._validate_args:
            self._validate_sample(value)
        return (
            -math.log(math.pi) - self.scale.log() - (((value - self.loc) / self.scale) ** 2).log1p()
        )

    def cdf(self, value):
        """The cumulative distribution function at ``value``."""
        if self._validate_args:
            self._validate_sample(value)
        return ops.atan((value - self.loc) / self.scale) / math.pi + 0.5

    def icdf(self, value):
        """The inverse cumulative distribution function at ``value``."""
        return ops.tan(math.pi * (value - 0.5)) * self.scale + self.loc

    def entropy(self):
        """The entropy, batched over batch_shape."""
        return math.log(4 * math.pi) + self.scale.log()
