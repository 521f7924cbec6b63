"""``gputensor.nn.utils``: helpers for building and training networks, as ``torch.nn.utils``."""

from . import rnn
