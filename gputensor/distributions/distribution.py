"""Distribution: the base class of every distribution (shapes, validation, sampling API)."""

import warnings

from . import _ops as ops
from . import constraints
from .utils import broadcast_all, lazy_property

__all__ = ["Distribution"]


class Distribution:
    """Distribution is the abstract base class for probability distributions."""

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__

    @staticmethod
    def set_default_validate_args(value):
        """Sets whether validation is enabled or disabled."""
        if value not in [True, False]:
            raise ValueError
        Distribution._validate_args = value

    def __init__(self, batch_shape=ops.Size(), event_shape=ops.Size(), validate_args=None):
        self._batch_shape = batch_shape
        self._event_shape = event_shape
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            try:
                arg_constraints = self.arg_constraints
            except NotImplementedError:
                arg_constraints = {}
                warnings.warn(
                    f"{self.__class__} does not define `arg_constraints`. "
                    + "Please set `arg_constraints = {}` or initialize the distribution "
                    + "with `validate_args=False` to turn off validation.",
                    stacklevel=2,
                )
            for param, constraint in arg_constraints.items():
                if constraints.is_dependent(constraint):
                    continue
                if param not in self.__dict__ and isinstance(
                    getattr(type(self), param), lazy_property
                ):
                    continue
                value = getattr(self, param)
                valid = constraint.check(value)
                if not ops.is_all_true(valid):
                    raise ValueError(
                        f"Expected parameter {param} ({type(value).__name__} of shape "
                        f"{tuple(value.shape)}) of distribution {repr(self)} to satisfy the "
                        f"constraint {repr(constraint)}, but found invalid values:\n{value}")
        super().__init__()

    def expand(self, batch_shape, _instance=None):
        """Returns a new distribution instance (or populates an existing instance provided by a
        derived class) with batch dimensions expanded to `batch_shape`."""
        raise NotImplementedError

    @property
    def batch_shape(self):
        """Returns the shape over which parameters are batched."""
        return self._batch_shape

    @property
    def event_shape(self):
        """Returns the shape of a single sample (without batching)."""
        return self._event_shape

    @property
    def arg_constraints(self):
        """Returns a dictionary from argument names to :class:`~Constraint` objects that should be
        satisfied by each argument of this distribution."""
        raise NotImplementedError

    @property
    def support(self):
        """Returns a :class:`~Constraint` object representing this distribution's support."""
        raise NotImplementedError

    @property
    def mean(self):
        """Returns the mean of the distribution."""
        raise NotImplementedError

    @property
    def mode(self):
        """Returns the mode of the distribution."""
        raise NotImplementedError(f"{self.__class__} does not implement mode")

    @property
    def variance(self):
        """Returns the variance of the distribution."""
        raise NotImplementedError

    @property
    def stddev(self):
        """Returns the standard deviation of the distribution."""
        return self.variance.sqrt()

    def sample(self, sample_shape=ops.Size()):
        """Generates a sample_shape shaped sample or sample_shape shaped batch of samples if the
        distribution parameters are batched."""
        with ops.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=ops.Size()):
        """Generates a sample_shape shaped reparameterized sample or sample_shape shaped batch of
        reparameterized samples if the distribution parameters are batched."""
        raise NotImplementedError

    def sample_n(self, n):
        """Generates n samples or n batches of samples (deprecated: ``sample((n,))``)."""
        warnings.warn("`sample_n(n)` will be deprecated. Use `sample((n,))` instead.",
                      FutureWarning, stacklevel=2)
        return self.sample(ops.Size((n,)))

    def log_prob(self, value):
        """Returns the log of the probability density/mass function evaluated at `value`."""
        raise NotImplementedError

    def cdf(self, value):
        """Returns the cumulative density/mass function evaluated at `value`."""
        raise NotImplementedError

    def icdf(self, value):
        """Returns the inverse cumulative density/mass function evaluated at `value`."""
        raise NotImplementedError

    def enumerate_support(self, expand=True):
        """Returns tensor containing all values supported by a discrete distribution."""
        raise NotImplementedError

    def entropy(self):
        """Returns entropy of distribution, batched over batch_shape."""
        raise NotImplementedError

    def perplexity(self):
        """Returns perplexity of distribution, batched over batch_shape."""
        return ops.exp(self.entropy())

    def _extended_shape(self, sample_shape=ops.Size()):
        """Returns the size of the sample returned by the distribution, given a `sample_shape`."""
        if not isinstance(sample_shape, ops.Size):
            sample_shape = ops.Size(sample_shape)
        return ops.Size(sample_shape + self._batch_shape + self._event_shape)

    def _validate_sample(self, value):
        """Argument validation for distribution methods such as `log_prob`, `cdf` and `icdf`."""
        if not isinstance(value, ops.Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        event_dim_start = len(value.size()) - len(self._event_shape)
        if value.size()[event_dim_start:] != self._event_shape:
            raise ValueError("The right-most size of value must match event_shape: "
                             f"{value.size()} vs {self._event_shape}.")
        actual_shape = value.size()
        expected_shape = self._batch_shape + self._event_shape
        for i, j in zip(reversed(actual_shape), reversed(expected_shape)):
            if i != 1 and j != 1 and (i != j):
                raise ValueError("Value is not broadcastable with batch_shape+event_shape: "
                                 f"{actual_shape} vs {expected_shape}.")
        try:
            support = self.support
        except NotImplementedError:
            warnings.warn(
                f"{self.__class__} does not define `support` to enable "
                + "sample validation. Please initialize the distribution with "
                + "`validate_args=False` to turn off validation.",
                stacklevel=2,
            )
            return
        if support is None:
            raise AssertionError("support is unexpectedly None")
        valid = support.check(value)
        if not ops.is_all_true(valid):
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape {tuple(value.shape)}) "
                f"to be within the support ({repr(support)}) of the distribution {repr(self)}, "
                f"but found invalid values:\n{value}")

    def _get_checked_instance(self, cls, _instance=None):
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(
                f"Subclass {self.__class__.__name__} of {cls.__name__} that defines a custom "
                "__init__ method must also define a custom .expand() method.")
        return self.__new__(type(self)) if _instance is None else _instance

    def __repr__(self):
        param_names = [k for k in self.arg_constraints if k in self.__dict__]
        args_string = ", ".join(
            f"{p}: {self.__dict__[p] if self.__dict__[p].numel() == 1 else self.__dict__[p].size()}"
            for p in param_names)
        return self.__class__.__name__ + "(" + args_string + ")"


class LocScale(Distribution):
    """A family with a location ``loc`` and a scale ``scale`` broadcast together (Normal,
    Laplace, Cauchy): their construction and ``expand``, as torch writes each of them."""

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        if isinstance(loc, ops.Number) and isinstance(scale, ops.Number):
            batch_shape = ops.Size()
        else:
            batch_shape = self.loc.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """The distribution with batch dims expanded to ``batch_shape``."""
        family = next(c for c in type(self).__mro__ if LocScale in c.__bases__)  # Normal...
        new = self._get_checked_instance(family, _instance)
        batch_shape = ops.Size(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new
