"""``gputensor.distributed``: torch.distributed's API over MPI (``mpi4py``) and NCCL (CuPy).

Launch (no further set-up)::

    mpiexec -n 4 python train.py

``init_process_group()`` takes each process's rank and the world size from MPI. A script
written for ``torchrun`` runs unchanged under ``mpiexec``: torch's environment variables
(``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``) are honoured where
set, and ``RANK``/``WORLD_SIZE`` (or ``rank=``/``world_size=``) that disagree with MPI's rank
and size raise a ValueError that says so. ``MASTER_ADDR``/``MASTER_PORT`` and ``init_method``
are accepted and not needed: MPI does the rendezvous. ``init_process_group`` sets the variables
that are missing from MPI's view (``LOCAL_RANK`` from the ranks sharing this node), and a
script that reads them before ``init_process_group`` runs under
``mpiexec -n 4 python -m gputensor.distributed.run train.py``, which sets them first.

Backends: ``"mpi"`` (CPU tensors, and CUDA tensors staged through host memory); ``"gloo"`` is
run by the same MPI transport (``get_backend()`` still answers "gloo"); ``"nccl"`` moves CUDA
tensors with NCCL through ``cupy.cuda.nccl`` (the communicator's id is sent over MPI; CPU
tensors of an "nccl" group go over MPI). On the
simulated CUDA device MPI stands in for NCCL (the arrays are staged through the host), so the
NCCL code paths run in CI without a GPU.

Faults: ``init_process_group`` installs an ``excepthook`` that aborts every rank
(``MPI.COMM_WORLD.Abort``) when one raises an uncaught exception, so the others fail within
moments instead of hanging in a collective; with ``timeout=`` the blocking collectives also
give up with a RuntimeError past it. Each collective first compares a fingerprint of the call
(operation, dtype, shape) across ranks and raises on a mismatch instead of summing mismatched
data (``GPUTENSOR_DISTRIBUTED_CHECKS=0`` skips this one small message per call).
"""

from .collectives import (
    all_gather,
    all_gather_into_tensor,
    all_reduce,
    barrier,
    broadcast,
    gather,
    reduce,
    reduce_scatter,
    reduce_scatter_tensor,
    scatter,
)
from .groups import (
    Backend,
    GroupMember,
    ProcessGroup,
    ReduceOp,
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_gloo_available,
    is_initialized,
    is_mpi_available,
    is_nccl_available,
    is_torchelastic_launched,
    new_group,
)
from .point_to_point import (
    all_gather_object,
    broadcast_object_list,
    gather_object,
    irecv,
    isend,
    recv,
    scatter_object_list,
    send,
)
from .transport import Work

group = GroupMember  # torch.distributed.group.WORLD

__all__ = ["Backend", "GroupMember", "ProcessGroup", "ReduceOp", "Work", "all_gather",
           "all_gather_into_tensor", "all_gather_object", "all_reduce", "barrier", "broadcast",
           "broadcast_object_list", "destroy_process_group", "gather", "gather_object",
           "get_backend", "get_rank", "get_world_size", "group", "init_process_group",
           "irecv", "is_available", "is_gloo_available", "is_initialized", "is_mpi_available",
           "is_nccl_available", "is_torchelastic_launched", "isend", "new_group", "recv",
           "reduce", "reduce_scatter", "reduce_scatter_tensor", "scatter",
           "scatter_object_list", "send"]
