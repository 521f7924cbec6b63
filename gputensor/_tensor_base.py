"""class TensorBase: the Tensor methods that are no op of ``ops/``.

Casts (``float()``, ``type()``...), moves between devices (``to``, ``cuda``, ``cpu``), new
tensors like this one (``new_zeros``...), autograd's entry points (``backward``,
``register_hook``, ``retain_grad``) and Python's protocols. ``Tensor`` (_tensor.py) adds
every op as a method on top.
"""

from __future__ import annotations

import warnings
import weakref
from typing import TYPE_CHECKING

from . import dtypes, printing
from ._tensor_core import FLOAT_TYPE_NAMES, TensorCore
from .autograd import engine
from .autograd.nodes import RemovableHandle
from .device import as_device
from .device import device as device_type
from .ops import creation, gamma_functions, pointwise, shape, transfer, triangular

if TYPE_CHECKING:
    from ._tensor import Tensor

__all__ = ["TensorBase"]



_TO_SIGNATURES = (
    "(torch.device device = None, torch.dtype dtype = None, bool non_blocking = False, "
    "bool copy = False, *, torch.memory_format memory_format = None)",
    "(torch.dtype dtype, bool non_blocking = False, bool copy = False, *, "
    "torch.memory_format memory_format = None)",
    "(Tensor tensor, bool non_blocking = False, bool copy = False, *, "
    "torch.memory_format memory_format = None)")


def _to_arguments_error(args, **keywords) -> str:
    """torch's TypeError text for ``to()`` called with arguments of the wrong types."""
    given = "".join(f"{type(a).__name__}, " for a in args)
    given += "".join(f"{k}={type(v).__name__}, " for k, v in keywords.items() if v is not None)
    if args:
        given = given[:-2]
    return (f"to() received an invalid combination of arguments - got ({given}), but expected "
            "one of:\n" + "".join(f" * {s}\n" for s in _TO_SIGNATURES))

class TensorBase(TensorCore):
    """The core's fields with casts, device moves, ``new_*``, autograd entry points and
    Python's protocols."""

    __slots__ = ()

    # ---- gamma functions and Cholesky inverses (ops/gamma_functions.py, ops/triangular.py) -
    lgamma = gamma_functions.lgamma
    digamma = gamma_functions.digamma
    polygamma = gamma_functions.polygamma_method
    lgamma_ = gamma_functions.lgamma_
    digamma_ = gamma_functions.digamma_
    cholesky_inverse = triangular.cholesky_inverse

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
        if dtype is not None and not isinstance(dtype, dtypes.dtype):
            raise TypeError(_to_arguments_error(args, dtype=dtype, device=device))
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
        creation.new_shape(size)  # torch's message for a negative size, not zeros()'s
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
        if isinstance(data, TensorCore):
            warnings.warn(creation.COPY_CONSTRUCT_WARNING.format("tensor.new_tensor"),
                          UserWarning, stacklevel=2)
        return creation.tensor_from_data(data, **self._like_this(dtype, device, requires_grad))

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

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(self)`` after a backward has accumulated into this leaf's ``.grad``."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        if self._post_acc_hooks is None:
            self._post_acc_hooks = []
        self._post_acc_hooks.append(hook)
        return RemovableHandle(self._post_acc_hooks, hook)

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
        if self._data.ndim == 0:  # as torch: a 0-d tensor formats as its number, f"{t}" too
            return format(self.item(), spec)
        return repr(self)

