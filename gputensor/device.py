"""Device objects: ``device("cpu")``, ``device("cuda")``, ``device("cuda:1")``."""

from __future__ import annotations

from . import backends

TORCH_DEVICE_TYPES = ("cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, maia, "
                      "xla, lazy, vulkan, mps, meta, hpu, mtia, privateuseone")


class device:  # noqa: N801 - torch's name
    """Where a tensor's storage lives: a type ("cpu" or "cuda") and an optional index."""

    __slots__ = ("type", "index")

    def __init__(self, type_or_spec, index=None):
        if isinstance(type_or_spec, device):
            self.type, self.index = type_or_spec.type, type_or_spec.index
            return
        if isinstance(type_or_spec, int) and not isinstance(type_or_spec, bool):
            type_or_spec, index = "cuda", type_or_spec
        if not isinstance(type_or_spec, str):
            raise TypeError(f"device() received an invalid combination of arguments: "
                            f"got ({type(type_or_spec).__name__})")
        spec = type_or_spec.strip()
        kind, sep, number = spec.partition(":")
        if kind not in ("cpu", "cuda"):
            raise RuntimeError(
                f"Expected one of {TORCH_DEVICE_TYPES} device type at start of device string: "
                f"{spec}")
        if sep:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was "
                                   f"passed explicitly: {spec}")
            if not number.isdigit():
                raise RuntimeError(f"Invalid device string: '{spec}'")
            index = int(number)
        if index is not None and index < 0:
            raise RuntimeError("Device index must not be negative")
        self.type = kind
        self.index = index

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"


CPU = device("cpu")


def as_device(spec) -> device:
    """Normalise a device argument (None means the CPU); "cuda" means the current device."""
    if spec is None:
        return CPU
    dev = spec if isinstance(spec, device) else device(spec)
    if dev.type == "cuda" and dev.index is None:
        return device("cuda", _current_cuda_index())
    return dev


def _current_cuda_index() -> int:
    """The current CUDA device (0 until the CUDA backend is loaded)."""
    backend = backends.loaded("cuda")
    return 0 if backend is None else backend.current_index
