"""``gputensor.nn.parallel``: ``DataParallel`` (one device) and ``DistributedDataParallel``.

``DataParallel`` wraps a module and runs it on the device its inputs are on: gputensor does
not split a batch over several GPUs, so with several devices the work still runs on one.
``DistributedDataParallel`` needs a process group, which ``gputensor.distributed`` cannot
make yet: building one raises torch's error for a missing process group.
"""

from __future__ import annotations

from ... import distributed
from ..modules import Module

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


class DistributedDataParallel(Module):
    """Data parallelism across processes: needs a process group, which cannot exist yet."""

    def __init__(self, module, *args, **kwargs):
        super().__init__()
        if not distributed.is_initialized():
            raise ValueError("Default process group has not been initialized, please make "
                             "sure to call init_process_group.")
        self.module = module

    def forward(self, *inputs, **kwargs):
        """The wrapped module's output for these inputs."""
        return self.module(*inputs, **kwargs)
