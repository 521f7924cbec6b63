"""CUDA memory accounting: the peak-memory counter (a CuPy memory hook) and torch's sizes."""

from __future__ import annotations

PEAK_HOOK_NAME = "gputensor_peak_memory"


def format_size(nbytes: int) -> str:
    """A byte count as torch prints it in its out-of-memory message."""
    if nbytes <= 1024:
        return f"{nbytes} bytes"
    for unit, scale in (("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30)):
        if nbytes <= scale << 10 or unit == "GiB":
            return f"{nbytes / scale:.2f} {unit}"


class PeakMemoryCounter:
    """Running counts of the bytes CuPy's memory pool hands out, per device, and their peaks.

    Its ``malloc_postprocess``/``free_postprocess`` are a ``cupy.cuda.MemoryHook``'s (the real
    backend enters one built from this class): each allocation costs two dict updates, however
    many arrays are alive. CuPy calls hooks on the thread that entered them only, so
    allocations made on other threads are not counted (``max_memory_allocated`` never reports
    less than the current use, which CuPy's pool counts for all threads).
    """

    name = PEAK_HOOK_NAME

    def __init__(self):
        self.used = {}  # device index -> bytes handed out since the count started
        self.peak = {}  # device index -> the largest ``used`` since the last reset

    def malloc_postprocess(self, device_id, size, mem_size, mem_ptr, pmem_id, **kwargs):
        """Count an allocation of ``mem_size`` bytes on ``device_id`` (0 ``mem_ptr``: failed)."""
        if mem_ptr:
            used = self.used.get(device_id, 0) + mem_size
            self.used[device_id] = used
            if used > self.peak.get(device_id, 0):
                self.peak[device_id] = used

    def free_postprocess(self, device_id, mem_size, mem_ptr, pmem_id, **kwargs):
        """Count ``mem_size`` bytes given back to the pool on ``device_id``."""
        self.used[device_id] = self.used.get(device_id, 0) - mem_size

    def reset(self, device_id: int, used: int) -> None:
        """Start counting ``device_id`` again from ``used`` bytes, the peak with it."""
        self.used[device_id] = self.peak[device_id] = used


def peak_memory_hook(cupy) -> PeakMemoryCounter:
    """The counter entered as a memory hook on this thread (made once per process)."""
    hooks = cupy.cuda.memory_hook.get_memory_hooks()
    hook = hooks.get(PEAK_HOOK_NAME)
    if hook is None:
        hook = type("PeakMemoryHook", (PeakMemoryCounter, cupy.cuda.MemoryHook), {})()
        hook.__enter__()
    return hook
