"""Numba kernels, installed as ``gputensor.kernels``; nothing here imports gputensor."""
