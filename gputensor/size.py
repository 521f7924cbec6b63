"""``gputensor.Size``: the tuple type of ``Tensor.shape``."""

from __future__ import annotations


class Size(tuple):
    """A tensor's shape: a tuple of ints that prints as ``gputensor.Size([4, 3])``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"gputensor.Size({list(self)})"

    __str__ = __repr__

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds."""
        n = 1
        for d in self:
            n *= d
        return n

    def __getitem__(self, item):
        result = tuple.__getitem__(self, item)
        return Size(result) if isinstance(item, slice) else result

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))
