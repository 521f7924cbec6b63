"""The half-normal distribution: |X| for a centred Normal X."""

import math
from math import inf

from . import _ops as ops
from . import constraints
from .normal import Normal
from .transformed_distribution import TransformedDistribution
from .transforms import AbsTransform

__all__ = ["HalfNormal"]


class HalfNormal(TransformedDistribution):
    """Creates a half-normal distribution parameterized by `scale` where."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale, validate_args=None):
        base_dist = Normal(0, scale, validate_args=False)
        super().__init__(base_dist, AbsTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """The distribution with batch dims expanded to ``batch_shape``."""
        new = self._get_checked_instance(HalfNormal, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def scale(self):
        """The scale of the distribution."""
        return self.base_dist.scale

    @property
    def mean(self):
        """The mean of the distribution."""
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def mode(self):
        """The mode of the distribution."""
        return ops.zeros_like(self.scale)

    @property
    def variance(self):
        """The variance of the distribution."""
        return self.scale.pow(2) * (1 - 2 / math.pi)

    def log_prob(self, value):
        """The log density (or mass) at ``value``."""
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        log_prob = ops.where(value >= 0, log_prob, -inf)
        return log_prob

    def cdf(self, value):
        """The cumulative distribution function at ``value``."""
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob):
        """The inverse cumulative distribution function at ``value``."""
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self):
        """The entropy, batched over batch_shape."""
        return self.base_dist.entropy() - math.log(2)
