"""``autocast``: torch's mixed-precision regions, recorded but changing no op's dtype here."""

from __future__ import annotations

import functools
import warnings

from .. import cuda, dtypes
from ..device import device

__all__ = ["autocast", "get_autocast_dtype", "is_autocast_available", "is_autocast_enabled"]

# per device type: whether a region is active, and its dtype (torch's defaults)
_ENABLED = {"cpu": False, "cuda": False}
_DTYPE = {"cpu": dtypes.bfloat16, "cuda": dtypes.float16}


def is_autocast_available(device_type: str) -> bool:
    """True for the device types autocast knows here ("cpu" and "cuda")."""
    return device_type in _ENABLED


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether an autocast region is active for ``device_type`` (no argument: "cuda")."""
    return _ENABLED["cuda" if device_type is None else device(device_type).type]


def get_autocast_dtype(device_type: str):
    """The dtype an autocast region of ``device_type`` names (bfloat16 on the CPU by default,
    float16 on CUDA)."""
    return _DTYPE[device(device_type).type]


class autocast:  # noqa: N801 - torch's name
    """``with autocast("cuda"):`` or ``@autocast("cpu")``: a mixed-precision region.

    Recorded only (see the module docstring): ops keep their dtypes inside it.
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True,
                 cache_enabled: bool | None = None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device = device(device_type).type
        self.fast_dtype = _DTYPE[self.device] if dtype is None else dtype
        self._enabled = bool(enabled)
        self._cache_enabled = True if cache_enabled is None else cache_enabled
        self._previous = []
        if self.device == "cpu" and self._enabled and self.fast_dtype not in (
                dtypes.bfloat16, dtypes.float16):
            warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling "
                          "autocast.\nCPU Autocast only supports dtypes of torch.bfloat16, "
                          "torch.float16 currently.", stacklevel=2)
            self._enabled = False
        if self.device == "cuda" and self._enabled and not cuda.is_available():
            warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.",
                          stacklevel=2)
            self._enabled = False
        if (self.device == "cuda" and self._enabled and self.fast_dtype is dtypes.bfloat16
                and not cuda.is_bf16_supported()):
            raise RuntimeError("Current CUDA Device does not support bfloat16. Please switch "
                               "dtype to float16.")

    def __enter__(self):
        self._previous.append((_ENABLED[self.device], _DTYPE[self.device]))
        _ENABLED[self.device] = self._enabled
        if self._enabled:
            _DTYPE[self.device] = self.fast_dtype
        return self

    def __exit__(self, *exc_info):
        _ENABLED[self.device], _DTYPE[self.device] = self._previous.pop()
        return False

    def __call__(self, func):
        """Use as a decorator: ``func`` runs inside this region."""
        @functools.wraps(func)
        def decorated(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return decorated
