"""A seeded differential fuzz against torch: random shapes (0-d and empty too), dtypes,
broadcasting and memory layouts, random ops chained 1 to 3 deep; values, dtypes and the
gradient of every float leaf compared, and torch's error where torch raises.

Each case draws everything from ``numpy.random.default_rng((SEED, device, batch, case))``, so
a failure names its case and reruns alone: ``pytest tests/test_fuzz.py -k "cpu-7"``.
"""

import numpy as np
import pytest
import torch

import gputensor
from helpers import LAYOUTS, assert_same, dtype_name, made_on, make_input, rand_array, torch_text

SEED = 20261206
BATCHES = 20
CASES_PER_BATCH = {"cpu": 150, "cuda": 20}  # 3000 cases on the CPU, 400 on simulated CUDA
DTYPES = ("float32", "float32", "float32", "float64", "int64", "int32", "uint8", "bool")
FLOATS = ("float32", "float64")


def _dim(x, u):
    """A dim of ``x`` (negative half of the time) from a number in [0, 1)."""
    n = max(x.dim(), 1)
    return int(u * 2 * n) - n


UNARY = {  # name: (fn(lib, x, u), dtype kinds it is drawn for: f float, i int, b bool)
    "neg": (lambda lib, x, u: -x, "fi"),
    "abs": (lambda lib, x, u: x.abs(), "fi"),
    "exp": (lambda lib, x, u: (x.float() / 4).exp() if x.dtype == lib.bool else (x / 4).exp(),
            "fi"),
    "log_abs": (lambda lib, x, u: (x.abs() + 0.5).log(), "fi"),
    "sqrt_abs": (lambda lib, x, u: (x.abs() + 0.25).sqrt(), "fi"),
    "sin": (lambda lib, x, u: lib.sin(x), "fi"),
    "tanh": (lambda lib, x, u: x.tanh(), "f"),
    "sigmoid": (lambda lib, x, u: lib.sigmoid(x), "f"),
    "relu": (lambda lib, x, u: lib.relu(x), "fi"),
    "square": (lambda lib, x, u: x * x, "fi"),
    "pow_3": (lambda lib, x, u: x ** 3, "fi"),
    "clamp": (lambda lib, x, u: x.clamp(-1, 1), "fi"),
    "sign": (lambda lib, x, u: x.sign(), "fib"),
    "floor": (lambda lib, x, u: x.floor(), "fi"),
    "reciprocal": (lambda lib, x, u: 1 / (x.abs() + 0.5), "fi"),
    "scale": (lambda lib, x, u: x * 2.5 - 1, "fib"),
    "logical_not": (lambda lib, x, u: x.logical_not(), "fib"),
    "to_float64": (lambda lib, x, u: x.double(), "fib"),
    "to_int": (lambda lib, x, u: x.long(), "fib"),
    "sum": (lambda lib, x, u: x.sum(), "fib"),
    "sum_dim": (lambda lib, x, u: x.sum(_dim(x, u), keepdim=u > 0.5), "fib"),
    "mean": (lambda lib, x, u: x.mean(), "f"),
    "mean_dim": (lambda lib, x, u: x.mean(_dim(x, u)), "fi"),
    "amax_dim": (lambda lib, x, u: x.amax(_dim(x, u), keepdim=u > 0.3), "fi"),
    "max": (lambda lib, x, u: x.max(), "fib"),
    "max_dim": (lambda lib, x, u: x.max(_dim(x, u))[0], "fi"),
    "argmax_dim": (lambda lib, x, u: x.argmax(_dim(x, u)), "fi"),
    "prod_dim": (lambda lib, x, u: x.prod(_dim(x, u)), "fi"),
    # correction 0: with no degree of freedom left torch's gradient at inf and nan differs
    "var": (lambda lib, x, u: x.var(correction=0), "f"),
    # std left out: over a constant slice torch's gradient is rounding noise over ~0
    "var_dim": (lambda lib, x, u: x.var(_dim(x, u), correction=0), "f"),
    "softmax": (lambda lib, x, u: x.softmax(_dim(x, u)), "f"),
    "log_softmax": (lambda lib, x, u: lib.log_softmax(x, _dim(x, u)), "f"),
    "logsumexp": (lambda lib, x, u: x.logsumexp(_dim(x, u)), "f"),
    "cumsum": (lambda lib, x, u: x.cumsum(_dim(x, u)), "fi"),
    "all_dim": (lambda lib, x, u: (x > 0).all(_dim(x, u)), "fib"),
    "transpose": (lambda lib, x, u: x.transpose(0, -1) if x.dim() else x, "fib"),
    "permute": (lambda lib, x, u: x.permute(*range(x.dim() - 1, -1, -1)), "fib"),
    "flatten": (lambda lib, x, u: x.flatten(), "fib"),
    "reshape_col": (lambda lib, x, u: x.reshape(-1, 1), "fib"),
    "unsqueeze": (lambda lib, x, u: x.unsqueeze(_dim(x, u)), "fib"),
    "squeeze": (lambda lib, x, u: x.squeeze(), "fib"),
    "flip": (lambda lib, x, u: x.flip(_dim(x, u)) if x.dim() else x, "fib"),
    "narrow": (lambda lib, x, u: x.narrow(0, 0, x.shape[0] // 2) if x.dim() else x, "fib"),
    "slice_step": (lambda lib, x, u: x[::2] if x.dim() else x, "fib"),
    "index_last": (lambda lib, x, u: x[..., -1] if x.dim() and x.shape[-1] else x, "fib"),
    "expand": (lambda lib, x, u: x.unsqueeze(0).expand(2, *x.shape), "fib"),
    "repeat": (lambda lib, x, u: x.repeat(*([2] + [1] * x.dim())), "fib"),
    "contiguous_clone": (lambda lib, x, u: x.contiguous().clone(), "fib"),
    "cat_self": (lambda lib, x, u: lib.cat([x, x], _dim(x, u)) if x.dim() else x, "fib"),
    "stack_self": (lambda lib, x, u: lib.stack([x, x * 2], _dim(x, u) if x.dim() else 0),
                   "fi"),
    "where_positive": (lambda lib, x, u: lib.where(x > 0, x, x * 0.5), "fi"),
    "masked_fill": (lambda lib, x, u: x.masked_fill(x > 0.5, 0.25), "fi"),
    "add_inplace": (lambda lib, x, u: (x * 1).add_(1), "fi"),
    "mul_inplace": (lambda lib, x, u: (x + 0).mul_(2), "fi"),
    "clamp_inplace": (lambda lib, x, u: (x * 1).clamp_(min=0), "fi"),
    "rsub_number": (lambda lib, x, u: 1 - x, "fi"),
    "sort": (lambda lib, x, u: x.sort(_dim(x, u), descending=u > 0.5)[0], "fi"),
    "masked_select": (lambda lib, x, u: x[x > 0], "fi"),
    # finite inputs only: with 0 and inf in one slice torch's gradient takes another route
    "cumprod": (lambda lib, x, u: lib.nan_to_num(x).clamp(-3, 3).cumprod(_dim(x, u)), "f"),
    "min_all": (lambda lib, x, u: x.min(), "fi"),
    "norm": (lambda lib, x, u: x.norm(), "f"),
    "gather_first": (lambda lib, x, u: x.gather(_dim(x, u), lib.zeros_like(x, dtype=lib.long)),
                     "fib"),
    "add_int": (lambda lib, x, u: x + 2, "fib"),
    "mul_float": (lambda lib, x, u: x * 1.5, "fib"),
    "div_int": (lambda lib, x, u: x / 3, "fib"),
    "rdiv": (lambda lib, x, u: 2 / (x.abs() + 1), "fi"),
    "pow_float": (lambda lib, x, u: x.abs() ** 1.5, "fi"),
    "rpow": (lambda lib, x, u: 2 ** x, "fi"),
    "add_bool": (lambda lib, x, u: x + True, "fib"),
    "gt_float": (lambda lib, x, u: x > 0.5, "fib"),
    "sub_scalar_tensor": (lambda lib, x, u: x - lib.tensor(1.5, dtype=lib.float64), "fi"),
    "matmul_self_t": (lambda lib, x, u: x @ x.transpose(-1, -2) if x.dim() >= 2 else x @ x,
                      "f"),
}

BINARY = {  # name: (fn(lib, x, y), dtype kinds)
    "add": (lambda lib, x, y: x + y, "fib"),
    "sub": (lambda lib, x, y: x - y, "fi"),
    "mul": (lambda lib, x, y: x * y, "fib"),
    "div": (lambda lib, x, y: x / (y.abs() + 0.5) if y.dtype != lib.bool else x / 2, "fi"),
    "maximum": (lambda lib, x, y: lib.maximum(x, y), "fi"),
    "minimum": (lambda lib, x, y: lib.minimum(x, y), "fi"),
    # a bool exponent left out: torch's backward then fails on ``exponent - 1``
    "pow_abs": (lambda lib, x, y: (x.abs() + 0.5) ** (y.double() if y.dtype == lib.bool else y),
                "f"),
    "where_greater": (lambda lib, x, y: lib.where(x > y, x, y), "fib"),
    "eq": (lambda lib, x, y: x == y, "fib"),
    "lt": (lambda lib, x, y: x < y, "fi"),
    "logical_and": (lambda lib, x, y: lib.logical_and(x, y), "fib"),
    "add_alpha": (lambda lib, x, y: lib.add(x, y, alpha=2), "fi"),
    "lerp": (lambda lib, x, y: lib.lerp(x, y, 0.3), "f"),
    "cat": (lambda lib, x, y: lib.cat([x.reshape(-1), y.reshape(-1)]), "fib"),
    "matmul": (lambda lib, x, y: x @ y, "f"),
    "floor_divide": (lambda lib, x, y: x // (y.abs() + 1) if y.dtype != lib.bool else x // 2,
                     "fi"),
    "remainder": (lambda lib, x, y: x % (y.abs() + 1) if y.dtype != lib.bool else x % 2, "fi"),
    "add_inplace": (lambda lib, x, y: (x * 1).add_(y), "fib"),
    "mul_inplace": (lambda lib, x, y: (x + 0).mul_(y), "fi"),
    "sub_inplace_alpha": (lambda lib, x, y: (x * 1).sub_(y, alpha=2), "fi"),
    "div_inplace": (lambda lib, x, y: (x * 1).div_(y.abs() + 1), "f"),
    "copy_inplace": (lambda lib, x, y: (x * 1).copy_(y), "fib"),
    "masked_fill_inplace": (lambda lib, x, y: (x * 1).masked_fill_(y > 0, -1), "fi"),
    "where_mask": (lambda lib, x, y: lib.where(y > 0, x, 0.5), "fib"),
}


def _kind(dtype):
    return {"f": "f", "i": "i", "u": "i", "b": "b"}[np.dtype(dtype).kind]


def _random_shape(rng):
    ndim = int(rng.choice([0, 1, 1, 2, 2, 2, 3]))
    shape = [int(rng.integers(1, 5)) for _ in range(ndim)]
    if ndim and rng.random() < 0.1:
        shape[int(rng.integers(ndim))] = 0
    return tuple(shape)


def _partner_shape(rng, shape, op_name):
    """A shape that broadcasts with ``shape`` (and, now and then, one that does not)."""
    if op_name == "matmul":
        inner = shape[-1] if shape else int(rng.integers(1, 4))
        return (inner, int(rng.integers(1, 4))) if rng.random() < 0.7 else (inner,)
    out = []
    for size in shape[int(rng.integers(0, len(shape) + 1)):] if shape else ():
        r = rng.random()
        out.append(1 if r < 0.25 else size + 1 if r < 0.03 + 0.25 else size)
    if rng.random() < 0.15:
        out = [int(rng.integers(1, 3))] + out
    return tuple(out)


class Leaf:
    """An input: its array, memory layout and whether it requires grad."""

    def __init__(self, rng, shape, dtype):
        self.array = rand_array(shape, dtype, rng=rng)
        if self.array.dtype.kind == "f" and self.array.size and rng.random() < 0.1:
            flat = self.array.reshape(-1)  # now and then a special value: 0, +-inf or nan
            flat[int(rng.integers(flat.size))] = rng.choice([0.0, np.inf, -np.inf, np.nan])
        self.layout = str(rng.choice(LAYOUTS))
        self.grad = np.dtype(dtype).kind == "f"


def _draw_case(rng):
    """(leaves, steps): steps are (name, u, partner leaf or None), applied in order."""
    dtype = str(rng.choice(DTYPES))
    x = Leaf(rng, _random_shape(rng), dtype)
    leaves, steps, kind, shape = [x], [], _kind(dtype), x.array.shape
    for _ in range(int(rng.integers(1, 4))):
        if rng.random() < 0.35:
            name = str(rng.choice([n for n, (_, k) in BINARY.items() if kind in k]))
            partner_dtype = dtype if rng.random() < 0.7 else str(rng.choice(DTYPES))
            partner = Leaf(rng, _partner_shape(rng, shape, name), partner_dtype)
            leaves.append(partner)
            steps.append((name, 0.0, partner))
        else:
            name = str(rng.choice([n for n, (_, k) in UNARY.items() if kind in k]))
            steps.append((name, float(rng.random()), None))
    return leaves, steps


def _run(lib, device, leaves, steps):
    """(made leaves, result or the exception raised) for one library."""
    made = {}
    with made_on(lib, device):
        for leaf in leaves:
            made[id(leaf)] = make_input(lib, leaf.array, leaf.layout, leaf.grad,
                                        device if lib is gputensor else "cpu")
        x = made[id(leaves[0])][1]
        try:
            for name, u, partner in steps:
                if partner is None:
                    x = UNARY[name][0](lib, x, u)
                else:
                    x = BINARY[name][0](lib, x, made[id(partner)][1])
        except Exception as error:  # noqa: BLE001 - compared with torch's
            x = error
    return [made[id(leaf)][0] for leaf in leaves], x


def _backward_error(out, seed):
    """The exception ``out.backward(seed)`` raises, or None."""
    try:
        out.backward(seed)
    except Exception as error:  # noqa: BLE001 - compared with torch's
        return error
    return None


def check_case(rng, device):
    """One random chain on both libraries: values, dtypes, errors and leaf gradients."""
    leaves, steps = _draw_case(rng)
    our_leaves, ours = _run(gputensor, device, leaves, steps)
    torch_leaves, theirs = _run(torch, "cpu", leaves, steps)
    description = [(leaf.array.dtype.name, leaf.array.shape, leaf.layout) for leaf in leaves]
    description += [step[:2] for step in steps]
    if isinstance(theirs, Exception):
        assert isinstance(ours, type(theirs)), (description, ours, theirs)
        assert torch_text(str(ours)) == str(theirs), description
        return
    assert not isinstance(ours, Exception), (description, ours)
    assert_same(ours, theirs, rtol=1e-4, atol=1e-5)
    if not (theirs.requires_grad and theirs.dtype.is_floating_point):
        assert not ours.requires_grad, description
        return
    seed = rand_array(tuple(theirs.shape), dtype_name(theirs), rng=rng)
    errors = [_backward_error(theirs, torch.from_numpy(seed.copy())),
              _backward_error(ours, gputensor.tensor(seed, device=device))]
    if errors[0] is not None:  # torch refuses a derivative (floor_divide): the same error
        assert isinstance(errors[1], type(errors[0])), (description, errors)
        assert torch_text(str(errors[1])) == str(errors[0]), description
        return
    assert errors[1] is None, (description, errors[1])
    for mine, torch_leaf in zip(our_leaves, torch_leaves):
        if torch_leaf.grad is None:
            assert mine.grad is None or not np.any(mine.grad.cpu().numpy()), description
        else:
            assert mine.grad is not None, description
            assert_same(mine.grad, torch_leaf.grad, rtol=1e-3, atol=1e-4)


@pytest.mark.filterwarnings("ignore")  # torch's and ours alike: x.T, degrees of freedom
@pytest.mark.parametrize("batch", range(BATCHES))
def test_fuzz(batch, device):
    """A batch of random cases; the case index and its draw are in any failure's message."""
    for case in range(CASES_PER_BATCH[device]):
        rng = np.random.default_rng((SEED, 0 if device == "cpu" else 1, batch, case))
        try:
            check_case(rng, device)
        except AssertionError as failure:
            raise AssertionError(f"case {case} of batch {batch}: {failure}") from None
