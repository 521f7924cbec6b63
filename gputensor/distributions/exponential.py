"""The exponential distribution."""

from . import _ops as ops
from . import constraints
from .exp_family import ExponentialFamily
from .utils import broadcast_all

__all__ = ["Exponential"]


class Exponential(ExponentialFamily):
    """Creates a Exponential distribution parameterized by :attr:`rate`."""

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def mean(self):
        """The mean of the distribution."""
        return self.rate.reciprocal()

    @property
    def mode(self):
        """The mode of the distribution."""
        return ops.zeros_like(self.rate)

    @property
    def stddev(self):
        """The standard deviation of the distribution."""
        return self.rate.reciprocal()

    @property
    def variance(self):
        """The variance of the distribution."""
        return self.rate.pow(-2)

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        batch_shape = ops.Size() if isinstance(rate, ops.Number) else self.rate.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """The distribution with batch dims expanded to ``batch_shape``."""
        new = self._get_checked_instance(Exponential, _instance)
        batch_shape = ops.Size(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        super(Exponential, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=ops.Size()):
        """A reparameterised sample of sample_shape + batch_shape + event_shape."""
        shape = self._extended_shape(sample_shape)
        noise = ops.empty(shape, dtype=self.rate.dtype, device=self.rate.device)
        return noise.exponential_() / self.rate

    def log_prob(self, value):
        """The log density (or mass) at ``value``."""
        if self._validate_args:
            self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        """The cumulative distribution function at ``value``."""
        if self._validate_args:
            self._validate_sample(value)
        return 1 - ops.exp(-self.rate * value)

    def icdf(self, value):
        """The inverse cumulative distribution function at ``value``."""
        return -ops.log1p(-value) / self.rate

    def entropy(self):
        """The entropy, batched over batch_shape."""
        return 1.0 - ops.log(self.rate)

    @property
    def _natural_params(self):
        return (-self.rate,)

    def _log_normalizer(self, x):
        return -ops.log(-x)
