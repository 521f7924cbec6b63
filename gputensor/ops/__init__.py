"""Every differentiable op, forward and backward side by side (gputensor._tensor makes them
Tensor methods)."""

from __future__ import annotations

from . import (
    activations,
    adaptive_pooling,
    bce,
    blas,
    compare,
    conv,
    counting,
    creation,
    cross_entropy,
    cumulative,
    einsum,
    extrema,
    gather,
    index,
    index_update,
    index_writes,
    inplace,
    lifted,
    lifted_namespace,
    linalg,
    losses,
    masks,
    math_more,
    nn_ops,
    norms,
    pointwise,
    pooling,
    quantiles,
    random_fill,
    random_tensors,
    reduce,
    sampling,
    scatter,
    searching,
    shape,
    shape_more,
    softmaxes,
    sorting,
    special,
    stats,
    transfer,
)
from .blas import *  # noqa: F401,F403
from .common import normalize_dim, normalize_dims
from .counting import *  # noqa: F401,F403
from .creation import *  # noqa: F401,F403
from .cumulative import *  # noqa: F401,F403
from .extrema import *  # noqa: F401,F403
from .index_update import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .masks import *  # noqa: F401,F403
from .pointwise import *  # noqa: F401,F403
from .reduce import *  # noqa: F401,F403
from .sampling import *  # noqa: F401,F403
from .searching import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .softmaxes import *  # noqa: F401,F403
from .sorting import *  # noqa: F401,F403

# gputensor's names for the ops: what ``from gputensor.ops import *`` gives
__all__: list[str] = []
__all__ += creation.__all__
__all__ += extrema.__all__
__all__ += linalg.__all__
__all__ += pointwise.__all__
__all__ += reduce.__all__
__all__ += shape.__all__
__all__ += softmaxes.__all__
__all__ += masks.__all__
__all__ += sampling.__all__
__all__ += searching.__all__
__all__ += sorting.__all__
__all__ += counting.__all__
__all__ += index_update.__all__
# (gather.py and scatter.py are not star-imported: their modules share a name with an op)
__all__ += blas.__all__
__all__ += cumulative.__all__
