"""class Tensor: the core's fields plus every op as a method, in one visible table.

Each method is a direct reference to the function that implements it (``sum =
reduce.sum``: ``x.sum(1)`` is ``reduce.sum(x, 1)``), grouped by the ops module that holds
it, so "where is ``x.sum`` defined?" reads off this file. The methods that are no op
(casts, ``to``, ``new_*``, ``backward``, Python's protocols) come from ``TensorBase``
(_tensor_base.py), the later families of ops (more elementwise math, shapes, statistics,
random fills) from ``TensorMoreOps`` (_tensor_more.py). ``_tensor.pyi`` is generated from
this class (``python -m gputensor._stubgen``).
"""

from __future__ import annotations

from . import dtypes
from ._tensor_core import set_tensor_class, typename
from ._tensor_more import TensorMoreOps
from .ops import (
    activations_dims,
    activations_more,
    blas,
    compare,
    counting,
    creation,
    cumulative,
    dlpack,
    extrema,
    gather,
    index,
    index_update,
    inplace,
    linalg,
    masks,
    norms,
    numpy_interop,
    pickling,
    pointwise,
    reduce,
    sampling,
    scatter,
    searching,
    setitem,
    shape,
    softmaxes,
    sorting,
    special,
    views,
)

__all__ = ["Tensor", "typename"]


class Tensor(TensorMoreOps):
    """A multi-dimensional array on a device, with optional gradient tracking."""

    __module__ = "gputensor"  # the public name, as torch's class is torch.Tensor
    __slots__ = ()

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, device=None):
        """``Tensor(sizes...)`` (uninitialised float) or ``Tensor(data)`` (as float)."""
        if len(args) == 1 and not isinstance(args[0], int):
            src = creation.tensor_from_data(args[0], dtypes.get_default_dtype(), device)
        else:
            src = creation.empty(*args, device=device)
        self._init(src._data, src._device)

    # ---- operators (ops/numpy_interop.py: pointwise's and linalg's ops, with torch's answers
    # for a NumPy array on the other side; radd/rmul as torch: self.add(other)) ----------
    __array_priority__ = numpy_interop.ARRAY_PRIORITY
    __array_wrap__ = numpy_interop.array_wrap
    __add__ = numpy_interop.add
    __radd__ = numpy_interop.radd
    __sub__ = numpy_interop.sub
    __rsub__ = numpy_interop.rsub
    __mul__ = numpy_interop.mul
    __rmul__ = numpy_interop.rmul
    __truediv__ = numpy_interop.div
    __rtruediv__ = numpy_interop.rdiv
    __floordiv__ = numpy_interop.floor_divide
    __rfloordiv__ = numpy_interop.rfloor_divide
    __mod__ = numpy_interop.remainder
    __rmod__ = numpy_interop.rremainder
    __pow__ = numpy_interop.pow
    __rpow__ = numpy_interop.rpow
    __matmul__ = numpy_interop.matmul
    __rmatmul__ = numpy_interop.rmatmul
    __and__ = numpy_interop.bitwise_and
    __rand__ = numpy_interop.rbitwise_and
    __or__ = numpy_interop.bitwise_or
    __ror__ = numpy_interop.rbitwise_or
    __xor__ = numpy_interop.bitwise_xor
    __rxor__ = numpy_interop.rbitwise_xor
    __lt__ = numpy_interop.lt_operator
    __le__ = numpy_interop.le_operator
    __gt__ = numpy_interop.gt_operator
    __ge__ = numpy_interop.ge_operator
    __eq__ = pointwise.eq_operator
    __ne__ = numpy_interop.ne_operator
    __neg__ = pointwise.neg
    __pos__ = pointwise.positive
    __abs__ = pointwise.abs
    __invert__ = pointwise.invert_operator
    __getitem__ = index.getitem
    __setitem__ = setitem.setitem
    __iadd__ = numpy_interop.iadd
    __isub__ = numpy_interop.isub
    __imul__ = numpy_interop.imul
    __itruediv__ = numpy_interop.itruediv
    __ipow__ = numpy_interop.ipow
    __ifloordiv__ = numpy_interop.ifloordiv
    __imod__ = numpy_interop.imod
    __hash__ = TensorMoreOps.__hash__  # defining __eq__ would otherwise drop it

    # ---- pointwise (ops/pointwise.py) ------------------------------------------------
    add = pointwise.add
    sub = subtract = pointwise.sub
    mul = multiply = pointwise.mul
    div = divide = pointwise.div
    true_divide = pointwise.true_divide
    floor_divide = pointwise.floor_divide
    remainder = pointwise.remainder
    pow = pointwise.pow
    maximum = pointwise.maximum
    minimum = pointwise.minimum
    where = pointwise.where
    clamp = clip = pointwise.clamp
    neg = negative = pointwise.neg
    positive = pointwise.positive
    abs = absolute = pointwise.abs
    exp = pointwise.exp
    log = pointwise.log
    log1p = pointwise.log1p
    sqrt = pointwise.sqrt
    rsqrt = pointwise.rsqrt
    sin = pointwise.sin
    cos = pointwise.cos
    tanh = pointwise.tanh
    sigmoid = pointwise.sigmoid
    relu = pointwise.relu
    reciprocal = pointwise.reciprocal
    sign = pointwise.sign
    floor = pointwise.floor
    ceil = pointwise.ceil
    round = pointwise.round
    eq = pointwise.eq
    ne = pointwise.ne
    lt = less = pointwise.lt
    le = less_equal = pointwise.le
    gt = greater = pointwise.gt
    ge = greater_equal = pointwise.ge
    bitwise_and = pointwise.bitwise_and
    bitwise_or = pointwise.bitwise_or
    bitwise_xor = pointwise.bitwise_xor
    bitwise_not = pointwise.bitwise_not
    logical_and = pointwise.logical_and
    logical_or = pointwise.logical_or
    logical_xor = pointwise.logical_xor
    logical_not = pointwise.logical_not
    isnan = pointwise.isnan
    isinf = pointwise.isinf
    isfinite = pointwise.isfinite
    clone = pointwise.clone
    type_as = pointwise.type_as

    # ---- in place (ops/inplace.py) ----------------------------------------------------
    add_ = inplace.add_
    sub_ = inplace.sub_
    mul_ = inplace.mul_
    div_ = inplace.div_
    pow_ = inplace.pow_
    clamp_ = clip_ = inplace.clamp_
    neg_ = inplace.neg_
    copy_ = inplace.copy_
    fill_ = inplace.fill_
    zero_ = inplace.zero_
    abs_ = inplace.abs_
    exp_ = inplace.exp_
    log_ = inplace.log_
    log1p_ = inplace.log1p_
    sqrt_ = inplace.sqrt_
    rsqrt_ = inplace.rsqrt_
    sin_ = inplace.sin_
    cos_ = inplace.cos_
    tanh_ = inplace.tanh_
    sigmoid_ = inplace.sigmoid_
    relu_ = inplace.relu_
    reciprocal_ = inplace.reciprocal_
    sign_ = inplace.sign_
    floor_ = inplace.floor_
    ceil_ = inplace.ceil_
    round_ = inplace.round_
    remainder_ = inplace.remainder_
    floor_divide_ = inplace.floor_divide_

    # ---- reductions (ops/reduce.py, ops/extrema.py, ops/softmaxes.py) ------------------
    sum = reduce.sum
    mean = reduce.mean
    prod = reduce.prod
    var = reduce.var
    std = reduce.std
    all = reduce.all
    any = reduce.any
    max = extrema.max
    min = extrema.min
    amax = extrema.amax
    amin = extrema.amin
    argmax = extrema.argmax
    argmin = extrema.argmin
    logsumexp = softmaxes.logsumexp
    softmax = softmaxes.softmax
    log_softmax = softmaxes.log_softmax

    # ---- views and shapes (ops/views.py, ops/shape.py) ---------------------------------
    view = views.view
    view_as = views.view_as
    reshape = views.reshape
    reshape_as = views.reshape_as
    flatten = views.flatten
    permute = views.permute
    transpose = swapaxes = swapdims = views.transpose
    squeeze = views.squeeze
    unsqueeze = views.unsqueeze
    contiguous = views.contiguous
    expand = views.expand
    expand_as = views.expand_as
    split = shape.split
    chunk = shape.chunk
    unbind = shape.unbind
    repeat = shape.repeat
    select = shape.select
    narrow = shape.narrow
    movedim = moveaxis = shape.movedim
    adjoint = shape.adjoint
    t = shape.t
    unflatten = shape.unflatten
    T = property(shape.reversed_dims, doc="All dims reversed.")
    mT = property(shape.matrix_transpose, doc="The last two dims swapped.")  # noqa: N815
    mH = property(shape.matrix_adjoint, doc="The conjugate of mT.")  # noqa: N815
    H = property(shape.hermitian, doc="The conjugate transpose of a matrix.")

    # ---- linear algebra (ops/linalg.py) -------------------------------------------------
    matmul = linalg.matmul
    mm = linalg.mm
    bmm = linalg.bmm
    mv = linalg.mv
    dot = linalg.dot

    # ---- masks, sorting and selection (ops/masks.py, sorting.py, searching.py, sampling.py) -
    tril = masks.tril
    triu = masks.triu
    tril_ = masks.tril_
    triu_ = masks.triu_
    masked_fill = masks.masked_fill
    masked_fill_ = masks.masked_fill_
    masked_select = masks.masked_select
    nonzero = masks.nonzero
    sort = sorting.sort
    argsort = sorting.argsort
    msort = sorting.msort
    topk = sorting.topk
    kthvalue = sorting.kthvalue
    unique = searching.unique
    unique_consecutive = searching.unique_consecutive
    multinomial = sampling.multinomial
    # ---- gather, scatter, counting (ops/gather.py, scatter.py, index_update.py, counting.py)
    # (``gather`` and ``scatter`` come last: each rebinds its module's name in this class)
    take = gather.take
    take_along_dim = gather.take_along_dim
    index_select = gather.index_select
    repeat_interleave = gather.repeat_interleave
    gather = gather.gather
    scatter_ = scatter.scatter_
    scatter_add = scatter.scatter_add
    scatter_add_ = scatter.scatter_add_
    scatter_reduce = scatter.scatter_reduce
    scatter_reduce_ = scatter.scatter_reduce_
    index_add = index_update.index_add
    index_add_ = index_update.index_add_
    index_fill = index_update.index_fill
    index_fill_ = index_update.index_fill_
    index_copy = index_update.index_copy
    index_copy_ = index_update.index_copy_
    scatter = scatter.scatter
    bincount = counting.bincount
    histc = counting.histc
    count_nonzero = counting.count_nonzero
    # ---- cumulative ops, flips, diagonals, products (ops/cumulative.py, ops/blas.py) -------
    cumsum = cumulative.cumsum
    cumsum_ = cumulative.cumsum_
    cumprod = cumulative.cumprod
    cumprod_ = cumulative.cumprod_
    cummax = cumulative.cummax
    cummin = cumulative.cummin
    logcumsumexp = cumulative.logcumsumexp
    diff = cumulative.diff
    flip = cumulative.flip_method
    fliplr = cumulative.fliplr
    flipud = cumulative.flipud
    roll = cumulative.roll
    addmm = blas.addmm
    addmv = blas.addmv
    addbmm = blas.addbmm
    baddbmm = blas.baddbmm
    outer = blas.outer
    ger = blas.ger
    kron = blas.kron
    diag = blas.diag
    diagonal = blas.diagonal
    diag_embed = blas.diag_embed
    trace = blas.trace
    # ---- special functions, comparisons, norms (ops/special.py, compare.py, norms.py) ------
    erf = special.erf
    erfc = special.erfc
    erfinv = special.erfinv
    erf_ = special.erf_
    erfc_ = special.erfc_
    erfinv_ = special.erfinv_
    logit = special.logit
    logit_ = special.logit_
    lerp = special.lerp
    lerp_ = special.lerp_
    nan_to_num = special.nan_to_num
    nan_to_num_ = special.nan_to_num_
    clamp_min = special.clamp_min
    clamp_max = special.clamp_max
    clamp_min_ = special.clamp_min_
    clamp_max_ = special.clamp_max_
    isclose = compare.isclose
    allclose = compare.allclose
    equal = compare.equal
    norm = norms.tensor_norm
    # ---- activations (ops/activations_more.py, ops/activations_dims.py) -------------------
    prelu = activations_dims.prelu
    hardshrink = activations_more.hardshrink

    # ---- exchange with other libraries, pickle and copy (ops/dlpack.py, ops/pickling.py) ----
    __dlpack__ = dlpack.dlpack
    __dlpack_device__ = dlpack.dlpack_device
    __cuda_array_interface__ = property(dlpack.cuda_array_interface,
                                        doc="The CUDA array interface of a CUDA tensor.")
    __reduce_ex__ = pickling.reduce_ex
    __copy__ = pickling.shallow_copy
    __deepcopy__ = pickling.deep_copy


set_tensor_class(Tensor)
