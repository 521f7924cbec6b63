"""The Tensor's core: its fields, ``_make``, the version counter and what needs no op.

Autograd and the ops import this module, never ``gputensor._tensor``: the user-facing
class ``gputensor.Tensor`` (in ``_tensor.py``) subclasses ``TensorCore`` and adds every op
as a method, so it sits above the ops. ``TensorCore._make`` builds instances of that
subclass (registered once by ``set_tensor_class``, as torch's C core builds
``torch.Tensor``), so every tensor an op returns has the methods, and
``isinstance(x, TensorCore)`` is true of every tensor.
"""

from __future__ import annotations

import threading
import warnings

import numpy as np

from . import dtypes
from .backends import _BY_TYPE as _BACKEND_BY_TYPE
from .backends import backend_for
from .backends.cpu import NO_SWITCH as _NO_SWITCH
from .device import CPU
from .size import Size

FLOAT_TYPE_NAMES = {"float16": "HalfTensor", "bfloat16": "BFloat16Tensor", "float32": "FloatTensor",
                    "float64": "DoubleTensor",
                    "int8": "CharTensor", "int16": "ShortTensor", "int32": "IntTensor",
                    "int64": "LongTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}

NUMPY_NO_COPY_ERROR = (
    "Unable to avoid copy while creating an array as requested.\nIf using "
    "`np.array(obj, copy=False)` replace it with `np.asarray(obj)` to allow a copy when needed "
    "(no behavior change in NumPy 1.x).\nFor more details, see "
    "https://numpy.org/devdocs/numpy_2_0_migration_guide.html"
    "#adapting-to-changes-in-the-copy-keyword.")


_SCALAR_NAMES = {"float16": "Half", "bfloat16": "BFloat16", "float32": "Float",
                 "float64": "Double", "int8": "Char", "int16": "Short", "int32": "Int",
                 "int64": "Long", "uint8": "Byte", "bool": "Bool"}
_CPP_NAMES = {"float16": "c10::Half", "bfloat16": "c10::BFloat16", "float32": "float",
              "float64": "double", "int8": "signed char", "int16": "short int", "int32": "int",
              "int64": "long int", "uint8": "unsigned char", "bool": "bool"}
NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If "
    "you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. "
    "See github.com/pytorch/pytorch/pull/30531 for more information.")


class _InferenceModeState(threading.local):
    """Whether inference mode is on in this thread (switched by ``autograd.grad_mode``)."""

    enabled = False


INFERENCE_MODE = _InferenceModeState()
INFERENCE_REQUIRES_GRAD_ERROR = ("Setting requires_grad=True on inference tensor outside "
                                 "InferenceMode is not allowed.")


class VersionCounter:
    """Counts in-place changes to one storage; views share their base's counter."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


def normalize_dim(dim, ndim: int) -> int:
    """A dim in [0, ndim), from a possibly negative one; torch's IndexError otherwise."""
    if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    low, high = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if dim < low or dim > high:
        raise IndexError(f"Dimension out of range (expected to be in range of [{low}, {high}], "
                         f"but got {dim})")
    return int(dim) % max(ndim, 1)


def type_text(shape, np_dtype) -> str:
    """torch's legacy type text of a tensor, e.g. ``gputensor.FloatTensor [2, 3]``."""
    sizes = ", ".join(str(n) for n in shape)
    return f"gputensor.{FLOAT_TYPE_NAMES[dtypes._BY_NUMPY[np_dtype].name]} [{sizes}]"


def typename(obj) -> str:
    """torch.typename: 'gputensor.FloatTensor' for tensors, else the qualified type name."""
    if isinstance(obj, TensorCore):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module = obj.__class__.__module__ or ""
        qualname = obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


class TensorCore:
    """A backend array on a device plus the fields autograd needs (no ops: see Tensor)."""

    __slots__ = ("_data", "_device", "_requires_grad", "_grad_fn", "_output_nr", "_grad",
                 "_version", "_base", "_hooks", "_post_acc_hooks", "_accumulator", "_retains_grad",
                 "_inference", "_view_version", "__weakref__")

    def _init(self, data, device) -> None:
        self._data = data
        self._device = device
        self._requires_grad = False
        self._grad_fn = None
        self._output_nr = 0
        self._grad = None
        self._version = VersionCounter()
        self._base = None
        self._hooks = None
        self._post_acc_hooks = None
        self._accumulator = None
        self._retains_grad = False
        self._inference = INFERENCE_MODE.enabled
        self._view_version = 0

    @staticmethod
    def _make(data, device=CPU) -> TensorCore:
        """Wrap a backend array in a new tensor (of the registered class) without copying."""
        t = object.__new__(_tensor_class)
        t._init(data, device)
        return t

    def _wrap(self, data) -> TensorCore:
        """A new tensor on this tensor's device around ``data``."""
        t = object.__new__(_tensor_class)
        t._init(data, self._device)
        return t

    # ---- metadata --------------------------------------------------------------
    @property
    def _backend(self):
        return _BACKEND_BY_TYPE.get(self._device.type) or backend_for(self._device.type)

    def _on_device(self):
        """A context in which this tensor's device is the current one (CUDA device index)."""
        index = self._device.index
        return _NO_SWITCH if index is None else self._backend.on_device(index)

    @property
    def shape(self) -> Size:
        """The size of each dimension."""
        return Size(self._data.shape)

    @property
    def dtype(self) -> dtypes.dtype:
        """The element type."""
        return dtypes._BY_NUMPY[self._data.dtype]

    @property
    def device(self):
        """Where the data lives."""
        return self._device

    @property
    def is_cuda(self) -> bool:
        """True for tensors on a CUDA device."""
        return self._device.type == "cuda"

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self._data.ndim

    def dim(self) -> int:
        """The number of dimensions."""
        return self._data.ndim

    def size(self, dim=None):
        """The shape, or the size of one dimension."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[normalize_dim(dim, self._data.ndim)]

    def numel(self) -> int:
        """The number of elements."""
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        """Bytes per element."""
        return self._data.itemsize

    def stride(self, dim=None):
        """Strides in elements, as torch reports them."""
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[normalize_dim(dim, self._data.ndim)]

    def is_contiguous(self) -> bool:
        """Whether the elements are laid out densely in row-major order."""
        return bool(self._data.flags.c_contiguous)

    def is_floating_point(self) -> bool:
        """Whether the dtype is a floating point type."""
        return self.dtype.is_floating_point

    def _type_text(self) -> str:
        return type_text(self._data.shape, self._data.dtype)

    def get_device(self) -> int:
        """The CUDA device index of this tensor, -1 on the CPU."""
        index = self._device.index
        return -1 if index is None else index

    # ---- autograd fields ---------------------------------------------------------
    @property
    def grad_fn(self):
        """The node that computed this tensor (None for leaves).

        A view whose storage changed in place since its node was made gets a new node that
        reads its base (torch's AsStridedBackward0), made here when it is read, as in torch.
        """
        if self._base is not None and self._view_version != self._version.value:
            _view_refresher(self)
        return self._grad_fn

    @grad_fn.setter
    def grad_fn(self, node) -> None:
        self._grad_fn = node

    def _sync_view(self) -> None:
        """Bring a view's graph fields up to date after in-place changes to its storage."""
        if self._base is not None and self._view_version != self._version.value:
            _view_refresher(self)

    @property
    def requires_grad(self) -> bool:
        """Whether gradients flow to or through this tensor."""
        if self._base is not None and self._view_version != self._version.value:
            _view_refresher(self)
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag) -> None:
        if self.grad_fn is not None:
            if not flag:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to "
                    "use a computed variable in a subgraph that doesn't require differentiation "
                    "use var_no_grad = var.detach().")
            return
        if flag and not self.dtype.is_floating_point:
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        if flag and self._inference and not INFERENCE_MODE.enabled:
            raise RuntimeError(INFERENCE_REQUIRES_GRAD_ERROR)
        self._requires_grad = bool(flag)

    def requires_grad_(self, requires_grad=True) -> TensorCore:
        """Set ``requires_grad`` in place and return self."""
        self.requires_grad = requires_grad
        return self

    def is_inference(self) -> bool:
        """Whether this tensor was made in inference mode (or is a view of one that was)."""
        return self._inference

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded operation."""
        return self.grad_fn is None

    @property
    def grad(self):
        """The accumulated gradient (leaves, and tensors that called retain_grad)."""
        if self.grad_fn is not None and not self._retains_grad and self._grad is None:
            warnings.warn(NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, TensorCore):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad "
                                f"of type {type(value).__name__}")
            if value.dtype is not self.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{_CPP_NAMES[value.dtype.name]}'"
                    f" to a tensor with grad_dtype '{_SCALAR_NAMES[self.dtype.name]}'. The "
                    "gradient must match the tensor's grad_dtype (defaults to the tensor's "
                    "dtype). You can set the tensor's grad_dtype attribute with a specific "
                    "dtype, or None to allow any dtype. Set grad_dtype with caution. Diverging "
                    "the dtypes of a tensor and its gradient may break downstream systems that "
                    "assume they match.")
            if value._device != self._device:
                raise RuntimeError("assigned grad has data located on a different device")
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value._data.shape)}' to a "
                    f"tensor of size '{list(self._data.shape)}'. Please ensure that the gradient "
                    "and the tensor are the same size")
        self._grad = value

    @property
    def retains_grad(self) -> bool:
        """Whether a non-leaf tensor keeps its ``.grad`` after backward."""
        return self._retains_grad

    @property
    def data(self) -> TensorCore:
        """The same storage as a tensor detached from the graph."""
        return self.detach()

    @data.setter
    def data(self, value: TensorCore) -> None:
        self._data = value._data
        self._device = value._device

    @property
    def _version_value(self) -> int:
        return self._version.value

    def detach(self) -> TensorCore:
        """A tensor sharing storage (and version counter) with no graph history."""
        out = self._wrap(self._data)
        out._version = self._version
        out._inference = self._inference
        return out

    def detach_(self) -> TensorCore:
        """Detach this tensor from the graph in place (not a view: torch's error)."""
        if self._base is not None:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using "
                "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set "
                "as True, gradients are views of DDP buckets, and hence detach_() cannot be "
                "called on these gradients. To fix this error, please refer to the "
                "Optimizer.zero_grad() function in gputensor/optim/optimizer.py as the "
                "solution.")
        self.grad_fn = None
        self._requires_grad = False
        self._output_nr = 0
        return self

    # ---- conversion ---------------------------------------------------------------
    def _to_numpy(self) -> np.ndarray:
        return self._backend.to_numpy(self._data)

    def numpy(self, force=False) -> np.ndarray:
        """The data as a NumPy array sharing memory (CPU tensors without grad only)."""
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        if self._device.type != "cpu" and not force:
            raise TypeError(f"can't convert {self._device} device type tensor to numpy. Use "
                            "Tensor.cpu() to copy the tensor to host memory first.")
        return self._to_numpy()

    def tolist(self):
        """The data as (nested) Python numbers."""
        return self._to_numpy().tolist()

    def item(self):
        """The single element as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               "to Scalar")
        return self._to_numpy().reshape(()).item()

    def _scalar(self, kind):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return kind(self._to_numpy().reshape(()).item())

    def __float__(self):
        return self._scalar(float)

    def __int__(self):
        return self._scalar(int)

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._to_numpy().reshape(()).item())

    def __index__(self):
        if self.dtype.is_floating_point or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self._to_numpy().reshape(()).item())

    def __array__(self, dtype=None, copy=None):
        """The data for NumPy: shared (``np.asarray``) or copied (``np.array``), with
        ``numpy()``'s errors; ``copy=False`` refused as NumPy refuses it for torch's."""
        if copy is False:
            raise ValueError(NUMPY_NO_COPY_ERROR)
        arr = self.numpy()
        if dtype is None and not copy:
            return arr
        return np.array(arr, dtype=dtype, copy=True if copy else None)

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    __hash__ = object.__hash__


_tensor_class = TensorCore  # replaced by gputensor.tensor.Tensor when that module loads


def _no_refresh(view) -> None:
    """The view refresher until the ops register theirs (nothing to rebase yet)."""


_view_refresher = _no_refresh  # replaced by ops.view_writes.refresh_view when it loads
NO_GRAD_VIEW = -1  # the _view_version of a view made under no_grad: never refreshed


def set_view_refresher(refresh) -> None:
    """Make ``refresh(view)`` rebuild a view's graph fields after its storage changed."""
    global _view_refresher
    _view_refresher = refresh


def set_tensor_class(cls) -> None:
    """Make ``_make`` build instances of ``cls`` (gputensor.Tensor, which adds the methods)."""
    global _tensor_class
    _tensor_class = cls
