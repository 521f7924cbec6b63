"""CUDA graphs on the simulated device: CuPy's stream capture, emulated.

``Stream.begin_capture()`` starts a ``Recorder``; every device operation of the simulated
CuPy (its functions, ufuncs, array methods, copies, the kernel modules' calls) is then
recorded with its arguments and its result, until ``end_capture()`` returns a ``Graph``.
``Graph.launch()`` runs the recorded operations again in order on the same arrays, writing
each result into the array the capture made: what a CUDA graph does with its kernels and
their fixed addresses. As on a GPU:

- a capture computes nothing that outlives it: the arrays that existed before it are given
  their values back at ``end_capture`` and the float arrays it made are filled with NaN, so
  only a launch gives results;
- the arguments are fixed at capture (host numbers baked in, the same arrays read and
  written on each launch: new data reaches a graph by copying into its input arrays);
- a value read back to the host or a copy from host memory during the capture fails it:
  ``end_capture`` raises CUDA's error.
"""

from __future__ import annotations

import inspect

import numpy as np

from .sim_arrays import capture, ndarray, recorded

CAPTURE_UNSUPPORTED = "cudaErrorStreamCaptureUnsupported: operation not permitted when " \
                      "stream is capturing"


def _root(array: np.ndarray) -> np.ndarray:
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _arrays(value):
    """The simulated device arrays in an argument (inside lists, tuples and dicts too)."""
    kind = type(value)
    if kind is ndarray:
        yield value
    elif kind is list or kind is tuple:
        for item in value:
            yield from _arrays(item)
    elif kind is dict:
        for item in value.values():
            yield from _arrays(item)


def _store(result, fresh) -> None:
    """Write a launch's ``fresh`` result into the array(s) the capture made."""
    if type(result) is ndarray and type(fresh) is ndarray:
        if fresh is not result and not np.may_share_memory(fresh._array, result._array):
            result._array[...] = fresh._array
    elif isinstance(result, (tuple, list)) and isinstance(fresh, (tuple, list)):
        for r, f in zip(result, fresh):
            _store(r, f)


class Recorder:
    """The operations of a capture under way, and what it must undo when it ends."""

    def __init__(self):
        self.ops = []  # (function, args, kwargs, result)
        self.depth = 0  # > 0 inside a recorded operation (its inner operations are its own)
        self.saved = {}  # id(root buffer) -> (buffer, its values before the capture wrote it)
        self.made = {}  # id(root buffer) -> buffer, for the arrays the capture made
        self.failure = None

    def refuse(self, what: str) -> None:
        """Fail the capture (``end_capture`` raises), as CUDA does for ``what``."""
        if self.failure is None:
            self.failure = f"{CAPTURE_UNSUPPORTED} ({what})"

    def run(self, fn, args, kwargs):
        """Run and record one device operation (its arrays' earlier values are kept)."""
        if self.depth:
            return fn(*args, **kwargs)
        for a in (*_arrays(args), *_arrays(kwargs)):
            root = _root(a._array)
            if id(root) not in self.made and id(root) not in self.saved:
                self.saved[id(root)] = (root, root.copy())
        self.depth += 1
        try:
            result = fn(*args, **kwargs)
        finally:
            self.depth -= 1
        for r in _arrays(result):
            root = _root(r._array)
            if id(root) not in self.saved:
                self.made[id(root)] = root
        self.ops.append((fn, args, dict(kwargs), result))
        return result

    def finish(self) -> None:
        """Undo the capture's writes; the float arrays it made hold NaN until launched."""
        for root, values in self.saved.values():
            if root.flags.writeable:
                root[...] = values
        for root in self.made.values():
            if root.dtype.kind in "fc" and root.flags.writeable:
                root.fill(np.nan)


class Graph:
    """A captured sequence of device operations (``cupy.cuda.graph.Graph``)."""

    def __init__(self, ops):
        self._ops = ops

    def launch(self, stream=None) -> None:
        """Run the captured operations again on their arrays."""
        for fn, args, kwargs, result in self._ops:
            _store(result, fn(*args, **dict(kwargs)))


class Stream:
    """A stream that can capture a graph (``cupy.cuda.Stream``); simulated work runs at once."""

    def __init__(self, null=False, non_blocking=False, ptds=False):
        self._recorder = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def synchronize(self) -> None:
        """Nothing to wait for (a capture under way: CUDA's error)."""
        if self._recorder is not None:
            self._recorder.refuse("a stream synchronisation")

    def begin_capture(self, mode=None) -> None:
        """Start recording the device operations into a graph."""
        if capture[0] is not None:
            raise RuntimeError("cudaErrorIllegalState: a stream capture is under way")
        self._recorder = capture[0] = Recorder()

    def is_capturing(self) -> bool:
        """Whether this stream captures."""
        return self._recorder is not None

    def end_capture(self) -> Graph:
        """Stop capturing: the graph, or CUDA's error if the capture was invalidated."""
        recorder, self._recorder = self._recorder, None
        if recorder is None or capture[0] is not recorder:
            raise RuntimeError("cudaErrorIllegalState: the stream is not capturing")
        capture[0] = None
        recorder.finish()
        if recorder.failure is not None:
            raise RuntimeError(recorder.failure)
        return Graph(recorder.ops)


class RecordedModule:
    """A kernel module whose functions are recorded by a capture (a call, with the arrays
    it allocates and the kernels it launches, is one operation)."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        value = getattr(self._module, name)
        return recorded(value) if inspect.isfunction(value) else value
