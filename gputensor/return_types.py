"""Named-tuple result types, such as the (values, indices) of ``max(dim)``."""

from .ops.extrema import return_types as _types

max = _types.max
min = _types.min
max_out = _types.max_out
min_out = _types.min_out
