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
from the module on each call. Up to ``gputensor._dynamo.config.recompile_limit`` (8, as
torch's) guard sets are kept;
beyond that calls run eagerly and a warning is logged once.

Replay: one Python function is generated per program (``codegen.py``): each op's
``forward`` on the arrays directly (no Tensor objects, no grad recording, no module or
functional Python in between); a ``loss.backward()`` as the engine's walk unrolled in the
recorded order, each node's backward formula with the same sums to shape, casts and
accumulation order, so results agree with eager to the last bit; leaves accumulate
``.grad`` as eagerly; ``optimizer.step()`` and ``zero_grad()`` are called as they are (they
are fused kernels already). Dropout masks are drawn again from the default generator each
call, in the same order, so the numbers are eager's (and torch's). Where the result must
carry a graph (a forward in grad mode with no backward in the function), each op's
``apply`` is replayed instead, so the outputs have eager's grad_fn.

Fusion (``fuse.py``, CPU): a run of ``+ - * /`` ops on float tensors of one shape with no
graph node becomes one generated ``numba.njit(parallel=True)`` loop, cached on disk and
compiled once per chain and dtype; these four operations round the same in NumPy and Numba,
so fused results are eager's bit for bit too. A fused chain's output array is reused on the
next call once nothing references it. Other ops allocate as in eager mode.

In-place ops replay as eagerly: the copy autograd takes of the target, the op, the write
into the target's storage (an argument, parameter or buffer also gets its version bumped);
so do batch norm's running statistics and ``num_batches_tracked`` in training mode. A
tensor made inside the function and written in place starts each call from its first value.

Limits (the function runs eagerly, with the reason in ``fn.compile_report()``; with
``fullgraph=True`` ``gputensor.compile.Unsupported`` is raised after that eager run):
Python control flow on tensor values (``item()``, ``bool(t)``, printing), in-place ops on
views, writes to tensors outside the ops other than batch norm's, random draws other than
dropout (``randn`` in the function) and reseeding (``manual_seed``), forward hooks, tensor
hooks and ``retain_grad`` in the backward, custom ``autograd.Function``, backward with
arguments, optimizer steps with a closure, ops moving tensors between devices, a function
whose ops or constants differ between calls. Unhashable arguments (a list) run eagerly
each call (``fullgraph=True`` raises).

Not detected, by design of a replay that skips the function's Python: side effects
outside the ops (a tensor stored on an attribute, a Python counter, printing text), and
checks done in Python before an op (embedding's index range: a bad index on a replayed
call gets NumPy's error, not torch's).

Also: a tensor returned by a function that runs ``backward()`` through it comes back with
its grad_fn spent, as eagerly (a second backward raises torch's error); one the backward
did not go through makes the function run eagerly. The first two calls for each guard set
run eagerly (plus the recording; three when the first differs from the second, as a lazy
initialisation does); with ``fullgraph=True`` the error comes after the eager
call ran. ``dynamic``, ``mode``, ``options`` and ``backend`` are checked as torch checks
them and otherwise ignored: shapes are always guarded exactly, as ``dynamic=False``;
``mode="reduce-overhead"`` launches a CUDA program as a CUDA graph (``cuda_graphs.py``).
"""

from .api import (
    InvalidBackend,
    OptimizedModule,
    Unsupported,
    compile,  # noqa: A004
    config,
    is_compiling,
    reset,
)

__all__ = ["compile", "OptimizedModule", "Unsupported", "InvalidBackend", "reset",
           "is_compiling", "config"]
