"""``gputensor.nn.parallel``: ``DataParallel`` (one device) and ``DistributedDataParallel``.

``DataParallel`` wraps a module and runs it on the device its inputs are on: gputensor does
not split a batch over several GPUs, so with several devices the work still runs on one.
``DistributedDataParallel`` (``distributed.py``) runs one replica per process and averages
the gradients over a ``gputensor.distributed`` process group.
"""

from __future__ import annotations

from ..modules import Module
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel"]


class DataParallel(Module):
    """Wraps ``module`` (``self.module``) and runs it unchanged on one device."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.device_ids = [] if device_ids is None else list(device_ids)
        self.output_device = output_device
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        """The wrapped module's output for these inputs."""
        return self.module(*inputs, **kwargs)
