"""``mode="reduce-overhead"``: a replayed program's device work launched as one CUDA graph.

After a program was replayed once on a CUDA device (the warm-up: kernels compiled and
loaded, the memory pool holding blocks), the next call captures the generated function's
device work on a side stream (``Stream.begin_capture``/``end_capture``); later calls copy
their arguments' arrays into the graph's static input arrays, launch the graph on the
current stream and return its static outputs, overwritten by the next call (torch's CUDA
graph rule). What the function's Python did on the host during the capture is redone
around each launch: the ``.grad`` tensors the backward made are set again, version
counters advance as they did.

Optimizer and scheduler calls (``step``, ``zero_grad``) run on the host around the graph,
as they are: their scalars (the learning rate, Adam's bias corrections from the step
count) are host numbers baked into a launch, so they stay out of the graph (each optimizer
step is one fused launch). The calls must come before or after the ops: a program that
calls between them (gradient accumulation steps) is replayed without a graph.

The memory the capture allocates stays the graph's while the graph lives (on a GPU, an
allocator keeps each block CuPy's pool hands out during the capture), so no later array
can be given memory the graph writes.
"""

from __future__ import annotations

import types

from .._tensor_core import TensorCore
from .program import DrawStep, Program
from .replay import results
from .tracer import CallRecord

MAX_CAPTURES = 4  # captures per program (a guard miss drops the graph) before giving up


def skip_message(reason: str) -> str:
    """torch's wording for a program replayed without CUDA graphs."""
    return f"skipping cudagraphs due to {reason}"


def refusal(program: Program) -> str | None:
    """Why ``program`` cannot be captured as a CUDA graph, or None."""
    backend = program.backend
    if backend is None or backend.graph_capture() is None:
        return skip_message("cpu device")
    if program.graph_mode:
        return skip_message("outputs that carry an autograd graph (replayed op by op)")
    if any(type(step) is DrawStep for step in program.steps):
        return skip_message("dropout: its mask is drawn from the host generator, whose "
                            "state lives on the host")
    kinds = [type(step) is CallRecord for step in program.steps]
    if True in kinds:
        first_op = kinds.index(False) if False in kinds else len(kinds)
        last_op = len(kinds) - 1 - kinds[::-1].index(False) if False in kinds else -1
        inside = [s for s in program.steps[first_op:last_op + 1] if type(s) is CallRecord]
        if inside:
            names = ", ".join(f"{type(s.owner).__name__}.{s.name}()" for s in inside)
            return skip_message(f"host calls between the ops ({names}): their scalars are "
                                "host values baked into a launch")
    return None


def _streams(backend):
    """cupy.cuda (Stream, using_allocator) on a GPU; the simulated CuPy's emulation."""
    return backend.graph_capture()[0]


class _KeptAllocations:
    """A CuPy allocator keeping every block it hands out (the graph's memory)."""

    def __init__(self, pool):
        self.pool = pool
        self.blocks = []

    def malloc(self, size: int):
        """A block of the default pool, kept."""
        block = self.pool.malloc(size)
        self.blocks.append(block)
        return block


class _CaptureError(Exception):
    """Raised out of the generated function when the capture could not be made."""


class GraphedProgram:
    """A program's CUDA graph: its static inputs and outputs, and the host effects to redo."""

    def __init__(self, program: Program):
        self.program = program
        self.reason = refusal(program)
        self.graph = None
        self.captures = 0
        self.launches = 0
        calls = [i for i, s in enumerate(program.steps) if type(s) is CallRecord]
        n_prefix = next((k for k, i in enumerate(calls) if i != k), len(calls))
        self.prefix = [program.steps[i] for i in calls[:n_prefix]]
        self.suffix = [program.steps[i] for i in calls[n_prefix:]]
        names = getattr(program, "call_names", ())
        self.prefix_names, self.suffix_names = names[:n_prefix], names[n_prefix:]
        self.outside = list(dict.fromkeys(f"{type(s.owner).__name__}.{s.name}()"
                                          for s in self.prefix + self.suffix))
        if self.reason is None:
            self._skip_prefix = self._function({n: _nothing for n in self.prefix_names})

    def describe(self) -> dict:
        """The CUDA graph's part of ``compile_report``."""
        state = "refused" if self.reason else ("captured" if self.graph else "waiting")
        return {"cuda_graph": state, "cuda_graph_reason": self.reason,
                "cuda_graph_launches": self.launches, "cuda_graph_captures": self.captures,
                "outside_graph": list(self.outside)}

    def _function(self, overrides: dict):
        code = self.program.code
        return types.FunctionType(code.__code__, {**code.__globals__, **overrides})

    # ---- a call ------------------------------------------------------------------------
    def call(self, program, inputs, backend, index):
        """The function's result for this call (``replay.run_arrays``'s, through the graph)."""
        return results(program, inputs, self.run(inputs))

    def run(self, inputs) -> tuple:
        """The program's output arrays for this call: the graph launched (captured first
        when there is none yet)."""
        if self.graph is None:
            with self.program.backend.deferred_device_checks():  # no host read in a capture
                return self._capture(inputs)
        for step in self.prefix:
            getattr(step.owner, step.name)(*step.args, **step.kwargs)
        if not self._guards_pass():  # (plain replay now; capture again on the next call)
            self.graph = None
            if self.captures >= MAX_CAPTURES:
                self.reason = skip_message(f"tensors read by the graph changed between calls "
                                           f"({self.captures} captures)")
            return self._skip_prefix(inputs)
        for static, t in zip(self.static_inputs, inputs):
            if t._data is not static:
                static[...] = t._data
        with self.program.backend.deferred_device_checks():  # (read at the next host wait)
            self.graph.launch()
        self.launches += 1
        for t, grad in self.grad_effects:
            t._grad = grad
        for counter, delta in self.version_effects:
            counter.value += delta
        for step in self.suffix:
            getattr(step.owner, step.name)(*step.args, **step.kwargs)
        return self.outputs

    def _guards_pass(self) -> bool:
        """Whether the tensors the graph reads are where the capture found them."""
        for t, data in self.data_guards:
            if t._data is not data:
                return False
        for t, grad, data in self.grad_guards:
            g = t._grad
            if g is not grad or g is not None and g._data is not data:
                return False
        return True

    # ---- capture -----------------------------------------------------------------------
    def _capture(self, inputs) -> tuple:
        program, backend = self.program, self.program.backend
        for t in inputs:
            if t._requires_grad:
                self.reason = skip_message("an argument that requires grad (its .grad would "
                                           "be the graph's)")
                return program.code(inputs)
        self.captures += 1
        xp, cuda = backend.xp, _streams(backend)
        self.static_inputs = [xp.empty(t._data.shape, t._data.dtype) for t in inputs]
        for static, t in zip(self.static_inputs, inputs):
            static[...] = t._data
        proxies = [TensorCore._make(s, t._device) for s, t in zip(self.static_inputs, inputs)]
        stream = cuda.Stream(non_blocking=True)
        state = {}

        def begin():
            state["before"] = self._host_state(proxies)
            backend.synchronize()
            pool = backend.graph_capture()[1]
            kept = None if pool is None else _KeptAllocations(pool)
            state["allocator"] = None if kept is None else cuda.using_allocator(kept.malloc)
            state["kept"] = kept
            stream.__enter__()
            if state["allocator"] is not None:
                state["allocator"].__enter__()
            state["capturing"] = True
            stream.begin_capture()

        def end():
            if not state.get("capturing"):
                return
            state["capturing"] = False
            try:
                graph = stream.end_capture()
            except Exception as err:  # noqa: BLE001 - CUDA's error for what cannot be captured
                raise _CaptureError(f"{type(err).__name__}: {err}") from None
            finally:
                if state["allocator"] is not None:
                    state["allocator"].__exit__(None, None, None)
                stream.__exit__(None, None, None)
            graph.launch()
            self.graph, self.kept = graph, state["kept"]
            self._effects(state["before"], self._host_state(proxies), inputs)

        calls = program.code.__globals__
        run = self._function({**_wrapped(calls, self.prefix_names[-1:], after=begin),
                              **_wrapped(calls, self.suffix_names[:1], before=end)})
        try:
            if not self.prefix_names:
                begin()
            outputs = run(proxies)
            end()
        except Exception as err:  # noqa: BLE001 - the capture failed: replayed without it
            # (the program was replayed with these guards before: an error now is the
            # capture's; were it the function's, the replay below raises it again)
            if self.graph is not None:  # (captured and launched: a host call's own error)
                raise
            self._abort(stream, state)
            what = str(err) if isinstance(err, _CaptureError) else \
                f"{type(err).__name__}: {err}"
            self.reason = skip_message(f"a failed capture ({what})")
            return (self._skip_prefix if "before" in state else program.code)(inputs)
        if self.graph is None:
            return outputs
        self.outputs = outputs
        if self.reason is not None:  # (mutated inputs: this call's values stand)
            self.graph = None
        return outputs

    def _abort(self, stream, state) -> None:
        """Leave a failed capture: stream ended, host state as before it."""
        if state.get("capturing"):
            state["capturing"] = False
            try:
                stream.end_capture()
            except Exception:  # noqa: BLE001, S110 - an invalidated capture ends with its error
                pass
            if state["allocator"] is not None:
                state["allocator"].__exit__(None, None, None)
            stream.__exit__(None, None, None)
        before = state.get("before")
        if before is not None:
            for t, grad, _, version in before:
                t._grad = grad
                t._version.value = version
        self.graph = None

    def _host_state(self, proxies) -> list:
        """(tensor, .grad, its array, version) of the tensors the program reads."""
        tensors = [t for _, t in self.program.captured] + list(proxies)
        return [(t, t._grad, None if t._grad is None else t._grad._data, t._version.value)
                for t in tensors]

    def _effects(self, before, after, inputs) -> None:
        """What the capture's Python did on the host, to redo at each launch."""
        n_captured = len(self.program.captured)
        self.data_guards = [(t, t._data) for _, t in self.program.captured]
        self.grad_guards = [(t, grad, data) for t, grad, data, _ in before[:n_captured]]
        self.grad_effects = [(t, a[1]) for (t, grad, _, _), a in zip(before, after)
                             if a[1] is not grad]
        self.version_effects = [(t._version, a[3] - v) for (t, _, _, v), a in
                                zip(before[:n_captured], after) if a[3] != v]
        mutated = sum(a[3] != b[3] for a, b in zip(after[n_captured:], before[n_captured:]))
        if mutated:  # the graph writes its static copy, not the caller's tensor
            self.reason = skip_message(f"mutated inputs ({mutated} instances)")
            for t, proxy_after, proxy_before in zip(inputs, after[n_captured:],
                                                    before[n_captured:]):
                t._data[...] = proxy_after[0]._data
                t._version.value += proxy_after[3] - proxy_before[3]


def _nothing(*args, **kwargs) -> None:
    """A host call already made."""


def _wrapped(namespace: dict, names, before=None, after=None) -> dict:
    """{name: the generated function's call ``name`` with ``before``/``after`` around it}."""
    return {name: _around(namespace[name], before, after) for name in names}


def _around(target, before, after):
    def call(*args, **kwargs):
        if before is not None:
            before()
        result = target(*args, **kwargs)
        if after is not None:
            after()
        return result
    return call
