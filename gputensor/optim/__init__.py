"""gputensor.optim: optimizers with fused one-call steps, and learning-rate schedulers."""

import importlib

from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adaptive import Adadelta, Adamax, NAdam, RAdam
from .asgd_rprop import ASGD, Rprop
from .lbfgs import LBFGS
from .lion import Lion
from .lookahead import Lookahead
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD
from .sparse_adam import SparseAdam

__all__ = ["ASGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "LBFGS", "Lion", "Lookahead",
           "NAdam", "Optimizer", "RAdam", "RMSprop", "Rprop", "SGD", "SparseAdam",
           "lr_scheduler"]


def __getattr__(name):
    """Import ``lr_scheduler`` on first use (keeps ``import gputensor`` lean)."""
    if name == "lr_scheduler":
        return importlib.import_module(".lr_scheduler", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
