"""Whether a large loop runs its threaded build or its one-thread build: whichever was faster
on its latest calls, each build tried again now and then.

Numba's OpenMP pool waits at the end of a parallel loop for every thread; on a busy machine
a thread may not get a core for milliseconds, and a loop of 100 us then takes 10-15 ms
(measured on a 2-core machine at load 8: gelu forward of 256k float32, 90 us threaded when
its threads ran, 16 ms when they did not, 200-400 us on one thread). So each call is timed,
per loop and size class: the build whose best time per element over its latest ``KEPT``
calls is the lower runs (one slow call does not switch builds, a few do), and the other one
runs once every ``interval`` calls to refresh its times (``interval``
doubles, up to ``LONGEST_INTERVAL``, while the other keeps losing). Both builds compute the
same values (a loop's split never changes its results), so the choice changes only speed.
"""

from __future__ import annotations

import time

__all__ = ["ThreadChoice", "thread_choice"]

FIRST_INTERVAL = 16  # calls between tries of the build not chosen
KEPT = 3  # latest times kept per build
LONGEST_INTERVAL = 512


class ThreadChoice:
    """Per ``(loop, size class)``: the latest seconds per element of each build."""

    def __init__(self):
        # key -> [serial s/elem list, parallel s/elem list, calls to next try, interval]
        self._states = {}
        self.force = None  # True: always the threaded build; False: always the one-thread one

    def run(self, key, size: int, serial, parallel, *args):
        """Call ``serial(*args)`` or ``parallel(*args)`` (the build chosen for ``key`` and
        ``size`` elements), timing it; returns what it returns."""
        if self.force is not None:
            return (parallel if self.force else serial)(*args)
        key = (key, size.bit_length())
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = [[], [], FIRST_INTERVAL, FIRST_INTERVAL]
        serial_times, parallel_times, countdown, interval = state
        serial_time = min(serial_times) if serial_times else None
        parallel_time = min(parallel_times) if parallel_times else None
        if parallel_time is None:
            use_parallel = True
        elif serial_time is None:
            use_parallel = False
        else:
            use_parallel = parallel_time <= serial_time
            countdown -= 1
            if countdown <= 0:  # try the other build
                use_parallel = not use_parallel
                countdown = interval
            state[2] = countdown
        start = time.perf_counter()
        result = (parallel if use_parallel else serial)(*args)
        per_element = (time.perf_counter() - start) / max(size, 1)
        times = parallel_times if use_parallel else serial_times
        times.append(per_element)
        if len(times) > KEPT:
            del times[0]
        if countdown == interval and serial_time is not None and parallel_time is not None:
            # the other build just ran: it won (back to trying often) or lost (less often)
            won = per_element < (serial_time if use_parallel else parallel_time)
            state[3] = FIRST_INTERVAL if won else min(interval * 2, LONGEST_INTERVAL)
            state[2] = state[3]
        return result


thread_choice = ThreadChoice()  # one for the process: the CPU loops share it
