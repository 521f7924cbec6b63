"""``gputensor.amp``: ``autocast`` and ``GradScaler``, as ``torch.amp``.

``autocast`` keeps torch's interface and bookkeeping (``is_autocast_enabled``,
``get_autocast_dtype``, torch's warnings when a region is disabled) but, as a first step,
does not change the dtype of any op: inside an autocast region to bfloat16 or float16 a
matmul still computes and returns float32, on the CPU and on CUDA alike. Code written for
autocast runs unchanged and gets float32 results (torch's would be lower precision).

``GradScaler`` works fully as torch's: it scales the loss, unscales the gradients, skips
the optimizer step when a gradient is inf or NaN and grows or backs off the scale.
"""

from . import autocast_mode, grad_scaler
from .autocast_mode import autocast, get_autocast_dtype, is_autocast_available, is_autocast_enabled
from .grad_scaler import GradScaler

__all__ = ["GradScaler", "autocast", "autocast_mode", "get_autocast_dtype", "grad_scaler",
           "is_autocast_available", "is_autocast_enabled"]
