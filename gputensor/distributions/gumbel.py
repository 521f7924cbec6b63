"""The Gumbel distribution."""

import math

from . import _ops as ops
from . import constraints
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, ExpTransform
from .uniform import Uniform
from .utils import broadcast_all, euler_constant

__all__ = ["Gumbel"]


class Gumbel(TransformedDistribution):
    """Samples from a Gumbel Distribution."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        finfo = ops.finfo(self.loc.dtype)
        if isinstance(loc, ops.Number) and isinstance(scale, ops.Number):
            base_dist = Uniform(finfo.tiny, 1 - finfo.eps, validate_args=validate_args)
        else:
            base_dist = Uniform(
                ops.full_like(self.loc, finfo.tiny),
                ops.full_like(self.loc, 1 - finfo.eps),
                validate_args=validate_args,
            )
        transforms = [
            ExpTransform().inv,
            AffineTransform(loc=0, scale=-ops.ones_like(self.scale)),
            ExpTransform().inv,
            AffineTransform(loc=loc, scale=-self.scale),
        ]
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """The distribution with batch dims expanded to ``batch_shape``."""
        new = self._get_checked_instance(Gumbel, _instance)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        return super().expand(batch_shape, _instance=new)

    def log_prob(self, value):
        """The log density (or mass) at ``value``."""
        if self._validate_args:
            self._validate_sample(value)
        y = (self.loc - value) / self.scale
        return y - y.exp() - self.scale.log()

    @property
    def mean(self):
        """The mean of the distribution."""
        return self.loc + self.scale * euler_constant

    @property
    def mode(self):
        """The mode of the distribution."""
        return self.loc

    @property
    def stddev(self):
        """The standard deviation of the distribution."""
        return math.pi / math.sqrt(6) * self.scale

    @property
    def variance(self):
        """The variance of the distribution."""
        return self.stddev.pow(2)

    def entropy(self):
        """The entropy, batched over batch_shape."""
        return self.scale.log() + (1 + euler_constant)
