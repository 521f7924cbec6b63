"""NumPy beside tensors, against torch: NumPy scalars and arrays on the left of an operator,
``np.array``/``np.asarray`` of a tensor, NumPy functions given a tensor."""

import warnings

import numpy as np
import pytest
import torch

import gputensor
from helpers import assert_same, check_error, check_op, rand_array, torch_text

FLOAT = rand_array((2, 3), "float32")
INT = rand_array((2, 3), "int64")

SCALAR_LEFT = {
    "float32*": lambda lib, t: np.float32(2) * t,
    "float64+": lambda lib, t: np.float64(2) + t,
    "int64-": lambda lib, t: np.int64(3) - t,
    "float32-": lambda lib, t: np.float32(1.5) - t,
    "float64/": lambda lib, t: np.float64(2) / (t * t + 1),
    "float32**": lambda lib, t: np.float32(2) ** t,
    "int64*": lambda lib, t: np.int64(2) * t,
    "float16*": lambda lib, t: np.float16(2) * t,
    "float64<": lambda lib, t: np.float64(0.5) < t,
    "float32>=": lambda lib, t: np.float32(0.5) >= t,
    "float64==": lambda lib, t: np.float64(1) == t,
}


@pytest.mark.parametrize("fn", SCALAR_LEFT.values(), ids=SCALAR_LEFT.keys())
@pytest.mark.parametrize("array", [FLOAT, INT], ids=["float", "int"])
def test_numpy_scalar_on_the_left_keeps_the_graph(device, fn, array):
    check_op(fn, array, device=device)


def test_numpy_scalar_on_the_left_of_a_double_tensor(device):
    check_op(lambda lib, t: np.float64(2) * t, rand_array((3,), "float64"), device=device)


ARRAY_LEFT_ERRORS = {
    "+": lambda a, t: a + t,
    "-": lambda a, t: a - t,
    "*": lambda a, t: a * t,
    "float32 *": lambda a, t: a.astype(np.float32) * t,
    "0-d *": lambda a, t: np.array(2.0) * t,
    "0-d +": lambda a, t: np.array(2.0) + t,
    "//": lambda a, t: a // t,
    "%": lambda a, t: a % t,
    "**": lambda a, t: a ** t,
    "@": lambda a, t: a.reshape(3, 2) @ t,
    "<": lambda a, t: a < t,
    ">=": lambda a, t: a >= t,
    "tensor >": lambda a, t: t > a,
}


@pytest.mark.parametrize("fn", ARRAY_LEFT_ERRORS.values(), ids=ARRAY_LEFT_ERRORS.keys())
@pytest.mark.parametrize("requires_grad", [False, True], ids=["plain", "grad"])
def test_numpy_array_on_the_left_raises_as_in_torch(device, fn, requires_grad):
    def run(lib):
        t = lib.tensor(FLOAT, requires_grad=requires_grad)
        return fn(np.ones((2, 3)), t)
    check_error(run, device=device)


@pytest.mark.parametrize("array", [FLOAT, INT], ids=["float", "int"])
def test_numpy_array_on_the_left_of_equality(device, array):
    check_op(lambda lib, t: np.round(FLOAT) == t, array, device=device, grad=False)


def test_numpy_array_on_the_left_of_inequality_is_identity():
    for lib in (gputensor, torch):
        t = lib.tensor(FLOAT)
        assert (np.ones((2, 3)) != t) is True
        assert (t != np.ones((2, 3))) is True


@pytest.mark.parametrize("array", [FLOAT, INT], ids=["float", "int"])
def test_numpy_array_divided_by_a_tensor(array):
    def run(lib):
        return np.full((2, 3), 3.0) / lib.tensor(array)
    assert_same(run(gputensor), run(torch), rtol=1e-6)


def test_numpy_array_divided_by_a_tensor_that_requires_grad():
    check_error(lambda lib: np.ones(3) / lib.tensor([1.0, 2.0, 4.0], requires_grad=True))


def test_numpy_array_divided_by_a_cuda_tensor_raises_torch_error():
    with pytest.raises(TypeError) as ours:
        np.ones(3) / gputensor.tensor([1.0, 2.0, 4.0], device="cuda")
    assert torch_text(str(ours.value)) == meta_message().replace("meta", "cuda:0")


ARRAY_RIGHT = {
    "+": lambda t, a: t + a,
    "-": lambda t, a: t - a,
    "*": lambda t, a: t * a,
    "/": lambda t, a: t / (a + 3),
    "//": lambda t, a: t // (a + 3),
    "%": lambda t, a: t % (a + 3),
    "**": lambda t, a: abs(t) ** a,
    "@": lambda t, a: t @ a.reshape(3, 2),
    "float32 *": lambda t, a: t * a.astype(np.float32),
    "0-d +": lambda t, a: t + np.array(2.0),
    "==": lambda t, a: t == a,
}


@pytest.mark.parametrize("fn", ARRAY_RIGHT.values(), ids=ARRAY_RIGHT.keys())
@pytest.mark.parametrize("array", [FLOAT, INT], ids=["float", "int"])
def test_numpy_array_on_the_right_computes_as_in_torch(fn, array):
    def run(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # torch's __array_wrap__
            return fn(lib.tensor(array), np.round(FLOAT))
    ours, theirs = run(gputensor), run(torch)
    assert isinstance(ours, gputensor.Tensor)
    assert_same(ours, theirs)


@pytest.mark.parametrize("fn", [ARRAY_RIGHT["+"], ARRAY_RIGHT["*"], ARRAY_RIGHT["@"]],
                         ids=["+", "*", "@"])
def test_numpy_array_on_the_right_of_a_tensor_that_requires_grad(fn):
    check_error(lambda lib: fn(lib.tensor(FLOAT, requires_grad=True), np.ones((2, 3))))


def test_numpy_array_on_the_right_of_a_cuda_tensor_raises_torch_error():
    with pytest.raises(TypeError) as ours:
        gputensor.ones(3, device="cuda") * np.ones(3)
    assert torch_text(str(ours.value)) == meta_message().replace("meta", "cuda:0")


# ---- np.array and np.asarray of a tensor -------------------------------------------------------
def meta_message():
    """torch's message for numpy() of a tensor not in CPU memory (its "meta" device)."""
    with pytest.raises(TypeError) as theirs:
        np.asarray(torch.ones(3, device="meta"))
    return str(theirs.value)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch's __array__ has no copy=
def test_np_array_copies_and_np_asarray_shares():
    for lib in (gputensor, torch):
        t = lib.tensor([1.0, 2.0, 3.0])
        copied, shared, converted = np.array(t), np.asarray(t), np.asarray(t, dtype=np.float64)
        copied_too = np.asarray(t, copy=True)
        t.add_(1)
        np.testing.assert_array_equal(copied, [1.0, 2.0, 3.0])
        np.testing.assert_array_equal(copied_too, [1.0, 2.0, 3.0])
        np.testing.assert_array_equal(converted, [1.0, 2.0, 3.0])
        np.testing.assert_array_equal(shared, [2.0, 3.0, 4.0])
        assert copied.dtype == shared.dtype == np.float32 and converted.dtype == np.float64


@pytest.mark.parametrize("convert", [
    lambda lib, t: np.array(t, copy=False),
    lambda lib, t: np.asarray(t.requires_grad_()),
    lambda lib, t: np.array(t.requires_grad_()),
    lambda lib, t: np.array([t.requires_grad_(), t]),
    lambda lib, t: np.float32(t.requires_grad_().sum()),
    lambda lib, t: np.exp(t.requires_grad_()),
], ids=["copy-false", "asarray-grad", "array-grad", "list-grad", "scalar-grad", "ufunc-grad"])
def test_conversion_errors(convert):
    def run(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return convert(lib, lib.tensor([1.0, 2.0, 3.0]).requires_grad_())
    check_error(run)


def test_cuda_tensor_to_numpy_raises_torch_error():
    expected = meta_message().replace("meta", "cuda:0")
    for convert in (np.asarray, np.array, np.exp):
        with pytest.raises(TypeError) as ours:
            convert(gputensor.ones(3, device="cuda"))
        assert torch_text(str(ours.value)) == expected


# ---- NumPy functions given tensors ---------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda t: np.exp(t),
    lambda t: np.add(np.ones(3), t),
    lambda t: np.greater(np.full(3, 2.0), t),
    lambda t: np.exp(t[0]),
], ids=["exp", "add", "greater", "0-d"])
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_numpy_functions_return_tensors(fn, dtype):
    def run(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # torch's __array_wrap__
            return fn(lib.tensor(np.array([1, 2, 3], dtype=dtype)))
    ours, theirs = run(gputensor), run(torch)
    assert isinstance(ours, gputensor.Tensor)
    assert_same(ours, theirs)

