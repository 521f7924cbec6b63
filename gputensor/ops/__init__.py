"""Every differentiable op, forward and backward side by side (gputensor._tensor makes them
Tensor methods)."""

from __future__ import annotations

from . import (
    activations,
    bce,
    compare,
    creation,
    cross_entropy,
    extrema,
    index,
    inplace,
    linalg,
    losses,
    nn_ops,
    norms,
    pointwise,
    reduce,
    shape,
    softmaxes,
    special,
    transfer,
)
from .common import normalize_dim, normalize_dims
from .creation import *  # noqa: F401,F403
from .extrema import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .pointwise import *  # noqa: F401,F403
from .reduce import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .softmaxes import *  # noqa: F401,F403

# gputensor's names for the ops: what ``from gputensor.ops import *`` gives
__all__: list[str] = []
__all__ += creation.__all__
__all__ += extrema.__all__
__all__ += linalg.__all__
__all__ += pointwise.__all__
__all__ += reduce.__all__
__all__ += shape.__all__
__all__ += softmaxes.__all__
