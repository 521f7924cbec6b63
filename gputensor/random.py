"""Random number generators: ``gputensor.Generator`` and the helper that unwraps one."""

from __future__ import annotations

import json
import operator

import numpy as np

from ._tensor_core import TensorCore
from .device import as_device

DEFAULT_SEED = 67280421310721  # torch.Generator().initial_seed()
_SEED_MODULUS = 2 ** 64


class Generator:
    """A seedable random number generator (a NumPy PCG64 stream underneath)."""

    def __init__(self, device="cpu"):
        self._device = as_device(device)
        self._numpy = None  # made on first use: numpy.random costs import time
        self._initial_seed = DEFAULT_SEED

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
        self._initial_seed = seed % _SEED_MODULUS
        self._numpy = np.random.Generator(np.random.PCG64(self._initial_seed))
        return self

    def seed(self) -> int:
        """Reseed from the OS's entropy and return the new seed."""
        s = int(np.random.SeedSequence().entropy % (2 ** 63))
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        """The seed this generator was last seeded with."""
        return self._initial_seed

    def get_state(self):
        """The generator's state as a uint8 tensor (give it back to ``set_state``)."""
        state = {"seed": self._initial_seed,
                 "bit_generator": self.numpy_generator.bit_generator.state}
        raw = np.frombuffer(json.dumps(state).encode(), dtype=np.uint8)
        return TensorCore._make(raw.copy())

    def set_state(self, new_state) -> Generator:
        """Restore a state returned by ``get_state``."""
        raw = np.asarray(new_state.detach().cpu().numpy() if hasattr(new_state, "detach")
                         else new_state)
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise TypeError("expected a torch.ByteTensor, but got "
                            f"{type(new_state).__name__}")
        try:
            state = json.loads(raw.tobytes().decode())
            gen = np.random.Generator(np.random.PCG64())
            gen.bit_generator.state = state["bit_generator"]
            seed = int(state["seed"])
        except (ValueError, KeyError, TypeError) as err:
            raise RuntimeError(f"Invalid generator state: {err}") from None
        self._numpy, self._initial_seed = gen, seed
        return self

    def clone_state(self) -> Generator:
        """A new generator in the same state as this one."""
        out = Generator(self._device)
        out.set_state(self.get_state())
        return out

    @property
    def numpy_generator(self) -> np.random.Generator:
        """The NumPy generator that makes this generator's numbers."""
        if self._numpy is None:
            self.manual_seed(self._initial_seed)
        return self._numpy

    def __getattr__(self, name):
        # a bridge for code written against numpy's Generator (gen.random(...), gen.integers(...))
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.numpy_generator, name)

    def __repr__(self):
        return f"<gputensor.Generator object at {id(self):#x}>"




def default_generator() -> Generator:
    """The global random generator (torch's default seed until ``manual_seed``)."""
    return _default_generator


def manual_seed(seed) -> Generator:
    """Seed the global random generator: the same seed gives the same numbers every run."""
    return _default_generator.manual_seed(int(seed))  # as torch: "7" and 1.5 are seeds too


def seed() -> int:
    """Seed the global generator from the OS and return the seed."""
    return _default_generator.seed()


def initial_seed() -> int:
    """The seed the global generator was last seeded with."""
    return _default_generator.initial_seed()


def as_numpy_generator(generator=None) -> np.random.Generator:
    """The NumPy generator behind ``generator`` (None: the global one)."""
    if generator is None:
        generator = default_generator()
    if isinstance(generator, Generator):
        return generator.numpy_generator
    if isinstance(generator, np.random.Generator):
        return generator
    raise TypeError(f"generator must be a gputensor.Generator, not {type(generator).__name__}")


_default_generator = Generator()  # its NumPy stream is made on first use
