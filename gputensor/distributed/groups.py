"""Process groups: ``init_process_group``, the default group, sub-groups, ranks and sizes.

Every group is an MPI communicator (``mpi4py``, imported on first use). The rendezvous is
MPI's own: ``mpiexec -n N`` starts the processes and tells each its rank and the world size.
torch's environment variables (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``), where set, must agree
with MPI's view, and are set from it where not; ``MASTER_ADDR``/``MASTER_PORT`` are accepted
and not needed.
"""

from __future__ import annotations

import enum
import os
import sys
import time
import traceback
from datetime import timedelta

from ..backends import simulating_cuda

__all__ = ["Backend", "GroupMember", "ProcessGroup", "ReduceOp", "destroy_process_group",
           "get_backend", "get_rank", "get_world_size", "init_process_group", "is_available",
           "is_gloo_available", "is_initialized", "is_mpi_available", "is_nccl_available",
           "is_torchelastic_launched", "new_group"]

NOT_INITIALIZED = ("Default process group has not been initialized, please make sure to call "
                   "init_process_group.")


class ReduceOp(enum.Enum):
    """How ``all_reduce`` and ``reduce`` combine the ranks' values."""

    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4

    def __repr__(self) -> str:
        return f"<RedOpType.{self.name}: {self.value}>"


class Backend(str):
    """A backend name: ``Backend.MPI``, ``Backend.NCCL`` or ``Backend.GLOO`` (run over MPI)."""

    MPI = "mpi"
    NCCL = "nccl"
    GLOO = "gloo"
    UNDEFINED = "undefined"

    def __new__(cls, name: str):
        value = str(name).lower()
        if value not in (cls.MPI, cls.NCCL, cls.GLOO):
            raise ValueError(f"Invalid backend: '{name}'")
        return str.__new__(cls, value)


def _mpi():
    """The ``mpi4py.MPI`` module (imported on first use)."""
    from mpi4py import MPI
    return MPI


def is_available() -> bool:
    """True: the distributed package is built in (a transport needs ``mpi4py``)."""
    return True


def is_mpi_available() -> bool:
    """True when ``mpi4py`` (and an MPI library) can be imported."""
    try:
        _mpi()
    except ImportError:
        return False
    return True


def is_gloo_available() -> bool:
    """The ``gloo`` backend runs over MPI: available when MPI is."""
    return is_mpi_available()


def is_nccl_available() -> bool:
    """True when CuPy's NCCL bindings load (or, simulated, when MPI stands in for them)."""
    if simulating_cuda():
        return is_mpi_available()
    try:
        from cupy.cuda import nccl
    except ImportError:
        return False
    return bool(getattr(nccl, "available", True))


def is_torchelastic_launched() -> bool:
    """True when torchrun's ``TORCHELASTIC_RUN_ID`` is set."""
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


class ProcessGroup:
    """A set of ranks that run collectives together: an MPI communicator and a backend."""

    def __init__(self, comm, backend: str, ranks: list[int], timeout=None):
        self._comm = comm
        self._backend = backend
        self._ranks = list(ranks)
        self._timeout = timeout  # None: blocking calls wait as long as MPI does
        self._nccl = None  # the NCCL communicator, made on first use of a CUDA tensor
        self._fingerprints = None  # the buffers of the collectives' fingerprint check

    def rank(self) -> int:
        """This process's rank in the group."""
        return self._comm.Get_rank()

    def size(self) -> int:
        """How many ranks the group has."""
        return self._comm.Get_size()

    def group_rank(self, global_rank: int) -> int:
        """The rank in this group of the process with rank ``global_rank`` in the world."""
        return self._ranks.index(global_rank)

    def __repr__(self) -> str:
        return f"ProcessGroup(backend={self._backend!r}, ranks={self._ranks})"


class GroupMember:
    """torch's markers: ``WORLD`` (the default group) and ``NON_GROUP_MEMBER``."""

    WORLD = None
    NON_GROUP_MEMBER = -100


class _State:
    default = None  # the default (world) ProcessGroup
    groups: list = []  # every group made, so destroy_process_group frees them
    previous_excepthook = None


def mpi_environment() -> dict:
    """torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, ...) as MPI sees this process."""
    MPI = _mpi()
    world = MPI.COMM_WORLD
    node = world.Split_type(MPI.COMM_TYPE_SHARED)
    values = {"RANK": world.Get_rank(), "WORLD_SIZE": world.Get_size(),
              "LOCAL_RANK": node.Get_rank(), "LOCAL_WORLD_SIZE": node.Get_size(),
              "MASTER_ADDR": world.bcast(MPI.Get_processor_name(), root=0),
              "MASTER_PORT": 29500}
    node.Free()
    return {name: str(value) for name, value in values.items()}


def _check_environment(rank_arg: int, world_size_arg: int) -> dict:
    """Refuse an environment or arguments that disagree with MPI's ranks and sizes; MPI's
    view as torchrun's variables."""
    mpi = mpi_environment()
    rank, size = int(mpi["RANK"]), int(mpi["WORLD_SIZE"])
    for name, given, actual in (("RANK", os.environ.get("RANK"), rank),
                                ("WORLD_SIZE", os.environ.get("WORLD_SIZE"), size),
                                ("LOCAL_RANK", os.environ.get("LOCAL_RANK"),
                                 int(mpi["LOCAL_RANK"])),
                                ("rank", rank_arg, rank), ("world_size", world_size_arg, size)):
        if given is None or int(given) == -1:
            continue
        if int(given) != actual:
            source = f"the environment variable {name}" if name.isupper() else f"{name}="
            raise ValueError(
                f"{source} says {int(given)} but MPI gives this process rank {rank} of a world "
                f"of {size} (local rank {mpi['LOCAL_RANK']}): launch with "
                "`mpiexec -n <world size> python script.py` "
                "(gputensor.distributed runs over MPI; MPI assigns ranks)")
    return mpi


_ABORT_GRACE = 0.3  # seconds between a rank's last words and aborting every rank


def _abort_on_uncaught(exc_type, exc, tb) -> None:
    """An uncaught exception on one rank aborts every rank (never a hang in a collective)."""
    MPI = _mpi()
    rank = MPI.COMM_WORLD.Get_rank()
    # one write, then a moment for mpiexec to forward it: Abort drops output still in flight
    sys.stderr.write("".join(traceback.format_exception(exc_type, exc, tb))
                     + f"gputensor.distributed: rank {rank} raised {exc_type.__name__}; "
                     "aborting all ranks\n")
    sys.stderr.flush()
    time.sleep(_ABORT_GRACE)
    MPI.COMM_WORLD.Abort(1)


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None) -> None:
    """Make the default group of every process started by ``mpiexec`` (or torch's env)."""
    if _State.default is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = Backend(backend or Backend.MPI)
    if timeout is not None and not isinstance(timeout, timedelta):
        raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got "
                        f"{type(timeout)}")
    MPI = _mpi()
    world = MPI.COMM_WORLD
    for variable, value in _check_environment(rank, world_size).items():
        os.environ.setdefault(variable, value)  # as torchrun's, for code that reads them later
    comm = world.Dup()  # the library's messages never meet the program's own MPI traffic
    _State.default = ProcessGroup(comm, str(name), list(range(world.Get_size())), timeout)
    _State.groups = [_State.default]
    if sys.excepthook is not _abort_on_uncaught:
        _State.previous_excepthook = sys.excepthook
        sys.excepthook = _abort_on_uncaught


def is_initialized() -> bool:
    """True once ``init_process_group`` has run (and until ``destroy_process_group``)."""
    return _State.default is not None


def default_group() -> ProcessGroup:
    """The world group; torch's ValueError before ``init_process_group``."""
    if _State.default is None:
        raise ValueError(NOT_INITIALIZED)
    return _State.default


def resolve(group) -> ProcessGroup | int:
    """``group`` (None: the world), or ``NON_GROUP_MEMBER`` for a rank outside it."""
    world = default_group()
    if group is None:
        return world
    return group


def get_rank(group=None) -> int:
    """This process's rank in ``group`` (the world by default); -1 outside the group."""
    pg = resolve(group)
    return -1 if pg == GroupMember.NON_GROUP_MEMBER else pg.rank()


def get_world_size(group=None) -> int:
    """How many ranks ``group`` (the world by default) has; -1 outside the group."""
    pg = resolve(group)
    return -1 if pg == GroupMember.NON_GROUP_MEMBER else pg.size()


def get_backend(group=None) -> str:
    """The backend name of ``group``: "mpi", "nccl" or "gloo" (which runs over MPI)."""
    pg = resolve(group)
    if pg == GroupMember.NON_GROUP_MEMBER:
        raise ValueError("Invalid process group specified")
    return pg._backend


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization=False, group_desc=None, device_id=None):
    """A group of ``ranks`` (all by default); every rank of the world must call it."""
    world = default_group()
    size = world.size()
    ranks = sorted(range(size) if ranks is None else (int(r) for r in ranks))
    if len(ranks) > size:
        raise ValueError("the new group's world size should be less or equal to the world "
                         "size set by init_process_group")
    for r in ranks:
        if r < 0 or r >= size:
            raise ValueError("The new group's rank should be within the world_size set by "
                             "init_process_group")
    MPI = _mpi()
    member = world.rank() in ranks
    color = 0 if member else MPI.UNDEFINED
    comm = world._comm.Split(color, ranks.index(world.rank()) if member else 0)
    if not member:
        return GroupMember.NON_GROUP_MEMBER
    group = ProcessGroup(comm, str(Backend(backend)) if backend else world._backend, ranks,
                         timeout if timeout is not None else world._timeout)
    _State.groups.append(group)
    return group


def destroy_process_group(group=None) -> None:
    """Free ``group`` (all groups, and the default one, when None)."""
    if group is None:
        if _State.default is None:
            raise AssertionError("Process group cannot be None")
        for pg in _State.groups:
            pg._comm.Free()
        _State.default, _State.groups = None, []
        if sys.excepthook is _abort_on_uncaught:
            sys.excepthook = _State.previous_excepthook or sys.__excepthook__
        return
    if group in _State.groups and group is not _State.default:
        _State.groups.remove(group)
        group._comm.Free()
