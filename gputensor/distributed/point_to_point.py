"""Point-to-point messages (send, recv, isend, irecv) and collectives on Python objects.

Objects are pickled in memory by ``mpi4py`` (``bcast``, ``allgather``...): nothing touches
the disk.
"""

from __future__ import annotations

from .collectives import check_tensor, group_root, member_group
from .groups import _mpi
from .transport import DoneWork, Work, nccl_comm, stage, unstage, uses_nccl

__all__ = ["all_gather_object", "broadcast_object_list", "gather_object", "irecv", "isend",
           "recv", "scatter_object_list", "send"]


def _peer(pg, rank: int, role: str) -> int:
    """The group rank of the peer ``rank`` (torch's error when it is this process)."""
    if rank == pg._ranks[pg.rank()]:
        raise ValueError(f"Invalid {role} rank: {role} rank should not be the same as the "
                         "rank of the current process.")
    return group_root(pg, rank, "send" if role == "destination" else "recv")


def _flat_bytes(array):
    return array.reshape(-1).view("uint8")


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Start sending ``tensor`` to rank ``dst``; a work handle to ``wait()`` on."""
    check_tensor(tensor)
    pg = member_group(group)
    if pg is None:
        return None
    peer = group_dst if group_dst is not None else _peer(pg, dst, "destination")
    if uses_nccl(pg, tensor):
        nccl_comm(pg).send(stage(tensor, True), peer)
        return DoneWork()
    array = stage(tensor, False)
    return Work([pg._comm.Isend(_flat_bytes(array), peer, tag)], None, pg._timeout)


def send(tensor, dst=None, group=None, tag=0, group_dst=None) -> None:
    """Send ``tensor`` to rank ``dst`` (returns when the buffer may be reused)."""
    work = isend(tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    """Start receiving into ``tensor`` from rank ``src`` (any rank when None)."""
    check_tensor(tensor)
    pg = member_group(group)
    if pg is None:
        return None
    MPI = _mpi()
    if group_src is not None:
        peer = group_src
    else:
        peer = MPI.ANY_SOURCE if src is None else _peer(pg, src, "source")
    if uses_nccl(pg, tensor):
        if peer == MPI.ANY_SOURCE:
            raise RuntimeError("NCCL receives need a source rank")
        array = stage(tensor, True)
        nccl_comm(pg).recv(array, peer)
        unstage(tensor, array)
        return DoneWork()
    array = stage(tensor, False).copy()
    request = pg._comm.Irecv(_flat_bytes(array), peer, tag)
    return Work([request], lambda: unstage(tensor, array), pg._timeout)


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into ``tensor`` from rank ``src`` (any rank when None); the sender's rank."""
    check_tensor(tensor)
    pg = member_group(group)
    if pg is None:
        return -1
    MPI = _mpi()
    if group_src is not None:
        peer = group_src
    else:
        peer = MPI.ANY_SOURCE if src is None else _peer(pg, src, "source")
    if uses_nccl(pg, tensor):
        irecv(tensor, src, group, tag, group_src)
        return pg._ranks[peer]
    array = stage(tensor, False).copy()
    status = MPI.Status()
    pg._comm.Recv(_flat_bytes(array), peer, tag, status)
    unstage(tensor, array)
    return pg._ranks[status.Get_source()]


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """Replace ``object_list``'s items on every rank by those of rank ``src`` (pickled)."""
    pg = member_group(group)
    if pg is None:
        return
    root = group_src if group_src is not None else group_root(pg, src or 0, "broadcast")
    objects = pg._comm.bcast(list(object_list) if pg.rank() == root else None, root)
    object_list[:] = objects


def all_gather_object(object_list, obj, group=None) -> None:
    """Set ``object_list[i]`` to ``obj`` of rank ``i`` (pickled)."""
    pg = member_group(group)
    if pg is None:
        return
    for i, item in enumerate(pg._comm.allgather(obj)):
        object_list[i] = item


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None) -> None:
    """On rank ``dst``, set ``object_gather_list[i]`` to ``obj`` of rank ``i`` (pickled)."""
    pg = member_group(group)
    if pg is None:
        return
    root = group_dst if group_dst is not None else group_root(pg, dst or 0, "gather")
    if pg.rank() == root and object_gather_list is None:
        raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
    items = pg._comm.gather(obj, root)
    if pg.rank() == root:
        for i, item in enumerate(items):
            object_gather_list[i] = item


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=None,
                        group=None, group_src=None) -> None:
    """Set ``scatter_object_output_list[0]`` to item ``rank`` of rank ``src``'s input list."""
    pg = member_group(group)
    if pg is None:
        return
    root = group_src if group_src is not None else group_root(pg, src or 0, "scatter")
    if not isinstance(scatter_object_output_list, list) or not scatter_object_output_list:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at "
                         "least 1.")
    items = list(scatter_object_input_list) if pg.rank() == root else None
    scatter_object_output_list[0] = pg._comm.scatter(items, root)
