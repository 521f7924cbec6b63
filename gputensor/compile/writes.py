"""In-place writes in a program: an in-place op's copy of its target (``_snapshot``), the
write of its result into the target's storage (``_write``), and batch norm's running
statistics. Each step lists the slots it reads as ``fills``, as an op step does."""

from __future__ import annotations

from .tracer import RunningStatsRecord, SnapshotRecord, Unsupported, WriteRecord


class SnapshotStep:
    """``copy = source.copy()``: what an in-place op that records autograd reads."""

    __slots__ = ("source", "copy", "fills")

    def __init__(self, source, copy):
        self.source, self.copy = source, copy
        self.fills = ((0, source),)


class WriteStep:
    """``target[...] = result``, and the target tensor's version bumped when it is one the
    caller sees (an argument, a parameter or buffer)."""

    __slots__ = ("target", "result", "fills")

    def __init__(self, target, result):
        self.target, self.result = target, result
        self.fills = ((0, target), (1, result))


class RunningStatsStep:
    """Batch norm's running mean and variance updated from a batch's statistics."""

    __slots__ = ("running_mean", "running_var", "mean", "var", "n", "momentum", "fills")

    def __init__(self, running_mean, running_var, mean, var, n, momentum):
        self.running_mean, self.running_var, self.mean, self.var = running_mean, \
            running_var, mean, var
        self.n, self.momentum = n, momentum
        self.fills = tuple(enumerate((running_mean, running_var, mean, var)))


def build_snapshot(b, r1: SnapshotRecord, r2: SnapshotRecord) -> SnapshotStep:
    """The step for two traces' snapshots (``b`` the program builder)."""
    source = b.slot_of(r1.source, r2.source)
    return SnapshotStep(source, b.new_slot(r1.copy, r2.copy))


def build_write(b, r1: WriteRecord, r2: WriteRecord) -> WriteStep:
    """The step for two traces' in-place writes."""
    target = b.slot_of(r1.target, r2.target)
    if any(slot == target for slot, _ in b.constants):
        b.written_constants.add(target)  # (a fresh copy of the constant on each call)
    return WriteStep(target, b.slot_of(r1.result, r2.result))


def build_running_stats(b, r1: RunningStatsRecord, r2: RunningStatsRecord):
    """The step for two traces' running-statistics updates."""
    if (r1.n, r1.momentum) != (r2.n, r2.momentum):
        raise Unsupported("batch norm's momentum or batch size differs between calls")
    mean, var = b.array_slot(r1.mean, r2.mean), b.array_slot(r1.var, r2.var)
    return RunningStatsStep(b.slot_of(r1.running_mean, r2.running_mean),
                            b.slot_of(r1.running_var, r2.running_var), mean, var,
                            r1.n, r1.momentum)
