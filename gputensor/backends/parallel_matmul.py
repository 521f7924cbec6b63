"""Matrix products split into blocks that the calling thread and helper threads share.

NumPy's BLAS runs small and middle-sized products on one thread (blas_threads.py): its own
threads spin after each call and, on a busy machine, fight every other thread pool. Here a
product of at least ``SPLIT_FROM`` multiply-adds is cut into one block per thread: column
blocks of ``b`` and the result (each block packs only its part of ``b``), or blocks of a
shared batch dim. The calling thread and ``threads - 1`` helper threads take blocks from
one counter, each block one single-threaded BLAS call (NumPy releases the GIL while it
runs). Idle helpers sleep on a queue instead of spinning, and the caller never waits for a
helper that has not started: when the helpers are slow to wake (a busy machine) the caller
computes every block itself. Waking a helper costs some 50 us here, so only products of
several hundred microseconds are split (measured on 2 cores: 128x784 @ 784x512, 753 us on
one thread, 507 us split in two; products under 5M multiply-adds got slower). Each block is
the same BLAS call whoever runs it, so the result does not depend on which thread took it.
"""

from __future__ import annotations

import itertools
import os
import queue
import threading

import numpy as np

__all__ = ["SPLIT_FROM", "SplitMatmul"]

SPLIT_FROM = 1 << 24  # multiply-adds of the whole product (batch included)
MIN_BLOCK_COLUMNS = 32  # columns of a block of a product split by columns


class _Job:
    """One split product: its blocks, the next block's number and the blocks left."""

    __slots__ = ("run", "count", "next", "left", "lock", "done")

    def __init__(self, run, count: int):
        self.run, self.count = run, count
        self.next = itertools.count()  # next() is atomic under the GIL
        self.left = count
        self.lock = threading.Lock()
        self.done = threading.Event()

    def work(self) -> None:
        """Run blocks until none is left to take."""
        while True:
            k = next(self.next)
            if k >= self.count:
                return
            self.run(k)
            with self.lock:
                self.left -= 1
                finished = self.left == 0
            if finished:
                self.done.set()


class SplitMatmul:
    """Products over the set thread count: the caller plus sleeping helper threads."""

    def __init__(self):
        self.threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
            else (os.cpu_count() or 1)
        self._jobs = None  # the helpers' queue, made when the first product is split
        self._helpers = 0
        if hasattr(os, "register_at_fork"):  # a forked child starts without helpers
            os.register_at_fork(after_in_child=self._forget_helpers)

    def _forget_helpers(self) -> None:
        self._jobs, self._helpers = None, 0

    def _start_helpers(self, count: int) -> None:
        if self._jobs is None:
            self._jobs = queue.SimpleQueue()
        while self._helpers < count:
            threading.Thread(target=self._serve, args=(self._jobs,), daemon=True,
                             name="gputensor-matmul").start()
            self._helpers += 1

    @staticmethod
    def _serve(jobs) -> None:
        while True:
            jobs.get().work()

    def matmul(self, a, b):
        """``a @ b`` split over the threads, or None when it is not worth splitting (or the
        operands' layout does not split: the caller then runs one BLAS call)."""
        threads = self.threads
        if threads < 2 or a.ndim < 2 or b.ndim < 2 or a.dtype != b.dtype:
            return None
        m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
        batch = a.shape[:-2]
        if b.shape[:-2] != batch and b.ndim != 2:
            return None  # broadcast batches: one call
        work = m * k * n
        for size in batch:
            work *= size
        if work < SPLIT_FROM:
            return None
        out = np.empty(batch + (m, n), dtype=a.dtype)
        if batch and batch[0] >= threads:  # blocks of the first batch dim
            count = threads
            edges = [batch[0] * i // count for i in range(count + 1)]
            shared_b = b.ndim == 2

            def run(i):
                lo, hi = edges[i], edges[i + 1]
                np.matmul(a[lo:hi], b if shared_b else b[lo:hi], out=out[lo:hi])
        else:  # column blocks
            count = min(threads, n // MIN_BLOCK_COLUMNS)
            if count < 2:
                return None
            edges = [n * i // count for i in range(count + 1)]

            def run(i):
                lo, hi = edges[i], edges[i + 1]
                np.matmul(a, b[..., lo:hi], out=out[..., lo:hi])
        job = _Job(run, count)
        self._start_helpers(threads - 1)
        for _ in range(threads - 1):
            self._jobs.put(job)
        job.work()
        job.done.wait()
        return out
