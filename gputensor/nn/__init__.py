"""``gputensor.nn``: modules, layers, losses, ``functional`` and ``init``, as in ``torch.nn``."""

from . import functional, init, parallel, utils
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules_all
from .parallel import DataParallel
from .parameter import Parameter

__all__ = ["DataParallel", "Parameter", "functional", "init", "parallel", "utils",
           *_modules_all]
