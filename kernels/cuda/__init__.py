"""CUDA kernels (Numba CUDA), installed as ``gputensor.kernels.cuda``; no gputensor imports.

Importing this package imports nothing heavy; each module imports ``numba.cuda`` (and, on a
real GPU, ``cupy``) itself, so ``import gputensor`` never does. Nothing here changes the
process's settings: the CUDA backend (gputensor/backends/cuda_backend.py) sets Numba's variables
(``NUMBA_CUDA_ARRAY_INTERFACE_SYNC=0``, ``NUMBA_CUDA_LOW_OCCUPANCY_WARNINGS=0``, and
``NUMBA_ENABLE_CUDASIM=1`` when simulated) before it imports these modules.

Modules: ``launch`` (grid sizing, stream, compile-once cache, the one launch path; shared by
all), ``raw_launch`` (Numba's compiled code launched through CuPy), ``elementwise``
(unary/binary ops with broadcasting over strided inputs), ``reduce`` (``sum_to_shape``),
``matmul`` (tiled float32), ``activations`` (fused activation backward), ``losses`` (fused
cross entropy), ``rows`` (layer norm and softmax, a block per row, from ``kernels/rows.py``),
``optim`` (fused optimizer steps), ``ptx`` (compiles every kernel to PTX
for sm_90: the CI check), ``checked`` (simulated launches check their arguments against the
kernel's signature). The simulated CuPy that the simulated CUDA backend passes to these
kernels lives with that backend (gputensor/backends/simcupy.py).

Kernel registry convention (every kernel module follows it; ``ptx`` relies on it):

- A module lists its kernels in ONE place, a module-level
  ``KERNELS = [(name, pyfunc, [signature, ...]), ...]``:

  * ``name``: a unique string, e.g. ``"elementwise.exp"``, ``"optim.adam"``;
  * ``pyfunc``: the plain (undecorated) Python kernel function, exactly what
    ``numba.cuda.jit(signature)`` and ``numba.cuda.compile_ptx(pyfunc, signature)`` take.
    Device functions it calls are module-level ``numba.cuda.jit(device=True,
    inline="always")`` objects: inlined in Numba's IR, so ``compile_ptx`` needs no GPU
    (a plain device function asks the driver for the current device's compute capability);
  * signatures: one Numba signature string per dtype the kernel is used with, e.g.
    ``"void(float32[::1], float32[::1], float32, boolean)"``. List every dtype the backend
    launches the kernel with (float32 and float64 for most kernels), no more.

- Launch through ``launch.compiled(pyfunc, signature)``: it compiles that one signature on
  first use (``cache=True`` on disk, falling back to no disk cache where that is
  unsupported) and returns the kernel; launch it as
  ``launch.configure(kernel, launch.grid_size(n, kernel=kernel), launch.BLOCK)(*args)``
  (passing the kernel sizes the grid to one wave of resident blocks): on a real GPU through
  CuPy with Numba's argument layout (``raw_launch``), simulated the Numba way. Kernels use
  grid-stride loops (``range(cuda.grid(1), n, cuda.gridsize(1))``), so any grid is correct.
- Each kernel has a docstring and a comment stating its launch configuration.
- ``ptx.compile_all()`` imports each module in ``ptx.MODULES`` (a missing module is
  skipped) and compiles every ``(pyfunc, signature)`` of its ``KERNELS`` to PTX for
  ``cc=(9, 0)``.
"""
