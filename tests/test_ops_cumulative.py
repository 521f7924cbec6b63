"""Cumulative ops, diff, flips, rolls, diagonals, trace and meshgrid compared with torch."""

import warnings

import numpy as np
import pytest
import torch

import gputensor
from helpers import LAYOUTS, assert_same, check_error, check_op, rand_array, run_on

SHAPES = [(), (5,), (3, 4), (2, 3, 4), (0, 3)]


def compare(fn, *arrays, device, layout="contiguous", grad=True, **tol):
    """check_op when torch computes ``fn``; the same error as torch's when it raises."""
    def operands(lib):
        return [lib.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]

    try:
        fn(torch, *operands(torch))
    except Exception:  # noqa: BLE001 - then we must raise the same
        check_error(lambda lib: fn(lib, *operands(lib)), device=device)
        return
    check_op(fn, *arrays, device=device, layout=layout, grad=grad, **tol)


ALONG_DIM = {  # ops taking one dim
    "cumsum": lambda lib, x, d: x.cumsum(d),
    "cumsum_fn": lambda lib, x, d: lib.cumsum(x, dim=d),
    "cumprod": lambda lib, x, d: lib.cumprod(x, d),
    "cummax": lambda lib, x, d: x.cummax(d),
    "cummin": lambda lib, x, d: lib.cummin(x, dim=d),
    "logcumsumexp": lambda lib, x, d: x.logcumsumexp(d),
    "diff": lambda lib, x, d: x.diff(dim=d),
    "diff_2": lambda lib, x, d: lib.diff(x, 2, d),
    "flip": lambda lib, x, d: x.flip([d]),
    "roll": lambda lib, x, d: x.roll(2, d),
    "roll_negative": lambda lib, x, d: lib.roll(x, -1, dims=d),
}


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(ALONG_DIM))
def test_ops_along_one_dim(name, shape, device):
    dims = range(-max(len(shape), 1), max(len(shape), 1))
    for dim in list(dims) + [len(shape) + 1]:
        for layout in LAYOUTS:
            compare(lambda lib, x, dim=dim: ALONG_DIM[name](lib, x, dim), rand_array(shape),
                    layout=layout, device=device)


OTHER = {
    "flip_dims": lambda lib, x: x.flip((0, -1)),
    "flip_none": lambda lib, x: lib.flip(x, ()),
    "flip_repeated": lambda lib, x: x.flip([0, -x.ndim]),
    "flip_int": lambda lib, x: lib.flip(x, 0),
    "flip_method_ints": lambda lib, x: x.flip(0, -1),
    "flip_method_int": lambda lib, x: x.flip(-1),
    "flip_method_none": lambda lib, x: x.flip(),
    "fliplr": lambda lib, x: x.fliplr(),
    "flipud": lambda lib, x: lib.flipud(x),
    "roll_flat": lambda lib, x: x.roll(3),
    "roll_tuple": lambda lib, x: lib.roll(x, (1, -2), (0, -1)),
    "roll_misaligned": lambda lib, x: x.roll((1, 2), 0),
    "roll_two_shifts_no_dims": lambda lib, x: x.roll((1, 2)),
    "diff_prepend_append": lambda lib, x: lib.diff(x, dim=0, prepend=x[:1], append=x * 2),
    "diff_long": lambda lib, x: x.diff(n=7, dim=0),
    "diff_negative": lambda lib, x: x.diff(n=-1),
    "diff_bad_prepend": lambda lib, x: x.diff(prepend=x.sum()),
    "diff_bool": lambda lib, x: (x > 0).diff(),
    "cumsum_no_dim": lambda lib, x: lib.cumsum(x),
    "cumsum_dtype": lambda lib, x: x.cumsum(0, dtype=lib.float64),
    "cumsum_int_dtype": lambda lib, x: x.cumsum(0, dtype=lib.int64),
    "cumprod_dtype": lambda lib, x: lib.cumprod(x, -1, dtype=lib.float64),
    "trace": lambda lib, x: x.trace(),
    "diag": lambda lib, x: x.diag(),
    "diag_offset": lambda lib, x: lib.diag(x, 1),
    "diag_negative_offset": lambda lib, x: lib.diag(x, diagonal=-2),
    "diag_far": lambda lib, x: lib.diag(x, 9),
    "diagonal": lambda lib, x: x.diagonal(),
    "diagonal_args": lambda lib, x: lib.diagonal(x, -1, 1, 0),
    "diagonal_last": lambda lib, x: x.diagonal(1, -1, -2),
    "diagonal_same": lambda lib, x: x.diagonal(0, 0, -x.ndim),
    "diag_embed": lambda lib, x: x.diag_embed(),
    "diag_embed_args": lambda lib, x: lib.diag_embed(x, -1, 0, 2),
    "diag_embed_offset": lambda lib, x: lib.diag_embed(x, 2),
}


@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (4, 3), (2, 3, 4)], ids=str)
@pytest.mark.parametrize("name", sorted(OTHER))
def test_other_ops(name, shape, device):
    for layout in LAYOUTS:
        compare(OTHER[name], rand_array(shape), layout=layout, device=device)


def test_diff_with_no_order_copies(device):
    check_op(lambda lib, x: x.diff(n=0), rand_array((3, 4)), grad=False, device=device)


DTYPES = ["int64", "int32", "uint8", "bool", "float16", "float64"]
DTYPE_OPS = {
    "cumsum": lambda lib, x: x.cumsum(1),
    "cumprod": lambda lib, x: x.cumprod(0),
    "cummax": lambda lib, x: x.cummax(1),
    "cummin": lambda lib, x: x.cummin(0),
    "logcumsumexp": lambda lib, x: x.logcumsumexp(1),
    "diff": lambda lib, x: x.diff(),
    "flip": lambda lib, x: x.flip([1]),
    "roll": lambda lib, x: x.roll(1, 1),
    "trace": lambda lib, x: x.trace(),
    "diag": lambda lib, x: x.diag(),
    "diagonal": lambda lib, x: x.diagonal(),
    "diag_embed": lambda lib, x: x.diag_embed(),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(DTYPE_OPS))
def test_dtypes(name, dtype, device):
    compare(DTYPE_OPS[name], rand_array((3, 4), dtype), rtol=2e-3, atol=2e-3, grad_rtol=2e-2,
            grad_atol=2e-2, device=device)


ZEROS = np.array([[1.5, 0.0, 3.0, 0.0], [0.0, 2.0, 0.5, 4.0], [1.0, -2.0, 0.5, 3.0]],
                 dtype=np.float32)
TIES = np.array([[1.0, 3.0, 3.0, 2.0], [0.0, 0.0, -1.0, 0.0], [np.nan, 1.0, np.nan, 5.0]],
                dtype=np.float32)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumprod_gradient_with_zeros(dim, device):
    compare(lambda lib, x: x.cumprod(dim), ZEROS, device=device)


@pytest.mark.parametrize("name", ["cummax", "cummin"])
@pytest.mark.parametrize("dim", [0, 1])
def test_cummax_cummin_ties_and_nan(name, dim, device):
    compare(lambda lib, x: getattr(x, name)(dim), TIES, device=device)


def test_logcumsumexp_wide_range(device):
    x = np.array([[-1000.0, 0.0, 1000.0, -np.inf], [3.0, 80.0, -80.0, 2.0]], dtype=np.float32)
    compare(lambda lib, t: t.logcumsumexp(1), x, device=device)


def test_cummax_return_type(device):
    x = rand_array((2, 3))
    ours = run_on(gputensor, device, lambda lib: lib.cummax(lib.tensor(x), 1))
    theirs = torch.cummax(torch.tensor(x), 1)
    assert type(ours).__name__ == type(theirs).__name__ == "cummax"
    assert_same(ours.values, theirs.values)
    assert_same(ours.indices, theirs.indices)
    assert type(ours) is gputensor.return_types.cummax
    assert repr(ours).replace("gputensor", "torch").replace(", device='cuda:0'", "") \
        == repr(theirs)


def test_cumsum_in_place(device):
    def through_view(lib, x):
        y = x * 1
        row = y[1]
        row.cumsum_(0)
        return y, row

    def whole(lib, x):
        y = x * 1
        out = y.cumsum_(1)
        assert out is y
        return y.cumprod_(0)

    compare(through_view, rand_array((3, 4)), device=device)
    compare(whole, rand_array((3, 4)), device=device)
    check_error(lambda lib: lib.ones(2, requires_grad=True).cumsum_(0), device=device)


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp",
                                  "diff"])
def test_out(name, device):
    def out_for(lib):
        if name in ("cummax", "cummin"):
            return lib.empty(0), lib.empty(0, dtype=lib.int64)
        return lib.empty(0)

    def fn(lib, x):
        out = out_for(lib)
        result = getattr(lib, name)(x, dim=1, out=out)
        assert result is out or result[0] is out[0]
        return out

    check_op(fn, rand_array((3, 4)), grad=False, device=device)
    check_error(lambda lib: getattr(lib, name)(lib.ones(2, 3, requires_grad=True), dim=1,
                                               out=out_for(lib)), device=device)


def test_diag_out(device):
    def fn(lib, x):
        out = lib.empty(0)
        assert lib.diag(x, 1, out=out) is out
        return out

    check_op(fn, rand_array((3, 4)), grad=False, device=device)


def test_diagonal_is_a_view(device):
    def fn(lib, x):
        y = x * 2
        d = y.diagonal(1)
        d.mul_(10)
        return y, d, x.diagonal()._base is x

    check_op(lambda lib, x: fn(lib, x)[:2], rand_array((3, 4)), device=device)
    with_base = run_on(gputensor, device, lambda lib: fn(lib, lib.ones(3, 4))[2])
    assert with_base is True


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid(indexing, device):
    check_op(lambda lib, a, b, c: lib.meshgrid(a, b, c, indexing=indexing), rand_array((3,)),
             rand_array((2,)), rand_array(()), device=device)
    check_op(lambda lib, a, b: lib.meshgrid([a, b], indexing=indexing), rand_array((4,)),
             rand_array((2,)), device=device)


def test_meshgrid_warning_and_errors(device):
    # torch warns once per process (TORCH_WARN_ONCE): its text is written out here
    expected = ("torch.meshgrid: in an upcoming release, it will be required to pass the "
                "indexing argument.")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_on(gputensor, device, lambda lib: lib.meshgrid(lib.ones(2), lib.ones(3)))
    assert [(w.category, str(w.message)) for w in caught] == [(UserWarning, expected)]
    check_error(lambda lib: lib.meshgrid(lib.ones(2), indexing="yx"), device=device)
    check_error(lambda lib: lib.meshgrid([], indexing="ij"), device=device)
    check_error(lambda lib: lib.meshgrid(lib.ones(2), lib.ones(2, dtype=lib.float64),
                                         indexing="ij"), device=device)
