"""``gputensor.cuda``: whether a CUDA device can be used, and its memory statistics.

Without a GPU (or without CuPy) ``is_available()`` is False and asking for a device raises
a RuntimeError that says why. The memory statistics read CuPy's default memory pool, which
gputensor allocates from; with ``GPUTENSOR_SIMULATE_CUDA=1`` they are always 0.
"""

from __future__ import annotations

from .. import backends, random
from ..backends import OutOfMemoryError
from ..device import device as device_type

__all__ = ["OutOfMemoryError", "is_available", "device_count", "current_device", "set_device",
           "device", "get_device_name", "get_device_properties", "get_device_capability",
           "synchronize", "memory_allocated", "max_memory_allocated", "memory_reserved",
           "reset_peak_memory_stats", "empty_cache", "manual_seed", "manual_seed_all", "seed",
           "seed_all", "initial_seed", "get_rng_state", "get_rng_state_all", "set_rng_state",
           "set_rng_state_all", "Event",
           "is_bf16_supported"]


def _backend():
    return backends.backend_for("cuda")


def _loaded():
    """The CUDA backend when it can run, else None (never raises)."""
    try:
        return _backend()
    except RuntimeError:
        return None


def _check(device) -> None:
    """Raise for a device argument that is not a CUDA device of this machine."""
    if device is None:
        return
    dev = device_type(device)
    if dev.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {dev}")
    _backend().check_index(dev.index)


def is_available() -> bool:
    """True when CUDA can run here: a GPU with CuPy, or ``GPUTENSOR_SIMULATE_CUDA=1``."""
    backend = _loaded()
    return backend is not None and backend.device_count() > 0


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """False: CUDA tensors cannot be bfloat16 here (CuPy has no bfloat16 arrays), and
    without CUDA there is no device to ask."""
    return False


def device_count() -> int:
    """The number of CUDA devices (0 when CUDA is not available)."""
    backend = _loaded()
    return backend.device_count() if backend is not None else 0


def current_device() -> int:
    """The index of the current CUDA device."""
    return _backend().current_device()


def _index(device) -> int:
    """The CUDA device index of an int, a string or a device ("cuda": the current one)."""
    if isinstance(device, int) and not isinstance(device, bool):
        return device
    dev = device_type(device)
    if dev.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {dev}")
    return current_device() if dev.index is None else dev.index


def _optional_index(device):
    """The CUDA device index of a device argument; None (the current device) for None."""
    return None if device is None else _index(device)


def set_device(device) -> None:
    """Make ``device`` (an index, "cuda:N" or a device) the current CUDA device."""
    index = _index(device)
    if index >= 0:
        _backend().set_device(index)


class device:  # noqa: N801 - torch's name
    """``with gputensor.cuda.device(i):`` makes CUDA device ``i`` current inside the block."""

    def __init__(self, device):
        self.idx = -1 if device is None else _index(device)
        self.prev_idx = -1

    def __enter__(self):
        if self.idx >= 0:
            self.prev_idx = current_device()
            if self.prev_idx != self.idx:
                set_device(self.idx)
        return self

    def __exit__(self, *exc_info):
        if self.idx >= 0 and self.prev_idx != self.idx:
            set_device(self.prev_idx)
        return False


def get_device_name(device=None) -> str:
    """The name of a CUDA device (the current one by default)."""
    return get_device_properties(device).name


class _CudaDeviceProperties:
    """What ``get_device_properties`` reports: name, compute capability, memory, SMs."""

    def __init__(self, name, major, minor, total_memory, multi_processor_count):
        self.name, self.major, self.minor = name, major, minor
        self.total_memory, self.multi_processor_count = total_memory, multi_processor_count

    def __repr__(self):
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, "
                f"minor={self.minor}, total_memory={self.total_memory // (1 << 20)}MB, "
                f"multi_processor_count={self.multi_processor_count})")


def get_device_properties(device=None) -> _CudaDeviceProperties:
    """The properties of a CUDA device (the current one by default)."""
    _check(device)
    return _CudaDeviceProperties(**_backend().device_properties(_optional_index(device)))


def get_device_capability(device=None) -> tuple:
    """(major, minor) compute capability of a CUDA device."""
    props = get_device_properties(device)
    return props.major, props.minor


def synchronize(device=None) -> None:
    """Wait for every queued kernel and copy on the device to finish."""
    _check(device)
    _backend().synchronize(None if device is None else _index(device))


def _memory_stat(name: str, device):
    """The backend's memory statistic ``name`` for a device argument (0 without CUDA)."""
    backend = _loaded()
    if backend is None:
        return 0
    _check(device)
    return getattr(backend, name)(_optional_index(device))


def memory_allocated(device=None) -> int:
    """Bytes currently held by tensors on the device (0 when CUDA is not available)."""
    return _memory_stat("memory_allocated", device)


def max_memory_allocated(device=None) -> int:
    """The peak of ``memory_allocated()`` since start or ``reset_peak_memory_stats()``."""
    return _memory_stat("max_memory_allocated", device)


def memory_reserved(device=None) -> int:
    """Bytes the caching allocator holds from the driver, in use or cached."""
    return _memory_stat("memory_reserved", device)


def reset_peak_memory_stats(device=None) -> None:
    """Restart ``max_memory_allocated()`` from the current use."""
    _memory_stat("reset_peak_memory_stats", device)


def empty_cache() -> None:
    """Release the cached, unused memory blocks to the driver (no-op without CUDA)."""
    backend = _loaded()
    if backend is not None:
        backend.empty_cache()


def manual_seed(seed) -> None:
    """Seed the random numbers of CUDA tensors: here, the global generator they draw from.

    gputensor draws the random numbers of every device on the host, from torch's CPU stream
    (mt19937 and ATen's CPU transforms), and copies them to the device: a seed gives the
    same numbers on "cuda" as on "cpu" (torch's CPU numbers, not its Philox CUDA ones). So
    the CUDA generator is the global generator, and this seeds it as
    ``gputensor.manual_seed`` does.
    """
    random.manual_seed(seed)


manual_seed_all = manual_seed


def seed() -> None:
    """Seed the generator CUDA tensors draw from (the global one) from the OS."""
    random.seed()


seed_all = seed


def initial_seed() -> int:
    """The seed of the generator CUDA tensors draw from (the global one)."""
    return random.initial_seed()


def get_rng_state(device="cuda"):
    """The state of the generator CUDA tensors draw from (the global one; torch's CPU
    layout)."""
    return random.get_rng_state()


def get_rng_state_all() -> list:
    """``get_rng_state()`` for each device (all share the global generator)."""
    return [random.get_rng_state() for _ in range(max(device_count(), 1))]


def set_rng_state(new_state, device="cuda") -> None:
    """Restore the state of the generator CUDA tensors draw from (the global one)."""
    random.set_rng_state(new_state)


def set_rng_state_all(new_states) -> None:
    """``set_rng_state`` with the last of ``new_states`` (all devices share one generator)."""
    for state in new_states:
        random.set_rng_state(state)


class Event:
    """A CUDA event: ``record()`` marks the current point of the device's work; with
    ``enable_timing=True``, ``elapsed_time(end)`` is the milliseconds between two of them."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False, external=False):
        self._backend = _backend()  # the clear error when CUDA cannot run here
        self._timing, self._recorded = bool(enable_timing), False
        self._event = self._backend.new_event(bool(enable_timing), bool(blocking))

    def record(self, stream=None) -> None:
        """Mark the current point of the work queued on the device."""
        self._event.record()
        self._recorded = True

    def wait(self, stream=None) -> None:
        """Make later work wait for this event (all gputensor work runs on one stream)."""

    def query(self) -> bool:
        """Whether the work before the event is done."""
        return bool(self._event.done)

    def synchronize(self) -> None:
        """Wait until the work before the event is done."""
        self._event.synchronize()

    def elapsed_time(self, end_event) -> float:
        """Milliseconds from this event to ``end_event`` (both recorded, with timing)."""
        if not (self._timing and end_event._timing):
            raise RuntimeError("Both events must be created with argument 'enable_timing=True'.")
        if not (self._recorded and end_event._recorded):
            raise RuntimeError("Both events must be recorded before calculating elapsed time.")
        return self._backend.elapsed_ms(self._event, end_event._event)
