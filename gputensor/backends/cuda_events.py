"""CUDA events behind ``gputensor.cuda.Event``: CuPy's on a GPU, the wall clock when simulated.

An event marks a point in CuPy's current stream; two timing events give the device time
between them. Simulated work is finished when its call returns, so there a recorded time
is the wall clock and every event is complete.
"""

from __future__ import annotations

import time

from . import cuda as _cuda


class _SimulatedEvent:
    """An event of the simulated device: the wall-clock time it was recorded at."""

    done = True

    def __init__(self):
        self.time = None

    def record(self) -> None:
        self.time = time.perf_counter()

    def synchronize(self) -> None:
        pass


def new_event(timing: bool, blocking: bool):
    """A new event (CuPy's ``cupy.cuda.Event``; a wall-clock one when simulated)."""
    if _cuda._cupy is None:
        return _SimulatedEvent()
    return _cuda._cupy.cuda.Event(block=blocking, disable_timing=not timing)


def elapsed_ms(start, end) -> float:
    """Milliseconds between two recorded events (``end`` must be complete)."""
    if _cuda._cupy is None:
        return (end.time - start.time) * 1e3
    return float(_cuda._cupy.cuda.get_elapsed_time(start, end))
