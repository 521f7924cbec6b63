"""Parameters to one flat vector and back: ``parameters_to_vector``, ``vector_to_parameters``."""

from __future__ import annotations

from ..._tensor_core import TensorCore, typename
from ...ops.shape import cat

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_param_device(param, old_param_device):
    """The CUDA index of the first parameter (-1 on the CPU); torch's error on a mix."""
    device = param.get_device() if param.device.type == "cuda" else -1
    if old_param_device is not None and device != old_param_device:
        raise TypeError("Found two parameters on different devices, this is currently not "
                        "supported.")
    return device


def parameters_to_vector(parameters):
    """The parameters flattened and joined into one vector."""
    param_device = None
    vec = []
    for param in parameters:
        param_device = _check_param_device(param, param_device)
        vec.append(param.view(-1))
    return cat(vec)


def vector_to_parameters(vec, parameters) -> None:
    """Point each parameter's data at its slice of ``vec`` (in order)."""
    if not isinstance(vec, TensorCore):
        raise TypeError(f"expected gputensor.Tensor, but got: {typename(vec)}")
    param_device = None
    pointer = 0
    for param in parameters:
        param_device = _check_param_device(param, param_device)
        num_param = param.numel()
        param.data = vec[pointer:pointer + num_param].view_as(param).data
        pointer += num_param
