"""``python -m gputensor.distributed.run script.py [args]``: torchrun's environment from MPI.

Under ``mpiexec -n N python -m gputensor.distributed.run train.py`` every process gets the
variables ``torchrun`` would set (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``LOCAL_WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``), taken from MPI, before the script
runs as ``__main__``: a torchrun script that reads ``LOCAL_RANK`` before
``init_process_group`` runs unchanged. Variables already set are kept (and checked by
``init_process_group``).
"""

from __future__ import annotations

import os
import runpy
import sys

from .groups import mpi_environment

__all__ = ["main"]

USAGE = "usage: python -m gputensor.distributed.run script.py [script arguments]"


def main(argv=None) -> None:
    """Set torchrun's variables from MPI, then run the script with its arguments."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return
    for name, value in mpi_environment().items():
        os.environ.setdefault(name, value)
    sys.argv = argv
    runpy.run_path(argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
