"""Run a function once eagerly and record what it did: built-in ops, dropout draws, the
backward walk, optimizer and scheduler calls, and the reasons it cannot be replayed."""

from __future__ import annotations

import inspect
import sys
from dataclasses import dataclass, field

from .. import random, random_draws
from .._tensor_core import TensorCore
from ..autograd import engine
from ..autograd.function import Function, Op, set_op_observer
from ..autograd.nodes import AccumulateGrad
from ..nn.modules.module import Module
from ..ops import activations, dropouts, inplace, nn_ops
from ..ops.activations import Dropout
from ..optim.lr_scheduler_base import LRScheduler
from ..optim.optimizer import Optimizer

# Tensor methods that read a tensor's values on the host: Python control flow on data
_HOST_READS = ("item", "tolist", "numpy", "__bool__", "__float__", "__int__", "__index__",
               "__array__", "__repr__", "__format__", "__complex__")


class Unsupported(RuntimeError):  # noqa: N818 - torch._dynamo.exc.Unsupported
    """What the compiler cannot replay (raised with ``fullgraph=True``)."""


@dataclass
class SnapshotRecord:
    """An in-place op's copy of its target, made when autograd records the op."""

    source: TensorCore
    copy: TensorCore


@dataclass
class WriteRecord:
    """An in-place op's result written into its target's storage."""

    target: TensorCore
    result: TensorCore


@dataclass
class RunningStatsRecord:
    """Batch norm's running statistics updated from the batch's (arrays) in training."""

    running_mean: TensorCore
    running_var: TensorCore
    mean: object
    var: object
    n: int
    momentum: float


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
    # id -> (tensor, a copy of its array before its first in-place write), for the tensors
    # no recorded op made (a constant made inside the function keeps its first value)
    before_writes: dict = field(default_factory=dict)
    grads: dict = field(default_factory=dict)  # id -> (.grad, leaf) the backward made


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
        self._reseed_codes = (random.Generator._reset.__code__,
                              random.Generator.set_state.__code__)
        self._data_setter = TensorCore.data.fset.__code__
        self._module_code = Module._call_impl.__code__
        self._dropout_codes = (dropouts._dropout_impl.__code__,
                               activations.dropout.__code__)
        self._draw_codes = {fn.__code__: name for name, fn in vars(random_draws).items()
                            if inspect.isfunction(fn) and fn.__module__ == random_draws.__name__}
        self._snapshot_code = inplace._snapshot.__code__
        self._write_code = inplace._write.__code__
        self._batch_norm_code = nn_ops.batch_norm.__code__
        self._returns = {}  # frame -> what to do when it returns
        self._made = set()  # ids of the tensors recorded ops (and snapshots) made
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
                self.fail(f"a tensor of shape {tuple(t._data.shape)} was written outside the "
                          "ops and in-place ops the compiler replays")
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
        self._made.update(id(o) for o in outs)
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
                record = self._backward[1]
                self.trace.steps.append(record)
                self._backward = None
                for node in record.order:  # the .grad tensors it made or updated
                    if isinstance(node, AccumulateGrad) and node.variable._grad is not None:
                        self.trace.grads[id(node.variable._grad)] = (node.variable._grad,
                                                                     node.variable)
            elif event == "return" and frame in self._returns:
                self._returns.pop(frame)(frame.f_locals, arg)
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
        elif code is self._data_setter:
            self.fail("assigning a tensor's .data (a rebinding outside the ops)")
        elif code in self._reseed_codes:
            self.fail("the function sets a random generator's state (manual_seed, "
                      "set_rng_state): not replayed")
        elif code in self._draw_codes and self._pending_draw is None:
            self.fail("a random draw other than dropout's (randn, rand, randint, ...: "
                      f"random_draws.{self._draw_codes[code]})")
        elif code in self._dropout_codes:
            self._start_dropout(frame.f_locals, code is self._dropout_codes[0])
        elif code is self._snapshot_code:
            self._returns[frame] = self._snapshot_made
        elif code is self._write_code:
            self._start_write(frame)
        elif code is self._batch_norm_code:
            self._returns[frame] = self._batch_norm_done

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

    def _snapshot_made(self, local, copy) -> None:
        self._see((copy,))
        self._made.add(id(copy))
        self.trace.steps.append(SnapshotRecord(local["t"], copy))

    def _start_write(self, frame) -> None:
        target, result = frame.f_locals["t"], frame.f_locals["result"]
        if target._base is not None:
            self.fail("an in-place op on a view (its base is not replayed)")
            return
        self._see((target,))
        if id(target) not in self._made and id(target) not in self.trace.before_writes:
            self.trace.before_writes[id(target)] = (target, target._data.copy())
        self.trace.steps.append(WriteRecord(target, result))
        self._returns[frame] = self._written

    def _written(self, local, _) -> None:
        self._refresh_counter(local["t"]._version)

    def _refresh_counter(self, counter) -> None:
        """Accept a replayed write: the tensors sharing ``counter`` are at their new version."""
        versions = self.trace.versions
        for key, (t, _) in list(versions.items()):
            if t._version is counter:
                versions[key] = (t, counter.value)

    def _batch_norm_done(self, local, _) -> None:
        running_mean = local["running_mean"]
        if not local["training"] or running_mean is None or self.trace.break_reason:
            return
        step = self.trace.steps[-1]
        if not isinstance(step, OpRecord) or step.op is not nn_ops.NativeBatchNorm:
            self.fail("batch norm ran ops the compiler does not know")
            return
        data = local["input"]._data
        self.trace.steps.append(RunningStatsRecord(
            running_mean, local["running_var"], step.outs[1]._data, step.outs[2]._data,
            data.size // data.shape[1], float(local["momentum"])))
        self._refresh_counter(running_mean._version)
        self._refresh_counter(local["running_var"]._version)

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
        self._keep_returned(result)
        return result

    def _keep_returned(self, value) -> None:
        """A copy of each returned tensor no op made (a constant the caller may change)."""
        if isinstance(value, TensorCore):
            if id(value) not in self._made:
                self.trace.before_writes.setdefault(id(value), (value, value._data.copy()))
        elif isinstance(value, (tuple, list)):
            for item in value:
                self._keep_returned(item)
        elif isinstance(value, dict):
            for item in value.values():
                self._keep_returned(item)

    def _check_hooks(self, record) -> None:
        for node in record.order:
            if isinstance(node, AccumulateGrad):
                if node.variable._hooks:
                    self.fail("a tensor hook (register_hook) on a leaf")
            elif node._pre_hooks or node._retain_hooks:
                self.fail("a tensor hook (register_hook or retain_grad) in the graph")
