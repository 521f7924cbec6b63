"""Utilities: ``gputensor.utils.data`` (datasets, samplers, DataLoader)."""

from . import data
