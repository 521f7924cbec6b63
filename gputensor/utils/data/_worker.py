"""DataLoader worker processes, as torch's ``torch/utils/data/_utils/worker.py``.

``worker_loop`` runs in each worker: it seeds Python's ``random``, gputensor's global generator
(``base_seed + worker_id``) and NumPy's legacy generator (torch's hash of the two), sets the
``WorkerInfo`` that ``get_worker_info()`` returns there, calls ``worker_init_fn``, then answers
``(task index, indices)`` from its index queue with ``(task index, batch)`` on the shared result
queue until it reads ``None``. An exception travels as an ``ExceptionWrapper`` (the traceback
as text) and is raised again in the main process. ``Fetcher`` turns indices into a batch, in a
worker and in the main process alike.
"""

from __future__ import annotations

import os
import queue
import random
import sys
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...random import manual_seed

__all__ = ["WorkerInfo", "get_worker_info"]

STATUS_CHECK_INTERVAL = 5.0  # seconds between a worker's checks that its parent still lives
_worker_info = None  # this process's WorkerInfo (None in the main process)


@dataclass
class WorkerInfo:
    """What a DataLoader worker knows about itself: id, num_workers, seed and its dataset."""

    id: int
    num_workers: int
    seed: int
    dataset: Any
    rng: Any = None
    worker_method: str | None = "multiprocessing"


def get_worker_info():
    """The current DataLoader worker's WorkerInfo; None in the main process."""
    return _worker_info


class KeyErrorMessage(str):
    """A KeyError's text that prints its line breaks (KeyError shows the repr of its text)."""

    def __repr__(self):
        return self


class ExceptionWrapper:
    """An exception raised in a worker, with its traceback as text, to raise again elsewhere."""

    def __init__(self, exc_info=None, where="in background"):
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        """Raise the exception again: its type, with torch's text naming where it happened."""
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)
        elif getattr(self.exc_type, "message", None):
            raise self.exc_type(message=msg)
        try:
            exception = self.exc_type(msg)
        except Exception:  # noqa: BLE001 - an exception type that takes other arguments
            raise RuntimeError(msg) from None
        raise exception


@dataclass(frozen=True)
class IterableStop:
    """A worker's iterable dataset is exhausted."""

    worker_id: int


class ResumeIteration:
    """Tells a persistent worker that a new epoch begins (its fetcher starts over)."""


class Fetcher:
    """Indices (a batch of them, or one) to a collated batch of a dataset's samples."""

    def __init__(self, dataset, iterable: bool, auto_collation: bool, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.dataset_iter = iter(dataset) if iterable else None
        self.ended = False

    def fetch(self, index):
        """The collated samples of ``index``; StopIteration when an iterable dataset ends."""
        if self.dataset_iter is not None:
            return self.collate_fn(self._next_iterable(index))
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        getitems = getattr(self.dataset, "__getitems__", None)
        data = getitems(index) if getitems else [self.dataset[i] for i in index]
        return self.collate_fn(data)

    def _next_iterable(self, index):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return next(self.dataset_iter)
        data = []
        for _ in index:
            try:
                data.append(next(self.dataset_iter))
            except StopIteration:
                self.ended = True
                break
        if len(data) == 0 or (self.drop_last and len(data) < len(index)):
            raise StopIteration
        return data


def numpy_seed(base_seed: int, worker_id: int) -> list:
    """The NumPy seed of worker ``worker_id`` (torch's ``_generate_state``: four 32-bit words
    hashed from the worker id and the base seed)."""
    mask = 0xFFFFFFFF
    shift = 16
    entropy = [worker_id, base_seed & mask, base_seed >> 32, 0]
    hash_constant = [0x43B0D7E5]

    def hashed(value):
        value = (value ^ hash_constant[0]) & mask
        hash_constant[0] = (hash_constant[0] * 0x931E8875) & mask
        value = (value * hash_constant[0]) & mask
        return (value ^ (value >> shift)) & mask

    def mix(x, y):
        result = (((0xCA01F9DD * x) & mask) - ((0x4973F715 * y) & mask)) & mask
        return (result ^ (result >> shift)) & mask

    pool = [hashed(value) for value in entropy]
    for source in range(4):
        for target in range(4):
            if source != target:
                pool[target] = mix(pool[target], hashed(pool[source]))
    state, constant = [], 0x8B51F9DD
    for value in pool:
        value = (value ^ constant) & mask
        constant = (constant * 0x58F38DED) & mask
        value = (value * constant) & mask
        state.append((value ^ (value >> shift)) & mask)
    return state


def worker_loop(dataset, iterable, index_queue, result_queue, done_event, auto_collation,
                collate_fn, drop_last, base_seed, init_fn, worker_id, num_workers,
                parent_pid) -> None:
    """A worker process's life: seed, init, then fetch the batches its index queue asks for."""
    global _worker_info
    try:
        seed = base_seed + worker_id
        random.seed(seed)
        manual_seed(seed)
        np.random.seed(numpy_seed(base_seed, worker_id))
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)
        where = f"in DataLoader worker process {worker_id}"
        init_error = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = Fetcher(dataset, iterable, auto_collation, collate_fn, drop_last)
        except Exception:  # noqa: BLE001 - sent to the main process with the first task
            init_error = ExceptionWrapper(where=where)
        iteration_end = False
        while os.getppid() == parent_pid:
            try:
                task = index_queue.get(timeout=STATUS_CHECK_INTERVAL)
            except queue.Empty:
                continue
            if isinstance(task, ResumeIteration):
                result_queue.put((task, None))
                iteration_end = False
                fetcher = Fetcher(dataset, iterable, auto_collation, collate_fn, drop_last)
                continue
            if task is None:
                break
            if done_event.is_set() or iteration_end:
                continue
            task_index, index = task
            if init_error is not None:
                data, init_error = init_error, None
            else:
                try:
                    data = fetcher.fetch(index)
                except StopIteration:
                    if not iterable:
                        data = ExceptionWrapper(where=where)
                    else:
                        data, iteration_end = IterableStop(worker_id), True
                except Exception:  # noqa: BLE001 - raised again in the main process
                    data = ExceptionWrapper(where=where)
            result_queue.put((task_index, data))
            del data, task, index
    except KeyboardInterrupt:
        pass
    if done_event.is_set():
        result_queue.cancel_join_thread()
        result_queue.close()
