"""Indexing compared with torch: ``x[index]`` (``x[index] = value`` is in test_setitem.py).

Values, grad_fn names, gradients (repeated indices accumulate), views sharing storage and
version counter, and torch's errors, over every memory layout.
"""

import random

import numpy as np
import pytest
import torch

import gputensor
from helpers import (
    LAYOUTS,
    LIBS,
    assert_on,
    check_error,
    check_op,
    made_on,
    make_input,
    rand_array,
    run_on,
    to_numpy,
    torch_text,
)


def _name(t):
    return None if t.grad_fn is None else type(t.grad_fn).__name__


def _version(t):
    return t._version if isinstance(t, torch.Tensor) else t._version.value


def _operand(lib, array, layout, device, grad=True):
    return make_input(lib, array, layout, grad and array.dtype.kind == "f", device)[1]


def compare_get(fn, array, device, layout="contiguous"):
    """``fn(lib, x)`` (an indexing expression): values, grads and grad_fn names as torch."""
    try:
        theirs = fn(torch, _operand(torch, array, layout, "cpu"))
    except Exception:  # noqa: BLE001 - then we must raise the same
        check_error(lambda lib: fn(lib, _operand(lib, array, layout, device)), device=device)
        return
    ours = run_on(gputensor, device, lambda lib: fn(lib, _operand(lib, array, layout, device)))
    if theirs.grad_fn is not None:  # the op before the last one too
        assert [_name_of(n) for n, _ in ours.grad_fn.next_functions] == \
            [_name_of(n) for n, _ in theirs.grad_fn.next_functions]
    check_op(fn, array, layout=layout, device=device)


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
def test_getitem(name, layout, device):
    fn, shape = GET[name]
    compare_get(fn, rand_array(shape), layout=layout, device=device)


@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")
@pytest.mark.parametrize("name", ["list_of_lists", "list_with_slice", "list_with_none"])
def test_lists_read_as_tuples(name, device):
    fn = {"list_of_lists": lambda lib, x: x[[[0, 1], [1, 2]]],
          "list_with_slice": lambda lib, x: x[[slice(0, 1), 2]],
          "list_with_none": lambda lib, x: x[[None, 1]]}[name]
    compare_get(fn, rand_array((2, 3, 4)), device=device)


@pytest.mark.filterwarnings("ignore:indexing with dtype")
def test_uint8_mask(device):
    check_op(lambda lib, x: x[t(lib, [1, 0, 1], "uint8")], rand_array((3, 2)), device=device)


@pytest.mark.parametrize("dtype", ["int64", "bool", "float64", "int32"])
def test_getitem_other_dtypes(dtype, device):
    for name in ("int_slice_int", "longs_apart", "mask_dim1", "none_long"):
        compare_get(GET[name][0], rand_array(GET[name][1], dtype), device=device)


def test_repeated_indices_accumulate(device):
    for lib in LIBS:
        with made_on(lib, device):
            x = lib.zeros(4, requires_grad=True)
            x[t(lib, [0, 0, 3, 0])].sum().backward()
            assert x.grad.tolist() == [3.0, 0.0, 0.0, 1.0]
    check_op(lambda lib, x: x[t(lib, [[1, 1], [0, 1]]), :, t(lib, [2, 2])] * 3,
             rand_array((2, 3, 4)), device=device)


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
def test_basic_indexing_gives_views(name, device):
    results = {}
    for lib in LIBS:
        with made_on(lib, device):
            x = lib.tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
            y = BASIC[name](x)
            assert y._base is x and y is not x
            y.mul_(-1)
            assert _version(x) == _version(y) == 1
            x.add_(100)
            assert _version(y) == 2
            results[lib] = (to_numpy(x).copy(), to_numpy(y).copy())
    for ours, theirs in zip(results[gputensor], results[torch]):
        np.testing.assert_array_equal(ours, theirs)


def test_advanced_indexing_copies(device):
    for lib in LIBS:
        with made_on(lib, device):
            x = lib.zeros(3, 4)
            y = x[t(lib, [0, 1])]
            z = x[x >= 0]
            assert y._base is None and z._base is None and y.is_contiguous()
            y.add_(1)
            z.add_(1)
            assert x.sum().item() == 0 and _version(x) == 0


def test_iterating_gives_views(device):
    for lib in LIBS:
        with made_on(lib, device):
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
def test_getitem_errors(name, device):
    array = rand_array((2, 3, 4))
    check_error(lambda lib: GET_ERRORS[name](lib, lib.tensor(array)), device=device)


# ---- random mixtures (shared with test_setitem.py) ---------------------------------------------

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
        return ("error", type(e).__name__, torch_text(str(e)))


def _get_outcome(lib, case, device):
    rng, array, layout = _random_case(case)
    with made_on(lib, device):
        leaf, x = make_input(lib, array, layout, True, device)
        y = x[_random_index(rng, lib, array.shape)]
        seed = np.random.default_rng(1).uniform(-1, 1, tuple(y.shape)).astype(np.float32)
        (y * lib.tensor(seed)).sum().backward()
    assert_on(y, device)
    return (tuple(y.shape), to_numpy(y).round(5).tolist(), _name(y),
            None if leaf.grad is None else to_numpy(leaf.grad).round(4).tolist())


@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")
@pytest.mark.parametrize("start", range(0, 600, 100))
def test_random_getitem_matches_torch(start, device):
    for case in range(start, start + 100):
        ours = _outcome(_get_outcome, gputensor, case, device)
        assert ours == _outcome(_get_outcome, torch, case, "cpu"), case
