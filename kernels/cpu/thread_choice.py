"""Whether a large loop runs its threaded build or its one-thread build: whichever was faster
on its latest calls, each build tried again now and then.

Numba's OpenMP pool waits at the end of a parallel loop for every thread; on a busy machine
a thread may not get a core for milliseconds, and a loop of 100 us then takes 10-15 ms
(measured on a 2-core machine at load 8: gelu forward of 256k float32, 90 us threaded when
its threads ran, 16 ms when they did not, 200-400 us on one thread). So each call is timed,
per loop and size class: the build whose best time per element over its latest ``KEPT``
calls is the lower runs (one slow call does not switch builds, a few do), and the other one
runs again after ``FIRST_INTERVAL`` calls and a wait (doubled, up to ``LONGEST_WAIT``,
each time it loses) to refresh its times. Both builds compute the same values (a loop's
split never changes its results), so the choice changes only speed.
"""

from __future__ import annotations

import time

__all__ = ["ThreadChoice", "thread_choice"]

FIRST_INTERVAL = 16  # calls between tries of the build not chosen, at least
FIRST_WAIT = 1e-3  # seconds between tries of the build not chosen, at least: doubled after
LONGEST_WAIT = 1.0  # each try it loses (a slow try, up to ~15 ms, then costs ~1%), reset on a win
KEPT = 3  # latest times kept per build


class ThreadChoice:
    """Per ``(loop, size class)``: the latest seconds per element of each build."""

    def __init__(self):
        # key -> [serial s/elem list, parallel s/elem list, calls to next try, wait, next try]
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
            state = self._states[key] = [[], [], FIRST_INTERVAL, FIRST_WAIT, 0.0]
        serial_times, parallel_times = state[0], state[1]
        start = time.perf_counter()
        trying = False
        if not parallel_times:
            use_parallel = True
        elif not serial_times:
            use_parallel = False
        else:
            chosen_time = min(parallel_times)
            other_time = min(serial_times)
            use_parallel = chosen_time <= other_time
            if not use_parallel:
                chosen_time, other_time = other_time, chosen_time
            state[2] -= 1
            if state[2] <= 0 and start >= state[4]:  # try the other build
                use_parallel, trying = not use_parallel, True
                state[2] = FIRST_INTERVAL
        result = (parallel if use_parallel else serial)(*args)
        end = time.perf_counter()
        per_element = (end - start) / max(size, 1)
        times = parallel_times if use_parallel else serial_times
        times.append(per_element)
        if len(times) > KEPT:
            del times[0]
        if trying:  # the other build won (back to trying soon) or lost (later and later)
            state[3] = FIRST_WAIT if per_element < chosen_time else min(state[3] * 2,
                                                                         LONGEST_WAIT)
            state[4] = end + state[3]
        return result


thread_choice = ThreadChoice()  # one for the process: the CPU loops share it
