"""Reductions, extrema and softmax compared with torch: values, dtypes, grads, grad_fn, errors."""

import itertools
import warnings

import numpy as np
import pytest
import torch

import gputensor
from helpers import (
    LAYOUTS,
    LIBS,
    assert_same,
    check_error,
    check_op,
    make_input,
    rand_array,
    run_on,
    torch_text,
)

pytestmark = pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0")

SHAPES = [(), (5,), (3, 4), (2, 3, 4), (0, 3)]


def _dims_for(ndim):
    """Every single dim (negative too) and a few tuples, for a tensor of ``ndim`` dims."""
    singles = list(range(-max(ndim, 1), max(ndim, 1)))
    tuples = [(), (0, -1)] if ndim >= 2 else [()]
    if ndim >= 3:
        tuples.append((2, 0, 1))
    return singles, tuples


def _grad_ok(name, layout):
    """std of an expanded (constant) input: torch's gradient is rounding noise over ~0."""
    return not (name.startswith("std") and layout == "expanded")


def _operands(lib, arrays, layout, grad, device):
    return [make_input(lib, a, layout, grad and a.dtype.kind == "f", device)[1] for a in arrays]


def compare(fn, *arrays, device, layout="contiguous", grad=True, **tol):
    """check_op (grad_fn names too); when torch raises, the same error instead."""
    try:
        fn(torch, *_operands(torch, arrays, layout, grad, "cpu"))
    except Exception:  # noqa: BLE001 - then we must raise the same
        check_error(lambda lib: fn(lib, *_operands(lib, arrays, layout, grad, device)),
                    device=device)
        return
    check_op(fn, *arrays, device=device, layout=layout, grad=grad, **tol)


MULTI_DIM = {  # ops taking dim as int or tuple, with keepdim
    "sum": lambda lib, x, d, k: x.sum(d, keepdim=k),
    "mean": lambda lib, x, d, k: lib.mean(x, d, keepdim=k),
    "amax": lambda lib, x, d, k: x.amax(d, k),
    "amin": lambda lib, x, d, k: lib.amin(x, dim=d, keepdim=k),
    "logsumexp": lambda lib, x, d, k: x.logsumexp(d, k),
    "var": lambda lib, x, d, k: x.var(d, keepdim=k),
    "var_c0": lambda lib, x, d, k: lib.var(x, d, keepdim=k, correction=0),
    "std": lambda lib, x, d, k: x.std(d, False, k),
    "std_c2": lambda lib, x, d, k: x.std(d, keepdim=k, correction=2),
    "all": lambda lib, x, d, k: (x > 0).all(d, k),
    "any": lambda lib, x, d, k: lib.any(x > 0.5, d, keepdim=k),
}
ONE_DIM = {  # ops taking one int dim
    "prod": lambda lib, x, d, k: x.prod(d, k),
    "max": lambda lib, x, d, k: x.max(d, k),
    "min": lambda lib, x, d, k: lib.min(x, dim=d, keepdim=k),
    "argmax": lambda lib, x, d, k: x.argmax(d, k),
    "argmin": lambda lib, x, d, k: lib.argmin(x, d, keepdim=k),
    "softmax": lambda lib, x, d, k: x.softmax(d),
    "log_softmax": lambda lib, x, d, k: lib.log_softmax(x, d),
}
NO_DIM = {
    "sum": lambda lib, x: x.sum(),
    "mean": lambda lib, x: lib.mean(x),
    "prod": lambda lib, x: x.prod(),
    "max": lambda lib, x: x.max(),
    "min": lambda lib, x: lib.min(x),
    "amax": lambda lib, x: x.amax(),
    "amin": lambda lib, x: x.amin(),
    "argmax": lambda lib, x: x.argmax(),
    "argmin_keepdim": lambda lib, x: x.argmin(keepdim=True),
    "var": lambda lib, x: x.var(),
    "var_biased": lambda lib, x: x.var(False),
    "std": lambda lib, x: lib.std(x),
    "std_keepdim": lambda lib, x: x.std(None, True, True),
    "all": lambda lib, x: (x > -1).all(),
    "any": lambda lib, x: x.any(),
    "sum_none": lambda lib, x: x.sum(None),
    "mean_none_keepdim": lambda lib, x: x.mean(None, True),
}


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(NO_DIM))
def test_full_reductions(name, shape, device):
    for layout in LAYOUTS:
        compare(NO_DIM[name], rand_array(shape), layout=layout, grad=_grad_ok(name, layout),
                device=device)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(MULTI_DIM))
def test_reductions_over_dims(name, shape, keepdim, device):
    singles, tuples = _dims_for(len(shape))
    for dim, layout in itertools.product(singles + tuples, LAYOUTS):
        # torch's var/std backward treats dim=() as "no dims" (an infinite gradient)
        grad = not (dim == () and name.startswith(("var", "std")))
        grad = grad and _grad_ok(name, layout)
        compare(lambda lib, x, dim=dim: MULTI_DIM[name](lib, x, dim, keepdim), rand_array(shape),
                layout=layout, grad=grad, device=device)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(ONE_DIM))
def test_reductions_along_one_dim(name, shape, keepdim, device):
    for dim in _dims_for(len(shape))[0]:
        for layout in LAYOUTS:
            compare(lambda lib, x, dim=dim: ONE_DIM[name](lib, x, dim, keepdim), rand_array(shape),
                    layout=layout, device=device)


@pytest.mark.parametrize("name", sorted(set(MULTI_DIM) | set(ONE_DIM) | {"sum_nd", "var_nd"}))
def test_dim_out_of_range_and_repeated(name, device):
    fns = {**MULTI_DIM, **ONE_DIM, "sum_nd": lambda lib, x, d, k: x.sum(d),
           "var_nd": lambda lib, x, d, k: lib.var(x, d)}
    x = rand_array((2, 3))
    for dim in (2, -3, 7):
        compare(lambda lib, t, dim=dim: fns[name](lib, t, dim, False), x, device=device)
    if name in MULTI_DIM:
        compare(lambda lib, t: fns[name](lib, t, (0, -2), False), x, device=device)
        compare(lambda lib, t: fns[name](lib, t, (1, 0, 1), True), x, device=device)
    compare(lambda lib, t: fns[name](lib, t, 1, False), rand_array(()), device=device)


INT_DTYPES = ["int64", "int32", "int16", "uint8", "bool", "float16", "float64"]
DTYPE_OPS = {
    "sum": lambda lib, x: x.sum(),
    "sum_dim": lambda lib, x: x.sum(-1, True),
    "prod": lambda lib, x: x.prod(),
    "prod_dim": lambda lib, x: x.prod(0),
    "max": lambda lib, x: x.max(),
    "max_dim": lambda lib, x: x.max(1),
    "amin": lambda lib, x: x.amin(0),
    "argmax": lambda lib, x: x.argmax(),
    "argmin_dim": lambda lib, x: x.argmin(1),
    "all": lambda lib, x: x.all(),
    "any_dim": lambda lib, x: x.any(0),
    "mean": lambda lib, x: x.mean(),
    "mean_dtype": lambda lib, x: x.mean(0, dtype=lib.float64),
    "sum_dtype": lambda lib, x: x.sum(dtype=lib.float32),
    "sum_dtype_int": lambda lib, x: x.sum(0, dtype=lib.int32),
    "prod_dtype": lambda lib, x: x.prod(1, dtype=lib.float64),
    "var": lambda lib, x: x.var(0),
    "std": lambda lib, x: x.std(),
    "logsumexp": lambda lib, x: x.logsumexp(1),
    "softmax": lambda lib, x: x.softmax(1),
    "log_softmax": lambda lib, x: x.log_softmax(0),
    "softmax_dtype": lambda lib, x: x.softmax(0, dtype=lib.float64),
    "log_softmax_dtype": lambda lib, x: lib.log_softmax(x, -1, dtype=lib.float32),
}


@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("name", sorted(DTYPE_OPS))
def test_result_dtypes_and_dtype_errors(name, dtype, device):
    low = 0.5 if dtype in ("float16",) and "prod" in name else -2.0
    compare(DTYPE_OPS[name], rand_array((3, 4), dtype, low=low), rtol=2e-3, atol=2e-3,
            grad_rtol=2e-2, grad_atol=2e-2, device=device)


TIES = np.array([[1.0, 3.0, 3.0], [0.0, 0.0, 2.0]], dtype=np.float32)
ZEROS = np.array([[1.5, 0.0, 3.0, 2.0], [0.0, 2.0, 0.0, 4.0], [1.0, -2.0, 0.5, 3.0]],
                 dtype=np.float32)


@pytest.mark.parametrize("fn", [
    lambda lib, x: x.max(), lambda lib, x: x.min(), lambda lib, x: x.amax(),
    lambda lib, x: x.amax(1), lambda lib, x: x.amin(0, True), lambda lib, x: x.max(1),
    lambda lib, x: x.min(dim=1), lambda lib, x: x.max(0, keepdim=True), lambda lib, x: x.argmax(1),
    lambda lib, x: x.amin((0, 1)), lambda lib, x: x.argmin(),
], ids=range(11))
def test_ties_gradients_and_indices(fn, device):
    for layout in LAYOUTS:
        compare(fn, TIES, layout=layout, device=device)


@pytest.mark.parametrize("fn", [
    lambda lib, x: x.prod(), lambda lib, x: x.prod(0), lambda lib, x: x.prod(1, True),
    lambda lib, x: x.prod(-1), lambda lib, x: x[:, 1:].prod(),
], ids=range(5))
def test_prod_gradient_with_zeros(fn, device):
    for layout in LAYOUTS:
        compare(fn, ZEROS, layout=layout, device=device)


def test_extremes_with_nan_and_inf(device):
    nan = np.array([[1.0, np.nan, 3.0], [2.0, 0.5, -1.0]], dtype=np.float32)
    for fn in (lambda lib, x: x.max(), lambda lib, x: x.max(1), lambda lib, x: x.argmax(1),
               lambda lib, x: x.argmin(), lambda lib, x: x.amin(1), lambda lib, x: x.min(0)):
        compare(fn, nan, grad=False, device=device)
    inf = np.array([[-np.inf, -np.inf], [np.inf, 1.0], [-np.inf, 0.0]], dtype=np.float32)
    compare(lambda lib, x: x.logsumexp(1), inf, grad=False, device=device)
    compare(lambda lib, x: x.logsumexp(0), inf, grad=False, device=device)


def test_softmax_logsumexp_are_stable(device):
    big = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1002.0, -1001.0]], dtype=np.float32)
    for fn in (lambda lib, x: x.softmax(1), lambda lib, x: x.log_softmax(1),
               lambda lib, x: x.logsumexp(1), lambda lib, x: x.logsumexp((0, 1), True)):
        compare(fn, big, device=device)


@pytest.mark.parametrize("fn", [
    lambda lib: lib.zeros(0, 3).max(), lambda lib: lib.zeros(0, 3).min(0),
    lambda lib: lib.zeros(2, 0).max(-1), lambda lib: lib.zeros(0, 3).amax(),
    lambda lib: lib.zeros(3, 0).amin((0, 1)), lambda lib: lib.zeros(0).argmax(),
    lambda lib: lib.zeros(0, 2).argmin(0), lambda lib: lib.tensor([1, 2]).mean(),
    lambda lib: lib.ones(2).mean(dtype=lib.int64), lambda lib: lib.tensor([1, 2]).var(),
    lambda lib: lib.tensor([1, 2], dtype=lib.int32).std(0),
    lambda lib: lib.tensor([True]).argmax(), lambda lib: lib.tensor([True]).argmin(0),
    lambda lib: lib.tensor([[1, 2]]).softmax(0), lambda lib: lib.tensor([1, 2]).softmax(0),
    lambda lib: lib.tensor([[1, 2]]).log_softmax(1), lambda lib: lib.tensor([True]).softmax(0),
    lambda lib: lib.ones(2, 3).logsumexp(()), lambda lib: lib.ones(2, 3).max(2),
    lambda lib: lib.ones(2, 3).amax((0, 0)), lambda lib: lib.ones(2, 3).sum((1, -1)),
    lambda lib: lib.ones(2, 3).mean((0, 1, 0)), lambda lib: lib.ones(2, 3).softmax(-3),
], ids=range(23))
def test_errors_match_torch(fn, device):
    check_error(fn, device=device)


def test_max_min_with_other_tensor(device):
    a, b = rand_array((2, 3)), rand_array((3,))
    compare(lambda lib, x, y: x.max(y), a, b, device=device)
    compare(lambda lib, x, y: lib.min(x, y), a, b, device=device)
    compare(lambda lib, x, y: lib.max(x, other=y), a, b, device=device)
    compare(lambda lib, x, y: x.max(y), a, rand_array((2,)), device=device)


def test_named_tuple_results_print_like_torch(device):
    x = rand_array((2, 3))
    for fn in (lambda lib, t: t.max(1), lambda lib, t: lib.min(t, 0, True),
               lambda lib, t: t.max(dim=-1)):
        ours = fn(gputensor, make_input(gputensor, x, requires_grad=True, device=device)[1])
        theirs = fn(torch, make_input(torch, x, requires_grad=True)[1])
        assert torch_text(str(ours)) == str(theirs)
        assert torch_text(repr(ours)) == repr(theirs)
        assert ("device='cuda:0'" in str(ours)) == (device != "cpu")
        values, indices = ours
        assert ours.values is values and ours.indices is indices and ours[1] is indices
        assert type(ours).__name__ == type(theirs).__name__ and len(ours) == 2


def test_var_warns_like_torch_when_dof_not_positive(device):
    for fn in (lambda lib: lib.ones(1).var(), lambda lib: lib.ones(3, 2).std(1, correction=2)):
        messages = []
        for lib in LIBS:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                run_on(lib, device, fn)
            messages.append([str(w.message) for w in caught])
        assert len(messages[0]) == 1 and messages[1][0].startswith(messages[0][0])
    assert_same(gputensor.tensor([1.0, 2.0], device=device).var(correction=2),
                torch.tensor([1.0, 2.0]).var(correction=2))


def test_var_rejects_unbiased_with_correction():
    with pytest.raises(TypeError):
        gputensor.ones(3).var(0, unbiased=False, correction=1)
    with pytest.raises(TypeError):
        torch.ones(3).var(0, unbiased=False, correction=1)


def _f64(shape, low=-2.0, high=2.0):
    arr = rand_array(shape, "float64", low, high)
    return gputensor.tensor(arr, requires_grad=True)


@pytest.mark.parametrize("fn", [
    lambda x: x.sum(), lambda x: x.sum((0, 2), keepdim=True), lambda x: x.mean(),
    lambda x: x.mean(-1), lambda x: x.prod(), lambda x: x.prod(1), lambda x: x.max(),
    lambda x: x.max(1)[0], lambda x: x.min(-1, True).values, lambda x: x.amax((0, 1)),
    lambda x: x.amin(2), lambda x: x.var(), lambda x: x.var(1, keepdim=True),
    lambda x: x.std(0, correction=0), lambda x: x.std(), lambda x: x.logsumexp((1, 2)),
    lambda x: x.logsumexp(0, True), lambda x: x.softmax(1), lambda x: x.log_softmax(-1),
    lambda x: x.softmax(0, dtype=gputensor.float64),
], ids=range(20))
def test_gradcheck_float64(fn):
    assert gputensor.autograd.gradcheck(fn, (_f64((2, 3, 2)),))


def test_gradcheck_prod_with_zeros():
    x = gputensor.tensor(ZEROS.astype(np.float64), requires_grad=True)
    for fn in (lambda t: t.prod(), lambda t: t.prod(0), lambda t: t.prod(1, True)):
        assert gputensor.autograd.gradcheck(fn, (x,))
