"""Run a function once eagerly and record what it did: built-in ops, dropout draws, the
backward walk, optimizer and scheduler calls, and the reasons it cannot be replayed."""

from __future__ import annotations

import inspect
import sys
from dataclasses import dataclass, field

from .. import random_draws
from .._tensor_core import TensorCore
from ..autograd import engine
from ..autograd.function import AccumulateGrad, Function, Op, set_op_observer
from ..nn.modules.module import Module
from ..ops import activations, dropouts
from ..ops.activations import Dropout
from ..optim.lr_scheduler_base import LRScheduler
from ..optim.optimizer import Optimizer

# Tensor methods that read a tensor's values on the host: Python control flow on data
_HOST_READS = ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__",
               "__array__", "__repr__", "__format__", "__complex__")


@dataclass
class OpRecord:
    """One built-in op application: its class, arguments (tensors as they were), outputs and
    the graph node it made (None when nothing required grad)."""

    op: type
    args: tuple
    outs: list
    node: object


@dataclass
class DrawRecord:
    """A dropout mask drawn on the host: ``keep`` probability, ``scale``, the mask's shape
    and, for ``dropout`` (not the feature forms), the input's strides it is laid out in."""

    shape: tuple
    keep: float
    scale: object
    strides: tuple | None
    array: object = None  # the noise array the Dropout op then received


@dataclass
class BackwardRecord:
    """``loss.backward()``: the root tensor and the nodes in the order the engine ran them
    (an op's node, or a leaf's AccumulateGrad)."""

    root: TensorCore
    order: list = field(default_factory=list)


@dataclass
class CallRecord:
    """A host-side method call replayed as it is: ``optimizer.step()``, ``zero_grad()``,
    ``scheduler.step()``."""

    owner: object
    name: str
    args: tuple
    kwargs: dict


@dataclass
class Trace:
    """Everything one eager run recorded, in order."""

    steps: list = field(default_factory=list)
    modules: list = field(default_factory=list)  # modules called (their training flags)
    break_reason: str | None = None
    versions: dict = field(default_factory=dict)  # id -> (tensor, version counter value)


def _host_read_codes() -> dict:
    tensor_class = TensorCore._make(None).__class__
    codes = {}
    for name in _HOST_READS:
        fn = getattr(tensor_class, name, None)
        code = getattr(fn, "__code__", None)
        if code is not None:
            codes[code] = name
    return codes


def _subclasses(cls):
    found, stack = [], [cls]
    while stack:
        c = stack.pop()
        found.append(c)
        stack.extend(c.__subclasses__())
    return found


def _host_call_codes() -> dict:
    """{code: method name} of every optimizer's and scheduler's step and zero_grad."""
    codes = {}
    for base in (Optimizer, LRScheduler):
        for cls in _subclasses(base):
            for name in ("step", "zero_grad"):
                fn = cls.__dict__.get(name)
                if fn is not None and hasattr(fn, "__code__"):
                    codes[fn.__code__] = name
    return codes


def _bound_call(frame):
    """(args, kwargs) a method frame was called with, read from its locals on entry."""
    code = frame.f_code
    local = frame.f_locals
    names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    args = tuple(local[n] for n in names[1:code.co_argcount])
    kwargs = {n: local[n] for n in names[code.co_argcount:]}
    flags = code.co_flags
    extra = code.co_argcount + code.co_kwonlyargcount
    if flags & inspect.CO_VARARGS:
        args += tuple(local[code.co_varnames[extra]])
        extra += 1
    if flags & inspect.CO_VARKEYWORDS:
        kwargs.update(local[code.co_varnames[extra]])
    return args, kwargs


class Tracer:
    """Records one run of a function (``run``); the result is a ``Trace``."""

    def __init__(self):
        self.trace = Trace()
        self._host_reads = _host_read_codes()
        self._host_calls = _host_call_codes()
        self._backward_code = engine.backward.__code__
        self._run_backward_code = Function._run_backward.__code__
        self._accumulate_code = AccumulateGrad.accumulate.__code__
        self._custom_code = Function.apply.__code__
        self._module_code = Module._call_impl.__code__
        self._dropout_codes = (dropouts._dropout_impl.__code__,
                               activations.dropout.__code__)
        self._draw_codes = {fn.__code__: name for name, fn in vars(random_draws).items()
                            if inspect.isfunction(fn) and fn.__module__ == random_draws.__name__}
        self._opaque = None  # the frame of the host call being run as a whole
        self._backward = None  # (frame, BackwardRecord) while loss.backward() runs
        self._pending_draw = None

    # ---- recording ------------------------------------------------------------------
    def fail(self, reason: str) -> None:
        """Note why the run cannot be replayed (the first reason is kept)."""
        if self.trace.break_reason is None:
            self.trace.break_reason = reason

    def _see(self, tensors) -> None:
        versions = self.trace.versions
        for t in tensors:
            if isinstance(t, TensorCore) and id(t) not in versions:
                versions[id(t)] = (t, t._version.value)

    def check_versions(self) -> None:
        """Fail when a tensor the ops saw was changed in place since."""
        for t, value in self.trace.versions.values():
            if t._version.value != value:
                self.fail(f"an in-place op changed a tensor of shape {tuple(t._data.shape)} "
                          "(in-place writes are not replayed)")
                return

    def _refresh_versions(self) -> None:
        versions = self.trace.versions
        for key, (t, _) in list(versions.items()):
            versions[key] = (t, t._version.value)

    def observe_op(self, op, args, outs) -> None:
        """The op observer: one record per built-in op run outside a host call."""
        if self._opaque is not None or self._backward is not None:
            return
        if self.trace.break_reason is not None:
            return
        self._see(args)
        self._see(outs)
        if op is Dropout and self._pending_draw is not None:
            draw, self._pending_draw = self._pending_draw, None
            draw.array = args[1]
            self.trace.steps.append(draw)
        node = next((o._grad_fn for o in outs if o._grad_fn is not None), None)
        if not isinstance(node, op):
            node = None
        self.trace.steps.append(OpRecord(op, args, outs, node))

    def _profile(self, frame, event, arg):
        if event != "call":
            if event == "return" and self._opaque is not None and frame is self._opaque:
                self._opaque = None
                self._refresh_versions()
            elif event == "return" and self._backward is not None \
                    and frame is self._backward[0]:
                self.trace.steps.append(self._backward[1])
                self._backward = None
            return
        code = frame.f_code
        if self._backward is not None:
            if code is self._run_backward_code or code is self._accumulate_code:
                self._backward[1].order.append(frame.f_locals["self"])
            return
        if self._opaque is not None:
            return
        if code is self._module_code:
            module = frame.f_locals["self"]
            if module._forward_hooks or module._forward_pre_hooks:
                self.fail(f"{type(module).__name__} has forward hooks")
            self.trace.modules.append(module)
            # its parameters and buffers: a write outside the ops (BatchNorm's running
            # statistics) would not be replayed, so it is caught by its version
            self._see(module._parameters.values())
            self._see(module._buffers.values())
        elif code in self._host_reads:
            self.fail(f"Tensor.{self._host_reads[code]}() reads a tensor's value on the host "
                      "(data-dependent Python)")
        elif code in self._host_calls:
            self._host_call(frame, self._host_calls[code])
        elif code is self._backward_code:
            self._start_backward(frame)
        elif code is self._custom_code:
            cls = frame.f_locals.get("cls")
            if cls is not None and not issubclass(cls, Op):
                self.fail(f"custom autograd.Function {cls.__name__}")
        elif code in self._draw_codes and self._pending_draw is None:
            self.fail("a random draw other than dropout's (randn, rand, randint, ...: "
                      f"random_draws.{self._draw_codes[code]})")
        elif code in self._dropout_codes:
            self._start_dropout(frame.f_locals, code is self._dropout_codes[0])

    def _host_call(self, frame, name) -> None:
        args, kwargs = _bound_call(frame)
        if name == "step" and (any(callable(a) for a in args)
                               or any(callable(v) for v in kwargs.values())):
            self.fail(f"{type(frame.f_locals['self']).__name__}.{name}() with a closure")
        self.check_versions()
        self.trace.steps.append(CallRecord(frame.f_locals["self"], name, args, kwargs))
        self._opaque = frame

    def _start_backward(self, frame) -> None:
        local = frame.f_locals
        tensors = local["tensors"]
        if isinstance(tensors, (tuple, list)):
            tensors = tensors[0] if len(tensors) == 1 else None
        if local["grad_tensors"] is not None or local["create_graph"] or local["retain_graph"] \
                or local["inputs"] is not None or not isinstance(tensors, TensorCore):
            self.fail("backward() with arguments (gradient, retain_graph, create_graph, "
                      "inputs) or several roots")
            self._opaque = frame
            return
        self.check_versions()
        self._backward = (frame, BackwardRecord(tensors))

    def _start_dropout(self, local, channel_forms: bool) -> None:
        p, training, data = local["p"], local["training"], local["input"]._data
        if not 0 < p <= 1 or not training or data.size == 0:
            return
        if local["inplace"] or channel_forms and (local["alpha"] or p == 1):
            self.fail("alpha, in-place or p=1 channel dropout")
            return
        keep = 1.0 - p
        if channel_forms:
            shape = data.shape[:2] + (1,) * (data.ndim - 2) if local["feature"] else data.shape
            self._pending_draw = DrawRecord(tuple(shape), keep, data.dtype.type(1)
                                            / data.dtype.type(keep), None)
            return
        scale = data.dtype.type(1) / data.dtype.type(keep) if keep else data.dtype.type(0)
        self._pending_draw = DrawRecord(tuple(data.shape), keep, scale, data.strides)

    # ---- running ---------------------------------------------------------------------
    def run(self, fn, args, kwargs):
        """Call ``fn(*args, **kwargs)`` eagerly while recording; returns its result."""
        previous_observer = set_op_observer(self.observe_op)
        previous_profile = sys.getprofile()
        sys.setprofile(self._profile)
        try:
            result = fn(*args, **kwargs)
        finally:
            sys.setprofile(previous_profile)
            set_op_observer(previous_observer)
        self.check_versions()
        for step in self.trace.steps:
            if isinstance(step, BackwardRecord):
                self._check_hooks(step)
        return result

    def _check_hooks(self, record) -> None:
        for node in record.order:
            if isinstance(node, AccumulateGrad):
                if node.variable._hooks:
                    self.fail("a tensor hook (register_hook) on a leaf")
            elif node._pre_hooks or node._retain_hooks:
                self.fail("a tensor hook (register_hook or retain_grad) in the graph")
