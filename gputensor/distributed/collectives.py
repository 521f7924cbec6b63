"""torch.distributed's collectives on tensors: all_reduce, broadcast, gathers, scatters.

Each call writes its result into the given tensors in place. Before moving data, every rank
shares a fingerprint of the call (operation, reduce op, dtype, shape: one small all-gather),
so ranks that disagree all raise the same RuntimeError instead of mixing or summing
mismatched data. The check costs one latency-bound message per call; set
``GPUTENSOR_DISTRIBUTED_CHECKS=0`` to skip it once a program is known to be right.
"""

from __future__ import annotations

import os

import numpy as np

from .._tensor_core import TensorCore
from .groups import GroupMember, ReduceOp, _mpi, default_group
from .transport import (
    DoneWork,
    Work,
    averaged,
    nccl_comm,
    reduce_dtype,
    stage,
    unstage,
    uses_nccl,
)

__all__ = ["all_gather", "all_gather_into_tensor", "all_reduce", "barrier", "broadcast",
           "gather", "reduce", "reduce_scatter", "reduce_scatter_tensor", "scatter"]

_FINGERPRINT_OPS = ("ALLREDUCE", "BROADCAST", "REDUCE", "ALLGATHER", "_ALLGATHER_BASE",
                    "_REDUCE_SCATTER_BASE", "GATHER", "SCATTER")
_DTYPE_NAMES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
                "float32", "float64", "complex64", "complex128")
_TORCH_DTYPE_NAMES = ("Bool", "Byte", "Char", "Short", "Int", "Long", "Half", "BFloat16",
                      "Float", "Double", "ComplexFloat", "ComplexDouble")
_MAX_DIMS = 8
_PROCESS_GROUP_NAMES = {"gloo": "ProcessGroupGloo", "mpi": "ProcessGroupMPI",
                        "nccl": "ProcessGroupNCCL"}


def checks_enabled() -> bool:
    """Whether collectives compare their fingerprints across ranks first (the default)."""
    return os.environ.get("GPUTENSOR_DISTRIBUTED_CHECKS", "1") != "0"


def check_tensor(tensor, name: str = "tensor") -> None:
    """torch's TypeError for an argument that is not a tensor."""
    if not isinstance(tensor, TensorCore):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type "
                        f"torch.Tensor\n             but got {type(tensor)} instead.")


def check_tensor_list(tensors, name: str) -> None:
    """torch's TypeError for an argument that is not a list of tensors."""
    if not isinstance(tensors, (list, tuple)) or not all(
            isinstance(t, TensorCore) for t in tensors):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type "
                        "List[torch.Tensor]\n             but got "
                        f"{type(tensors)} instead.")


def member_group(group):
    """The group to run on, or None where this rank is outside ``group``."""
    pg = default_group() if group is None else group
    if pg == GroupMember.NON_GROUP_MEMBER:
        return None
    return pg


def group_root(pg, rank: int, opname: str) -> int:
    """The rank in ``pg`` of the global rank ``rank`` (torch's error when it is not there)."""
    if rank not in pg._ranks:
        raise RuntimeError(f"{_PROCESS_GROUP_NAMES[pg._backend]}::{opname}: invalid root rank: "
                           f"{rank}")
    return pg.group_rank(rank)


def _fingerprint_text(row) -> str:
    op, reduce_op, dtype, ndim = (int(v) for v in row[:4])
    shape = [int(v) for v in row[4:4 + ndim]]
    text = f"OpType={_FINGERPRINT_OPS[op]}, TensorShape={shape}"
    text += f", TensorDtypes={_TORCH_DTYPE_NAMES[dtype]}"
    return f"CollectiveFingerPrint({text}" + (f", ReduceOp={ReduceOp(reduce_op).name})"
                                               if reduce_op >= 0 else ")")


def check_fingerprint(pg, opname: str, tensor, op=None) -> None:
    """All ranks compare (operation, reduce op, dtype, shape) and raise alike on a mismatch."""
    if not checks_enabled() or pg.size() == 1:
        return
    shape = tuple(tensor.shape)
    if len(shape) > _MAX_DIMS:  # fold the leading dims: the element count still must agree
        shape = (int(np.prod(shape[:-_MAX_DIMS + 1])),) + shape[-_MAX_DIMS + 1:]
    if pg._fingerprints is None:  # reused: MPI is much faster on buffers it has seen
        pg._fingerprints = (np.empty(4 + _MAX_DIMS, np.int64),
                            np.empty((pg.size(), 4 + _MAX_DIMS), np.int64))
    row, rows = pg._fingerprints
    row[:] = -1
    row[:4] = (_FINGERPRINT_OPS.index(opname), -1 if op is None else ReduceOp(op).value,
               _DTYPE_NAMES.index(tensor._data.dtype.name), len(shape))
    row[4:4 + len(shape)] = shape
    run(pg, False, lambda: pg._comm.Allgather(row, rows),
        lambda: pg._comm.Iallgather(row, rows), None)
    differ = np.nonzero((rows != rows[0]).any(axis=1))[0]
    if differ.size:
        other = int(differ[0])
        raise RuntimeError(
            "Detected mismatch between collectives on ranks. Rank 0 is running collective: "
            f"{_fingerprint_text(rows[0])}, but Rank {other} is running collective: "
            f"{_fingerprint_text(rows[other])}.")


def run(pg, async_op: bool, start_blocking, start_nonblocking, finish, result=None):
    """Run an MPI operation: blocking (None), or started with a Work handle to wait on."""
    if async_op:
        return Work([start_nonblocking()], finish, pg._timeout, result)
    if pg._timeout is not None:
        Work([start_nonblocking()], finish, pg._timeout).wait()
        return None
    start_blocking()
    if finish is not None:
        finish()
    return None


def _nccl_done(async_op: bool, result=None):
    return DoneWork(result) if async_op else None


def _bytes(array):
    """A flat uint8 view of a contiguous array (data movement needs no dtype)."""
    return array.reshape(-1).view(np.uint8)


def all_reduce_array(pg, array, op, async_op: bool, finish_to=None):
    """Reduce a contiguous host ``array`` in place across ``pg``; ``finish_to(result)`` after."""
    MPI = _mpi()
    work, mpi_op, back = reduce_dtype(array.reshape(-1), op)
    size = pg.size()

    def finish():
        result = averaged(work, size) if op is ReduceOp.AVG else work
        result = back(result) if back is not None else result
        if finish_to is not None:
            finish_to(result)
        elif result is not array.reshape(-1):
            array.reshape(-1)[...] = result
    return run(pg, async_op, lambda: pg._comm.Allreduce(MPI.IN_PLACE, work, mpi_op),
               lambda: pg._comm.Iallreduce(MPI.IN_PLACE, work, mpi_op), finish)


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine ``tensor`` across the ranks of ``group`` by ``op``; every rank gets the result."""
    check_tensor(tensor)
    op = ReduceOp(op)
    pg = member_group(group)
    if pg is None:
        return None
    check_fingerprint(pg, "ALLREDUCE", tensor, op)
    if uses_nccl(pg, tensor):
        array = stage(tensor, True)
        nccl_comm(pg).all_reduce(array, array, op)
        unstage(tensor, array)
        return _nccl_done(async_op)
    array = stage(tensor, False)
    return all_reduce_array(pg, array, op, async_op,
                            lambda result: unstage(tensor, result.reshape(array.shape)))


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Copy ``tensor`` of rank ``src`` into ``tensor`` on every rank of ``group``."""
    check_tensor(tensor)
    pg = member_group(group)
    if pg is None:
        return None
    root = group_src if group_src is not None else group_root(pg, src or 0, "broadcast")
    check_fingerprint(pg, "BROADCAST", tensor)
    if uses_nccl(pg, tensor):
        array = stage(tensor, True)
        nccl_comm(pg).broadcast(array, root)
        unstage(tensor, array)
        return _nccl_done(async_op)
    array = stage(tensor, False)
    data = _bytes(array)
    return run(pg, async_op, lambda: pg._comm.Bcast(data, root),
               lambda: pg._comm.Ibcast(data, root), lambda: unstage(tensor, array))


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Combine ``tensor`` across ``group`` by ``op`` into ``tensor`` on rank ``dst`` only."""
    check_tensor(tensor)
    op = ReduceOp(op)
    pg = member_group(group)
    if pg is None:
        return None
    root = group_dst if group_dst is not None else group_root(pg, dst or 0, "reduce")
    check_fingerprint(pg, "REDUCE", tensor, op)
    if uses_nccl(pg, tensor):
        array = stage(tensor, True)
        nccl_comm(pg).reduce(array, array, op, root)
        unstage(tensor, array)
        return _nccl_done(async_op)
    MPI = _mpi()
    array = stage(tensor, False)
    work, mpi_op, back = reduce_dtype(array.reshape(-1), op)
    mine = pg.rank() == root
    send, recv = (MPI.IN_PLACE, work) if mine else (work, None)

    def finish():
        if mine:
            result = averaged(work, pg.size()) if op is ReduceOp.AVG else work
            unstage(tensor, (back(result) if back else result).reshape(array.shape))
    return run(pg, async_op, lambda: pg._comm.Reduce(send, recv, mpi_op, root),
               lambda: pg._comm.Ireduce(send, recv, mpi_op, root), finish)


def _gather_into(pg, tensor, output_array, async_op, finish):
    """All-gather ``tensor`` into the contiguous ``output_array`` (rank-major)."""
    if uses_nccl(pg, tensor):
        nccl_comm(pg).all_gather(stage(tensor, True), output_array)
        finish()
        return _nccl_done(async_op)
    send = _bytes(stage(tensor, False))
    recv = _bytes(output_array)
    return run(pg, async_op, lambda: pg._comm.Allgather(send, recv),
               lambda: pg._comm.Iallgather(send, recv), finish)


def _output_buffer(pg, tensor, shape):
    """A new contiguous array for a result of ``shape`` on the transport's side."""
    if uses_nccl(pg, tensor):
        with tensor._on_device():
            return tensor._backend.xp.empty(shape, tensor._data.dtype)
    return np.empty(shape, tensor._data.dtype)


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill ``tensor_list[i]`` with ``tensor`` of rank ``i`` of ``group``."""
    check_tensor_list(tensor_list, "tensor_list")
    check_tensor(tensor)
    pg = member_group(group)
    if pg is None:
        return None
    name = _PROCESS_GROUP_NAMES[pg._backend]
    if len(tensor_list) != pg.size():
        raise RuntimeError(f"{name}::allgather: invalid output tensor list at index 0 "
                           f"(expected length {pg.size()}, got {len(tensor_list)})")
    for t in tensor_list:
        if tuple(t.shape) != tuple(tensor.shape):
            raise RuntimeError(f"{name}::allgather: invalid tensor size at index 0 (expected "
                               f"({', '.join(map(str, tensor.shape))}), got "
                               f"({', '.join(map(str, t.shape))}))")
        if t.dtype != tensor.dtype:
            raise RuntimeError(f"{name}::allgather: invalid tensor type at index 0 "
                               f"(expected {tensor._type_text()}, got {t._type_text()})")
    check_fingerprint(pg, "ALLGATHER", tensor)
    output = _output_buffer(pg, tensor, (pg.size(),) + tuple(tensor.shape))

    def finish():
        for i, t in enumerate(tensor_list):
            unstage(t, output[i])
    return _gather_into(pg, tensor, output, async_op, finish)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """``output_tensor`` = every rank's ``input_tensor`` concatenated (or stacked) in order."""
    check_tensor(output_tensor, "output_tensor")
    check_tensor(input_tensor, "input_tensor")
    pg = member_group(group)
    if pg is None:
        return None
    if output_tensor.numel() != input_tensor.numel() * pg.size():
        raise ValueError("output tensor size must be equal to world_size times input tensor "
                         "size")
    if output_tensor.dtype != input_tensor.dtype:
        raise ValueError("output tensor must have the same type as input tensor")
    check_fingerprint(pg, "_ALLGATHER_BASE", input_tensor)
    output = _output_buffer(pg, output_tensor, tuple(output_tensor.shape))
    return _gather_into(pg, input_tensor, output, async_op, lambda: unstage(output_tensor, output))


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """``output`` = this rank's block of ``input`` combined across the ranks by ``op``."""
    check_tensor(output, "output")
    check_tensor(input, "input")
    op = ReduceOp(op)
    pg = member_group(group)
    if pg is None:
        return None
    if input.numel() != output.numel() * pg.size():
        raise ValueError("input tensor must be the same size as output size times world size")
    if output.dtype != input.dtype:
        raise ValueError("input tensor must be the same type as the output tensor.")
    check_fingerprint(pg, "_REDUCE_SCATTER_BASE", output, op)
    if uses_nccl(pg, input):
        result = _output_buffer(pg, output, tuple(output.shape))
        nccl_comm(pg).reduce_scatter(stage(input, True), result, op)
        unstage(output, result)
        return _nccl_done(async_op)
    send, mpi_op, back = reduce_dtype(stage(input, False).reshape(-1), op)
    recv = np.empty(output.numel(), send.dtype)

    def finish():
        result = averaged(recv, pg.size()) if op is ReduceOp.AVG else recv
        unstage(output, (back(result) if back else result).reshape(tuple(output.shape)))
    return run(pg, async_op, lambda: pg._comm.Reduce_scatter_block(send, recv, mpi_op),
               lambda: pg._comm.Ireduce_scatter_block(send, recv, mpi_op), finish)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """``output`` = ``input_list[rank]`` combined across the ranks by ``op``."""
    check_tensor(output, "output")
    check_tensor_list(input_list, "input_list")
    pg = member_group(group)
    if pg is None:
        return None
    if len(input_list) != pg.size():
        raise ValueError(f"input_list must have {pg.size()} tensors, got {len(input_list)}")
    flat = output._wrap(np.concatenate([stage(t, False).reshape(-1) for t in input_list])
                        if not uses_nccl(pg, output) else
                        output._backend.xp.concatenate([t._data.reshape(-1)
                                                        for t in input_list]))
    return reduce_scatter_tensor(output, flat, op, group, async_op)


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """Fill ``gather_list[i]`` on rank ``dst`` with ``tensor`` of rank ``i``."""
    check_tensor(tensor)
    pg = member_group(group)
    if pg is None:
        return None
    root = group_dst if group_dst is not None else group_root(pg, dst or 0, "gather")
    mine = pg.rank() == root
    if mine:
        if not gather_list:
            raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
        check_tensor_list(gather_list, "gather_list")
        if len(gather_list) != pg.size():
            raise ValueError("Argument ``gather_list`` must have world size elements")
    elif gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination "
                         "ranks.")
    check_fingerprint(pg, "GATHER", tensor)
    output = _output_buffer(pg, tensor, (pg.size(),) + tuple(tensor.shape))

    def finish():
        if mine:
            for i, t in enumerate(gather_list):
                unstage(t, output[i])
    if uses_nccl(pg, tensor):  # NCCL has no gather: an all-gather, kept on dst only
        return _gather_into(pg, tensor, output, async_op, finish)
    send = _bytes(stage(tensor, False))
    recv = _bytes(output) if mine else None
    return run(pg, async_op, lambda: pg._comm.Gather(send, recv, root),
               lambda: pg._comm.Igather(send, recv, root), finish)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """``tensor`` on rank ``i`` = ``scatter_list[i]`` of rank ``src``."""
    check_tensor(tensor)
    pg = member_group(group)
    if pg is None:
        return None
    root = group_src if group_src is not None else group_root(pg, src or 0, "scatter")
    mine = pg.rank() == root
    if mine:
        if not scatter_list:
            raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
        check_tensor_list(scatter_list, "scatter_list")
        if len(scatter_list) != pg.size():
            raise ValueError("Argument ``scatter_list`` must have world size elements")
        for t in scatter_list:
            if tuple(t.shape) != tuple(tensor.shape) or t.dtype != tensor.dtype:
                raise ValueError("Argument ``scatter_list`` must hold tensors of the output "
                                 "tensor's shape and dtype")
    elif scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    check_fingerprint(pg, "SCATTER", tensor)
    if uses_nccl(pg, tensor):  # NCCL has no scatter: a broadcast of the blocks
        xp = tensor._backend.xp
        with tensor._on_device():
            blocks = (xp.stack([t._data for t in scatter_list]) if mine else
                      xp.empty((pg.size(),) + tuple(tensor.shape), tensor._data.dtype))
        nccl_comm(pg).broadcast(blocks, root)
        unstage(tensor, blocks[pg.rank()])
        return _nccl_done(async_op)
    send = _bytes(np.stack([stage(t, False) for t in scatter_list])) if mine else None
    output = np.empty(tuple(tensor.shape), tensor._data.dtype)
    recv = _bytes(output)
    return run(pg, async_op, lambda: pg._comm.Scatter(send, recv, root),
               lambda: pg._comm.Iscatter(send, recv, root), lambda: unstage(tensor, output))


def barrier(group=None, async_op=False, device_ids=None):
    """Wait until every rank of ``group`` has reached this call."""
    pg = member_group(group)
    if pg is None:
        return None
    return run(pg, async_op, pg._comm.Barrier, pg._comm.Ibarrier, None)
