"""gputensor: a PyTorch-compatible tensor library on NumPy (CPU) and CuPy/Numba (CUDA)."""

from . import autograd, cuda, dtypes, nn, optim, return_types, utils
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .backends import OutOfMemoryError
from .device import device
from .dtypes import (
    bool,
    double,
    dtype,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    set_default_dtype,
    short,
    uint8,
)
from .ops import *  # noqa: F401,F403
from .ops.creation import set_default_device
from .ops.transfer import get_default_device
from .printing import get_printoptions, printoptions, set_printoptions
from .random import Generator
from .serialization import load, save
from .size import Size
from .tensor import Tensor, typename

__version__ = "0.1.0"
