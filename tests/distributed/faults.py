"""Faults on 2 MPI processes: ``mpiexec -n 2 python faults.py CASE``.

- ``raise``: rank 1 raises while rank 0 waits in an all-reduce: every rank must stop (the
  excepthook aborts the job), never hang.
- ``rank-mismatch``: ``RANK`` in the environment disagrees with MPI's rank: a clear error.
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
elif CASE == "rank-mismatch":
    os.environ["RANK"] = str(1 - int(os.environ.get("PMI_RANK", "0")))
    try:
        dist.init_process_group("gloo")
    except ValueError as err:
        assert "the environment variable RANK says" in str(err), err
        print("OK rank-mismatch", flush=True)
elif CASE == "torch-env":  # torchrun's variables, consistent with MPI's: accepted
    os.environ.update(RANK=os.environ["PMI_RANK"], WORLD_SIZE=os.environ["PMI_SIZE"],
                      LOCAL_RANK=os.environ["PMI_RANK"], MASTER_ADDR="127.0.0.1",
                      MASTER_PORT="29500")
    dist.init_process_group("gloo", init_method="env://")
    t = torch.ones(2) * dist.get_rank()
    dist.all_reduce(t)
    assert t.tolist() == [1.0, 1.0], t
    print("OK torch-env", flush=True)
