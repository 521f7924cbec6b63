"""The Laplace distribution."""

from . import _ops as ops
from . import constraints
from .distribution import LocScale

__all__ = ["Laplace"]


class Laplace(LocScale):
    """Creates a Laplace distribution parameterized by :attr:`loc` and :attr:`scale`."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    @property
    def mean(self):
        """The mean of the distribution."""
        return self.loc

    @property
    def mode(self):
        """The mode of the distribution."""
        return self.loc

    @property
    def variance(self):
        """The variance of the distribution."""
        return 2 * self.scale.pow(2)

    @property
    def stddev(self):
        """The standard deviation of the distribution."""
        return 2**0.5 * self.scale

    def rsample(self, sample_shape=ops.Size()):
        """A reparameterised sample of sample_shape + batch_shape + event_shape."""
        shape = self._extended_shape(sample_shape)
        finfo = ops.finfo(self.loc.dtype)
        u = ops.empty(shape, dtype=self.loc.dtype, device=self.loc.device)
        u = u.uniform_(finfo.eps - 1, 1)
        return self.loc - self.scale * u.sign() * ops.log1p(-u.abs())

    def log_prob(self, value):
        """The log density (or mass) at ``value``."""
        if self._validate_args:
            self._validate_sample(value)
        return -ops.log(2 * self.scale) - ops.abs(value - self.loc) / self.scale

    def cdf(self, value):
        """The cumulative distribution function at ``value``."""
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 - 0.5 * (value - self.loc).sign() * ops.expm1(
            -(value - self.loc).abs() / self.scale
        )

    def icdf(self, value):
        """The inverse cumulative distribution function at ``value``."""
        term = value - 0.5
        return self.loc - self.scale * term.sign() * ops.log1p(-2 * term.abs())

    def entropy(self):
        """The entropy, batched over batch_shape."""
        return 1 + ops.log(2 * self.scale)
