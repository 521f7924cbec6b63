"""gputensor's random numbers are torch's CPU numbers, bit for bit, on every device.

Each case seeds both libraries alike, draws the same way, and compares the values exactly
(NumPy arrays of the same dtype, every bit); on "cuda" gputensor's numbers are drawn on the
host from the same stream and copied, so they must equal torch's CPU numbers too.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gputensor
from helpers import LIBS, lib_device, to_numpy

SEEDS = (0, 1, 7, 42, 2 ** 32 + 5, 123456789)
SIZES = (0, 1, 7, 15, 16, 17, 31, 33, 100, 1000, 1001)
FLOATS = ("float32", "float64", "float16", "bfloat16")


def bits(t) -> np.ndarray:
    """A tensor's values as comparable NumPy data (bfloat16 as float32, which holds it)."""
    if t.dtype in (gputensor.bfloat16, torch.bfloat16):
        t = t.float()
    return to_numpy(t.detach())


def assert_identical(ours, theirs):
    """Same shape, same dtype, the same bits (NaN included)."""
    assert str(ours.dtype).replace("gputensor", "torch") == str(theirs.dtype)
    a, b = bits(ours), bits(theirs)
    assert a.shape == b.shape
    assert a.tobytes() == b.tobytes(), f"{np.count_nonzero(a != b)} of {a.size} values differ"


def both(fn, seed, device="cpu"):
    """``fn(lib, device)`` after ``lib.manual_seed(seed)``, for gputensor and for torch."""
    results = []
    for lib in LIBS:
        lib.manual_seed(seed)
        results.append(fn(lib, lib_device(lib, device)))
    return results


def needs_device_dtype(device, dtype):
    """Skip a bfloat16 case on "cuda": CuPy has no bfloat16 arrays (a documented limit)."""
    if device != "cpu" and dtype == "bfloat16":
        pytest.skip("CUDA tensors cannot be bfloat16 (CuPy has no bfloat16 arrays)")


def check(fn, seeds=SEEDS, device="cpu"):
    """``fn`` gives the same tensors (or tuples of them) under both libraries."""
    for seed in seeds:
        ours, theirs = both(fn, seed, device)
        if not isinstance(ours, (tuple, list)):
            ours, theirs = [ours], [theirs]
        for a, b in zip(ours, theirs, strict=True):
            assert_identical(a, b)
            if device != "cpu":
                assert a.device.type == "cuda"


# ---- draws into new tensors: every size around the block of 16, every float dtype ----------
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("size", SIZES)
def test_rand_and_randn(size, dtype, device):
    needs_device_dtype(device, dtype)
    check(lambda lib, dev: (lib.rand(size, dtype=getattr(lib, dtype), device=dev),
                            lib.randn(size, dtype=getattr(lib, dtype), device=dev)),
          device=device)


@pytest.mark.parametrize("shape", [(3, 5), (4, 4, 2), (2, 33), (1, 16)])
def test_shapes_and_like(shape, device):
    def draw(lib, dev):
        x = lib.zeros(shape, device=dev)
        return (lib.randn(*shape, device=dev), lib.rand_like(x), lib.randn_like(x),
                lib.randint_like(x, 3, 9), lib.randn(shape, dtype=lib.float64, device=dev))
    check(draw, device=device)


@pytest.mark.parametrize("layout", ["transposed", "sliced", "sliced-transposed"])
def test_like_draws_fill_a_result_laid_out_like_the_input(layout, device):
    def draw(lib, dev):
        x = lib.zeros(9, 8, device=dev)
        x = x.t() if layout == "transposed" else x[::2, 1:]
        if layout == "sliced-transposed":
            x = x.t()
        gen = lib.Generator().manual_seed(3)
        return (lib.rand_like(x), lib.randn_like(x), lib.randint_like(x, 7),
                lib.randint_like(x, -3, 4, dtype=lib.int32), lib.randn_like(x, generator=gen),
                lib.rand_like(x, dtype=lib.float64, generator=gen))
    check(draw, device=device)


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8", "float32",
                                   "float64"])
def test_randint(dtype, device):
    low = 0 if dtype == "uint8" else -5
    check(lambda lib, dev: (lib.randint(low, 7, (37,), dtype=getattr(lib, dtype), device=dev),
                            lib.randint(100, (3, 4), dtype=getattr(lib, dtype), device=dev)),
          device=device)


def test_randint_wide_ranges():
    check(lambda lib, dev: (lib.randint(-2 ** 40, 2 ** 40, (50,)),
                            lib.randint(0, 2 ** 32, (9,)), lib.randint(0, 2 ** 32 - 1, (9,))))


@pytest.mark.parametrize("n", [0, 1, 2, 10, 1000])
def test_randperm(n, device):
    check(lambda lib, dev: lib.randperm(n, device=dev), device=device)


# ---- in-place fills: sizes, strides and every dtype each supports -------------------------
def _target(lib, dev, dtype, layout, size=34):
    base = lib.zeros(size, 2 * 5, dtype=getattr(lib, dtype), device=dev)
    if layout == "transposed":
        return base.t()
    if layout == "strided":
        return base[::3, ::2]
    return base


FILLS = {
    "uniform_": lambda t: t.uniform_(-1.5, 2.25),
    "normal_": lambda t: t.normal_(0.5, 2.5),
    "standard normal_": lambda t: t.normal_(),
    "bernoulli_ float": lambda t: t.bernoulli_(0.3),
    "exponential_": lambda t: t.exponential_(1.7),
    "geometric_": lambda t: t.geometric_(0.2),
    "cauchy_": lambda t: t.cauchy_(0.5, 2.0),
    "log_normal_": lambda t: t.log_normal_(0.1, 0.5),
    "random_ to": lambda t: t.random_(20),
    "random_ range": lambda t: t.random_(-4, 9),
    "random_ from": lambda t: t.random_(2, None),
    "random_": lambda t: t.random_(),
}


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(FILLS))
def test_float_fills(name, dtype, layout, device):
    needs_device_dtype(device, dtype)
    check(lambda lib, dev: FILLS[name](_target(lib, dev, dtype, layout)), seeds=SEEDS[:3],
          device=device)


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8", "bool"])
@pytest.mark.parametrize("name", ["random_", "random_ to", "random_ from", "bernoulli_ float"])
def test_integer_fills(name, dtype, device):
    if dtype == "bool" and name in ("random_ to", "random_ from"):
        name = "bernoulli_ float"
    check(lambda lib, dev: FILLS[name](_target(lib, dev, dtype, "transposed")), seeds=SEEDS[:3],
          device=device)


@pytest.mark.parametrize("size", [1, 5, 15, 16, 17, 40])
def test_small_normals_keep_their_second_sample_between_calls(size):
    def draws(lib, dev):
        return (lib.randn(3), lib.empty(size).normal_(), lib.randn(size, dtype=lib.float64),
                lib.randn(1), lib.empty(5, 4).t().normal_(2.0, 0.5))
    check(draws)


# ---- samples from tensors --------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_normal_overloads(dtype, device):
    def draws(lib, dev):
        mean = lib.linspace(-1, 1, 20, dtype=getattr(lib, dtype), device=dev).reshape(4, 5)
        std = lib.linspace(0.1, 2, 5, dtype=getattr(lib, dtype), device=dev)
        return (lib.normal(mean, std), lib.normal(mean, 0.5), lib.normal(0.25, std),
                lib.normal(1.0, 3.0, (3, 7), device=dev, dtype=getattr(lib, dtype)),
                lib.normal(mean[:1, :3], 2.0))
    check(draws, device=device)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bernoulli_with_tensor_probabilities(dtype, device):
    def draws(lib, dev):
        p = lib.linspace(0, 1, 40, dtype=getattr(lib, dtype), device=dev).reshape(8, 5)
        return (lib.bernoulli(p), lib.bernoulli(p.t()), lib.zeros(8, 5, device=dev).bernoulli_(p),
                lib.zeros(8, 5, dtype=lib.float64, device=dev).bernoulli_(p[:1]),
                lib.bernoulli(p, 0.25))
    check(draws, device=device)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_poisson(dtype, device):
    rates = np.concatenate([np.linspace(0, 9.5, 20), np.linspace(10, 80, 22)]).reshape(6, 7)

    def draws(lib, dev):
        r = lib.tensor(rates, dtype=getattr(lib, dtype), device=dev)
        return lib.poisson(r), lib.poisson(r.t()), lib.poisson(r[::2, 1:])
    check(draws, device=device)


@pytest.mark.parametrize("replacement", [False, True])
@pytest.mark.parametrize("samples", [1, 3, 9])
def test_multinomial(samples, replacement, device):
    def draws(lib, dev):
        weights = lib.tensor([[0.1, 0.0, 2.0, 0.5, 1.0, 0.3, 0.3, 4.0, 0.2],
                              [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]], device=dev)
        return (lib.multinomial(weights, samples, replacement),
                lib.multinomial(weights[1].double(), samples, replacement))
    if samples == 9 and not replacement:
        return  # row 0 has a zero weight: torch's order among zero weights is not specified
    check(draws, device=device)


# ---- generators and the state ----------------------------------------------------------
def test_interleaved_draws_keep_the_streams_in_step():
    def draws(lib, dev):
        out = []
        for size in (3, 17, 1, 16, 40, 5):
            out += [lib.rand(size), lib.randn(size), lib.randint(0, 1000, (size,)),
                    lib.randperm(size), lib.empty(size).exponential_(),
                    lib.randn(size, dtype=lib.float64), lib.empty(size).bernoulli_(0.5)]
        return out
    check(draws)


def test_generator_objects_and_their_seeds():
    def draws(lib, dev):
        first, second = lib.Generator().manual_seed(3), lib.Generator().manual_seed(2 ** 40)
        return (lib.randn(20, generator=first), lib.rand(5, generator=second),
                lib.randn(20), lib.randint(0, 9, (6,), generator=first),
                lib.randperm(12, generator=second), lib.empty(7).normal_(generator=first),
                lib.multinomial(lib.ones(6), 6, generator=second))
    check(draws)
    for lib in LIBS:
        assert lib.Generator().initial_seed() == 67280421310721
        assert lib.manual_seed(2 ** 40 + 3).initial_seed() == lib.initial_seed() == 2 ** 40 + 3


def test_the_default_generator_is_the_global_one():
    def draws(lib, dev):
        lib.default_generator.manual_seed(9)
        first = lib.randn(5)
        state = lib.default_generator.get_state()
        lib.default_generator.set_state(state)
        return first, lib.rand(4, generator=lib.default_generator), lib.rand(4)
    check(draws)
    for lib in LIBS:
        assert lib.manual_seed(3) is lib.default_generator
        assert lib.default_generator.initial_seed() == 3


def test_states_move_between_torch_and_gputensor():
    for seed in SEEDS:
        gputensor.manual_seed(seed)
        torch.manual_seed(seed)
        for lib in LIBS:
            lib.randn(3)  # a normal sample is kept in the state
            lib.rand(700)  # past a twist of the engine
        ours, theirs = gputensor.get_rng_state(), torch.get_rng_state()
        assert ours.dtype == gputensor.uint8 and ours.shape == theirs.shape
        assert ours.numpy().tobytes() == theirs.numpy().tobytes()
        torch.randn(5)
        gputensor.set_rng_state(gputensor.from_numpy(torch.get_rng_state().numpy()))
        assert_identical(gputensor.randn(7), torch.randn(7))
        torch.set_rng_state(torch.from_numpy(gputensor.get_rng_state().numpy()))
        assert_identical(gputensor.randn(33), torch.randn(33))


def test_fork_rng_and_generator_states():
    for lib in LIBS:
        lib.manual_seed(11)
        with lib.random.fork_rng():
            lib.rand(100)
        after_fork = lib.rand(4)
        lib.manual_seed(11)
        assert bits(lib.rand(4)).tobytes() == bits(after_fork).tobytes()
        gen = lib.Generator().manual_seed(4)
        saved = gen.get_state()
        first = lib.randn(9, generator=gen)
        gen.set_state(saved)
        assert bits(lib.randn(9, generator=gen)).tobytes() == bits(first).tobytes()


@pytest.mark.parametrize("bad", [lambda lib: lib.zeros(10, dtype=lib.uint8),
                                 lambda lib: lib.zeros(5056)])
def test_bad_states_raise_as_torch(bad):
    errors = []
    for lib in LIBS:
        with pytest.raises((RuntimeError, TypeError)) as info:
            lib.set_rng_state(bad(lib))
        errors.append(info.value)
    assert type(errors[0]) is type(errors[1]) and str(errors[0]) == str(errors[1])


def test_invalid_engine_state_raises_as_torch():
    errors = []
    for lib in LIBS:
        state = lib.get_rng_state()
        state[8:12] = 0  # left = 0
        with pytest.raises(RuntimeError) as info:
            lib.set_rng_state(state)
        errors.append(str(info.value))
    assert errors[0] == errors[1] == "Invalid mt19937 state"


def test_cuda_seeding_functions(cuda_device):
    gputensor.cuda.manual_seed(5)
    assert gputensor.cuda.initial_seed() == gputensor.initial_seed() == 5
    state = gputensor.cuda.get_rng_state()
    first = gputensor.randn(20, device=cuda_device)
    gputensor.cuda.set_rng_state(state)
    assert bits(gputensor.randn(20, device=cuda_device)).tobytes() == bits(first).tobytes()
    torch.manual_seed(5)
    assert_identical(first, torch.randn(20))


def test_a_fresh_process_is_not_seeded_alike():
    assert gputensor.seed() != gputensor.seed()  # from the OS each time, as torch
