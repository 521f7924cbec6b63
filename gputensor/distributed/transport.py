"""Moving arrays between ranks: MPI (``mpi4py``) for host arrays, NCCL (CuPy) for GPU ones.

A tensor's array reaches a transport contiguous. ``stage`` gives the array a transport works
on and ``unstage`` writes a result back into the tensor. On CPU tensors that is the NumPy array
itself; CUDA tensors of a group whose backend is "nccl" stay on the GPU and go through NCCL.
Other CUDA tensors (the "mpi"/"gloo" backends, or the simulated CUDA device, where MPI stands
in for NCCL) are staged through host memory.

Reductions run natively for float32/64 and integers; float16 and bfloat16 are reduced in
float32 and rounded back; bool reduces as uint8 with SUM as MAX (logical or) and PRODUCT as
MIN (logical and), as torch's NCCL backend does. ``AVG`` is a sum divided by the group size
(truncating for integers, as NCCL's average does).
"""

from __future__ import annotations

import time

import numpy as np

from ..backends import simulating_cuda
from .groups import ReduceOp, _mpi

__all__ = ["Work", "reduce_dtype", "stage", "unstage", "uses_nccl"]

_UPCAST = ("float16", "bfloat16")


def uses_nccl(pg, tensor) -> bool:
    """True when ``tensor``'s collectives go through NCCL (a real GPU in an "nccl" group)."""
    return pg._backend == "nccl" and tensor.is_cuda and not simulating_cuda()


def stage(tensor, nccl: bool):
    """A contiguous array holding ``tensor``'s values for a transport (no copy when it can)."""
    data = tensor._data
    if nccl:
        with tensor._on_device():
            return tensor._backend.xp.ascontiguousarray(data)
    if isinstance(data, np.ndarray):
        return np.ascontiguousarray(data)
    return np.ascontiguousarray(data.get())  # device -> host (MPI on CUDA tensors)


def unstage(tensor, array) -> None:
    """Write ``array`` (the staged result) into ``tensor`` in place; count the change."""
    data = tensor._data
    if not _same_memory(array, data):
        if isinstance(data, np.ndarray) or not isinstance(array, np.ndarray):
            data[...] = array.reshape(data.shape)
        else:
            with tensor._on_device():
                data[...] = tensor._backend.xp.asarray(array.reshape(data.shape))
    tensor._version.value += 1


def _same_memory(array, data) -> bool:
    """True when ``array`` is ``data``'s own memory in the same layout (nothing to copy).

    The arrays met here are the tensor's contiguous array, views of all of it, or copies, so
    two contiguous arrays of one size and dtype that overlap start at the same address."""
    if array is data:
        return True
    return (type(array) is np.ndarray and type(data) is np.ndarray
            and array.size == data.size and array.dtype == data.dtype
            and data.flags.c_contiguous and array.flags.c_contiguous
            and np.may_share_memory(array, data))


_MPI_OPS = {}


def _mpi_op(op: ReduceOp):
    """The MPI operation for ``op`` (AVG: a sum, divided afterwards)."""
    if not _MPI_OPS:
        MPI = _mpi()
        _MPI_OPS.update({ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM,
                         ReduceOp.PRODUCT: MPI.PROD, ReduceOp.MIN: MPI.MIN,
                         ReduceOp.MAX: MPI.MAX})
    return _MPI_OPS[op]


def reduce_dtype(array, op: ReduceOp):
    """(the array to reduce, the MPI op, a function turning the reduced array into the result,
    or None when the reduced array is the result)."""
    dtype = array.dtype
    if dtype.kind in "fiuc" and dtype.itemsize > 2 or dtype.kind in "iu":
        return array, _mpi_op(op), None
    if dtype == np.bool_:
        if op is ReduceOp.AVG:
            raise TypeError("Cannot use ReduceOp.AVG with boolean inputs")
        op = {ReduceOp.SUM: ReduceOp.MAX, ReduceOp.PRODUCT: ReduceOp.MIN}.get(op, op)
        return array.view(np.uint8), _mpi_op(op), lambda r: r.view(np.bool_)
    if dtype.name in _UPCAST:
        return array.astype(np.float32), _mpi_op(op), lambda r: r.astype(dtype)
    return array, _mpi_op(op), None


def averaged(array, size: int):
    """The sum ``array`` divided by ``size`` in its own dtype (in place where it can)."""
    if array.dtype.kind == "f":
        array /= size
        return array
    if array.dtype.kind in "iu":
        return (array / size).astype(array.dtype)  # truncation, as an integer division
    return array / size


class Work:
    """A started operation: ``wait()`` blocks until it is done, ``is_completed()`` asks."""

    def __init__(self, requests, finish=None, timeout=None, result=None):
        self._requests = list(requests)
        self._finish = finish
        self._timeout = timeout
        self._done = False
        self._result = result

    def _complete(self) -> None:
        self._done = True
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()

    def is_completed(self) -> bool:
        """True once the operation has finished (its result written)."""
        if not self._done and _mpi().Request.Testall(self._requests):
            self._complete()
        return self._done

    def wait(self, timeout=None) -> bool:
        """Block until the operation is done (RuntimeError past ``timeout``); True."""
        if self._done:
            return True
        limit = timeout if timeout is not None else self._timeout
        if limit is None:
            _mpi().Request.Waitall(self._requests)
        else:
            seconds = limit.total_seconds() if hasattr(limit, "total_seconds") else limit
            deadline = time.monotonic() + seconds
            while not _mpi().Request.Testall(self._requests):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"a collective timed out after {seconds} seconds: "
                                       "another rank did not join it")
                time.sleep(0.0005)
        self._complete()
        return True

    def result(self):
        """The operation's output tensors."""
        return self._result

    def get_future(self):
        """Not supported: gputensor's work handles have no futures."""
        raise RuntimeError("get_future is not supported by gputensor's work handles")


class DoneWork(Work):
    """A handle for an operation that finished when it was started (NCCL on its stream)."""

    def __init__(self, result=None):
        super().__init__([], result=result)
        self._done = True


class NcclComm:
    """An NCCL communicator over CuPy for one process group (its unique id sent over MPI)."""

    def __init__(self, pg):
        from cupy.cuda import nccl
        self._nccl = nccl
        uid = nccl.get_unique_id() if pg.rank() == 0 else None
        uid = pg._comm.bcast(uid, root=0)
        self.comm = nccl.NcclCommunicator(pg.size(), uid, pg.rank())

    def _dtype(self, array):
        nccl = self._nccl
        codes = {"float16": nccl.NCCL_FLOAT16, "float32": nccl.NCCL_FLOAT32,
                 "float64": nccl.NCCL_FLOAT64, "int32": nccl.NCCL_INT32,
                 "int64": nccl.NCCL_INT64, "uint8": nccl.NCCL_UINT8, "int8": nccl.NCCL_INT8,
                 "bool": nccl.NCCL_UINT8}
        if array.dtype.name == "bfloat16" and hasattr(nccl, "NCCL_BFLOAT16"):
            return nccl.NCCL_BFLOAT16
        if array.dtype.name not in codes:
            raise TypeError(f"NCCL cannot move {array.dtype.name} arrays")
        return codes[array.dtype.name]

    def _op(self, op: ReduceOp, array):
        nccl = self._nccl
        if array.dtype.name == "bool":
            if op is ReduceOp.AVG:
                raise TypeError("Cannot use ReduceOp.AVG with boolean inputs")
            op = {ReduceOp.SUM: ReduceOp.MAX, ReduceOp.PRODUCT: ReduceOp.MIN}.get(op, op)
        return {ReduceOp.SUM: nccl.NCCL_SUM, ReduceOp.PRODUCT: nccl.NCCL_PROD,
                ReduceOp.MIN: nccl.NCCL_MIN, ReduceOp.MAX: nccl.NCCL_MAX,
                ReduceOp.AVG: getattr(nccl, "NCCL_AVG", 4)}[op]

    @staticmethod
    def _stream():
        from cupy.cuda import get_current_stream
        return get_current_stream().ptr

    def all_reduce(self, send, recv, op: ReduceOp) -> None:
        """``recv`` = the ranks' ``send`` combined by ``op``."""
        self.comm.allReduce(send.data.ptr, recv.data.ptr, send.size, self._dtype(send),
                            self._op(op, send), self._stream())

    def reduce(self, send, recv, op: ReduceOp, root: int) -> None:
        """``recv`` on ``root`` = the ranks' ``send`` combined by ``op``."""
        self.comm.reduce(send.data.ptr, recv.data.ptr, send.size, self._dtype(send),
                         self._op(op, send), root, self._stream())

    def broadcast(self, array, root: int) -> None:
        """``array`` on every rank = ``array`` on ``root``."""
        self.comm.broadcast(array.data.ptr, array.data.ptr, array.size, self._dtype(array),
                            root, self._stream())

    def all_gather(self, send, recv) -> None:
        """``recv`` = every rank's ``send``, concatenated in rank order."""
        self.comm.allGather(send.data.ptr, recv.data.ptr, send.size, self._dtype(send),
                            self._stream())

    def reduce_scatter(self, send, recv, op: ReduceOp) -> None:
        """``recv`` = this rank's block of the ranks' ``send`` combined by ``op``."""
        self.comm.reduceScatter(send.data.ptr, recv.data.ptr, recv.size, self._dtype(send),
                                self._op(op, send), self._stream())

    def send(self, array, peer: int) -> None:
        """Send ``array`` to ``peer``."""
        self.comm.send(array.data.ptr, array.size, self._dtype(array), peer, self._stream())

    def recv(self, array, peer: int) -> None:
        """Receive ``array`` from ``peer``."""
        self.comm.recv(array.data.ptr, array.size, self._dtype(array), peer, self._stream())


def nccl_comm(pg) -> NcclComm:
    """The group's NCCL communicator, made on first use (every rank must reach this call)."""
    if pg._nccl is None:
        pg._nccl = NcclComm(pg)
    return pg._nccl
