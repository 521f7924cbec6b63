"""Random number generators: torch's CPU mt19937 stream, ``Generator``, the rng state.

A ``Generator`` holds exactly what torch's ``CPUGeneratorImpl`` holds: the mt19937 words, the
countdown to the next twist (``left``), the read position (``next``), the seed, and the
normal samples kept for the next call. The same seed gives torch's numbers bit for bit, and
``get_state``/``set_state`` use torch's 5056-byte layout, so a state taken from torch continues
the same stream here and the other way round. The draws and their transforms are in
``random_draws``; the loops that step the engine are Numba kernels (``kernels/cpu/mt19937``).

CUDA tensors are filled from the same host stream (see ``gputensor.cuda.manual_seed``).
"""

from __future__ import annotations

import contextlib
import importlib
import math
import operator
import secrets
import struct

import numpy as np

from ._tensor_core import TensorCore
from .device import as_device

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed",
           "get_rng_state", "set_rng_state", "fork_rng"]

DEFAULT_SEED = 67280421310721  # torch.Generator().initial_seed()
_SEED_MODULUS = 2 ** 64
_STATE_WORDS = 624
_STATE_SIZE = 5056  # sizeof(CPUGeneratorImplState)
_HEAD = struct.Struct("<QiiQ")  # the_initial_seed, left, seeded, next
_NORMAL = struct.Struct("<dddi4xf?3x")  # normal_x, normal_y, normal_rho, normal_is_valid,
#                                         next_float_normal_sample, its validity
_kernels = None


def stream_kernels():
    """The Numba kernels that step the engine (``kernels/cpu/mt19937``), loaded on first use."""
    global _kernels
    if _kernels is None:
        _kernels = importlib.import_module("gputensor.kernels.cpu.mt19937")  # lazy: numba
    return _kernels


def _nondeterministic_seed() -> int:
    """A fresh seed as torch makes one: 53 random bits from the OS."""
    return secrets.randbits(64) & ((1 << 53) - 1)


def _mt19937_words(seed: int) -> np.ndarray:
    """The 624 words mt19937 starts from for ``seed`` (its low 32 bits; Knuth's recurrence)."""
    words = [seed & 0xFFFFFFFF]
    for j in range(1, _STATE_WORDS):
        prev = words[-1]
        words.append((1812433253 * (prev ^ (prev >> 30)) + j) & 0xFFFFFFFF)
    return np.array(words, dtype=np.uint32)


class Generator:
    """A seedable random number generator: torch's mt19937 stream and its transforms."""

    def __init__(self, device="cpu"):
        self._device = as_device(device)
        self._reset(DEFAULT_SEED)

    def _reset(self, seed: int) -> None:
        self._initial_seed = seed
        self.mt = _mt19937_words(seed)  # the engine's words (uint32)
        self.meta = np.array([1, 0], dtype=np.int64)  # [left, next]: a twist comes first
        self.next_double_normal = math.nan  # the sin half of the last Box-Muller pair
        self.next_float_normal = math.nan

    @property
    def device(self):
        """The device this generator makes numbers for."""
        return self._device

    def manual_seed(self, seed) -> Generator:
        """Reseed: the same seed gives the same numbers; returns the generator itself."""
        if not hasattr(seed, "__index__"):
            raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        seed = operator.index(seed)
        if not -(2 ** 63) <= seed < _SEED_MODULUS:
            raise ValueError("Overflow when unpacking long long")
        self._reset(seed % _SEED_MODULUS)
        return self

    def seed(self) -> int:
        """Reseed from the OS's entropy and return the new seed."""
        s = _nondeterministic_seed()
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        """The seed this generator was last seeded with."""
        return self._initial_seed

    def get_state(self):
        """The generator's state as a uint8 tensor in torch's layout (5056 bytes)."""
        left, nxt = (int(v) for v in self.meta)
        double_valid = not math.isnan(self.next_double_normal)
        float_valid = not math.isnan(self.next_float_normal)
        raw = b"".join((
            _HEAD.pack(self._initial_seed, left, 1, nxt),
            self.mt.astype("<u8").tobytes(),
            _NORMAL.pack(0.0, self.next_double_normal if double_valid else 0.0, 0.0,
                         double_valid, self.next_float_normal if float_valid else 0.0,
                         float_valid),
        ))
        return TensorCore._make(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, new_state) -> Generator:
        """Restore a state from ``get_state`` (gputensor's or torch's, as a uint8 tensor)."""
        if not isinstance(new_state, TensorCore):
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        raw = new_state._backend.to_numpy(new_state._data)
        if raw.dtype != np.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        if raw.size != _STATE_SIZE:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {_STATE_SIZE} but "
                               f"found the input RNG state size to be {raw.size}")
        raw = np.ascontiguousarray(raw.reshape(-1)).tobytes()
        seed, left, seeded, nxt = _HEAD.unpack_from(raw)
        words_end = _HEAD.size + 8 * _STATE_WORDS
        words = np.frombuffer(raw[_HEAD.size:words_end], dtype="<u8")
        _, normal_y, _, double_valid, float_sample, float_valid = _NORMAL.unpack_from(
            raw, words_end)
        if not (seeded and 0 < left <= _STATE_WORDS and nxt <= _STATE_WORDS):
            raise RuntimeError("Invalid mt19937 state")
        self._initial_seed = seed
        self.mt = words.astype(np.uint32)  # the words are stored as 64-bit integers
        self.meta = np.array([left, nxt], dtype=np.int64)
        self.next_double_normal = normal_y if double_valid else math.nan
        self.next_float_normal = float_sample if float_valid else math.nan
        return self

    def clone_state(self) -> Generator:
        """A new generator in the same state as this one."""
        out = Generator(self._device)
        out.set_state(self.get_state())
        return out

    def __repr__(self):
        return f"<gputensor.Generator object at {id(self):#x}>"


def as_generator(generator=None) -> Generator:
    """``generator``, or the global generator for None."""
    if generator is None:
        return _default_generator
    if isinstance(generator, Generator):
        return generator
    raise TypeError(f"generator must be a gputensor.Generator, not {type(generator).__name__}")


def manual_seed(seed) -> Generator:
    """Seed the global random generator: the same seed gives the same numbers every run."""
    return _default_generator.manual_seed(int(seed))  # as torch: "7" and 1.5 are seeds too


def seed() -> int:
    """Seed the global generator from the OS and return the seed."""
    return _default_generator.seed()


def initial_seed() -> int:
    """The seed the global generator was last seeded with."""
    return _default_generator.initial_seed()


def get_rng_state():
    """The global generator's state as a uint8 tensor (torch's layout)."""
    return _default_generator.get_state()


def set_rng_state(new_state) -> None:
    """Restore the global generator's state from ``get_rng_state`` (or torch's)."""
    _default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices",
             device_type=None):
    """Run the block with the global generator's state saved, then restore it."""
    if not enabled:
        yield
        return
    saved = _default_generator.get_state()
    try:
        yield
    finally:
        _default_generator.set_state(saved)


_default_generator = Generator()
_default_generator.manual_seed(_nondeterministic_seed())  # from the OS at start, as torch's
default_generator = _default_generator  # the global generator (torch.default_generator)
