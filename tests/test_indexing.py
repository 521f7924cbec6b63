"""Indexing compared with torch: ``x[index]`` and ``x[index] = value``.

Values, grad_fn names, gradients (repeated indices accumulate), views sharing storage and
version counter, and torch's errors, over every memory layout.
"""

import random

import numpy as np
import pytest
import torch

import gputensor
from helpers import LAYOUTS, check_error, check_op, make_input, rand_array


def _name(t):
    return None if t.grad_fn is None else type(t.grad_fn).__name__


def _version(t):
    return t._version if isinstance(t, torch.Tensor) else t._version.value


def _operand(lib, array, layout, grad=True):
    return make_input(lib, array, layout, grad and array.dtype.kind == "f")[1]


def compare_get(fn, array, layout="contiguous"):
    """``fn(lib, x)`` (an indexing expression): values, grads and grad_fn names as torch."""
    try:
        theirs = fn(torch, _operand(torch, array, layout))
    except Exception:  # noqa: BLE001 - then we must raise the same
        check_error(lambda lib: fn(lib, _operand(lib, array, layout)))
        return
    ours = fn(gputensor, _operand(gputensor, array, layout))
    assert _name(ours) == _name(theirs)
    if theirs.grad_fn is not None:  # the op before the last one too
        assert [_name_of(n) for n, _ in ours.grad_fn.next_functions] == \
            [_name_of(n) for n, _ in theirs.grad_fn.next_functions]
    check_op(fn, array, layout=layout)


def _name_of(node):
    return None if node is None else type(node).__name__


def t(lib, data, dtype=None):
    """An index tensor of ``lib`` (int64 unless data is bool or ``dtype`` says otherwise)."""
    return lib.tensor(data, dtype=None if dtype is None else getattr(lib, dtype))


GET = {  # name: (fn, input shape)
    "int": (lambda lib, x: x[1], (2, 3, 4)),
    "int_neg": (lambda lib, x: x[-1], (2, 3, 4)),
    "ints": (lambda lib, x: x[1, 2], (2, 3, 4)),
    "ints_all": (lambda lib, x: x[1, 2, -1], (2, 3, 4)),
    "numpy_int": (lambda lib, x: x[np.int64(1)], (2, 3, 4)),
    "tensor_0d_int": (lambda lib, x: x[t(lib, 1)], (2, 3, 4)),
    "tensor_0d_ints": (lambda lib, x: x[t(lib, 1), t(lib, -2)], (2, 3, 4)),
    "int_after_slice": (lambda lib, x: x[:, 1], (2, 3, 4)),
    "int_after_ellipsis": (lambda lib, x: x[..., -1], (2, 3, 4)),
    "int_slice_int": (lambda lib, x: x[1, :, 2], (2, 3, 4)),
    "slice": (lambda lib, x: x[1:], (3, 4)),
    "slice_full": (lambda lib, x: x[:], (3, 4)),
    "slice_full_tuple": (lambda lib, x: x[:, :], (3, 4)),
    "slice_full_comma": (lambda lib, x: x[:, ], (3, 4)),
    "slice_start_zero": (lambda lib, x: x[0:, 1], (3, 4)),
    "slice_stop_over": (lambda lib, x: x[:100, 1], (3, 4)),
    "slice_negative": (lambda lib, x: x[-2:, -10:3], (3, 4)),
    "slice_step": (lambda lib, x: x[:, ::2], (3, 5)),
    "slice_steps": (lambda lib, x: x[::2, 1:3, ::3], (3, 4, 5)),
    "slice_empty": (lambda lib, x: x[5:8], (3, 4)),
    "slice_reversed_bounds": (lambda lib, x: x[2:1], (3, 4)),
    "slice_tensor_bound": (lambda lib, x: x[t(lib, 1):], (3, 4)),
    "slice_1d_tensor_bound": (lambda lib, x: x[:t(lib, [2])], (3, 4)),
    "none": (lambda lib, x: x[None], (3, 4)),
    "none_middle": (lambda lib, x: x[:, None], (3, 4)),
    "none_around": (lambda lib, x: x[None, ..., None], (3, 4)),
    "none_then_int": (lambda lib, x: x[None, 0], (3, 4)),
    "int_then_none": (lambda lib, x: x[0, None], (3, 4)),
    "none_ellipsis_int": (lambda lib, x: x[..., None, 0], (2, 3, 4)),
    "ellipsis": (lambda lib, x: x[...], (3, 4)),
    "empty_tuple": (lambda lib, x: x[()], (3, 4)),
    "two_ellipses": (lambda lib, x: x[..., 0, ...], (2, 3, 4)),
    "true": (lambda lib, x: x[True], (3, 4)),
    "false": (lambda lib, x: x[False], (3, 4)),
    "true_int": (lambda lib, x: x[True, 0], (3, 4)),
    "tensor_0d_bool": (lambda lib, x: x[t(lib, True)], (3, 4)),
    "long": (lambda lib, x: x[t(lib, [2, 0, 2])], (3, 4)),
    "long_repeated": (lambda lib, x: x[t(lib, [1, 1, 1, 0])], (3, 4)),
    "long_negative": (lambda lib, x: x[t(lib, [-1, -3])], (3, 4)),
    "long_2d": (lambda lib, x: x[t(lib, [[0, 1], [2, 2]])], (3, 4)),
    "long_empty": (lambda lib, x: x[t(lib, [], "int64")], (3, 4)),
    "int32": (lambda lib, x: x[t(lib, [1, 0], "int32")], (3, 4)),
    "list": (lambda lib, x: x[[2, 0]], (3, 4)),
    "list_empty": (lambda lib, x: x[[]], (3, 4)),
    "list_bool": (lambda lib, x: x[:, [True, False, True, True]], (3, 4)),
    "numpy_array": (lambda lib, x: x[np.array([[0, 1], [1, 0]])], (3, 4)),
    "numpy_bool": (lambda lib, x: x[:, np.array([True, False, True])], (2, 3)),
    "long_dim1": (lambda lib, x: x[:, t(lib, [2, 0, 2])], (2, 3, 4)),
    "long_last": (lambda lib, x: x[..., t(lib, [3, 0])], (2, 3, 4)),
    "two_longs": (lambda lib, x: x[t(lib, [0, 1]), t(lib, [1, 2])], (2, 3, 4)),
    "lists": (lambda lib, x: x[[0, 1], [1, 2]], (2, 3, 4)),
    "longs_apart": (lambda lib, x: x[t(lib, [0, 1, 1]), :, t(lib, [3, 0, 3])], (2, 3, 4)),
    "longs_adjacent": (lambda lib, x: x[:, t(lib, [0, 2]), t(lib, [1, 3])], (2, 3, 4)),
    "longs_broadcast": (lambda lib, x: x[t(lib, [[0], [1]]), t(lib, [[0, 1, 2]])], (2, 3, 4)),
    "int_slice_long": (lambda lib, x: x[0, :, t(lib, [0, 2])], (2, 3, 4)),
    "long_slice_int": (lambda lib, x: x[t(lib, [1, 0]), :, 0], (2, 3, 4)),
    "int_long": (lambda lib, x: x[1, t(lib, [0, 2, 2])], (2, 3, 4)),
    "slice_long": (lambda lib, x: x[1:, t(lib, [0, 0, 2])], (3, 3, 4)),
    "slice_long_slice": (lambda lib, x: x[:, t(lib, [2, 1]), 1:3], (2, 3, 4)),
    "none_long": (lambda lib, x: x[None, t(lib, [1, 0])], (2, 3, 4)),
    "long_none": (lambda lib, x: x[t(lib, [1, 0]), None], (2, 3, 4)),
    "long_none_long": (lambda lib, x: x[t(lib, [0, 1]), None, t(lib, [1, 2])], (2, 3, 4)),
    "ellipsis_none_slice_long": (lambda lib, x: x[..., None, 1:3, t(lib, [[0], [1]])],
                                 (2, 3, 4)),
    "mask_full": (lambda lib, x: x[x > 0], (3, 4)),
    "mask_0_dim": (lambda lib, x: x[t(lib, [True, False, True])], (3, 4)),
    "mask_dim1": (lambda lib, x: x[:, t(lib, [True, False, True])], (2, 3, 4)),
    "mask_last": (lambda lib, x: x[..., t(lib, [False, True, True, False])], (2, 3, 4)),
    "mask_2d": (lambda lib, x: x[t(lib, [[True, False, True], [False, True, True]])],
                (2, 3, 4)),
    "mask_2d_int": (lambda lib, x: x[t(lib, [[True, False, True], [False, True, True]]), 0],
                    (2, 3, 4)),
    "mask_2d_long": (lambda lib, x: x[t(lib, [[True, False], [True, True]]), t(lib, [0, 1, 1])],
                     (2, 2, 4)),
    "mask_dim1_2d": (lambda lib, x: x[:, t(lib, [[True, False, True, True]] * 3)], (2, 3, 4)),
    "mask_none_true": (lambda lib, x: x[t(lib, [False, False, False])], (3, 4)),
    "mask_and_long": (lambda lib, x: x[t(lib, [True, True]), t(lib, [0, 2])], (2, 3, 4)),
    "0d_none": (lambda lib, x: x[None], ()),
    "0d_ellipsis": (lambda lib, x: x[...], ()),
    "0d_true": (lambda lib, x: x[True], ()),
    "0d_mask": (lambda lib, x: x[x > 0], ()),
    "empty_int": (lambda lib, x: x[:, 1], (0, 3)),
    "empty_long": (lambda lib, x: x[t(lib, [], "int64")], (0, 3)),
    "empty_mask": (lambda lib, x: x[x > 0], (0, 3)),
    "empty_long_dim1": (lambda lib, x: x[:, t(lib, [2, 0])], (0, 3)),
    "empty_result_bad_index": (lambda lib, x: x[t(lib, [7])], (2, 0)),
    "vector_repeats": (lambda lib, x: x[t(lib, [0, 0, 3, 0, 3])], (5,)),
    "vector_every_way": (lambda lib, x: x[1:][::2][t(lib, [1, 0, 1])][None], (6,)),
}


@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", list(GET))
def test_getitem(name, layout):
    fn, shape = GET[name]
    compare_get(fn, rand_array(shape), layout=layout)


@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")
@pytest.mark.parametrize("name", ["list_of_lists", "list_with_slice", "list_with_none"])
def test_lists_read_as_tuples(name):
    fn = {"list_of_lists": lambda lib, x: x[[[0, 1], [1, 2]]],
          "list_with_slice": lambda lib, x: x[[slice(0, 1), 2]],
          "list_with_none": lambda lib, x: x[[None, 1]]}[name]
    compare_get(fn, rand_array((2, 3, 4)))


@pytest.mark.filterwarnings("ignore:indexing with dtype")
def test_uint8_mask():
    check_op(lambda lib, x: x[t(lib, [1, 0, 1], "uint8")], rand_array((3, 2)))


@pytest.mark.parametrize("dtype", ["int64", "bool", "float64", "int32"])
def test_getitem_other_dtypes(dtype):
    for name in ("int_slice_int", "longs_apart", "mask_dim1", "none_long"):
        compare_get(GET[name][0], rand_array(GET[name][1], dtype))


def test_repeated_indices_accumulate():
    for lib in (gputensor, torch):
        x = lib.zeros(4, requires_grad=True)
        x[t(lib, [0, 0, 3, 0])].sum().backward()
        assert x.grad.tolist() == [3.0, 0.0, 0.0, 1.0]
    check_op(lambda lib, x: x[t(lib, [[1, 1], [0, 1]]), :, t(lib, [2, 2])] * 3,
             rand_array((2, 3, 4)))


# ---- views -----------------------------------------------------------------------------------

BASIC = {
    "int": lambda x: x[1],
    "slice": lambda x: x[:, 1:3],
    "step": lambda x: x[::2, :, ::3],
    "none": lambda x: x[None, 1],
    "ellipsis": lambda x: x[...],
    "mixed": lambda x: x[1, None, ..., 1:],
    "tensor_0d": lambda x: x[t(gputensor if isinstance(x, gputensor.Tensor) else torch, 0)],
}


@pytest.mark.parametrize("name", list(BASIC))
def test_basic_indexing_gives_views(name):
    results = {}
    for lib in (gputensor, torch):
        x = lib.tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
        y = BASIC[name](x)
        assert y._base is x and y is not x
        y.mul_(-1)
        assert _version(x) == _version(y) == 1
        x.add_(100)
        assert _version(y) == 2
        results[lib] = (x.numpy().copy(), y.numpy().copy())
    for ours, theirs in zip(results[gputensor], results[torch]):
        np.testing.assert_array_equal(ours, theirs)


def test_advanced_indexing_copies():
    for lib in (gputensor, torch):
        x = lib.zeros(3, 4)
        y = x[t(lib, [0, 1])]
        z = x[x >= 0]
        assert y._base is None and z._base is None and y.is_contiguous()
        y.add_(1)
        z.add_(1)
        assert x.sum().item() == 0 and _version(x) == 0


def test_iterating_gives_views():
    for lib in (gputensor, torch):
        x = lib.ones(3, 2, requires_grad=True)
        rows = list(x)
        assert all(r._base is x for r in rows)
        (rows[0] * 1 + rows[2] * 2).sum().backward()
        assert x.grad.tolist() == [[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]]


# ---- getitem errors --------------------------------------------------------------------------

GET_ERRORS = {
    "int_range": lambda lib, x: x[5],
    "int_range_neg": lambda lib, x: x[-3],
    "int_range_dim1": lambda lib, x: x[:, 5],
    "int_range_after_none": lambda lib, x: x[None, 5],
    "int_range_after_ellipsis": lambda lib, x: x[..., 5],
    "too_many": lambda lib, x: x[0, 0, 0, 0],
    "too_many_slices": lambda lib, x: x[1:2, :, :, :],
    "too_many_tensors": lambda lib, x: x[t(lib, [0]), t(lib, [0]), t(lib, [0]), t(lib, [0])],
    "negative_step": lambda lib, x: x[::-1],
    "negative_step_tuple": lambda lib, x: x[:, ::-2],
    "zero_step": lambda lib, x: x[::0],
    "float_slice": lambda lib, x: x[1:2:1.5],
    "float": lambda lib, x: x[1.5],
    "float_in_tuple": lambda lib, x: x[1.5, t(lib, [0])],
    "string": lambda lib, x: x["a"],
    "dict": lambda lib, x: x[0, {}],
    "float_tensor": lambda lib, x: x[t(lib, [1.0])],
    "float_tensor_0d": lambda lib, x: x[t(lib, 1.0)],
    "int16_tensor": lambda lib, x: x[t(lib, [1], "int16")],
    "long_range": lambda lib, x: x[t(lib, [0, 5])],
    "long_range_neg": lambda lib, x: x[t(lib, [-3])],
    "long_range_dim1": lambda lib, x: x[:, t(lib, [3])],
    "long_range_last": lambda lib, x: x[..., t(lib, [7])],
    "long_range_second": lambda lib, x: x[t(lib, [0]), :, t(lib, [7])],
    "long_range_first_bad": lambda lib, x: x[t(lib, [0, 5]), t(lib, [9, 0])],
    "long_range_order": lambda lib, x: x[t(lib, [5, 0]), t(lib, [0, 9])],
    "long_range_after_int": lambda lib, x: x[0, t(lib, [-7])],
    "list_range": lambda lib, x: x[[0, 5]],
    "broadcast": lambda lib, x: x[t(lib, [0, 1]), t(lib, [0, 1, 2])],
    "broadcast_mask": lambda lib, x: x[t(lib, [[True, False, True], [False, True, True]]),
                                       t(lib, [0, 1])],
    "mask_shape": lambda lib, x: x[t(lib, [True, False, True])],
    "mask_shape_dim1": lambda lib, x: x[:, t(lib, [True, False])],
    "mask_shape_after_int": lambda lib, x: x[0, t(lib, [True, False])],
    "mask_shape_2d": lambda lib, x: x[t(lib, [[True] * 4] * 2)],
    "mask_shape_second": lambda lib, x: x[t(lib, [True, False]), t(lib, [True, False])],
    "type_before_mask": lambda lib, x: x[t(lib, [True]), t(lib, [1.0])],
    "mask_before_broadcast": lambda lib, x: x[t(lib, [True]), t(lib, [0, 1, 2])],
    "0d_int": lambda lib, x: x.sum()[0],
    "0d_int_other": lambda lib, x: x.sum()[1],
    "0d_int_negative": lambda lib, x: x.sum()[-1],
    "0d_tuple": lambda lib, x: x.sum()[(0,)],
    "0d_slice": lambda lib, x: x.sum()[0:1],
    "0d_none_int": lambda lib, x: x.sum()[None, 0],
}


@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")
@pytest.mark.parametrize("name", list(GET_ERRORS))
def test_getitem_errors(name):
    array = rand_array((2, 3, 4))
    check_error(lambda lib: GET_ERRORS[name](lib, lib.tensor(array)))


# ---- setitem ---------------------------------------------------------------------------------

def _run_set(lib, index, value, shape, dtype, layout, x_grad):
    """x[index] = value on a fresh x; what torch would let one observe afterwards."""
    rng = np.random.default_rng(3)
    leaf, x = make_input(lib, rand_array(shape, dtype, rng=rng), layout, x_grad)
    if x_grad:
        x = x * 1
    v_leaf = None
    if isinstance(value, np.ndarray):
        v_leaf = lib.tensor(value, requires_grad=value.dtype.kind == "f")
        value = v_leaf * 1 if value.dtype.kind == "f" else v_leaf
    x[index(lib) if callable(index) else index] = value
    seen = [tuple(x.shape), x.detach().numpy().tolist(), leaf.detach().numpy().tolist(),
            _name(x), _version(x), _name(leaf)]  # a written view's base records the write
    if x.requires_grad:
        seed = lib.tensor(rng.uniform(-1, 1, shape).astype(np.float32), dtype=x.dtype)
        (x * seed).sum().backward()
        for source in (leaf, v_leaf):
            if source is not None and source.requires_grad and source.is_leaf:
                seen.append(None if source.grad is None else source.grad.numpy().tolist())
    return seen


def compare_set(index, value, shape=(3, 4), dtype="float32", layout="contiguous",
                x_grad=False):
    """Values, grad_fn name, version and gradients after ``x[index] = value``, as torch."""
    try:
        theirs = _run_set(torch, index, value, shape, dtype, layout, x_grad)
    except Exception:  # noqa: BLE001 - then we must raise the same
        check_error(lambda lib: _run_set(lib, index, value, shape, dtype, layout, x_grad))
        return
    ours = _run_set(gputensor, index, value, shape, dtype, layout, x_grad)
    assert ours[0] == theirs[0] and ours[3:6] == theirs[3:6]
    np.testing.assert_allclose(np.asarray(ours[1], float), np.asarray(theirs[1], float),
                               rtol=1e-6)
    np.testing.assert_allclose(np.asarray(ours[2], float), np.asarray(theirs[2], float),
                               rtol=1e-6)
    assert len(ours) == len(theirs)
    for o, th in zip(ours[6:], theirs[6:]):
        np.testing.assert_allclose(np.asarray(o, float), np.asarray(th, float), rtol=1e-5,
                                   atol=1e-6)


def ar(*shape, dtype="float32"):
    """A value array with distinct entries."""
    return np.arange(np.prod(shape), dtype=dtype).reshape(shape) + 1


SET = {  # name: (index, value, x shape)
    "int": (0, ar(4), (3, 4)),
    "int_number": (1, 2.5, (3, 4)),
    "int_number_int": (1, 7, (3, 4)),
    "int_scalar_tensor": (-1, ar(1).reshape(()), (3, 4)),
    "int_broadcast": (0, ar(1), (3, 4)),
    "int_lead_ones": (0, ar(1, 1, 4), (3, 4)),
    "column": ((slice(None), 1), ar(3), (3, 4)),
    "column_lead_one": ((slice(None), 0), ar(1, 3), (3, 4)),
    "block": ((slice(1, None), slice(1, 3)), ar(2, 1), (3, 4)),
    "step": ((slice(None, None, 2), slice(None, None, 3)), ar(2, 2), (3, 4)),
    "slice_rows": (slice(1, None), ar(4), (3, 4)),
    "slice_full": (slice(None), ar(4), (3, 4)),
    "slice_over": (slice(0, 100), ar(4), (3, 4)),
    "ellipsis": (Ellipsis, ar(3, 4), (3, 4)),
    "ellipsis_number": (Ellipsis, -1.0, (3, 4)),
    "ellipsis_int": ((Ellipsis, 1), ar(1).reshape(()), (3, 4)),
    "none": (None, ar(4), (3, 4)),
    "true": (True, ar(1, 3, 4), (3, 4)),
    "false": (False, ar(5, 5), (3, 4)),
    "true_int": ((True, 0), ar(4), (3, 4)),
    "long": (lambda lib: t(lib, [0, 2]), ar(4), (3, 4)),
    "long_rows": (lambda lib: t(lib, [2, 0]), ar(2, 4), (3, 4)),
    "long_lead_ones": (lambda lib: t(lib, [0, 2]), ar(1, 1, 4), (3, 4)),
    "long_number": (lambda lib: t(lib, [0, 2]), 3.0, (3, 4)),
    "list": ([1, 0], ar(2, 1), (3, 4)),
    "longs": (lambda lib: (t(lib, [0, 1]), t(lib, [1, 2])), ar(2), (3, 4)),
    "int_long": (lambda lib: (0, t(lib, [1, 3])), ar(2), (3, 4)),
    "slice_long": (lambda lib: (slice(1, None), t(lib, [3, 0])), ar(2, 2), (3, 4)),
    "long_slice_int": (lambda lib: (t(lib, [1, 0]), slice(None), 0), ar(2, 3), (2, 3, 4)),
    "mask_rows": (lambda lib: t(lib, [True, False, True]), ar(4), (3, 4)),
    "mask_scalar": (lambda lib: t(lib, [True, False, True]), ar(1).reshape(()), (3, 4)),
    "mask_2d": (lambda lib: t(lib, [[True] * 4, [False] * 4, [True, False] * 2]), ar(6),
                (3, 4)),
    "mask_after_int": (lambda lib: (0, t(lib, [True, False, True, True])), ar(1).reshape(()),
                       (3, 4)),
    "mask_list_dim1": ((slice(None), [True, False, True, True]), ar(3, 1), (3, 4)),
    "mask_nothing": (lambda lib: t(lib, [False] * 3), ar(4), (3, 4)),
    "empty_index": (lambda lib: t(lib, [], "int64"), ar(4), (3, 4)),
    "empty_rows_bad_index": (lambda lib: (slice(3, None), t(lib, [9])), ar(1), (3, 4)),
    "cast_int_value": (0, ar(4, dtype="int64"), (3, 4)),
    "cast_double_value": (0, ar(4, dtype="float64"), (3, 4)),
    "bool_tensor_value": (0, np.array([True, False, True, True]), (3, 4)),
    "0d_ellipsis": (Ellipsis, ar(1).reshape(()), ()),
    "0d_none": (None, ar(1), ()),
}


@pytest.mark.filterwarnings("ignore:Use of (index_put_|masked_fill_) on expanded")
@pytest.mark.parametrize("x_grad", [False, True])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", list(SET))
def test_setitem(name, layout, x_grad):
    index, value, shape = SET[name]
    compare_set(index, value, shape, layout=layout, x_grad=x_grad)


@pytest.mark.parametrize("dtype", ["int64", "bool", "float64"])
@pytest.mark.parametrize("value", [1.7, -1.7, 2, True])
def test_setitem_numbers_into_other_dtypes(dtype, value):
    compare_set(0, value, dtype=dtype)
    compare_set(lambda lib: t(lib, [0, 2]), value, dtype=dtype)


def test_setitem_tracks_history_and_views():
    for lib in (gputensor, torch):
        a = lib.ones(3, 4, requires_grad=True)
        w = lib.full((4,), 5.0, requires_grad=True)
        x = a * 2
        y = x[1]  # a view taken before the write still sees it
        x[0] = w
        x[t(lib, [2])] = w * 3
        assert _name(x) == "IndexPutBackward0" and y._base is x
        x.sum().backward()
        assert a.grad.tolist() == [[0.0] * 4, [2.0] * 4, [0.0] * 4]
        assert w.grad.tolist() == [4.0] * 4


@pytest.mark.parametrize("chain", ["rows", "transposed", "expanded"])
def test_writing_a_view_rebases_its_base(chain):
    def run(lib):
        a = lib.tensor(np.arange(12, dtype=np.float32).reshape(3, 4), requires_grad=True)
        w = lib.tensor([10.0, 20.0], requires_grad=True)
        base = a * 2
        view = {"rows": lambda: base[1], "transposed": lambda: base.t()[1:],
                "expanded": lambda: base[:1].expand(2, 4)}[chain]()
        if chain == "rows":
            view[1:3] = w
        else:
            view[0, 1:3] = w
        names = (_name(base), _name(view))
        loss = (base * lib.arange(12.0).view(3, 4)).sum() + (view * view).sum()
        loss.backward()
        return names, base.tolist(), view.tolist(), a.grad.tolist(), w.grad.tolist()
    assert run(gputensor) == run(torch)


def test_chained_indexing_assignment():
    for lib in (gputensor, torch):
        out = lib.zeros(2, 3)
        w = lib.tensor(4.0, requires_grad=True)
        out[1][2] = w * 2
        assert _name(out) == "CopySlices"
        out.sum().backward()
        assert w.grad.item() == 2.0 and out[1, 2].item() == 8.0


def test_setitem_through_a_view_writes_the_base():
    for lib in (gputensor, torch):
        base = lib.zeros(3, 4)
        view = base.t()[1:]
        view[0, t(lib, [0, 2])] = 7.0
        view[-1] = 1.0
        assert base.tolist() == [[0.0, 7.0, 0.0, 1.0], [0.0, 0.0, 0.0, 1.0],
                                 [0.0, 7.0, 0.0, 1.0]]
        assert _version(base) == 2


def test_setitem_in_no_grad_mode_on_a_leaf():
    for lib in (gputensor, torch):
        x = lib.zeros(3, requires_grad=True)
        with lib.no_grad():
            x[0] = 5
            x[t(lib, [2])] = 1
        assert x.tolist() == [5.0, 0.0, 1.0] and x.grad_fn is None and x.requires_grad


SET_ERRORS = {  # name: (index, value, x shape, x requires grad as a leaf)
    "leaf_view": (0, 1.0, (3,), True),
    "leaf_index": (lambda lib: t(lib, [0]), 1.0, (3,), True),
    "leaf_ellipsis": (Ellipsis, 1.0, (3,), True),
    "leaf_false_is_fine": (False, 1.0, (3,), True),
    "leaf_before_put_shape": (lambda lib: t(lib, [0]), ar(3), (3, 4), True),
    "leaf_before_put_range": (lambda lib: t(lib, [7]), 1.0, (3, 4), True),
    "copy_shape_before_leaf": (0, ar(3), (3, 4), True),
    "copy_shape": (0, ar(3), (3, 4), False),
    "copy_too_many_dims": (0, ar(2, 4), (3, 4), False),
    "copy_lead_ones_shape": (0, ar(1, 1, 3), (3, 4), False),
    "copy_whole": (Ellipsis, ar(2, 3, 4), (3, 4), False),
    "copy_none": (None, ar(2, 3, 4), (3, 4), False),
    "put_shape": (lambda lib: t(lib, [0, 2]), ar(3), (3, 4), False),
    "put_shape_2d": (lambda lib: t(lib, [0, 2]), ar(2, 3), (3, 4), False),
    "put_shape_mask": (lambda lib: t(lib, [True, False, True]), ar(3), (3, 4), False),
    "put_shape_before_dtype": (lambda lib: t(lib, [0, 2]), ar(2, 3, dtype="int64"), (3, 4),
                               False),
    "put_dtype": (lambda lib: t(lib, [0, 2]), ar(4, dtype="int64"), (3, 4), False),
    "put_dtype_double": (lambda lib: t(lib, [0, 2]), ar(4, dtype="float64"), (3, 4), False),
    "put_shape_before_range": (lambda lib: t(lib, [9]), ar(3), (3, 4), False),
    "put_range": (lambda lib: t(lib, [9]), ar(4), (3, 4), False),
    "put_range_list": ([0, 5], 1.0, (3, 4), False),
    "put_range_after_slice": (lambda lib: (slice(2, None), t(lib, [9])), ar(1), (3, 4), False),
    "int_range": (5, 1.0, (3, 4), False),
    "negative_step": (slice(None, None, -1), 1.0, (3, 4), False),
    "float_index": (1.5, 1.0, (3, 4), False),
    "value_str": (0, "a", (3, 4), False),
    "value_list": (0, [1, 2, 3, 4], (3, 4), False),
    "value_ndarray": (0, np.ones(4), (3, 4), False),
    "value_none": (0, None, (3, 4), False),
    "value_float32_scalar": (0, np.float32(2.5), (3, 4), False),
    "value_before_index": (5, "a", (3, 4), False),
    "0d_int": (0, 1.0, (), False),
    "0d_slice": (slice(None), ar(1), (), False),
}


@pytest.mark.parametrize("name", list(SET_ERRORS))
def test_setitem_errors(name):
    index, value, shape, leaf_grad = SET_ERRORS[name]

    def fn(lib):
        x = lib.zeros(shape, requires_grad=leaf_grad)
        v = lib.tensor(value) if isinstance(value, np.ndarray) and value.ndim > 0 and \
            name != "value_ndarray" else value
        x[index(lib) if callable(index) else index] = v
        if name == "leaf_false_is_fine":
            raise RuntimeError("no error, as torch")
    check_error(fn)


OVERLAP = {  # x = arange(6).view(2, 3); x[index] = value(x)
    "same_row": (0, lambda x: x[0]),
    "other_row": (0, lambda x: x[1]),
    "whole": (slice(None), lambda x: x),
    "shifted": ((0, slice(0, 2)), lambda x: x[0, 1:]),
    "columns_not_dense": ((slice(None), 0), lambda x: x[:, 1]),
    "scalar_of_itself": (0, lambda x: x[0, 1]),
    "put_overlapping": ([0], lambda x: x[1]),
    "put_itself": ([0], lambda x: x[0]),
    "put_elsewhere": ([0], lambda x: x[1].clone()),
    "put_flat": (lambda lib: t(lib, [0, 1]), lambda x: x.view(-1)[3:]),
    "put_overlap_before_bounds": (lambda lib: t(lib, [0, 1, 2]), lambda x: x.view(-1)[3:]),
}


@pytest.mark.parametrize("name", list(OVERLAP))
def test_setitem_with_overlapping_memory(name):
    index, value = OVERLAP[name]

    def fn(lib):
        x = lib.arange(6.0).view(2, 3)
        x[index(lib) if callable(index) else index] = value(x)
        return x
    try:
        expected = fn(torch)
    except RuntimeError:
        check_error(fn)
        return
    assert fn(gputensor).tolist() == expected.tolist()


def test_setitem_expanded_target_raises():
    check_error(lambda lib: lib.ones(3, 1).expand(3, 4).__setitem__(0, 2.0))


# ---- random mixtures --------------------------------------------------------------------------

def _random_index(rng, lib, shape):
    """A random tuple index mixing every kind of item (valid or not, as it comes)."""
    items = []
    for i in range(rng.randrange(1, 4)):
        n = shape[min(i, len(shape) - 1)] if shape else 1
        kind = rng.randrange(9)
        if kind == 0:
            items.append(rng.randrange(-n - 1, n + 1))
        elif kind == 1:
            items.append(slice(rng.choice([None, rng.randrange(-4, 5)]),
                               rng.choice([None, rng.randrange(-4, 6)]),
                               rng.choice([None, 1, 2, 3])))
        elif kind == 2:
            items.append(rng.choice([None, Ellipsis, True, False]))
        elif kind in (3, 4):
            items.append(lib.tensor([rng.randrange(-n, n) for _ in range(rng.randrange(4))]
                                    if n else [], dtype=lib.int64))
        elif kind == 5:
            items.append(lib.tensor([rng.random() < 0.5 for _ in range(n)], dtype=lib.bool))
        elif kind == 6:
            items.append([rng.randrange(-n, n) for _ in range(2)] if n else [])
        else:
            items.append(lib.tensor([[rng.randrange(-n, n)] for _ in range(2)] if n else [[0]]))
    return tuple(items)


def _random_case(case):
    rng = random.Random(case)
    shape = rng.choice([(2, 3, 4), (3, 4), (4,), (), (0, 3), (2, 1, 3)])
    return rng, rand_array(shape, rng=np.random.default_rng(case)), rng.choice(LAYOUTS)


def _outcome(fn, *args):
    try:
        return fn(*args)
    except Exception as e:  # noqa: BLE001 - errors must match too
        return ("error", type(e).__name__, str(e).replace("gputensor", "torch"))


def _get_outcome(lib, case):
    rng, array, layout = _random_case(case)
    leaf, x = make_input(lib, array, layout, True)
    y = x[_random_index(rng, lib, array.shape)]
    seed = np.random.default_rng(1).uniform(-1, 1, tuple(y.shape)).astype(np.float32)
    (y * lib.tensor(seed)).sum().backward()
    return (tuple(y.shape), y.detach().numpy().round(5).tolist(), _name(y),
            None if leaf.grad is None else leaf.grad.numpy().round(4).tolist())


@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")
@pytest.mark.parametrize("start", range(0, 600, 100))
def test_random_getitem_matches_torch(start):
    for case in range(start, start + 100):
        ours = _outcome(_get_outcome, gputensor, case)
        assert ours == _outcome(_get_outcome, torch, case), case


def _set_outcome(lib, case):
    rng, array, layout = _random_case(case)
    x_grad, value_kind = rng.random() < 0.5, rng.randrange(3)
    leaf, x = make_input(lib, array, layout, x_grad)
    x = x * 1 if x_grad else x
    index = _random_index(rng, lib, array.shape)
    shape = _outcome(lambda: tuple(x[index].shape))
    shape = (2,) if shape[0] == "error" else shape if value_kind == 1 else shape[1:]
    v_leaf = lib.tensor(np.random.default_rng(case).uniform(-1, 1, shape).astype(np.float32),
                        requires_grad=True)
    x[index] = 2.5 if value_kind == 0 else v_leaf * 1
    seen = [tuple(x.shape), x.detach().numpy().round(5).tolist(), _name(x), _name(leaf),
            leaf.detach().numpy().round(5).tolist()]
    if x.requires_grad:
        seed = np.random.default_rng(1).uniform(-1, 1, tuple(x.shape)).astype(np.float32)
        (x * lib.tensor(seed)).sum().backward()
        for t_ in (leaf, v_leaf):
            grad = t_.grad if t_.is_leaf else None
            seen.append(None if grad is None else grad.numpy().round(4).tolist())
    return seen


@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence",
                            "ignore:Use of (index_put_|masked_fill_) on expanded")
@pytest.mark.parametrize("start", range(0, 600, 100))
def test_random_setitem_matches_torch(start):
    for case in range(start, start + 100):
        ours = _outcome(_set_outcome, gputensor, case)
        assert ours == _outcome(_set_outcome, torch, case), case
