"""Named-tuple result types, such as the (values, indices) of ``max(dim)``."""

from .ops import sorting as _sorting
from .ops import stats as _stats
from .ops.cumulative import return_types as _cumulative_types
from .ops.extrema import return_types as _types

max = _types.max
min = _types.min
sort = _sorting.sort_type
topk = _sorting.topk_type
kthvalue = _sorting.kthvalue_type
cummax = _cumulative_types.cummax
cummin = _cumulative_types.cummin
max_out = _types.max_out
min_out = _types.min_out
median = _stats.median_type
nanmedian = _stats.nanmedian_type
mode = _stats.mode_type
aminmax = _stats.aminmax_type
