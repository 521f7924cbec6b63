"""Sorting and selection compared with torch: sort, argsort, msort, topk, kthvalue, unique,
unique_consecutive, searchsorted, bucketize (values, indices, grads, printing, errors)."""

import numpy as np
import pytest
import torch

import gputensor
from helpers import LAYOUTS, check_error, check_op, rand_array

SHAPES = [(), (5,), (3, 4), (2, 3, 4), (0, 3)]


def _distinct(shape, dtype="float32"):
    """Values without ties (torch leaves the order of tied elements to the kernel)."""
    size = int(np.prod(shape))
    values = np.random.default_rng(7).permutation(size).reshape(shape) - size // 2
    return np.asarray(values).astype(dtype)


def _dims(ndim):
    return list(range(-max(ndim, 1), max(ndim, 1)))


SORTS = {
    "sort": lambda lib, x, d: lib.sort(x, d),
    "sort_desc": lambda lib, x, d: x.sort(dim=d, descending=True),
    "sort_stable": lambda lib, x, d: lib.sort(x, dim=d, stable=True),
    "argsort": lambda lib, x, d: x.argsort(d),
    "argsort_desc": lambda lib, x, d: lib.argsort(x, d, descending=True),
    "topk1": lambda lib, x, d: x.topk(1, d),
    "topk_smallest": lambda lib, x, d: lib.topk(x, min(2, x.shape[d] if x.ndim else 1), d,
                                                largest=False),
    "kthvalue": lambda lib, x, d: x.kthvalue(1, d),
    "kthvalue_keepdim": lambda lib, x, d: lib.kthvalue(x, x.shape[d] if x.ndim else 1, d,
                                                       keepdim=True),
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", list(SORTS))
def test_sort_and_select(device, name, shape):
    if 0 in shape and name.startswith(("topk", "kthvalue")):
        return  # selecting from an empty dim: the error test below
    for d in _dims(len(shape)):
        check_op(lambda lib, x, d=d: SORTS[name](lib, x, d), _distinct(shape), device=device)


@pytest.mark.parametrize("layout", LAYOUTS[:3])
def test_sort_layouts(device, layout):
    check_op(lambda lib, x: (x.sort(0).values * 2, x.topk(2).values, x.kthvalue(2, 0)),
             _distinct((3, 4)), device=device, layout=layout)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool", "float64"])
def test_sort_dtypes_with_ties_stable(device, dtype):
    array = rand_array((4, 6), dtype)
    def fn(lib, x):
        return (x.sort(stable=True), x.sort(dim=0, descending=True, stable=True),
                lib.argsort(x, stable=True), x.argsort(dim=0, descending=True, stable=True))
    check_op(fn, array, device=device)


def test_sort_nan_is_largest(device):
    array = np.array([[1.0, np.nan, -2.0, np.nan, 0.5]], dtype=np.float32)
    check_op(lambda lib, x: (x.sort(stable=True), x.sort(descending=True, stable=True)), array,
             device=device)


def test_topk_values_not_sorted(device):
    def fn(lib, x):
        values, indices = x.topk(3, sorted=False)
        return values.sort(stable=True).values, indices.sort().values
    check_op(fn, _distinct((2, 7)), device=device)


def test_msort(device):
    check_op(lambda lib, x: (lib.msort(x), x.msort()), _distinct((4, 3)), device=device)


def test_sort_out(device):
    def fn(lib, x):
        values, indices = lib.empty(0), lib.empty(0, dtype=lib.int64)
        result = lib.sort(x, 1, out=(values, indices))
        return result.values, result.indices, values, indices
    check_op(fn, _distinct((3, 4)), device=device, grad=False)


def test_topk_kthvalue_out(device):
    def fn(lib, x):
        out = (lib.empty(2, 2), lib.empty(2, 2, dtype=lib.int64))
        lib.topk(x, 2, out=out)
        kth = (lib.empty(0), lib.empty(0, dtype=lib.int64))
        lib.kthvalue(x, 3, 1, out=kth)
        return out + kth
    check_op(fn, _distinct((2, 5)), device=device, grad=False)


def test_named_tuples_print_like_torch():
    def fn(lib):
        x = lib.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]], requires_grad=True)
        return [repr(x.sort(1)), str(lib.topk(x, 2)), repr(x.kthvalue(2)),
                type(x.sort()).__name__, x.topk(1).n_fields]
    assert [t.replace("gputensor", "torch") if isinstance(t, str) else t
            for t in fn(gputensor)] == fn(torch)
    assert isinstance(gputensor.sort(gputensor.ones(2)), gputensor.return_types.sort)
    assert isinstance(gputensor.topk(gputensor.ones(2), 1), gputensor.return_types.topk)
    assert isinstance(gputensor.kthvalue(gputensor.ones(2), 1), gputensor.return_types.kthvalue)


SORT_ERRORS = {
    "sort_dim": lambda lib: lib.sort(lib.ones(2, 3), 2),
    "sort_0d_dim": lambda lib: lib.ones(()).sort(1),
    "argsort_dim": lambda lib: lib.argsort(lib.ones(2, 3), -3),
    "topk_big": lambda lib: lib.topk(lib.ones(2, 3), 4),
    "topk_negative": lambda lib: lib.ones(2, 3).topk(-1),
    "topk_dim": lambda lib: lib.ones(2, 3).topk(1, dim=3),
    "topk_0d": lambda lib: lib.ones(()).topk(2),
    "topk_empty": lambda lib: lib.ones(0, 3).topk(1, 0),
    "kthvalue_big": lambda lib: lib.kthvalue(lib.ones(2, 3), 4),
    "kthvalue_zero": lambda lib: lib.ones(2, 3).kthvalue(0, 0),
    "kthvalue_dim": lambda lib: lib.ones(2, 3).kthvalue(1, -3),
    "sort_out_grad": lambda lib: lib.sort(lib.ones(3, requires_grad=True),
                                          out=(lib.empty(3), lib.empty(3, dtype=lib.int64))),
}


@pytest.mark.parametrize("name", list(SORT_ERRORS))
def test_sort_errors(device, name):
    check_error(SORT_ERRORS[name], device=device)


def test_topk_of_bool_refused_on_the_cpu():
    check_error(lambda lib: lib.tensor([True, False]).topk(1))


# ---- unique -----------------------------------------------------------------------------
UNIQUE_INPUTS = [np.array([3, 1, 3, 2, 1, 1], dtype=np.int64),
                 np.array([[2.5, -1.0, 2.5], [0.0, -1.0, 7.0]], dtype=np.float32),
                 np.array([True, False, True]), np.zeros((0,), dtype=np.int64),
                 np.array(4, dtype=np.int64)]
UNIQUES = {
    "plain": lambda lib, x: lib.unique(x),
    "inverse": lambda lib, x: x.unique(return_inverse=True),
    "counts": lambda lib, x: lib.unique(x, return_counts=True),
    "both": lambda lib, x: lib.unique(x, True, True, True),
    "unsorted": lambda lib, x: lib.unique(x, sorted=False),
    "consecutive": lambda lib, x: lib.unique_consecutive(x),
    "consecutive_both": lambda lib, x: x.unique_consecutive(True, True),
}


@pytest.mark.parametrize("index", range(len(UNIQUE_INPUTS)))
@pytest.mark.parametrize("name", list(UNIQUES))
def test_unique(device, name, index):
    check_op(UNIQUES[name], UNIQUE_INPUTS[index], device=device, grad=False)


ROWS = np.array([[3, 1, 2], [0, 2, 2], [3, 1, 2], [0, 2, 1], [0, 2, 1]], dtype=np.int64)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_unique_along_a_dim(device, dim):
    check_op(lambda lib, x: (lib.unique(x, dim=dim, return_inverse=True, return_counts=True),
                             x.unique_consecutive(True, True, dim=dim)), ROWS, device=device,
             grad=False)
    check_op(lambda lib, x: lib.unique(x, dim=dim), ROWS.reshape(5, 3, 1), device=device,
             grad=False)


def test_unique_dim_out_of_range(device):
    check_error(lambda lib: lib.unique(lib.ones(3, 2), dim=2), device=device)


# ---- searchsorted and bucketize --------------------------------------------------------
BOUNDS = np.array([1, 3, 5, 7], dtype=np.int64)
VALUES = np.array([[3, 6, 9], [0, 1, 7]], dtype=np.int64)
SEARCHES = {
    "left": lambda lib, b, v: lib.searchsorted(b, v),
    "right": lambda lib, b, v: lib.searchsorted(b, v, right=True),
    "side": lambda lib, b, v: lib.searchsorted(b, v, side="right", out_int32=True),
    "side_left": lambda lib, b, v: lib.searchsorted(b, v, side="left"),
    "number": lambda lib, b, v: lib.searchsorted(b, 5),
    "float_bounds": lambda lib, b, v: lib.searchsorted(b.double() / 2, v),
    "rows": lambda lib, b, v: lib.searchsorted(lib.stack([b, b * 2]), v, right=True),
    "sorter": lambda lib, b, v: lib.searchsorted(8 - b, v, sorter=lib.tensor([3, 2, 1, 0])),
    "bucketize": lambda lib, b, v: lib.bucketize(v, b),
    "bucketize_right": lambda lib, b, v: lib.bucketize(v, b, right=True, out_int32=True),
    "bucketize_number": lambda lib, b, v: lib.bucketize(4, b),
}


@pytest.mark.parametrize("name", list(SEARCHES))
def test_searchsorted(device, name):
    check_op(SEARCHES[name], BOUNDS, VALUES, device=device, grad=False)


def test_searchsorted_out(device):
    def fn(lib, b, v):
        out = lib.empty(2, 3, dtype=lib.int64)
        lib.searchsorted(b, v, out=out)
        out2 = lib.empty(0, dtype=lib.int64)
        return out, lib.bucketize(v, b, out=out2), out2
    check_op(fn, BOUNDS, VALUES, device=device, grad=False)


SEARCH_ERRORS = {
    "opposite": lambda lib: lib.searchsorted(lib.ones(3), lib.ones(2), side="left", right=True),
    "side": lambda lib: lib.searchsorted(lib.ones(3), lib.ones(2), side="middle"),
    "rows": lambda lib: lib.searchsorted(lib.ones(1, 4), lib.ones(3)),
    "leading": lambda lib: lib.searchsorted(lib.ones(2, 4), lib.ones(3, 1)),
    "sorter": lambda lib: lib.searchsorted(lib.ones(3), lib.ones(2),
                                           sorter=lib.tensor([1, 0])),
    "bucketize_rows": lambda lib: lib.bucketize(lib.ones(3), lib.ones(1, 4)),
}


@pytest.mark.parametrize("name", list(SEARCH_ERRORS))
def test_searchsorted_errors(device, name):
    check_error(SEARCH_ERRORS[name], device=device)
