"""The continuous uniform distribution."""

from math import nan

from . import _ops as ops
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["Uniform"]


class Uniform(Distribution):
    """The uniform distribution on the half-open interval ``[low, high)``."""

    has_rsample = True

    @property
    def arg_constraints(self):
        """The constraint each parameter must satisfy."""
        return {"low": constraints.less_than(self.high), "high": constraints.greater_than(self.low)}

    @property
    def mean(self):
        """The mean of the distribution."""
        return (self.high + self.low) / 2

    @property
    def mode(self):
        """The mode of the distribution."""
        return nan * self.high

    @property
    def stddev(self):
        """The standard deviation of the distribution."""
        return (self.high - self.low) / 12**0.5

    @property
    def variance(self):
        """The variance of the distribution."""
        return (self.high - self.low).pow(2) / 12

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all(low, high)
        if isinstance(low, ops.Number) and isinstance(high, ops.Number):
            batch_shape = ops.Size()
        else:
            batch_shape = self.low.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """The distribution with batch dims expanded to ``batch_shape``."""
        new = self._get_checked_instance(Uniform, _instance)
        batch_shape = ops.Size(batch_shape)
        new.low = self.low.expand(batch_shape)
        new.high = self.high.expand(batch_shape)
        super(Uniform, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        """The set of values the distribution takes."""
        return constraints.interval(self.low, self.high)

    def rsample(self, sample_shape=ops.Size()):
        """A reparameterised sample of sample_shape + batch_shape + event_shape."""
        shape = self._extended_shape(sample_shape)
        rand = ops.rand(shape, dtype=self.low.dtype, device=self.low.device)
        return self.low + rand * (self.high - self.low)

    def log_prob(self, value):
        """The log density (or mass) at ``value``."""
        if self._validate_args:
            self._validate_sample(value)
        lb = self.low.le(value).type_as(self.low)
        ub = self.high.gt(value).type_as(self.low)
        return ops.log(lb.mul(ub)) - ops.log(self.high - self.low)

    def cdf(self, value):
        """The cumulative distribution function at ``value``."""
        if self._validate_args:
            self._validate_sample(value)
        result = (value - self.low) / (self.high - self.low)
        return result.clamp(min=0, max=1)

    def icdf(self, value):
        """The inverse cumulative distribution function at ``value``."""
        result = value * (self.high - self.low) + self.low
        return result

    def entropy(self):
        """The entropy, batched over batch_shape."""
        return ops.log(self.high - self.low)
