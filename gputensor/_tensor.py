"""class Tensor: the core's fields plus every op as a method, in one visible table.

Each method is a direct reference to the function that implements it (``sum =
reduce.sum``: ``x.sum(1)`` is ``reduce.sum(x, 1)``), grouped by the ops module that holds
it, so "where is ``x.sum`` defined?" reads off this file. Tensor-only methods that torch has
no function for (casts, ``to``, ``new_*``, reflected operators) are written out here.
``_tensor.pyi`` is generated from this class (``python -m gputensor._stubgen``).
"""

from __future__ import annotations

import weakref

from . import dtypes, printing
from ._tensor_core import FLOAT_TYPE_NAMES, TensorCore, set_tensor_class, typename
from .autograd import engine
from .autograd.function import RemovableHandle
from .device import as_device
from .device import device as device_type
from .ops import (
    blas,
    compare,
    counting,
    creation,
    cumulative,
    extrema,
    gather,
    index,
    index_update,
    inplace,
    linalg,
    masks,
    norms,
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
    transfer,
    views,
)

__all__ = ["Tensor", "typename"]


class Tensor(TensorCore):
    """A multi-dimensional array on a device, with optional gradient tracking."""

    __module__ = "gputensor"  # the public name, as torch's class is torch.Tensor
    __slots__ = ()

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __init__(self, *args, device=None):
        """``Tensor(sizes...)`` (uninitialised float) or ``Tensor(data)`` (as float)."""
        if len(args) == 1 and not isinstance(args[0], int):
            src = creation.tensor(args[0], dtype=dtypes.get_default_dtype(), device=device)
        else:
            src = creation.empty(*args, device=device)
        self._init(src._data, src._device)

    # ---- operators -----------------------------------------------------------------
    __add__ = __radd__ = pointwise.add  # radd as torch: self.add(other)
    __sub__ = pointwise.sub
    __rsub__ = pointwise.rsub
    __mul__ = __rmul__ = pointwise.mul  # rmul as torch: self.mul(other)
    __truediv__ = pointwise.div
    __rtruediv__ = pointwise.rdiv
    __floordiv__ = pointwise.floor_divide
    __rfloordiv__ = pointwise.rfloor_divide
    __mod__ = pointwise.remainder
    __rmod__ = pointwise.rremainder
    __pow__ = pointwise.pow
    __rpow__ = pointwise.rpow
    __matmul__ = linalg.matmul
    __rmatmul__ = linalg.rmatmul
    __and__ = __rand__ = pointwise.bitwise_and
    __or__ = __ror__ = pointwise.bitwise_or
    __xor__ = __rxor__ = pointwise.bitwise_xor
    __lt__ = pointwise.lt
    __le__ = pointwise.le
    __gt__ = pointwise.gt
    __ge__ = pointwise.ge
    __eq__ = pointwise.eq_operator
    __ne__ = pointwise.ne_operator
    __neg__ = pointwise.neg
    __pos__ = pointwise.positive
    __abs__ = pointwise.abs
    __invert__ = pointwise.invert_operator
    __getitem__ = index.getitem
    __setitem__ = setitem.setitem
    __iadd__ = inplace.add_
    __isub__ = inplace.sub_
    __imul__ = inplace.mul_
    __itruediv__ = inplace.div_
    __ipow__ = inplace.pow_
    __ifloordiv__ = inplace.floor_divide_
    __imod__ = inplace.remainder_
    __hash__ = TensorCore.__hash__  # defining __eq__ would otherwise drop it

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

    # ---- dtype casts ---------------------------------------------------------------------
    def float(self, memory_format=None) -> Tensor:
        """A copy as float32 (self when it already is)."""
        return pointwise.to_dtype(self, dtypes.float32)

    def double(self, memory_format=None) -> Tensor:
        """A copy as float64 (self when it already is)."""
        return pointwise.to_dtype(self, dtypes.float64)

    def half(self, memory_format=None) -> Tensor:
        """A copy as float16 (self when it already is)."""
        return pointwise.to_dtype(self, dtypes.float16)

    def bfloat16(self, memory_format=None) -> Tensor:
        """A copy as bfloat16 (self when it already is)."""
        return pointwise.to_dtype(self, dtypes.bfloat16)

    def long(self, memory_format=None) -> Tensor:
        """A copy as int64 (self when it already is)."""
        return pointwise.to_dtype(self, dtypes.int64)

    def int(self, memory_format=None) -> Tensor:
        """A copy as int32 (self when it already is)."""
        return pointwise.to_dtype(self, dtypes.int32)

    def short(self, memory_format=None) -> Tensor:
        """A copy as int16 (self when it already is)."""
        return pointwise.to_dtype(self, dtypes.int16)

    def bool(self, memory_format=None) -> Tensor:
        """A copy as bool (self when it already is)."""
        return pointwise.to_dtype(self, dtypes.bool)

    def byte(self, memory_format=None) -> Tensor:
        """A copy as uint8 (self when it already is)."""
        return pointwise.to_dtype(self, dtypes.uint8)

    def char(self, memory_format=None) -> Tensor:
        """A copy as int8 (self when it already is)."""
        return pointwise.to_dtype(self, dtypes.int8)

    def type(self, dtype=None, non_blocking=False):
        """The type name (``gputensor.FloatTensor``, ``gputensor.cuda.FloatTensor``), or a copy
        cast to ``dtype``."""
        if dtype is None:
            where = "cuda." if self._device.type == "cuda" else ""
            return f"gputensor.{where}{FLOAT_TYPE_NAMES[self.dtype.name]}"
        return self.to(dtype)

    # ---- devices ---------------------------------------------------------------------------
    def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False,
           memory_format=None) -> Tensor:
        """A tensor with another dtype and/or device (self when nothing changes)."""
        for arg in args:
            if isinstance(arg, dtypes.dtype):
                dtype = arg
            elif isinstance(arg, TensorCore):
                dtype, device = arg.dtype, arg.device
            elif isinstance(arg, bool):
                continue  # non_blocking: every copy here is ordered on the current stream
            else:
                device = arg
        out = self
        if device is not None:
            target = as_device(device)
            if target != self._device:
                out = transfer.to_device(out, target)
        if dtype is not None:
            out = pointwise.to_dtype(out, dtype)
        if copy and out is self:
            out = pointwise.clone(self)
        return out

    def cuda(self, device=None, non_blocking=False, memory_format=None) -> Tensor:
        """A copy on a CUDA device (the current one by default; self when already there)."""
        if device is None or isinstance(device, int):
            target = device_type("cuda", device)
        else:
            target = device_type(device)
            if target.type != "cuda":
                raise RuntimeError("Invalid device, must be cuda device")
        return self.to(target)

    def cpu(self, memory_format=None) -> Tensor:
        """A copy in CPU memory (self when already there)."""
        return self.to("cpu")

    # ---- new tensors like this one ------------------------------------------------------
    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        """Like ``zeros``, with this tensor's dtype and device by default."""
        return creation.zeros(*size, **self._like_this(dtype, device, requires_grad))

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        """Like ``ones``, with this tensor's dtype and device by default."""
        return creation.ones(*size, **self._like_this(dtype, device, requires_grad))

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        """Like ``empty``, with this tensor's dtype and device by default."""
        return creation.empty(*size, **self._like_this(dtype, device, requires_grad))

    def new_full(self, size, fill_value, dtype=None, device=None,
                 requires_grad=False) -> Tensor:
        """Like ``full``, with this tensor's dtype and device by default."""
        return creation.full(size, fill_value, **self._like_this(dtype, device, requires_grad))

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False) -> Tensor:
        """Like ``tensor``, with this tensor's dtype and device by default."""
        return creation.tensor(data, **self._like_this(dtype, device, requires_grad))

    def _like_this(self, dtype, device, requires_grad) -> dict:
        return {"dtype": dtype or self.dtype, "device": device or self.device,
                "requires_grad": requires_grad}

    # ---- autograd --------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False,
                 inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``."""
        engine.backward(self, gradient, retain_graph, create_graph, inputs)

    def register_hook(self, hook):
        """Call ``hook(grad)`` with this tensor's gradient; a returned tensor replaces it."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn.register_prehook(hook, self._output_nr)
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return RemovableHandle(self._hooks, hook)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        ref = weakref.ref(self)

        def keep(grad):
            t = ref()
            if t is not None:
                g = grad._data
                t._grad = grad.detach().clone() if t._grad is None else t._wrap(t._grad._data + g)
        node = self.grad_fn
        node._retain_hooks = {**(node._retain_hooks or {}), self._output_nr: keep}
        self._retains_grad = True

    # ---- Python protocols ------------------------------------------------------------------
    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(shape.unbind(self, 0))

    def __repr__(self):
        return printing.tensor_repr(self)

    __str__ = __repr__

    def __format__(self, spec):
        if self._data.ndim == 0 and spec:
            return format(self.item(), spec)
        return repr(self)

    def __deepcopy__(self, memo):
        out = self.detach().clone()
        out._requires_grad = self._requires_grad
        memo[id(self)] = out
        return out


set_tensor_class(Tensor)
