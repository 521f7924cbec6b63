"""NumPy's BLAS on one thread for small matrix products, on the set count for large ones.

A BLAS call on two threads wakes (and leaves spinning) a second thread; for a small product
that costs more than it saves, and on a shared machine the spinning thread competes with
every other pool in the process (torch's, Numba's) and with other processes. Measured on a
shared 2-core machine (float32, median of 9 rounds): 128x784 @ 784x512 (51M multiply-adds)
0.99 ms on one thread against 1.37 ms on two, and a training step of the small GPT of
benchmarks/cases_gpt.py (products of at most 3.5M multiply-adds) 25 ms against 95 ms.
Products from ``ONE_THREAD_BELOW`` multiply-adds each run on the count that
``set_num_threads`` (or the BLAS library's default) gives.
"""

from __future__ import annotations

import threadpoolctl

__all__ = ["BlasThreads", "ONE_THREAD_BELOW"]

ONE_THREAD_BELOW = 1 << 26  # multiply-adds of one product (the last two dims)


class BlasThreads:
    """Switches the BLAS libraries NumPy loaded between one thread and their set count."""

    def __init__(self):
        self._controller = None  # threadpoolctl's, made on the first product
        self._saved = None  # the set count while switched to one thread, else None
        self.on_one_thread = False  # whether the libraries are known to run one thread now

    def _libraries(self):
        if self._controller is None:
            self._controller = threadpoolctl.ThreadpoolController().select(user_api="blas")
        return self._controller.lib_controllers

    def before_product(self, work: int) -> None:
        """Set the thread count for a product of ``work`` multiply-adds."""
        if work < ONE_THREAD_BELOW:
            if not self.on_one_thread:
                libraries = self._libraries()
                saved = [lib.get_num_threads() for lib in libraries]
                if any(count > 1 for count in saved):
                    self._saved = saved
                    for lib in libraries:
                        lib.set_num_threads(1)
                self.on_one_thread = True
        elif self._saved is not None:
            for lib, count in zip(self._libraries(), self._saved):
                lib.set_num_threads(count)
            self._saved = None
            self.on_one_thread = False

    def forget(self) -> None:
        """The count was set from outside (``set_num_threads``): nothing to restore."""
        self._saved = None
        self.on_one_thread = False
