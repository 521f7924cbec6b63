"""Utilities: ``gputensor.utils.data`` (datasets, samplers, DataLoader), ``dlpack`` (exchange
with other libraries) and ``hooks``."""

from . import data, dlpack, hooks
