"""``gputensor.compile``: record a function's ops on its first calls, then replay them.

``gputensor.compile(fn)`` (or ``@gputensor.compile``, ``@gputensor.compile(fullgraph=True)``,
``gputensor.compile(module)``) runs ``fn`` eagerly on its first two calls for each guard set
while recording every built-in op it applies (through ``Op.apply``'s observer), each dropout
mask it draws, the backward walk of ``loss.backward()`` (the engine's node order) and the
calls to optimizers' and schedulers' ``step``/``zero_grad``. The two recordings are compared:
what agrees is the program; a tensor made inside the function by a factory (``arange``,
``tensor``) with equal values both times becomes a constant.

Guards: the tensor arguments' shapes, dtypes, devices, requires_grad (and whether they are
leaves), other arguments by value, the grad mode, the ``training`` flag of every module
called, and the shapes, dtypes, requires_grad and hooks of the captured tensors (parameters,
buffers, optimizer state read by the ops). For a compiled module, its parameters are read
from the module on each call. Up to ``recompile_limit`` (8, torch's) guard sets are kept;
beyond that calls run eagerly and a warning is logged once.

Replay: each op's ``forward`` runs on the arrays directly (no Tensor objects, no grad
recording, no module or functional Python in between); a ``loss.backward()`` replays the
engine's walk in the recorded order with each node's backward formula, so the sums are
the same as eager and results agree to the last bit; leaves accumulate ``.grad`` as eagerly;
``optimizer.step()`` and ``zero_grad()`` are called as they are (they are fused kernels
already). Dropout masks are drawn again from the default generator each call, in the same
order, so the numbers are eager's. Where the result must carry a graph (a forward in grad
mode with no backward in the function), each op's ``apply`` is replayed instead, so the
outputs have eager's grad_fn.

Limits (the function runs eagerly, with the reason in ``fn.compile_report()``; with
``fullgraph=True`` ``gputensor.compile.Unsupported`` is raised after that eager run):
Python control flow on tensor values (``item()``, ``bool(t)``, printing), in-place ops on
tensors the ops see (including BatchNorm's running statistics in training mode), random
draws other than dropout (``randn`` in the function), forward hooks, tensor hooks and
``retain_grad`` in the backward, custom ``autograd.Function``, backward with arguments, and
ops moving tensors between devices. Not detected: side effects outside the ops (a tensor
stored on an attribute, a Python counter): the replay skips the function's Python. Tensors
returned by a function that runs ``backward()`` come back detached. ``dynamic``, ``mode``,
``options`` and ``backend`` are checked as torch checks them and otherwise ignored.
"""

from .api import (
    InvalidBackend,
    OptimizedModule,
    Unsupported,
    compile,  # noqa: A004
    is_compiling,
    recompile_limit,
    reset,
)

__all__ = ["compile", "OptimizedModule", "Unsupported", "InvalidBackend", "reset",
           "is_compiling", "recompile_limit"]
