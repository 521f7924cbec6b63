"""One pass over a DataLoader with worker processes (torch's
``_MultiProcessingDataLoaderIter``).

Each worker has its own index queue; all answer on one result queue. The iterator keeps
``prefetch_factor * num_workers`` tasks outstanding, sent round-robin to the workers still
running, and hands batches back in task order (out-of-order results wait in ``_task_info``).
With ``persistent_workers`` the workers live across epochs (``reset`` starts a new one);
otherwise they are stopped when the pass ends, on an error, when the iterator is dropped (a
``break`` out of the loop) and, being daemonic, at interpreter exit.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import queue

from ._worker import ExceptionWrapper, IterableStop, ResumeIteration, worker_loop

STATUS_CHECK_INTERVAL = 1.0  # seconds between checks that the workers still live


class MultiProcessingIter:
    """Batches loaded by ``loader.num_workers`` worker processes, in the sampler's order."""

    _shutdown = True

    def __init__(self, loader, base_seed: int) -> None:
        self._index_sampler = loader._index_sampler  # (not the loader: a persistent loader
        # holds this iterator, which stops its workers when the loader goes)
        self._num_workers = loader.num_workers
        self._prefetch_factor = loader.prefetch_factor
        self._timeout = loader.timeout
        self._persistent_workers = loader.persistent_workers
        self._iterable = loader._iterable
        self._workers = []
        self._index_queues = []
        context = loader.multiprocessing_context or multiprocessing.get_context()
        self._result_queue = context.Queue()
        self._done_event = context.Event()
        self._shutdown = False  # (True, the class's value, until the queues exist)
        try:
            for worker_id in range(self._num_workers):
                index_queue = context.Queue()
                index_queue.cancel_join_thread()
                worker = context.Process(
                    target=worker_loop, daemon=True,
                    args=(loader.dataset, self._iterable, index_queue, self._result_queue,
                          self._done_event, loader._auto_collation, loader.collate_fn,
                          loader.drop_last, base_seed, loader.worker_init_fn, worker_id,
                          self._num_workers, os.getpid()))
                worker.start()
                self._index_queues.append(index_queue)
                self._workers.append(worker)
            self.reset(loader, first_iter=True)
        except BaseException:
            self.shutdown_workers()
            raise

    def __iter__(self) -> MultiProcessingIter:
        return self

    def __len__(self) -> int:
        return len(self._index_sampler)

    def reset(self, loader, first_iter=False) -> None:
        """Start a pass: a new sampler iterator, and (persistent workers) a new epoch in each."""
        self._index_sampler = loader._index_sampler
        self._sampler_iter = iter(self._index_sampler)
        self._send_idx = self._rcvd_idx = 0
        self._task_info = {}  # task index -> (worker id,) or (worker id, result)
        self._workers_status = [True] * self._num_workers
        self._worker_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            for index_queue in self._index_queues:
                index_queue.put(ResumeIteration())
            waiting = self._num_workers
            while waiting > 0:
                task_index, _ = self._get_data()
                if isinstance(task_index, ResumeIteration):
                    waiting -= 1
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _try_put_index(self) -> None:
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        for _ in range(self._num_workers):
            worker_id = next(self._worker_cycle)
            if self._workers_status[worker_id]:
                break
        else:
            return  # every worker's iterable dataset has ended
        self._index_queues[worker_id].put((self._send_idx, index))
        self._task_info[self._send_idx] = (worker_id,)
        self._send_idx += 1

    def _get_data(self):
        """The next result from any worker; RuntimeError on a timeout or a dead worker."""
        while True:
            wait = self._timeout if self._timeout > 0 else STATUS_CHECK_INTERVAL
            try:
                return self._result_queue.get(timeout=wait)
            except queue.Empty:
                if self._timeout > 0:
                    self.shutdown_workers()
                    raise RuntimeError(f"DataLoader timed out after {self._timeout} "
                                       "seconds") from None
            dead = [w for w in self._workers if not w.is_alive()]
            if dead:
                pids = ", ".join(str(w.pid) for w in dead)
                self.shutdown_workers()
                raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly")

    def __next__(self):
        try:
            return self._next_data()
        except BaseException as error:
            if not isinstance(error, StopIteration) or not self._persistent_workers:
                self.shutdown_workers()
            raise

    def _next_data(self):
        while True:
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info and (len(info) == 2 or self._workers_status[info[0]]):
                    break
                self._task_info.pop(self._rcvd_idx, None)
                self._rcvd_idx += 1
            else:
                raise StopIteration
            if len(self._task_info[self._rcvd_idx]) == 2:
                data = self._task_info.pop(self._rcvd_idx)[1]
                self._rcvd_idx += 1
                return self._process(data)
            task_index, data = self._get_data()
            if isinstance(data, IterableStop):
                self._workers_status[data.worker_id] = False
                self._try_put_index()
                continue
            if task_index != self._rcvd_idx:
                self._task_info[task_index] += (data,)
                continue
            del self._task_info[task_index]
            self._rcvd_idx += 1
            return self._process(data)

    def _process(self, data):
        self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return data

    def shutdown_workers(self) -> None:
        """Stop the workers (a None on each index queue), join them, close the queues."""
        if self._shutdown:
            return
        self._shutdown = True
        try:
            self._done_event.set()
            for index_queue in self._index_queues:
                index_queue.put(None)
            for worker in self._workers:
                worker.join(timeout=STATUS_CHECK_INTERVAL)
            for index_queue in self._index_queues:
                index_queue.cancel_join_thread()
                index_queue.close()
            self._result_queue.cancel_join_thread()
            self._result_queue.close()
        finally:
            for worker in self._workers:
                if worker.is_alive():
                    worker.terminate()
                    worker.join()

    def __del__(self):
        self.shutdown_workers()
