"""``nn.Parameter`` (a Tensor that a Module registers as a learnable weight)."""

from __future__ import annotations

from .. import printing
from .._tensor import Tensor
from ..ops import creation


class Parameter(Tensor):
    """A leaf Tensor sharing ``data``'s storage that Modules list in ``parameters()``."""

    def __new__(cls, data=None, requires_grad=True):
        return object.__new__(cls)

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = creation.empty(0)
        if not isinstance(data, Tensor):
            raise AttributeError(f"'{type(data).__name__}' object has no attribute 'detach'")
        if requires_grad and not data.dtype.is_floating_point:
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        self._init(data._data, data._device)
        self._version = data._version  # the same storage, so the same version counter
        self._requires_grad = bool(requires_grad)

    def __repr__(self):
        return printing.tensor_repr(self, prefix="Parameter containing:\ntensor(")

    __str__ = __repr__

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.clone(), self.requires_grad)
        memo[id(self)] = result
        return result

