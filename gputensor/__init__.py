"""gputensor: a PyTorch-compatible tensor library on NumPy (CPU) and CuPy/Numba (CUDA)."""

from . import autograd, cuda, dtypes, linalg, nn, ops, optim, return_types, special, utils
from ._tensor import Tensor, typename
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .backends import OutOfMemoryError
from .device import device
from .dtypes import (
    bool,
    double,
    dtype,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    set_default_dtype,
    short,
    uint8,
)
from .ops.compare import allclose, equal, isclose
from .ops.creation import (  # noqa: A004
    Generator,
    arange,
    as_tensor,
    default_generator,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    initial_seed,
    linspace,
    manual_seed,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    seed,
    set_default_device,
    tensor,
    zeros,
    zeros_like,
)
from .ops.extrema import (  # noqa: A004
    amax,
    amin,
    argmax,
    argmin,
    max,
    min,
)
from .ops.linalg import (  # noqa: A004
    bmm,
    dot,
    matmul,
    mm,
    mv,
)
from .ops.norms import norm
from .ops.pointwise import (  # noqa: A004
    abs,
    absolute,
    add,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    ceil,
    clamp,
    clip,
    clone,
    cos,
    div,
    divide,
    eq,
    exp,
    floor,
    floor_divide,
    ge,
    greater,
    greater_equal,
    gt,
    isfinite,
    isinf,
    isnan,
    le,
    less,
    less_equal,
    log,
    log1p,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    maximum,
    minimum,
    mul,
    multiply,
    ne,
    neg,
    negative,
    positive,
    pow,
    reciprocal,
    relu,
    remainder,
    result_type,
    round,
    rsqrt,
    rsub,
    sigmoid,
    sign,
    sin,
    sqrt,
    sub,
    subtract,
    tanh,
    to_dtype,
    true_divide,
    where,
)
from .ops.reduce import (  # noqa: A004
    all,
    any,
    mean,
    prod,
    std,
    sum,
    var,
)
from .ops.shape import (  # noqa: A004
    adjoint,
    cat,
    chunk,
    concat,
    concatenate,
    flatten,
    moveaxis,
    movedim,
    narrow,
    permute,
    reshape,
    select,
    split,
    squeeze,
    stack,
    swapaxes,
    swapdims,
    t,
    transpose,
    unbind,
    unflatten,
    unsqueeze,
)
from .ops.softmaxes import (  # noqa: A004
    log_softmax,
    logsumexp,
    softmax,
)
from .ops.special import (
    clamp_max,
    clamp_max_,
    clamp_min,
    clamp_min_,
    erf,
    erf_,
    erfc,
    erfc_,
    erfinv,
    lerp,
    logit,
    logit_,
    nan_to_num,
    nan_to_num_,
)
from .ops.transfer import get_default_device
from .printing import get_printoptions, printoptions, set_printoptions
from .serialization import load, save
from .size import Size

__version__ = "0.1.0"

# the public names (type checkers read this list; a test keeps it whole)
__all__ = [
    "OutOfMemoryError", "Size", "Tensor", "autograd", "cuda", "device", "dtype", "dtypes",
    "enable_grad", "get_default_device", "get_default_dtype", "get_printoptions",
    "is_grad_enabled", "load", "nn", "no_grad", "optim", "printoptions", "promote_types",
    "return_types", "save", "set_default_dtype", "set_grad_enabled", "set_printoptions",
    "typename", "utils", "bool", "double", "float", "float16", "float32", "float64", "half",
    "int", "int8", "int16", "int32", "int64", "long", "short", "uint8",
]
__all__ += ops.creation.__all__
__all__ += ops.extrema.__all__
__all__ += ops.linalg.__all__
__all__ += ops.pointwise.__all__
__all__ += ops.reduce.__all__
__all__ += ops.shape.__all__
__all__ += ops.softmaxes.__all__
__all__ += ["linalg", "special"]
__all__ += ops.compare.__all__
__all__ += ops.norms.__all__
__all__ += ops.special.__all__
