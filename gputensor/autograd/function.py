"""Function (user-defined differentiable functions) and Op (the built-in ops): their
forward, the recording of their node, and their backward."""

from __future__ import annotations

import re
import weakref

from .. import _tensor_core
from .._tensor_core import (
    _BACKEND_BY_TYPE,
    INFERENCE_MODE,
    NO_GRAD_VIEW,
    TensorCore,
    type_text,
)
from ..dtypes import bfloat16, is_float_array_dtype
from .devices import on_common_device
from .function_checks import (
    alias_unmarked_inputs,
    bind_arguments,
    check_dirty,
    checked_gradients,
    once_differentiable,
    spread_outputs,
)
from .grad_mode import _state as _grad_state
from .grad_mode import is_grad_enabled, no_grad
from .nodes import Node, leaf_accumulator

__all__ = ["Function", "once_differentiable"]

SECOND_BACKWARD_ERROR = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward.")
_BACKWARD_SUFFIX = re.compile(r"Backward\d*$")
INFERENCE_SAVED_ERROR = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
    "inference mode in computation tracked by autograd. To work around this, you can make a "
    "clone to get a normal tensor and use it in autograd, or use `gputensor.no_grad()` instead "
    "of `gputensor.inference_mode()`.")
LEGACY_CALL_ERROR = (
    "Legacy autograd function with non-static forward method is deprecated. Please use "
    "new-style autograd function with static forward method. (Example: "
    "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)")



class _ViewWrites:
    """The ops layer's rebase of a view's base after the view changed in place (set by
    ``gputensor.ops.view_writes``): used for a Function's inputs marked dirty."""

    rebase = None  # (view, node) -> None


VIEW_WRITES = _ViewWrites()


def _modified_error(node, shape_text, source, version, expected) -> str:
    """torch's message for a saved tensor changed in place: ``source`` is the index of
    ``node``'s saved output, or a weak reference to a saved input (named by its grad_fn now,
    with no clause for a leaf)."""
    if isinstance(source, int):
        producer, index = node, source
    else:
        tensor = source()
        producer, index = (None, 0) if tensor is None else (tensor.grad_fn, tensor._output_nr)
    clause = "" if producer is None else \
        f", which is output {index} of {_BACKWARD_SUFFIX.sub('', producer.name())},"
    return ("one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: [{shape_text}]{clause} is at version {version}; expected "
            f"version {expected} instead. Hint: enable anomaly detection to find the operation "
            "that failed to compute its gradient, with "
            "gputensor.autograd.set_detect_anomaly(True, check_nan=False).")


class Function(Node):
    """Base class of differentiable operations; subclass with static forward and backward.

    ``apply`` runs ``forward(ctx, *args)`` on tensors with grad mode off (or, torch 2's
    style, ``forward(*args)`` then ``setup_context(ctx, args, output)``) and records the
    node when an input requires grad; keyword arguments bind to forward's parameters.
    ``backward(ctx, *grads)`` returns one gradient per forward argument (None where there
    is none), checked as torch checks it (autograd/function_checks.py).
    """

    variant = None  # built-in ops number their overloads: MulBackward0, SumBackward1
    opname = None  # the name before "Backward" when it is not the class name
    node_name = None  # the whole node name, for torch's few without "Backward" (CopySlices)
    is_view = False
    generate_vmap_rule = False  # (torch's vmap support: not provided here)
    _saved = None
    _saved_versions = ()
    _freed = False
    _materialize_grads = True
    _dirty = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._node_types = {}

    @classmethod
    def _node_type(cls, variant):
        node_type = cls._node_types.get(variant)
        if node_type is None:
            suffix = "" if variant is None else str(variant)
            name = cls.node_name or f"{cls.opname or cls.__name__}Backward{suffix}"
            node_type = type(name, (cls,),
                             {"__module__": cls.__module__})
            node_type._node_types = cls._node_types
            cls._node_types[variant] = node_type
        return node_type

    # ---- ctx API -----------------------------------------------------------------
    def save_for_backward(self, *items) -> None:
        """Keep tensors (or arrays, in built-in ops) for backward."""
        if self._public:
            for i, item in enumerate(items):
                if item is not None and not isinstance(item, TensorCore):
                    raise TypeError("save_for_backward can only save variables, but argument "
                                    f"{i} is of type {type(item).__name__}")
        self._saved = items

    def mark_dirty(self, *tensors) -> None:
        """Declare the inputs that forward modified in place (they must be returned)."""
        self._dirty = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """With False, backward receives None (not zeros) for outputs that got no gradient."""
        self._materialize_grads = bool(value)

    @property
    def saved_tensors(self):
        """What forward saved, checked against in-place changes since."""
        if self._freed:
            raise RuntimeError(SECOND_BACKWARD_ERROR)
        for counter, expected, shape, dtype, source in self._saved_versions:
            if counter.value != expected:
                raise RuntimeError(_modified_error(self, type_text(shape, dtype), source,
                                                   counter.value, expected))
        return self._saved or ()

    def mark_non_differentiable(self, *outputs) -> None:
        """Mark outputs (by tensor, or by index in built-in ops) that get no gradient."""
        self._non_differentiable = outputs

    _non_differentiable = ()
    _public = True

    # ---- graph construction --------------------------------------------------
    @classmethod
    def apply(cls, *args, **kwargs):
        """Run the function on tensors and record it in the graph when needed."""
        setup_style = cls.setup_context is not Function.setup_context
        if kwargs or setup_style:
            args = bind_arguments(cls, args, kwargs, setup_style)
        tensors = [a for a in args if isinstance(a, TensorCore)]
        ctx = cls._node_type(cls.variant)()
        ctx.needs_input_grad = tuple(isinstance(a, TensorCore) and a.requires_grad
                                     for a in args)
        record = is_grad_enabled() and any(t.requires_grad for t in tensors)
        with no_grad():
            if setup_style:
                outputs = cls.forward(*args)
                cls.setup_context(ctx, args, outputs)
            else:
                outputs = cls.forward(ctx, *args)
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        if ctx._dirty:
            check_dirty(ctx, outs, record)
        positions = [i for i, o in enumerate(outs) if isinstance(o, TensorCore)]
        if record and positions:
            outs = tuple(alias_unmarked_inputs(ctx, args, outs))
            nd = ctx._non_differentiable
            tensor_outs = [outs[i] for i in positions]
            ctx._wire(args, tensors, tensor_outs, [k for k, o in enumerate(tensor_outs)
                                                   if any(o is n for n in nd)])
            if len(positions) != len(outs):
                spread_outputs(ctx, tensor_outs, positions, len(outs))
            saved = ctx._saved or ()
            if any(isinstance(s, TensorCore) and s._inference for s in saved):
                raise RuntimeError(INFERENCE_SAVED_ERROR)
            ctx._saved_any = bool(saved)
            ctx._saved_versions = tuple(
                (s._version, s._version.value, s._data.shape, s._data.dtype,
                 next((i for i, o in enumerate(outs) if o is s), weakref.ref(s)))
                for s in saved if s is not None)
            for t in ctx._dirty:
                if t._base is not None:  # a view written in place: its base is rebased (as
                    VIEW_WRITES.rebase(t, ctx)  # torch, taking the view for input 0)
        return outs[0] if single else outs

    def __call__(self, *args, **kwargs):
        raise RuntimeError(LEGACY_CALL_ERROR)

    def _wire(self, args, tensors, outs, non_diff, arg_index=None, backend=None) -> None:
        """Connect this node to its inputs and make it the grad_fn of its outputs.

        ``non_diff`` holds the indices of outputs that get no gradient.
        """
        first = tensors[0]
        self._device = first._device
        self.backend = backend or first._backend
        if arg_index is None:
            arg_index = tuple([i for i, a in enumerate(args) if isinstance(a, TensorCore)])
        self._arg_index = arg_index
        edges, meta = [], []
        for pos in arg_index:
            t = args[pos]
            if not isinstance(t, TensorCore):  # a number in torch's tensor overload
                edges.append((None, 0))
                meta.append(None)
                continue
            if t._base is not None and t._view_version != t._version.value:
                t._sync_view()  # a view whose storage changed in place now reads its base
            edges.append(_edge(t))
            data = t._data
            meta.append((data.shape, data.dtype))
        self.next_functions = tuple(edges)
        self._input_meta = tuple(meta)
        self._num_outputs = len(outs)
        out_meta = []
        for nr, out in enumerate(outs):
            data = out._data
            out_meta.append((data.shape, data.dtype))
            if is_float_array_dtype(data.dtype) and nr not in non_diff:
                out._requires_grad = True
                out._grad_fn = self
                out._output_nr = nr
        self._output_meta = tuple(out_meta)

    def _run_backward(self, grads, retain_graph: bool):
        """Gradients for the tensor inputs, each summed to its shape and cast to its dtype."""
        if self._freed:
            raise RuntimeError(SECOND_BACKWARD_ERROR)
        backend = self.backend
        if self._materialize_grads:
            for g in grads:
                if g is None:
                    grads = [backend.xp.zeros(*meta) if g is None and meta is not None else g
                             for g, meta in zip(grads, self._output_meta)]
                    break
        try:
            if self._public:
                wrap = self._wrap_grad
                result = type(self).backward(self, *[None if g is None else wrap(g)
                                                     for g in grads])
            else:
                result = type(self).backward(self, *grads)
        except backend.OUT_OF_MEMORY as err:  # CuPy's, on a GPU: torch's clear RuntimeError
            raise backend.out_of_memory(err) from None
        if not isinstance(result, tuple):
            result = (result,)
        if self._public:  # arrays, checked, summed to the inputs' shapes and cast
            result = checked_gradients(self, result)
        if not retain_graph:
            self._saved = None
            self._freed = self._freed or bool(self._saved_versions) or self._saved_any
        in_grads = []
        count, moves = len(result), self._moves
        for pos, meta in zip(self._arg_index, self._input_meta):
            g = result[pos] if pos < count and meta is not None else None
            if g is not None:
                shape, dtype = meta
                if g.shape != shape:
                    g = backend.sum_to_shape(g, shape)
                if g.dtype != dtype:
                    g = g.astype(dtype)
                if moves and pos in moves:  # an input copied from the CPU
                    g = backend.to_numpy(g)
            in_grads.append(g)
        return in_grads

    _saved_any = False
    _saved_roles = ()
    _moves = None  # {argument position: device} of inputs copied from another device

    def _wrap_grad(self, array):
        return TensorCore._make(array, self._device)

    @staticmethod
    def forward(ctx, *args):
        """Compute the outputs; override in subclasses."""
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """(torch 2's style) Fill ``ctx`` from the inputs and output of a ctx-less forward."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """Compute the input gradients; override in subclasses."""
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode "
                                  "AD.")


_RANGES = [tuple(range(n)) for n in range(16)]
_op_observer = None  # observer(op_class, args, outputs) after each built-in op; see below


def observing_ops() -> bool:
    """Whether an observer (gputensor.compile's tracer, ONNX export) sees every op."""
    return _op_observer is not None


def set_op_observer(observer):
    """Call ``observer(op_class, args, outputs)`` after every built-in op (None: stop); returns
    the previous observer. gputensor.onnx traces a model with it."""
    global _op_observer
    previous, _op_observer = _op_observer, observer
    return previous


_INPUT = 1 << 20  # a saved array's role: _INPUT + k is the k-th tensor argument's array
_TWO_ARGUMENTS = (0, 1)
_NO_EDGE = (None, 0)
_BFLOAT16 = bfloat16.numpy


def _edge(t) -> tuple:
    """``(node, output_nr)`` that gradients for ``t`` flow into (an up-to-date tensor)."""
    if not t._requires_grad:
        return _NO_EDGE
    node = t._grad_fn
    if node is None:  # a leaf: its accumulator
        node = t._accumulator or leaf_accumulator(t)
    return node, t._output_nr


class Op(Function):
    """A built-in op: forward and backward run on backend arrays, not tensors.

    ``forward(ctx, *args)`` receives each tensor argument as its array (others as
    they are) and returns an array or a tuple of arrays; ``ctx.xp`` is the array
    namespace and ``ctx.backend`` the backend module. Outputs listed by index in
    ``ctx.non_differentiable`` get no grad_fn.
    """

    variant = 0
    _public = False
    # for a backward that builds a graph (ops/lifted.py): whether the formula can run on
    # lifted arrays, and the ctx attributes and saved positions that are constants or that
    # the backward recomputes from saved inputs when ``ctx.backend.lifted``
    liftable = True
    recomputed_when_lifted = ()
    saved_casts = ()  # for each saved position: the argument it is a dtype cast of, or None
    number_edges = False  # (add, sub, mul, div) a number operand still gets a (None, 0) edge
    out_device = None  # forward sets it when the outputs live on another device (a copy)

    @classmethod
    def apply(cls, *args):
        """Run the op on tensors (others pass through) and record it when needed."""
        tensors, arrays = [], []
        grad = False
        for a in args:
            if isinstance(a, TensorCore):
                tensors.append(a)
                arrays.append(a._data)
                if a._base is not None and a._view_version != a._version.value:
                    a._sync_view()  # its storage changed in place: it now reads its base
                if a._requires_grad:
                    grad = True
            else:
                arrays.append(a)
        first = tensors[0]
        device = first._device
        if len(tensors) > 1:
            for t in tensors:
                if t._device is not device and t._device != device:
                    return cls._apply_across_devices(args, tensors)
        backend = _BACKEND_BY_TYPE.get(device.type) or first._backend
        if device.index is not None and device.index != backend.current_index:
            with backend.on_device(device.index):  # a CUDA device other than the current one
                return cls.apply(*args)
        ctx = (cls._node_types.get(cls.variant) or cls._node_type(cls.variant))()
        ctx.xp = backend.xp
        ctx.backend = backend
        try:
            result = cls.forward(ctx, *arrays)
        except backend.OUT_OF_MEMORY as err:  # CuPy's, on a GPU: torch's clear RuntimeError
            raise backend.out_of_memory(err) from None
        if ctx.out_device is not None:  # a copy to another device
            device = ctx.out_device
        single = type(result) is not tuple
        if single:
            out = object.__new__(_tensor_core._tensor_class)  # (TensorCore._make, inline)
            out._init(result, device)
            outs = [out]
        else:
            make = TensorCore._make
            outs = [make(r, device) for r in result]
        if ctx.is_view:
            cls._mark_views(first, outs, grad)
        if grad and _grad_state.enabled:
            ctx._nargs = len(args)
            count = len(tensors)
            if args[count - 1] is tensors[-1] and (count <= 2 or not cls.number_edges):
                # the tensors lead the arguments (options follow): they are the inputs, with
                # a number second operand of add, sub, mul and div as torch's wrapped tensor
                ctx._wire_tensors(tensors, outs, cls.number_edges and count == 1)
            else:
                if cls.number_edges:  # torch's tensor overload: numbers are wrapped tensors
                    arg_index = _TWO_ARGUMENTS
                else:
                    arg_index = tuple([i for i, a in enumerate(args)
                                       if isinstance(a, TensorCore)])
                ctx._wire(args, tensors, outs, ctx._non_differentiable, arg_index, backend)
            if ctx._saved:
                ctx._saved_any = True
                ctx._record_versions(tensors, outs)
        if _op_observer is not None:
            _op_observer(cls, args, outs)
        return outs[0] if single else tuple(outs)

    @staticmethod
    def _mark_views(first, outs, grad) -> None:
        """Make ``outs`` views of ``first``'s base, sharing its version counter."""
        base = first._base if first._base is not None else first
        # the version its node was made at; a view made under no_grad is never rebased
        made_at = (first._version.value if first._view_version != NO_GRAD_VIEW
                   and is_grad_enabled() else NO_GRAD_VIEW)
        # torch: a view made under no_grad of a tensor that requires grad requires grad
        untracked = made_at == NO_GRAD_VIEW and grad and not is_grad_enabled() \
            and not first._inference
        for out in outs:
            out._version = first._version
            out._base = base
            out._view_version = made_at
            if first._inference:  # a view of an inference tensor is one too
                out._inference = True
            elif untracked and is_float_array_dtype(out._data.dtype):
                out._requires_grad = True

    @property
    def needs_input_grad(self):
        """For each argument of forward: whether it is a tensor that requires grad."""
        needs = [False] * self._nargs
        for pos, (node, _) in zip(self._arg_index, self.next_functions):
            if node is not None:
                needs[pos] = True
        return tuple(needs)

    def _wire_tensors(self, tensors, outs, number_edge=False) -> None:
        """``_wire`` for an op whose first arguments are its tensors, already up to date (and
        ``number_edge``: a number after the one tensor, with an edge to nothing); apply has
        set ``backend``."""
        self._device = tensors[0]._device
        count = len(tensors)
        self._arg_index = _TWO_ARGUMENTS if number_edge else (
            _RANGES[count] if count < 16 else tuple(range(count)))
        if count == 2:  # (the usual binary op, unrolled)
            a, b = tensors
            data_a, data_b = a._data, b._data
            self.next_functions = (_edge(a), _edge(b))
            self._input_meta = ((data_a.shape, data_a.dtype), (data_b.shape, data_b.dtype))
        else:
            edges, meta = [], []
            for t in tensors:
                data = t._data
                meta.append((data.shape, data.dtype))
                edges.append(_edge(t))
            if number_edge:
                edges.append(_NO_EDGE)
                meta.append(None)
            self.next_functions = tuple(edges)
            self._input_meta = tuple(meta)
        non_diff = self._non_differentiable
        if len(outs) == 1:  # (one output: the class's _num_outputs)
            data = outs[0]._data
            dtype = data.dtype
            self._output_meta = ((data.shape, dtype),)
            if (dtype.kind == "f" or dtype == _BFLOAT16) and 0 not in non_diff:
                out = outs[0]
                out._requires_grad = True
                out._grad_fn = self
                out._output_nr = 0
            return
        self._num_outputs = len(outs)
        out_meta = []
        for nr, out in enumerate(outs):
            data = out._data
            dtype = data.dtype
            out_meta.append((data.shape, dtype))
            if (dtype.kind == "f" or dtype == _BFLOAT16) and nr not in non_diff:
                out._requires_grad = True
                out._grad_fn = self
                out._output_nr = nr
        self._output_meta = tuple(out_meta)

    @classmethod
    def _apply_across_devices(cls, args, tensors):
        """The op with 0-d CPU tensors joining the others' device (torch's CPU scalars)."""
        for t in tensors:  # the leaves' accumulators, which the stand-ins share
            if t._requires_grad and t._grad_fn is None:
                leaf_accumulator(t)
        moved, moves = on_common_device(args, tensors)
        out = cls.apply(*moved)
        node = (out[0] if isinstance(out, tuple) else out).grad_fn
        if node is not None and moves:
            node._moves = moves
        return out

    def _record_versions(self, tensors, outs) -> None:
        """Remember the version of each saved array's tensor, to detect in-place changes."""
        records, roles = [], []  # roles: an output's index, _INPUT + an input's, or None
        for item in self._saved:
            owner = role = source = None
            for i, out in enumerate(outs):
                if out._data is item:
                    owner = out
                    role = source = i
                    break
            if owner is None:
                for k, t in enumerate(tensors):
                    if t._data is item:
                        owner, source, role = t, weakref.ref(t), _INPUT + k
                        break
            if owner is not None:
                if owner._inference and not INFERENCE_MODE.enabled:
                    raise RuntimeError(INFERENCE_SAVED_ERROR)
                counter = owner._version
                records.append((counter, counter.value, item.shape, item.dtype, source))
            roles.append(role)
        self._saved_versions = tuple(records)
        self._saved_roles = tuple(roles)

    @property
    def non_differentiable(self):
        """Indices of outputs that get no gradient."""
        return self._non_differentiable

    @non_differentiable.setter
    def non_differentiable(self, indices):
        self._non_differentiable = tuple(indices)
