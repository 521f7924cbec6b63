"""The one-hot categorical distribution."""

from . import _ops as ops
from . import constraints
from .categorical import Categorical
from .distribution import Distribution

__all__ = ["OneHotCategorical", "OneHotCategoricalStraightThrough"]


class OneHotCategorical(Distribution):
    """A one-hot categorical distribution parameterized by ``probs`` or ``logits``."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        batch_shape = self._categorical.batch_shape
        event_shape = self._categorical.param_shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """The distribution with batch dims expanded to ``batch_shape``."""
        new = self._get_checked_instance(OneHotCategorical, _instance)
        batch_shape = ops.Size(batch_shape)
        new._categorical = self._categorical.expand(batch_shape)
        super(OneHotCategorical, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _new(self, *args, **kwargs):
        return self._categorical._new(*args, **kwargs)

    @property
    def _param(self):
        return self._categorical._param

    @property
    def probs(self):
        """The probabilities of the events."""
        return self._categorical.probs

    @property
    def logits(self):
        """The log-odds (unnormalised log probabilities) of the events."""
        return self._categorical.logits

    @property
    def mean(self):
        """The mean of the distribution."""
        return self._categorical.probs

    @property
    def mode(self):
        """The mode of the distribution."""
        probs = self._categorical.probs
        mode = probs.argmax(dim=-1)
        return ops.one_hot(mode, num_classes=probs.shape[-1]).to(probs)

    @property
    def variance(self):
        """The variance of the distribution."""
        return self._categorical.probs * (1 - self._categorical.probs)

    @property
    def param_shape(self):
        """The shape of the probabilities (or logits) parameter."""
        return self._categorical.param_shape

    def sample(self, sample_shape=ops.Size()):
        """A sample of sample_shape + batch_shape + event_shape (no gradient)."""
        sample_shape = ops.Size(sample_shape)
        probs = self._categorical.probs
        num_events = self._categorical._num_events
        indices = self._categorical.sample(sample_shape)
        return ops.one_hot(indices, num_events).to(probs)

    def log_prob(self, value):
        """The log density (or mass) at ``value``."""
        if self._validate_args:
            self._validate_sample(value)
        indices = value.max(-1)[1]
        return self._categorical.log_prob(indices)

    def entropy(self):
        """The entropy, batched over batch_shape."""
        return self._categorical.entropy()

    def enumerate_support(self, expand=True):
        """Every value of the discrete support, batched."""
        n = self.event_shape[0]
        values = ops.eye(n, dtype=self._param.dtype, device=self._param.device)
        values = values.view((n,) + (1,) * len(self.batch_shape) + (n,))
        if expand:
            values = values.expand((n,) + self.batch_shape + (n,))
        return values


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """Creates a reparameterizable :class:`OneHotCategorical` distribution based on the straight-
    through gradient estimator from [1]."""

    has_rsample = True

    def rsample(self, sample_shape=ops.Size()):
        """A reparameterised sample of sample_shape + batch_shape + event_shape."""
        samples = self.sample(sample_shape)
        probs = self._categorical.probs
        return samples + (probs - probs.detach())
