"""Faults on 2 MPI processes: ``mpiexec -n 2 python faults.py CASE``.

- ``raise``: rank 1 raises while rank 0 waits in an all-reduce: every rank must stop (the
  excepthook aborts the job), never hang.
- ``environment``: a ``RANK`` that disagrees with MPI's rank is a clear error; torchrun's
  variables that agree with MPI are accepted.
"""

import os
import sys

import gputensor as torch
import gputensor.distributed as dist

CASE = sys.argv[1]

if CASE == "raise":
    dist.init_process_group("gloo")
    if dist.get_rank() == 1:
        raise RuntimeError("rank 1 failed on purpose")
    dist.all_reduce(torch.ones(3))
    print("rank 0 finished an all-reduce rank 1 never joined", flush=True)
elif CASE == "environment":
    # RANK that disagrees with MPI's rank: a clear error, nothing initialised
    os.environ["RANK"] = str(1 - int(os.environ["PMI_RANK"]))
    try:
        dist.init_process_group("gloo")
    except ValueError as err:
        assert "the environment variable RANK says" in str(err), err
    else:
        raise AssertionError("a RANK that disagrees with MPI was accepted")
    assert not dist.is_initialized()
    # torchrun's variables, consistent with MPI's: accepted
    os.environ.update(RANK=os.environ["PMI_RANK"], WORLD_SIZE=os.environ["PMI_SIZE"],
                      LOCAL_RANK=os.environ["PMI_RANK"], MASTER_ADDR="127.0.0.1",
                      MASTER_PORT="29500")
    dist.init_process_group("gloo", init_method="env://")
    t = torch.ones(2) * dist.get_rank()
    dist.all_reduce(t)
    assert t.tolist() == [1.0, 1.0], t
    print("OK environment", flush=True)
