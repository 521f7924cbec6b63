"""``gputensor.compile``: the entry point, the compiled function and ``OptimizedModule``."""

from __future__ import annotations

import functools
import logging
import weakref

from .._tensor_core import INFERENCE_MODE, TensorCore
from ..amp.autocast_mode import _DTYPE as _AUTOCAST_DTYPE
from ..amp.autocast_mode import _ENABLED as _AUTOCAST_ENABLED
from ..autograd.grad_mode import is_grad_enabled
from ..nn.modules.module import Module
from .codegen import generate
from .cuda_graphs import GraphedProgram
from .fuse import fuse
from .program import Unsupported, build
from .replay import run_arrays, run_graph
from .tracer import Tracer

__all__ = ["compile", "OptimizedModule", "Unsupported", "InvalidBackend", "reset",
           "is_compiling", "config"]

MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")
BACKENDS = ("inductor", "eager", "aot_eager", "cudagraphs")


class config:  # noqa: N801 - torch._dynamo.config
    """Settings, as torch._dynamo.config's: ``recompile_limit`` guard sets per function."""

    recompile_limit = 8


_log = logging.getLogger("gputensor._dynamo")


class InvalidBackend(RuntimeError):  # noqa: N818 - torch._dynamo.exc.InvalidBackend
    """An unknown ``backend`` name."""


class _State:
    compiling = 0  # > 0 while a compiled function's first runs are being recorded
    live = weakref.WeakSet()  # every compiled function, for reset()


def is_compiling() -> bool:
    """True while gputensor.compile records a function's ops (as torch.compiler's)."""
    return _State.compiling > 0


def reset() -> None:
    """Forget every compiled program (the next calls trace again), as torch.compiler.reset."""
    for compiled in list(_State.live):
        compiled.reset()


def _guard_key(args, kwargs):
    """(key, tensor inputs): the inputs' shapes, dtypes, devices, requires_grad, the grad,
    inference and autocast modes; other arguments by value (unhashable ones: TypeError)."""
    autocast = tuple(_AUTOCAST_ENABLED.values())
    parts = [is_grad_enabled(), INFERENCE_MODE.enabled,
             (autocast, tuple(_AUTOCAST_DTYPE.values())) if any(autocast) else None]
    inputs = []
    for a in (*args, *kwargs.values()) if kwargs else args:
        if isinstance(a, TensorCore):
            inputs.append(a)
            d = a._data
            parts.append((d.shape, d.dtype, a._device, a._requires_grad, a._grad_fn is None,
                          not a._hooks))
        else:
            hash(a)
            parts.append((type(a), a))
    if kwargs:
        parts.append(tuple(kwargs))
    if len(inputs) > 1:  # the same tensor passed twice is one slot of the program
        ids = [id(t) for t in inputs]
        if len(set(ids)) != len(ids):
            parts.append(tuple(ids.index(i) for i in ids))
    return tuple(parts), inputs


class _Entry:
    """One guard set: its program, or why it runs eagerly, or its first trace."""

    def __init__(self, key):
        self.key = key
        self.program = None
        self.reason = None
        self.first = None  # (trace, inputs, result) of the first run, until the second
        self.modules = ()  # (module, training) that the trace read
        self.tensor_guards = ()  # (tensor, shape, dtype, requires_grad) of captured tensors
        self.owner_guards = ()  # (module's _parameters or _buffers, name, tensor) of those
        self.replays = 0
        self.comparisons = 0  # recordings found to differ from the one before
        self.fused = 0  # chains of elementwise ops fused into one loop
        self.graphed = None  # the CUDA graph of mode="reduce-overhead" (cuda_graphs.py)

    def passes(self, key) -> bool:
        """Whether a call with ``key`` may use this entry."""
        if key != self.key:
            return False
        for module, training in self.modules:
            if module.training is not training or module._forward_hooks \
                    or module._forward_pre_hooks:
                return False
        for table, name, t in self.owner_guards:  # a parameter replaced by another
            if table.get(name) is not t:
                return False
        for t, shape, dtype, requires_grad in self.tensor_guards:
            d = t._data
            if d.shape != shape or d.dtype != dtype or t._requires_grad is not requires_grad \
                    or t._hooks:
                return False
        return True

    def describe(self) -> dict:
        """The entry for ``compile_report``."""
        state = "replayed" if self.program is not None else (
            "eager" if self.reason is not None else "tracing")
        report = {"state": state, "reason": self.reason, "replays": self.replays,
                  "ops": 0 if self.program is None else self.program.n_nodes,
                  "fused": self.fused}
        if self.graphed is not None:
            report.update(self.graphed.describe())
        return report


def _owners(program, modules) -> tuple:
    """(table, name, tensor) for each captured tensor that a called module holds as a
    parameter or buffer: replacing it (``layer.weight = Parameter(...)``) misses the guard."""
    captured = {id(t): t for _, t in program.captured}
    found = []
    for module in dict.fromkeys(modules):
        for table in (module._parameters, module._buffers):
            for name, t in table.items():
                if id(t) in captured:
                    found.append((table, name, t))
    return tuple(found)


class CompiledFunction:
    """``fn`` traced on its first calls per guard set, then replayed (see the package doc)."""

    def __init__(self, fn, fullgraph=False, mode=None):
        self._fn = fn
        self._fullgraph = fullgraph
        self._cuda_graphs = mode == "reduce-overhead"
        self._entries = []
        self._warned = False
        functools.update_wrapper(self, fn, updated=())
        _State.live.add(self)

    def reset(self) -> None:
        """Forget the programs: the next call traces again."""
        self._entries = []
        self._warned = False

    def compile_report(self) -> list:
        """One dict per guard set: state ("replayed", "eager", "tracing"), the reason it
        runs eagerly, how often it was replayed, its number of steps and of fused chains;
        with mode="reduce-overhead", its CUDA graph's state ("waiting", "captured",
        "refused"), the reason it is refused, its launches and the host calls run around
        it."""
        return [e.describe() for e in self._entries]

    def __get__(self, obj, objtype=None):
        return self if obj is None else functools.partial(self, obj)

    def __call__(self, *args, **kwargs):
        if _State.compiling:  # called inside another compiled function's trace: eager
            return self._fn(*args, **kwargs)
        try:
            key, inputs = _guard_key(args, kwargs)
        except TypeError as err:
            if self._fullgraph:
                raise Unsupported(f"an unhashable argument cannot be guarded ({err})") from None
            return self._fn(*args, **kwargs)
        for entry in self._entries:
            if entry.passes(key):
                break
        else:
            if len(self._entries) >= config.recompile_limit:
                self._warn_limit()
                return self._fn(*args, **kwargs)
            entry = _Entry(key)
            self._entries.append(entry)
        program = entry.program
        if program is not None:
            entry.replays += 1
            graphed = entry.graphed
            if graphed is not None and graphed.reason is None and entry.replays > 1:
                run = graphed.call  # (the first replay is the graph's warm-up)
            else:
                run = run_graph if program.graph_mode else run_arrays
            backend, index = program.backend, program.index
            if index is not None and backend.current_index != index:
                with backend.on_device(index):
                    return run(program, inputs, backend, index)
            return run(program, inputs, backend, index)
        if entry.reason is not None:
            return self._fn(*args, **kwargs)
        return self._trace(entry, args, kwargs, inputs)

    def _trace(self, entry, args, kwargs, inputs):
        tracer = Tracer()
        _State.compiling += 1
        try:
            result = tracer.run(self._fn, args, kwargs)
        finally:
            _State.compiling -= 1
        trace = tracer.trace
        entry.modules = tuple((m, m.training) for m in dict.fromkeys(trace.modules))
        try:
            if trace.break_reason is not None:
                raise Unsupported(trace.break_reason)
            if entry.first is None:
                entry.first = (trace, inputs, result)
                return result
            first, entry.first = entry.first, None
            program = build(first[0], trace, first[1], inputs, first[2], result)
        except Unsupported as err:
            if trace.break_reason is None and entry.comparisons < 1:
                # (a first call may differ: lazy initialisation) compare with the next one
                entry.comparisons += 1
                entry.first = (trace, inputs, result)
                return result
            entry.first = None
            entry.reason = str(err)
            if self._fullgraph:
                raise
            return result
        entry.tensor_guards = tuple((t, t._data.shape, t._data.dtype, t._requires_grad)
                                    for _, t in program.captured)
        entry.owner_guards = _owners(program, trace.modules)
        entry.fused = fuse(program)
        if program.backend is not None and not program.graph_mode:
            generate(program)
        if self._cuda_graphs:
            entry.graphed = GraphedProgram(program)
        entry.program = program
        return result

    def _warn_limit(self) -> None:
        if self._warned:
            return
        self._warned = True
        code = getattr(self._fn, "__code__", None)
        where = "" if code is None else f" ({code.co_filename}:{code.co_firstlineno})"
        _log.warning("gputensor._dynamo hit config.recompile_limit (%d)\n   function: '%s'%s",
                     config.recompile_limit, getattr(self._fn, "__name__", "?"), where)


class OptimizedModule(Module):
    """A module whose calls are compiled; the original is ``_orig_mod`` (state_dict keys
    start with ``_orig_mod.``, as torch's)."""

    def __init__(self, mod, fullgraph=False, mode=None):
        super().__init__()
        self._orig_mod = mod
        object.__setattr__(self, "_compiled_call", CompiledFunction(mod, fullgraph, mode))

    def forward(self, *args, **kwargs):
        """The original module's call, compiled."""
        return self._compiled_call(*args, **kwargs)

    def compile_report(self) -> list:
        """The compiled call's report (see ``CompiledFunction.compile_report``)."""
        return self._compiled_call.compile_report()

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.__dict__["_modules"]["_orig_mod"], name)


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor",  # noqa: A001
            mode=None, options=None, disable=False):
    """Compile a function or module: traced on its first calls, then replayed (torch's
    signature; ``dynamic`` is accepted and shapes are always guarded exactly;
    ``mode="reduce-overhead"`` launches a CUDA program as a CUDA graph)."""
    if model is None:
        return functools.partial(compile, fullgraph=fullgraph, dynamic=dynamic,
                                 backend=backend, mode=mode, options=options, disable=disable)
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be "
                           "specified at the same time.")
    if mode is not None and mode not in MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(MODES)}")
    if not callable(backend) and backend not in BACKENDS:
        raise InvalidBackend(f"Invalid backend: {backend!r}, see "
                             "`gputensor._dynamo.list_backends()` for available backends.")
    if disable:
        return model
    if isinstance(model, Module):
        return OptimizedModule(model, fullgraph, mode)
    return CompiledFunction(model, fullgraph, mode)
