"""``torch.backends.cuda``'s switches: ``matmul.allow_tf32``, the SDPA ones, ``is_built()``.

What the switches do here:

- ``matmul.allow_tf32`` (default False, as torch): on a GPU of compute capability 8.0 or
  more, our CUDA matmul reads it on every float32 product and sets CuPy's cuBLAS compute type
  for float32 to TF32 when True and back to CuPy's default (full float32) when False. CuPy
  reads its own ``CUPY_TF32`` environment variable only once, at its first float32 product;
  that choice stands until the switch is first set to True, and the switch decides from
  then on. On the CPU and in the simulated CUDA mode
  it changes nothing (NumPy has no TF32).
- ``matmul.allow_fp16_reduced_precision_reduction`` and
  ``matmul.allow_bf16_reduced_precision_reduction`` (default True): recorded only; CuPy picks
  the accumulation of half-precision products itself.
- ``enable_flash_sdp`` and the other scaled-dot-product-attention switches: recorded only,
  gputensor has one attention path.
"""

from __future__ import annotations

import importlib.util

__all__ = ["cudnn_sdp_enabled", "enable_cudnn_sdp", "enable_flash_sdp", "enable_math_sdp",
           "enable_mem_efficient_sdp", "flash_sdp_enabled", "is_built", "math_sdp_enabled",
           "matmul", "mem_efficient_sdp_enabled"]


class CuBLASModule:
    """``backends.cuda.matmul``: the cuBLAS settings; unknown names raise AttributeError."""

    _DEFAULTS = {"allow_tf32": False, "allow_fp16_reduced_precision_reduction": True,
                 "allow_bf16_reduced_precision_reduction": True}

    def __init__(self):
        for name, value in self._DEFAULTS.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        if name not in self._DEFAULTS:
            raise AttributeError(f"Unknown attribute {name}")
        object.__setattr__(self, name, value)

    def __getattr__(self, name):
        raise AttributeError(f"Unknown attribute {name}")


matmul = CuBLASModule()
_SDP_ENABLED = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def is_built() -> bool:
    """True when gputensor can use CUDA GPUs here: CuPy is installed."""
    return importlib.util.find_spec("cupy") is not None


def enable_flash_sdp(enabled: bool) -> None:
    """Record whether flash attention may be used (gputensor has one attention path)."""
    _SDP_ENABLED["flash"] = bool(enabled)


def flash_sdp_enabled() -> bool:
    """The recorded flash attention switch (default True)."""
    return _SDP_ENABLED["flash"]


def enable_mem_efficient_sdp(enabled: bool) -> None:
    """Record whether memory-efficient attention may be used."""
    _SDP_ENABLED["mem_efficient"] = bool(enabled)


def mem_efficient_sdp_enabled() -> bool:
    """The recorded memory-efficient attention switch (default True)."""
    return _SDP_ENABLED["mem_efficient"]


def enable_math_sdp(enabled: bool) -> None:
    """Record whether the math attention path may be used."""
    _SDP_ENABLED["math"] = bool(enabled)


def math_sdp_enabled() -> bool:
    """The recorded math attention switch (default True)."""
    return _SDP_ENABLED["math"]


def enable_cudnn_sdp(enabled: bool) -> None:
    """Record whether cuDNN attention may be used."""
    _SDP_ENABLED["cudnn"] = bool(enabled)


def cudnn_sdp_enabled() -> bool:
    """The recorded cuDNN attention switch (default True)."""
    return _SDP_ENABLED["cudnn"]
