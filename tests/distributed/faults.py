"""Faults on 2 MPI processes: ``mpiexec -n 2 python faults.py CASE``.

- ``raise``: rank 1 raises while rank 0 waits in an all-reduce: every rank must stop (the
  excepthook aborts the job), never hang.
- ``timeout``: a collective that a rank joins late gives up after ``init_process_group``'s
  timeout with a RuntimeError.
- ``launcher``: run through ``python -m gputensor.distributed.run``, torchrun's variables are
  set before the script runs.
- ``environment``: a ``RANK`` that disagrees with MPI's rank is a clear error; torchrun's
  variables that agree with MPI are accepted.
"""

import datetime
import os
import sys
import time

import gputensor as torch
import gputensor.distributed as dist

CASE = sys.argv[1]

if CASE == "raise":
    dist.init_process_group("gloo")
    if dist.get_rank() == 1:
        raise RuntimeError("rank 1 failed on purpose")
    dist.all_reduce(torch.ones(3))
    print("rank 0 finished an all-reduce rank 1 never joined", flush=True)
elif CASE == "timeout":  # rank 1 is late: rank 0's all-reduce gives up after 0.5 s
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=0.5))
    if dist.get_rank() == 0:
        start = time.monotonic()
        try:
            dist.all_reduce(torch.ones(3))
        except RuntimeError as err:
            assert "timed out after 0.5 seconds" in str(err), err
            assert time.monotonic() - start < 5
            print("OK timeout", flush=True)
    else:
        time.sleep(1.5)
    os._exit(0)  # the pending all-reduce cannot be finished: leave without MPI's finalize
elif CASE == "launcher":  # under python -m gputensor.distributed.run: torchrun's variables
    local_rank = int(os.environ["LOCAL_RANK"])  # read before init_process_group, as scripts do
    assert local_rank == int(os.environ["PMI_RANK"]) == int(os.environ["RANK"])
    assert os.environ["WORLD_SIZE"] == os.environ["LOCAL_WORLD_SIZE"] == os.environ["PMI_SIZE"]
    dist.init_process_group("gloo")
    assert dist.get_rank() == local_rank
    print("OK launcher", flush=True)
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
