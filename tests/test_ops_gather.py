"""Gather, scatter and counting ops compared with torch: values, dtypes, gradients, grad_fn
names, torch's errors, and in-place forms that change nothing when they fail."""

import numpy as np
import pytest
import torch

import gputensor
from helpers import LAYOUTS, assert_same, check_error, check_op, made_on, rand_array, to_numpy


def floats(*shape, dtype="float32"):
    """Random floats."""
    return rand_array(shape, dtype)


def whole_floats(*shape):
    """Small whole numbers as floats (ties for amax/amin, zeros for prod)."""
    return rand_array(shape, "int64", low=-2, high=-1).astype(np.float32)


def ints(values, dtype="int64"):
    """An index array."""
    return np.array(values, dtype=dtype)


I2 = ints([[0, 1, 2, 0], [2, 2, 1, 0]])  # rows of a (3, 4) tensor, with repeats
I2_UNIQUE = ints([[2, 0, 1, 1], [0, 1, 2, 0]])  # no position written twice (dim 0)
ROWS = ints([2, 0])

OPS = {  # name: (fn(lib, *operands), arrays)
    # gather / take / take_along_dim / index_select
    "gather_dim0": (lambda lib, x, i: x.gather(0, i), [floats(3, 4), I2]),
    "gather_dim1_smaller": (lambda lib, x, i: lib.gather(x, 1, i),
                            [floats(3, 4), ints([[3, 3, 0], [1, 2, 3]])]),
    "gather_neg_dim_3d": (lambda lib, x, i: x.gather(-1, i),
                          [floats(2, 3, 4), ints(np.arange(12).reshape(2, 3, 2) % 4)]),
    "gather_int32": (lambda lib, x, i: x.gather(0, i), [floats(3, 4), I2.astype(np.int32)]),
    "gather_0d": (lambda lib, x, i: x.gather(0, i), [floats(), ints(0)]),
    "gather_empty": (lambda lib, x, i: x.gather(0, i), [floats(3, 4), ints(np.zeros((0, 4)))]),
    "gather_sparse_grad_false": (lambda lib, x, i: x.gather(1, i, sparse_grad=False),
                           [floats(3, 4), I2_UNIQUE[:, :3]]),
    "gather_float64": (lambda lib, x, i: x.gather(0, i), [floats(3, 4, dtype="float64"), I2]),
    "gather_int_input": (lambda lib, x, i: x.gather(0, i), [ints(np.arange(12).reshape(3, 4)),
                                                           I2]),
    "take": (lambda lib, x, i: x.take(i), [floats(3, 4), ints([[0, -1], [11, 3], [3, 3]])]),
    "take_fn_0d": (lambda lib, x, i: lib.take(x, i), [floats(5), ints(-2)]),
    "take_along_dim": (lambda lib, x, i: lib.take_along_dim(x, i, 1),
                       [floats(3, 4), ints([[0, 3]])]),
    "take_along_dim_expand_input": (lambda lib, x, i: x.take_along_dim(i, dim=0),
                                    [floats(3, 1), ints([[0, 2, 2, 1]])]),
    "take_along_dim_flat": (lambda lib, x, i: lib.take_along_dim(x, i),
                            [floats(3, 4), ints([[0, 11], [5, 5]])]),
    "index_select": (lambda lib, x, i: x.index_select(1, i), [floats(3, 4), ints([0, 3, 3])]),
    "index_select_int32": (lambda lib, x, i: lib.index_select(x, 0, i),
                           [floats(3, 4), ints([2, 2, 0, 1], "int32")]),
    "index_select_0d_index": (lambda lib, x, i: x.index_select(-1, i), [floats(3, 4), ints(2)]),
    "index_select_0d_input": (lambda lib, x, i: x.index_select(0, i), [floats(), ints([0])]),
    "index_select_0d_both": (lambda lib, x, i: x.index_select(0, i), [floats(), ints(0)]),
    "index_select_empty": (lambda lib, x, i: x.index_select(0, i), [floats(3, 4), ints([])]),
    # repeat_interleave
    "repeat_interleave_flat": (lambda lib, x: x.repeat_interleave(2), [floats(2, 3)]),
    "repeat_interleave_dim": (lambda lib, x: lib.repeat_interleave(x, 3, dim=1),
                              [floats(2, 3)]),
    "repeat_interleave_zero": (lambda lib, x: x.repeat_interleave(0, dim=0), [floats(2, 3)]),
    "repeat_interleave_output_size": (lambda lib, x: x.repeat_interleave(2, 0, output_size=4),
                                      [floats(2, 3)]),
    "repeat_interleave_tensor": (lambda lib, x, r: x.repeat_interleave(r, dim=0),
                                 [floats(3, 2), ints([1, 0, 3])]),
    "repeat_interleave_tensor_flat": (lambda lib, x, r: x.repeat_interleave(r),
                                      [floats(2, 2), ints([1, 2, 0, 1])]),
    "repeat_interleave_tensor_one": (lambda lib, x, r: x.repeat_interleave(r, dim=1),
                                     [floats(2, 3), ints([2])]),
    "repeat_interleave_tensor_0d": (lambda lib, x, r: x.repeat_interleave(r, dim=1),
                                    [floats(2, 3), ints(2)]),
    "repeat_interleave_output_size_tensor": (
        lambda lib, x, r: x.repeat_interleave(r, dim=0, output_size=4),
        [floats(3, 2), ints([1, 0, 3])]),
    "repeat_interleave_counts": (lambda lib, r: lib.repeat_interleave(r), [ints([1, 0, 3, 2])]),
    "repeat_interleave_counts_int32": (lambda lib, r: lib.repeat_interleave(r),
                                       [ints([2, 1], "int32")]),
    # scatter
    "scatter_src": (lambda lib, x, i, s: x.scatter(0, i, s),
                    [floats(3, 4), I2_UNIQUE, floats(2, 4)]),
    "scatter_src_larger": (lambda lib, x, i, s: x.scatter(0, i, s),
                           [floats(3, 4), I2_UNIQUE, floats(2, 5)]),
    "scatter_src_dim1": (lambda lib, x, i, s: lib.scatter(x, 1, i, s),
                         [floats(3, 4), ints([[3, 0], [1, 2]]), floats(2, 2)]),
    "scatter_value": (lambda lib, x, i: x.scatter(0, i, 2.5), [floats(3, 4), I2]),
    "scatter_value_keyword": (lambda lib, x, i: lib.scatter(x, 1, i, value=-1.0),
                              [floats(3, 4), I2]),
    "scatter_int_value_truncated": (lambda lib, x, i: x.scatter(0, i, 2.7),
                                    [ints(np.arange(12).reshape(3, 4)), I2]),
    "scatter_0d": (lambda lib, x, i, s: x.scatter(0, i, s), [floats(), ints(0), floats()]),
    "scatter_inplace": (lambda lib, x, i, s: x.clone().scatter_(0, i, s),
                        [floats(3, 4), I2_UNIQUE, floats(2, 4)]),
    "scatter_inplace_value": (lambda lib, x, i: (x * 1).scatter_(1, i, 0.5), [floats(3, 4), I2]),
    "scatter_add": (lambda lib, x, i, s: x.scatter_add(0, i, s),
                    [floats(3, 4), I2, floats(2, 4)]),
    "scatter_add_smaller": (lambda lib, x, i, s: lib.scatter_add(x, 1, i, s),
                            [floats(3, 4), ints([[0, 0, 0], [3, 3, 1]]), floats(2, 3)]),
    "scatter_add_src_larger": (lambda lib, x, i, s: lib.scatter_add(x, 1, i, s),
                               [floats(3, 4), ints([[0, 0, 0], [3, 3, 1]]), floats(3, 5)]),
    "scatter_add_int": (lambda lib, x, i, s: x.scatter_add(0, i, s),
                        [ints(np.arange(12).reshape(3, 4)), I2, ints(np.ones((2, 4)))]),
    "scatter_add_inplace": (lambda lib, x, i, s: x.clone().scatter_add_(0, i, s),
                            [floats(3, 4), I2, floats(2, 4)]),
    "scatter_add_float64": (lambda lib, x, i, s: x.scatter_add(0, i, s),
                            [floats(3, 4, dtype="float64"), I2, floats(2, 4, dtype="float64")]),
    # index_add / index_fill / index_copy
    "index_add": (lambda lib, x, i, s: x.index_add(0, i, s), [floats(3, 4), ROWS, floats(2, 4)]),
    "index_add_repeats_alpha": (lambda lib, x, i, s: lib.index_add(x, 1, i, s, alpha=-2),
                                [floats(3, 4), ints([1, 1, 3]), floats(3, 3)]),
    "index_add_int": (lambda lib, x, i, s: x.index_add(0, i, s, alpha=3),
                      [ints(np.arange(12).reshape(3, 4)), ints([1, 1]), ints(np.ones((2, 4)))]),
    "index_add_int32_index": (lambda lib, x, i, s: x.index_add(0, i, s),
                              [floats(3, 4), ROWS.astype(np.int32), floats(2, 4)]),
    "index_add_inplace": (lambda lib, x, i, s: x.clone().index_add_(0, i, s, alpha=0.5),
                          [floats(3, 4), ints([0, 0]), floats(2, 4)]),
    "index_add_0d": (lambda lib, x, i, s: x.index_add(0, i, s), [floats(), ints(0), floats()]),
    "index_fill": (lambda lib, x, i: x.index_fill(1, i, 2.0), [floats(3, 4), ints([0, -1])]),
    "index_fill_tensor_value": (lambda lib, x, i, v: lib.index_fill(x, 0, i, v),
                                [floats(3, 4), ints([2, 0]), floats()]),
    "index_fill_int": (lambda lib, x, i: x.index_fill(0, i, 2.7),
                       [ints(np.arange(12).reshape(3, 4)), ints([1])]),
    "index_fill_inplace": (lambda lib, x, i: x.clone().index_fill_(1, i, -3.0),
                           [floats(3, 4), ints([3, 3])]),
    "index_copy": (lambda lib, x, i, s: x.index_copy(0, i, s), [floats(3, 4), ROWS, floats(2, 4)]),
    "index_copy_dim1": (lambda lib, x, i, s: lib.index_copy(x, 1, i, s),
                        [floats(3, 4), ints([3, 1, 0]), floats(3, 3)]),
    "index_copy_inplace": (lambda lib, x, i, s: x.clone().index_copy_(0, i, s),
                           [floats(3, 4), ROWS, floats(2, 4)]),
    # counting
    "bincount": (lambda lib, x: lib.bincount(x), [ints([1, 1, 3, 0, 3, 3])]),
    "bincount_method_minlength": (lambda lib, x: x.bincount(minlength=7), [ints([1, 1, 3])]),
    "bincount_int32": (lambda lib, x: x.bincount(), [ints([4, 0], "int32")]),
    "bincount_empty": (lambda lib, x: lib.bincount(x, minlength=3), [ints([])]),
    "bincount_weights": (lambda lib, x, w: lib.bincount(x, weights=w),
                         [ints([1, 1, 3, 0]), floats(4)]),
    "bincount_weights_float64": (lambda lib, x, w: x.bincount(w, 6),
                                 [ints([1, 1, 3, 0]), floats(4, dtype="float64")]),
    "bincount_int_weights": (lambda lib, x, w: lib.bincount(x, w), [ints([2, 2]), ints([5, 1])]),
    "histc": (lambda lib, x: lib.histc(x, bins=4, min=0, max=3),
              [np.array([1., 2., 1., 3., -1., 0., 2.9], np.float32)]),
    "histc_data_range": (lambda lib, x: x.histc(5), [floats(4, 5)]),
    "histc_one_value": (lambda lib, x: x.histc(3), [np.ones(3, np.float32)]),
    "histc_values_on_edges": (lambda lib, x: lib.histc(x, 8, -2, 2),
                              [(np.arange(-9, 10) / 4).astype(np.float32)]),
    "histc_float64": (lambda lib, x: lib.histc(x, 3, -1, 1), [floats(20, dtype="float64")]),
    "count_nonzero": (lambda lib, x: lib.count_nonzero(x), [ints([[0, 1, 2], [0, 0, 3]])]),
    "count_nonzero_dim": (lambda lib, x: x.count_nonzero(1), [np.array([[0., 1.5], [0., 0.]],
                                                                        np.float32)]),
    "count_nonzero_dims": (lambda lib, x: lib.count_nonzero(x, dim=(0, -1)),
                           [rand_array((2, 3, 2), "bool")]),
}

SCATTER_REDUCE_INDEX = ints([[0, 0, 2, 1], [0, 2, 2, 1], [1, 0, 0, 1]])


def _reduce_case(how, include_self):
    return (lambda lib, x, i, s: x.scatter_reduce(0, i, s, how, include_self=include_self),
            [whole_floats(3, 4), SCATTER_REDUCE_INDEX, whole_floats(3, 4)])


for _how in ("sum", "prod", "mean", "amax", "amin"):
    for _include in (True, False):
        OPS[f"scatter_reduce_{_how}_{'with' if _include else 'without'}_self"] = \
            _reduce_case(_how, _include)
OPS["scatter_reduce_mean_int"] = (
    lambda lib, x, i, s: lib.scatter_reduce(x, 0, i, s, "mean"),
    [ints([0, 5, 7]), ints([0, 0, 1, 2]), ints([-2, -3, 4, -9])])
OPS["scatter_reduce_amax_int"] = (
    lambda lib, x, i, s: x.scatter_reduce(0, i, s, "amax", include_self=False),
    [ints([0, 5, 7]), ints([0, 0, 1]), ints([-2, -3, 4])])
OPS["scatter_reduce_prod_int"] = (
    lambda lib, x, i, s: x.scatter_reduce(0, i, s, "prod"),
    [ints([1, 5, 7]), ints([0, 0, 1, 1]), ints([-2, -3, 4, 2])])
OPS["scatter_reduce_max_min_aliases"] = (
    lambda lib, x, i, s: (x.scatter_reduce(0, i, s, "max"), x.scatter_reduce(0, i, s, "min")),
    [whole_floats(3, 4), SCATTER_REDUCE_INDEX, whole_floats(3, 4)])
OPS["scatter_reduce_inplace"] = (
    lambda lib, x, i, s: x.clone().scatter_reduce_(0, i, s, "mean", include_self=False),
    [floats(3, 4), SCATTER_REDUCE_INDEX, floats(3, 4)])
OPS["scatter_reduce_random_floats"] = (
    lambda lib, x, i, s: x.scatter_reduce(0, i, s, "prod"),
    [floats(3, 4), SCATTER_REDUCE_INDEX, floats(3, 4)])


# compared without gradients: weights that require grad give torch's bincount a node with no
# derivative; torch's scatter backward fails when src is larger than the index
NO_GRAD = {"bincount_weights", "bincount_weights_float64", "scatter_src_larger",
           "scatter_add_src_larger", "scatter_reduce_max_min_aliases"}


@pytest.mark.parametrize("name", sorted(OPS))
def test_op(name, device):
    fn, arrays = OPS[name]
    check_op(fn, *arrays, device=device, grad=name not in NO_GRAD)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", ["gather_dim0", "scatter_add", "index_select", "take",
                                  "index_add_repeats_alpha", "scatter_reduce_amax_with_self"])
def test_layouts(name, layout, device):
    fn, arrays = OPS[name]
    check_op(fn, *arrays, device=device, layout=layout)


@pytest.mark.filterwarnings("ignore:The reduce argument")
@pytest.mark.parametrize("reduce", ["add", "multiply"])
@pytest.mark.parametrize("value", [False, True])
def test_scatter_legacy_reduce(reduce, value, device):
    """``scatter(reduce=...)`` computes as torch; its node has no derivative, as torch's."""
    if value:
        check_op(lambda lib, x, i: x.scatter(0, i, 1.5, reduce=reduce), floats(3, 4), I2,
                 device=device, grad=False)
    else:
        check_op(lambda lib, x, i, s: x.scatter(0, i, s, reduce=reduce), floats(3, 4), I2,
                 floats(2, 4), device=device, grad=False)
    check_error(lambda lib: lib.ones(3, requires_grad=True).clone().scatter(
        0, lib.tensor([1, 1]), 2.0, reduce=reduce).sum().backward(), device=device)


@pytest.mark.parametrize("reduce", ["max", "min"])
def test_scatter_reduce_alias_has_no_derivative(reduce, device):
    """``scatter_reduce(..., "max"|"min")`` computes amax/amin; backward raises torch's error."""
    check_error(lambda lib: lib.ones(3, requires_grad=True).scatter_reduce(
        0, lib.tensor([1, 1]), lib.ones(2), reduce).sum().backward(), device=device)


def _t(lib, values, dtype=None):
    return lib.tensor(values, dtype=getattr(lib, dtype) if dtype else None)


@pytest.mark.parametrize("inplace", ["scatter_", "scatter_add_", "index_add_", "index_fill_",
                                     "index_copy_", "scatter_reduce_"])
def test_inplace_returns_self_and_bumps_version(inplace, device):
    """In-place forms write into the tensor itself, as torch's."""
    calls = {
        "scatter_": lambda lib, x: x.scatter_(0, _t(lib, [[2, 0]]), 7.0),
        "scatter_add_": lambda lib, x: x.scatter_add_(0, _t(lib, [[2, 2]]), lib.ones(1, 2)),
        "index_add_": lambda lib, x: x.index_add_(1, _t(lib, [3, 3]), lib.ones(3, 2)),
        "index_fill_": lambda lib, x: x.index_fill_(0, _t(lib, [1]), -1.0),
        "index_copy_": lambda lib, x: x.index_copy_(0, _t(lib, [1]), lib.ones(1, 4)),
        "scatter_reduce_": lambda lib, x: x.scatter_reduce_(0, _t(lib, [[1, 1]]),
                                                            lib.ones(1, 2), "prod"),
    }
    data = floats(3, 4)
    results = {}
    for lib in (torch, gputensor):
        with made_on(lib, device):
            x = lib.tensor(data)
            before = x._version if lib is torch else x._version.value
            out = calls[inplace](lib, x)
            after = x._version if lib is torch else x._version.value
            assert out is x and after > before
            results[lib] = x
    assert_same(results[gputensor], results[torch])


@pytest.mark.parametrize("name", ["gather", "take", "take_along_dim", "index_select",
                                  "scatter_add", "index_add", "histc"])
def test_out(name, device):
    """``out=`` receives the result, as torch's."""
    calls = {
        "gather": lambda lib, x, out: lib.gather(x, 0, _t(lib, [[1, 0, 2, 2]]), out=out),
        "take": lambda lib, x, out: lib.take(x, _t(lib, [1, -1]), out=out),
        "take_along_dim": lambda lib, x, out: lib.take_along_dim(x, _t(lib, [[0], [3], [1]]),
                                                                 1, out=out),
        "index_select": lambda lib, x, out: lib.index_select(x, 1, _t(lib, [3, 0]), out=out),
        "scatter_add": lambda lib, x, out: lib.scatter_add(x, 0, _t(lib, [[1, 1, 1, 1]]), x,
                                                           out=out),
        "index_add": lambda lib, x, out: lib.index_add(x, 0, _t(lib, [0]), x[:1], out=out),
        "histc": lambda lib, x, out: lib.histc(x, 4, out=out),
    }
    data = floats(3, 4)
    results = {}
    for lib in (torch, gputensor):
        with made_on(lib, device):
            out = lib.empty(0)
            returned = calls[name](lib, lib.tensor(data), out)
            assert returned is out
            results[lib] = out
    assert_same(results[gputensor], results[torch])


@pytest.mark.parametrize("how", ["sum", "prod", "amax", "amin"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "float32", "float64"])
def test_scatter_accumulate_hook(how, dtype, device):
    """The backend hook combines repeated positions as NumPy's ufunc.at does."""
    rng = np.random.default_rng(3)
    positions = rng.integers(0, 5, 37)
    values = rng.integers(-3, 4, 37).astype(dtype)
    start = rng.integers(-3, 4, 5).astype(dtype)
    expected = start.copy()
    getattr(np, {"sum": "add", "prod": "multiply", "amax": "maximum",
                 "amin": "minimum"}[how]).at(expected, positions, values)
    with made_on(gputensor, device):
        target = gputensor.tensor(start)
        pos, vals = gputensor.tensor(positions), gputensor.tensor(values)
    target._backend.scatter_accumulate(target._data, pos._data, vals._data, how)
    np.testing.assert_array_equal(to_numpy(target), expected)


@pytest.mark.parametrize("call", [
    lambda x, i: x.gather(0, i), lambda x, i: x.index_select(0, i),
    lambda x, i: x.scatter_add(0, i, x), lambda x, i: x.index_add(0, i, x),
    lambda x, i: x.index_fill(0, i, 1.0), lambda x, i: x.index_copy(0, i, x),
    lambda x, i: x.take(i)])
def test_index_on_another_device(call, cuda_device):
    """An index on the CPU for a CUDA tensor is refused, as torch refuses it."""
    x = gputensor.ones(2, device=cuda_device)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        call(x, gputensor.tensor([1, 0]))
