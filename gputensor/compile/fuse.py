"""Chains of elementwise arithmetic in a replayed program, fused into one Numba loop.

A chain is a run of consecutive ``+``, ``-``, ``*``, ``/`` ops (Add, Sub, Mul, Div without
``alpha``) on float32 or float64 tensors of one shape and dtype, or such a tensor and a
Python number, where no op records a graph node (no grad needed). Values used only inside
the chain never reach memory; the loop reads each input once and writes each escaping value
once (``kernels/cpu/fused.py``), on every core for large tensors. The four operations are
IEEE-exact in both NumPy and Numba (no FMA contraction without fastmath) and a number
operand is rounded to the tensors' dtype first, as NumPy does: results are eager's bit for
bit. CPU only; a chain whose inputs are not C-contiguous runs its ops one by one. An output
array is reused on the next call when nothing references it any more (the tensor returned
last time was dropped), saving the allocation and its page faults.
"""

from __future__ import annotations

import importlib
import sys

import numpy as np

from ..ops.elementwise import Add, Div, Mul, Sub
from .outputs import output_slots
from .program import OpStep, Program

_SYMBOLS = {Add: "+", Sub: "-", Mul: "*", Div: "/"}
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
PARALLEL_FROM = 1 << 16  # elements: below, one thread (waking the pool costs more)
_kernels = None


def _fused_module():
    """gputensor.kernels.cpu.fused, imported on first use (it loads numba)."""
    global _kernels
    if _kernels is None:
        _kernels = importlib.import_module("gputensor.kernels.cpu.fused")
    return _kernels


class FusedStep:
    """One loop for a chain of ops (``call``), or its ``steps`` one by one."""

    __slots__ = ("kernel", "inputs", "outs", "shape", "dtype", "steps", "buffers")

    def __init__(self, kernel, inputs, outs, shape, dtype, steps):
        self.kernel, self.inputs, self.outs = kernel, inputs, outs
        self.shape, self.dtype, self.steps = shape, dtype, steps
        self.buffers = [None] * len(outs)  # the last call's outputs, reused once unreferenced

    def call(self, *arrays):
        """The chain's escaping values from its inputs' arrays; None when an input is not
        C-contiguous (the caller then runs ``steps`` one by one)."""
        flat = []
        for a in arrays:
            if not a.flags.c_contiguous:
                return None
            flat.append(a.reshape(-1))
        buffers = self.buffers
        for k, buffer in enumerate(buffers):
            # held only by this list (and getrefcount's argument): nobody else can see it
            if buffer is None or sys.getrefcount(buffer) > 2:
                buffers[k] = np.empty(self.shape, self.dtype)
        self.kernel(*[o.reshape(-1) for o in buffers], *flat)
        return tuple(buffers)


def _fusable(step, meta):
    """(shape, dtype) when ``step`` can join a chain, else None."""
    if type(step) is not OpStep or step.static is not None or step.op not in _SYMBOLS \
            or len(step.outs) != 1 or step.array_positions:
        return None
    options = step.template[2:]  # add and sub: alpha, fused when 1
    if options and (len(options) != 1 or type(options[0]) is not int or options[0] != 1):
        return None
    shape, dtype = meta.get(step.outs[0], (None, None))
    if dtype not in _FLOATS:
        return None
    filled = dict(step.fills)
    if 0 not in filled:
        return None
    for pos in (0, 1):
        if pos in filled:
            if meta.get(filled[pos]) != (shape, dtype):
                return None
        elif type(step.template[pos]) not in (float, int):
            return None
    return shape, dtype


def fuse(program: Program) -> int:
    """Replace each chain of two or more fusable ops by a FusedStep; returns how many."""
    if program.graph_mode or program.backend is None or program.backend.xp is not np:
        return 0
    reads = {}
    for index, step in enumerate(program.steps):
        for _, slot in getattr(step, "fills", ()):
            reads.setdefault(slot, []).append(index)
        for slot in getattr(step, "inputs", ()):
            reads.setdefault(slot, []).append(index)
    escaping = set(output_slots(program.output))
    steps, chain, kind, count = [], [], None, 0
    for index, step in enumerate(program.steps + [None]):
        this = None if step is None else _fusable(step, program.meta)
        if chain and (this is None or this != kind):
            if len(chain) > 1:
                steps.append(_fused(chain, kind, reads, escaping))
                count += 1
            else:
                steps.append(chain[0][1])
            chain = []
        if step is None:
            break
        if this is None:
            steps.append(step)
        else:
            chain.append((index, step))
            kind = this
    program.steps = steps
    return count


def _fused(chain, kind, reads, escaping) -> FusedStep:
    shape, dtype = kind
    last = chain[-1][0]
    made = {step.outs[0] for _, step in chain}
    names, inputs, lines, outs = {}, [], [], []
    for _, step in chain:
        filled = dict(step.fills)
        operands = []
        for pos in (0, 1):
            if pos not in filled:
                operands.append(f"np.{dtype.name}({float(step.template[pos])!r})")
                continue
            slot = filled[pos]
            if slot not in names:
                names[slot] = f"x{slot}"
                lines.append(f"x{slot} = in{len(inputs)}[i]")
                inputs.append(slot)
            operands.append(names[slot])
        out = step.outs[0]
        names[out] = f"x{out}"
        lines.append(f"x{out} = {operands[0]} {_SYMBOLS[step.op]} {operands[1]}")
    for slot in sorted(made):
        if slot in escaping or any(r > last for r in reads.get(slot, ())) \
                or slot == chain[-1][1].outs[0] and not outs:
            lines.append(f"out{len(outs)}[i] = x{slot}")
            outs.append(slot)
    size = 1
    for n in shape:
        size *= n
    kernel = _fused_module().fused_kernel(lines, len(inputs), len(outs), dtype,
                                          parallel=size >= PARALLEL_FROM)
    return FusedStep(kernel, tuple(inputs), tuple(outs), shape, dtype,
                     tuple(step for _, step in chain))
