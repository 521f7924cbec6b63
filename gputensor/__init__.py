"""gputensor: a PyTorch-compatible tensor library on NumPy (CPU) and CuPy/Numba (CUDA)."""

from . import (  # _source_checkout first: it makes gputensor.kernels findable
    _source_checkout,
    accelerator,
    amp,
    autograd,
    backends,
    cuda,
    distributed,
    distributions,
    dtypes,
    legacy,
    linalg,
    nn,
    onnx,
    ops,
    optim,
    random,
    return_types,
    serialization,
    special,
    utils,
)
from ._tensor import Tensor, typename
from .amp import autocast, get_autocast_dtype, is_autocast_enabled
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .autograd.grad_mode import inference_mode, is_inference_mode_enabled
from .backends import OutOfMemoryError
from .cuda import amp as _cuda_amp  # noqa: F401 - gputensor.cuda.amp, as torch.cuda.amp
from .device import device
from .dtypes import (
    bfloat16,
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
from .legacy import (
    BFloat16Tensor,
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    get_num_interop_threads,
    get_num_threads,
    is_floating_point,
    is_nonzero,
    is_tensor,
    numel,
    set_num_interop_threads,
    set_num_threads,
)
from .ops.activations_dims import prelu
from .ops.activations_more import (
    celu,
    celu_,
    hardshrink,
    selu,
    selu_,
    threshold,
    threshold_,
)
from .ops.adaptive_pooling import adaptive_avg_pool1d
from .ops.blas import (
    addbmm,
    addmm,
    addmv,
    baddbmm,
    diag,
    diag_embed,
    diagonal,
    ger,
    kron,
    meshgrid,
    outer,
    trace,
)
from .ops.compare import allclose, equal, isclose
from .ops.conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d
from .ops.counting import bincount, count_nonzero, histc
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
    seed,
    set_default_device,
    tensor,
    zeros,
    zeros_like,
)
from .ops.cumulative import (
    cummax,
    cummin,
    cumprod,
    cumsum,
    diff,
    flip,
    fliplr,
    flipud,
    logcumsumexp,
    roll,
)
from .ops.distances import cosine_similarity, pairwise_distance
from .ops.dlpack import from_dlpack
from .ops.dropouts import alpha_dropout_, feature_alpha_dropout_
from .ops.dropouts import torch_alpha_dropout as alpha_dropout
from .ops.dropouts import torch_feature_alpha_dropout as feature_alpha_dropout
from .ops.einsum import einsum
from .ops.extrema import (  # noqa: A004
    amax,
    amin,
    argmax,
    argmin,
    max,
    min,
)
from .ops.gamma_functions import digamma, igamma, igammac, lgamma, polygamma
from .ops.gamma_sampling import (
    _dirichlet_grad,
    _sample_dirichlet,
    _standard_gamma,
    _standard_gamma_grad,
)
from .ops.gather import gather, index_select, repeat_interleave, take, take_along_dim
from .ops.index_update import index_add, index_copy, index_fill
from .ops.index_writes import (
    index_put,
    index_put_,
    masked_scatter,
    put,
    select_scatter,
    slice_scatter,
)
from .ops.linalg import (  # noqa: A004
    bmm,
    dot,
    matmul,
    mm,
    mv,
)
from .ops.masks import (  # noqa: A004
    masked_fill,
    masked_select,
    nonzero,
    tril,
    tril_indices,
    triu,
    triu_indices,
)
from .ops.math_more import (
    cdist,
    corrcoef,
    cov,
    cross,
    dist,
    inner,
    isin,
    logspace,
    tensordot,
)
from .ops.math_ops import (
    acos,
    acosh,
    addcdiv,
    addcmul,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    copysign,
    cosh,
    deg2rad,
    exp2,
    expm1,
    fix,
    float_power,
    fmod,
    frac,
    heaviside,
    hypot,
    isneginf,
    isposinf,
    isreal,
    log2,
    log10,
    logaddexp,
    logaddexp2,
    rad2deg,
    sgn,
    signbit,
    sinh,
    square,
    tan,
    trunc,
    xlogy,
)
from .ops.norm_layers import group_norm
from .ops.norm_layers import torch_instance_norm as instance_norm
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
from .ops.pooling import avg_pool1d, max_pool1d, max_pool1d_with_indices, max_pool2d
from .ops.quantiles import nanquantile, quantile
from .ops.random_fill import bernoulli, normal, poisson
from .ops.random_tensors import rand, rand_like, randint, randint_like, randn, randn_like, randperm
from .ops.reduce import (  # noqa: A004
    all,
    any,
    mean,
    prod,
    std,
    sum,
    var,
)
from .ops.resampling import pixel_shuffle, pixel_unshuffle
from .ops.sampling import multinomial
from .ops.scatter import scatter, scatter_add, scatter_reduce
from .ops.searching import bucketize, searchsorted, unique, unique_consecutive
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
from .ops.shape_more import (
    argwhere,
    atleast_1d,
    atleast_2d,
    atleast_3d,
    block_diag,
    broadcast_shapes,
    broadcast_tensors,
    broadcast_to,
    cartesian_prod,
    column_stack,
    combinations,
    dstack,
    hstack,
    ravel,
    rot90,
    row_stack,
    tile,
    vstack,
)
from .ops.softmaxes import (  # noqa: A004
    log_softmax,
    logsumexp,
    softmax,
)
from .ops.sorting import argsort, kthvalue, msort, sort, topk
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
from .ops.stats import (
    aminmax,
    median,
    mode,
    nanmean,
    nanmedian,
    nansum,
    std_mean,
    var_mean,
)
from .ops.transfer import get_default_device
from .ops.triangular import cholesky_inverse
from .printing import get_printoptions, printoptions, set_printoptions
from .random import get_rng_state, set_rng_state
from .serialization import load, save
from .size import Size

# isort: split
from . import _dynamo, compiler  # torch._dynamo's and torch.compiler's shims
from .compile import compile  # noqa: A004 - the function; the package stays in sys.modules

__version__ = "0.1.0"

# the public names (type checkers read this list; a test keeps it whole)
__all__ = [
    "OutOfMemoryError", "Size", "Tensor", "autograd", "cuda", "device", "dtype", "dtypes",
    "enable_grad", "get_default_device", "get_default_dtype", "get_printoptions",
    "is_grad_enabled", "load", "nn", "no_grad", "optim", "printoptions", "promote_types",
    "return_types", "save", "set_default_dtype", "set_grad_enabled", "set_printoptions",
    "typename", "utils", "bfloat16", "bool", "double", "float", "float16", "float32", "float64",
    "half", "int", "int8", "int16", "int32", "int64", "long", "short", "uint8",
]
__all__ += ["accelerator", "amp", "autocast", "backends", "distributed",
            "get_autocast_dtype", "is_autocast_enabled"]
__all__ += legacy.__all__
__all__ += ["inference_mode", "is_inference_mode_enabled"]
__all__ += ops.creation.__all__
__all__ += ops.extrema.__all__
__all__ += ops.linalg.__all__
__all__ += ops.pointwise.__all__
__all__ += ops.reduce.__all__
__all__ += ops.shape.__all__
__all__ += ops.softmaxes.__all__
__all__ += ops.masks.__all__
__all__ += ops.sampling.__all__
__all__ += ops.searching.__all__
__all__ += ops.sorting.__all__
__all__ += ops.counting.__all__
__all__ += ops.gather.__all__
__all__ += ops.index_update.__all__
__all__ += ops.scatter.__all__
__all__ += ops.blas.__all__
__all__ += ops.cumulative.__all__
__all__ += ops.einsum.__all__
__all__ += ["linalg", "special"]
__all__ += ops.compare.__all__
__all__ += ops.norms.__all__
__all__ += ops.special.__all__
__all__ += ops.math_ops.__all__
__all__ += ops.random_fill.__all__
__all__ += ops.shape_more.__all__
__all__ += ops.index_writes.__all__
__all__ += ops.stats.__all__
__all__ += ops.math_more.__all__
__all__ += ops.quantiles.__all__
__all__ += ops.gamma_functions.__all__
__all__ += ops.triangular.__all__
__all__ += ops.activations_more.__all__
__all__ += ops.activations_dims.__all__
__all__ += ops.dropouts.__all__ + ["alpha_dropout", "feature_alpha_dropout"]
__all__ += ops.norm_layers.__all__ + ["instance_norm"]
__all__ += ops.distances.__all__
__all__ += ops.resampling.__all__
__all__ += ops.conv.__all__ + ops.pooling.__all__ + ops.adaptive_pooling.__all__
__all__ += ["onnx", "serialization"]
__all__ += ops.dlpack.__all__
__all__ += ["random", "get_rng_state", "set_rng_state"]
__all__ += ops.random_tensors.__all__
__all__ += ["compile", "compiler"]
