"""Gather, scatter and counting ops given bad arguments: torch's exception types and
messages, and in-place forms that change nothing when they fail."""

import numpy as np
import pytest

import gputensor
from helpers import check_error, made_on, rand_array, to_numpy


def floats(*shape):
    """Random float32 values."""
    return rand_array(shape, "float32")


def _t(lib, values, dtype=None):
    return lib.tensor(values, dtype=getattr(lib, dtype) if dtype else None)


ERRORS = {  # name: fn(lib, x)
    "gather_out_of_range": lambda lib, x: x.gather(0, _t(lib, [[5]])),
    "gather_negative": lambda lib, x: x.gather(1, _t(lib, [[-1]])),
    "gather_float_index": lambda lib, x: x.gather(0, _t(lib, [[0.]])),
    "gather_int16_index": lambda lib, x: x.gather(0, _t(lib, [[0]], "int16")),
    "gather_shape": lambda lib, x: x.gather(0, lib.zeros(2, 5, dtype=lib.long)),
    "gather_ndim": lambda lib, x: x.gather(0, _t(lib, [0])),
    "gather_dim": lambda lib, x: x.gather(2, _t(lib, [[0]])),
    "take_out_of_range": lambda lib, x: x.take(_t(lib, [12])),
    "take_negative_out_of_range": lambda lib, x: x.take(_t(lib, [-13])),
    "take_int32": lambda lib, x: x.take(_t(lib, [1], "int32")),
    "take_along_dim_int32": lambda lib, x: lib.take_along_dim(x, _t(lib, [[0]], "int32"), 1),
    "take_along_dim_ndim": lambda lib, x: lib.take_along_dim(x, _t(lib, [0, 1]), 1),
    "take_along_dim_broadcast": lambda lib, x: lib.take_along_dim(x, _t(lib, [[0], [1]]), 1),
    "index_select_out_of_range": lambda lib, x: x.index_select(1, _t(lib, [0, 5])),
    "index_select_negative": lambda lib, x: x.index_select(1, _t(lib, [-1])),
    "index_select_float": lambda lib, x: x.index_select(1, _t(lib, [0.])),
    "index_select_2d": lambda lib, x: x.index_select(1, _t(lib, [[0]])),
    "index_select_dim": lambda lib, x: x.index_select(2, _t(lib, [0])),
    "repeat_interleave_negative": lambda lib, x: x.repeat_interleave(-1),
    "repeat_interleave_negative_tensor": lambda lib, x: x.repeat_interleave(
        _t(lib, [1, -2, 0]), dim=0),
    "repeat_interleave_sizes": lambda lib, x: x.repeat_interleave(_t(lib, [1, 2]), dim=0),
    "repeat_interleave_float_repeats": lambda lib, x: x.repeat_interleave(_t(lib, [2.]), 1),
    "repeat_interleave_2d_repeats": lambda lib, x: x.repeat_interleave(_t(lib, [[2]]), 1),
    "repeat_interleave_output_size": lambda lib, x: x.repeat_interleave(
        _t(lib, [1, 2, 0]), dim=0, output_size=4),
    "repeat_interleave_counts_float": lambda lib, x: lib.repeat_interleave(_t(lib, [1., 2.])),
    "repeat_interleave_counts_2d": lambda lib, x: lib.repeat_interleave(_t(lib, [[1, 2]])),
    "scatter_out_of_range": lambda lib, x: x.scatter(0, _t(lib, [[5]]), x),
    "scatter_float_index": lambda lib, x: x.scatter(0, _t(lib, [[0.]]), 1.0),
    "scatter_dtype": lambda lib, x: x.scatter(0, _t(lib, [[0]]), x.double()),
    "scatter_src_shape": lambda lib, x: x.scatter(0, lib.zeros(2, 4, dtype=lib.long),
                                                  lib.ones(1, 4)),
    "scatter_index_shape": lambda lib, x: x.scatter(0, lib.zeros(2, 5, dtype=lib.long),
                                                    lib.ones(2, 5)),
    "scatter_value_shape": lambda lib, x: x.scatter(0, lib.zeros(1, 5, dtype=lib.long), 1.0),
    "scatter_ndim": lambda lib, x: x.scatter(0, _t(lib, [0]), x),
    "scatter_src_ndim": lambda lib, x: x.scatter(0, _t(lib, [[0]]), lib.tensor(2.0)),
    "scatter_bad_reduce": lambda lib, x: x.scatter(0, _t(lib, [[0]]), 1.0, reduce="sum"),
    "scatter_add_number": lambda lib, x: x.scatter_add(0, _t(lib, [[0]]), 2.0),
    "scatter_add_src_ndim": lambda lib, x: x.scatter_add(0, _t(lib, [[0]]), lib.ones(4)),
    "scatter_add_out_of_range": lambda lib, x: x.scatter_add(0, _t(lib, [[3]]), x),
    "scatter_reduce_bad": lambda lib, x: x.scatter_reduce(0, _t(lib, [[0]]), x, "foo"),
    "scatter_reduce_dtype": lambda lib, x: x.scatter_reduce(0, _t(lib, [[0]]), x.double(),
                                                            "sum"),
    "index_add_out_of_range": lambda lib, x: x.index_add(0, _t(lib, [0, 5]), x[:2]),
    "index_add_negative": lambda lib, x: x.index_add(0, _t(lib, [0, -1]), x[:2]),
    "index_add_float_index": lambda lib, x: x.index_add(0, _t(lib, [0.]), x[:1]),
    "index_add_count": lambda lib, x: x.index_add(0, _t(lib, [0, 1, 2]), x[:2]),
    "index_add_shape": lambda lib, x: x.index_add(0, _t(lib, [0, 1]), lib.ones(2, 3)),
    "index_add_dtype": lambda lib, x: x.index_add(0, _t(lib, [0, 1]), x[:2].double()),
    "index_add_2d_index": lambda lib, x: x.index_add(0, _t(lib, [[0, 1]]), x[:2]),
    "index_fill_out_of_range": lambda lib, x: x.index_fill(1, _t(lib, [0, 9]), 2.0),
    "index_fill_int32": lambda lib, x: x.index_fill(1, _t(lib, [0], "int32"), 2.0),
    "index_fill_2d_index": lambda lib, x: x.index_fill(1, _t(lib, [[0]]), 2.0),
    "index_fill_1d_value": lambda lib, x: x.index_fill(1, _t(lib, [0]), lib.ones(1)),
    "index_copy_out_of_range": lambda lib, x: x.index_copy(0, _t(lib, [2, 3]), x[:2]),
    "index_copy_negative": lambda lib, x: x.index_copy(0, _t(lib, [2, -1]), x[:2]),
    "index_copy_int32": lambda lib, x: x.index_copy(0, _t(lib, [2, 0], "int32"), x[:2]),
    "index_copy_count": lambda lib, x: x.index_copy(0, _t(lib, [2, 0, 1]), x[:2]),
    "index_copy_shape": lambda lib, x: x.index_copy(0, _t(lib, [0, 1]), lib.ones(2, 3)),
    "index_copy_shape_dim1": lambda lib, x: x.index_copy(1, _t(lib, [0, 1]), lib.ones(2, 2)),
    "index_copy_ndim": lambda lib, x: x.index_copy(0, _t(lib, [0]), lib.ones(4)),
    "index_select_scalar_count": lambda lib, x: lib.tensor(1.).index_select(0, _t(lib, [0, 0])),
    "index_select_scalar_range": lambda lib, x: lib.tensor(1.).index_select(0, _t(lib, [1])),
    "index_copy_dtype": lambda lib, x: x.index_copy(0, _t(lib, [0, 1]), x[:2].double()),
    "index_copy_2d_index": lambda lib, x: x.index_copy(0, _t(lib, [[0, 1]]), x[:2]),
    "bincount_negative": lambda lib, x: lib.bincount(_t(lib, [1, -1])),
    "bincount_float": lambda lib, x: lib.bincount(_t(lib, [1., 2.])),
    "bincount_bool": lambda lib, x: lib.bincount(_t(lib, [True])),
    "bincount_2d": lambda lib, x: lib.bincount(_t(lib, [[1, 2]])),
    "bincount_minlength": lambda lib, x: lib.bincount(_t(lib, [1]), minlength=-1),
    "bincount_weights_length": lambda lib, x: lib.bincount(_t(lib, [1, 2]),
                                                           weights=_t(lib, [1.])),
    "histc_int": lambda lib, x: lib.histc(_t(lib, [1, 2]), bins=4, min=0, max=3),
    "histc_bins": lambda lib, x: x.histc(bins=0),
    "histc_min_max": lambda lib, x: x.histc(bins=3, min=3, max=1),
    "histc_infinite": lambda lib, x: lib.histc(_t(lib, [1., float("inf")]), bins=3),
    "count_nonzero_dim": lambda lib, x: lib.count_nonzero(x, dim=2),
    "count_nonzero_repeated_dim": lambda lib, x: lib.count_nonzero(x, dim=(1, 1)),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_error(name, device):
    data = floats(3, 4)
    check_error(lambda lib: ERRORS[name](lib, lib.tensor(data)), device=device)


INPLACE_ERRORS = {  # in-place calls that fail: fn(lib, x)
    "scatter_": lambda lib, x: x.scatter_(0, _t(lib, [[0, 1], [5, 0]]), lib.ones(2, 2)),
    "scatter_value_": lambda lib, x: x.scatter_(1, _t(lib, [[0, 9]]), 1.0),
    "scatter_add_": lambda lib, x: x.scatter_add_(0, _t(lib, [[1], [3]]), lib.ones(2, 1)),
    "scatter_reduce_": lambda lib, x: x.scatter_reduce_(0, _t(lib, [[1], [3]]),
                                                        lib.ones(2, 1), "amax"),
    "index_add_": lambda lib, x: x.index_add_(0, _t(lib, [1, 3]), lib.ones(2, 4)),
    "index_fill_": lambda lib, x: x.index_fill_(1, _t(lib, [1, 4]), 0.0),
    "index_copy_": lambda lib, x: x.index_copy_(0, _t(lib, [1, 3]), lib.ones(2, 4)),
}


@pytest.mark.parametrize("name", sorted(INPLACE_ERRORS))
def test_inplace_error_changes_nothing(name, device):
    """A failing in-place op raises torch's error and leaves the tensor and its version."""
    data = floats(3, 4)
    check_error(lambda lib: INPLACE_ERRORS[name](lib, lib.tensor(data)), device=device)
    with made_on(gputensor, device):
        x = gputensor.tensor(data)
        version = x._version.value
        with pytest.raises((RuntimeError, IndexError)):
            INPLACE_ERRORS[name](gputensor, x)
    assert x._version.value == version
    np.testing.assert_array_equal(to_numpy(x), data)
