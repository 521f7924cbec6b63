"""``x[index] = value`` compared with torch.

Values, grad_fn names (IndexPutBackward0, CopySlices, ...), versions, gradients and torch's
errors, over every memory layout; writing through views rebases their bases.
"""

import numpy as np
import pytest
import torch
from test_indexing import _name, _outcome, _random_case, _random_index, _version, t

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
)


def _run_set(lib, index, value, shape, dtype, layout, x_grad, device):
    """x[index] = value on a fresh x; what torch would let one observe afterwards."""
    rng = np.random.default_rng(3)
    leaf, x = make_input(lib, rand_array(shape, dtype, rng=rng), layout, x_grad, device)
    if x_grad:
        x = x * 1
    v_leaf = None
    if isinstance(value, np.ndarray):
        v_leaf = lib.tensor(value, requires_grad=value.dtype.kind == "f")
        value = v_leaf * 1 if value.dtype.kind == "f" else v_leaf
    x[index(lib) if callable(index) else index] = value
    assert_on(x, device)
    seen = [tuple(x.shape), to_numpy(x).tolist(), to_numpy(leaf).tolist(),
            _name(x), _version(x), _name(leaf)]  # a written view's base records the write
    if x.requires_grad:
        seed = lib.tensor(rng.uniform(-1, 1, shape).astype(np.float32), dtype=x.dtype)
        (x * seed).sum().backward()
        for source in (leaf, v_leaf):
            if source is not None and source.requires_grad and source.is_leaf:
                seen.append(None if source.grad is None else to_numpy(source.grad).tolist())
    return seen


def compare_set(index, value, shape=(3, 4), dtype="float32", layout="contiguous",
                x_grad=False, *, device):
    """Values, grad_fn name, version and gradients after ``x[index] = value``, as torch."""
    args = (index, value, shape, dtype, layout, x_grad)
    try:
        theirs = _run_set(torch, *args, "cpu")
    except Exception:  # noqa: BLE001 - then we must raise the same
        check_error(lambda lib: _run_set(lib, *args, device), device=device)
        return
    ours = run_on(gputensor, device, _run_set, *args, device)
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
def test_setitem(name, layout, x_grad, device):
    index, value, shape = SET[name]
    compare_set(index, value, shape, layout=layout, x_grad=x_grad, device=device)


@pytest.mark.parametrize("dtype", ["int64", "bool", "float64"])
@pytest.mark.parametrize("value", [1.7, -1.7, 2, True])
def test_setitem_numbers_into_other_dtypes(dtype, value, device):
    compare_set(0, value, dtype=dtype, device=device)
    compare_set(lambda lib: t(lib, [0, 2]), value, dtype=dtype, device=device)


def test_setitem_tracks_history_and_views(device):
    for lib in LIBS:
        with made_on(lib, device):
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
def test_writing_a_view_rebases_its_base(chain, device):
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
    assert run_on(gputensor, device, run) == run(torch)


def view_set_cases():
    """(base, view) after writing the view: bases made from transposed inputs are not contiguous."""
    def row_slice(lib, x, z):
        y = x * 1
        v = y[1]
        v[1:3] = z[0, :2] * 2
        return y, v

    def transposed_view_index(lib, x, z):
        y = x * 1
        v = y.t()[1:]
        v[t(lib, [0, 2]), 1] = z[0, :2] * 3
        return y, v

    def column_fill(lib, x, z):
        y = x * 1
        v = y[:, 2]
        v[...] = z[1, 1]
        return y, v

    def chained(lib, x, z):
        y = x.t() * 1
        v = y[0]
        v[t(lib, [1, 2])] = z[1, :2]
        return y, v
    return [row_slice, transposed_view_index, column_fill, chained]


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "strided"])
@pytest.mark.parametrize("fn", view_set_cases(), ids=lambda f: f.__name__)
def test_setitem_through_views_of_any_base(fn, layout, device):
    """Values, gradients and grad_fn names (CopySlices, AsStridedBackward0) as torch."""
    x, z = rand_array((3, 4)), rand_array((3, 4))
    check_op(lambda lib, x, z: (lambda y, v: y.exp() + v.sum())(*fn(lib, x, z)), x, z,
             layout=layout, device=device)
    names = []
    for lib in LIBS:
        operands = [make_input(lib, a, layout, True, device)[1] for a in (x, z)]
        names.append([_name(out) for out in run_on(lib, device, fn, *operands)])
    assert names[0] == names[1]


def test_chained_indexing_assignment(device):
    for lib in LIBS:
        with made_on(lib, device):
            out = lib.zeros(2, 3)
            w = lib.tensor(4.0, requires_grad=True)
            out[1][2] = w * 2
            assert _name(out) == "CopySlices"
            out.sum().backward()
            assert w.grad.item() == 2.0 and out[1, 2].item() == 8.0


def test_setitem_through_a_view_writes_the_base(device):
    for lib in LIBS:
        with made_on(lib, device):
            base = lib.zeros(3, 4)
            view = base.t()[1:]
            view[0, t(lib, [0, 2])] = 7.0
            view[-1] = 1.0
            assert base.tolist() == [[0.0, 7.0, 0.0, 1.0], [0.0, 0.0, 0.0, 1.0],
                                     [0.0, 7.0, 0.0, 1.0]]
            assert _version(base) == 2


def test_setitem_in_no_grad_mode_on_a_leaf(device):
    for lib in LIBS:
        with made_on(lib, device):
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
def test_setitem_errors(name, device):
    index, value, shape, leaf_grad = SET_ERRORS[name]

    def fn(lib):
        x = lib.zeros(shape, requires_grad=leaf_grad)
        v = lib.tensor(value) if isinstance(value, np.ndarray) and value.ndim > 0 and \
            name != "value_ndarray" else value
        x[index(lib) if callable(index) else index] = v
        if name == "leaf_false_is_fine":
            raise RuntimeError("no error, as torch")
    check_error(fn, device=device)


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
def test_setitem_with_overlapping_memory(name, device):
    index, value = OVERLAP[name]

    def fn(lib):
        x = lib.arange(6.0).view(2, 3)
        x[index(lib) if callable(index) else index] = value(x)
        return x
    try:
        expected = fn(torch)
    except RuntimeError:
        check_error(fn, device=device)
        return
    assert run_on(gputensor, device, fn).tolist() == expected.tolist()


def test_setitem_expanded_target_raises(device):
    check_error(lambda lib: lib.ones(3, 1).expand(3, 4).__setitem__(0, 2.0), device=device)


# ---- random mixtures --------------------------------------------------------------------------

def _set_outcome(lib, case, device):
    with made_on(lib, device):
        return _set_outcome_here(lib, case, device)


def _set_outcome_here(lib, case, device):
    rng, array, layout = _random_case(case)
    x_grad, value_kind = rng.random() < 0.5, rng.randrange(3)
    leaf, x = make_input(lib, array, layout, x_grad, device)
    x = x * 1 if x_grad else x
    index = _random_index(rng, lib, array.shape)
    shape = _outcome(lambda: tuple(x[index].shape))
    shape = (2,) if shape[0] == "error" else shape if value_kind == 1 else shape[1:]
    v_leaf = lib.tensor(np.random.default_rng(case).uniform(-1, 1, shape).astype(np.float32),
                        requires_grad=True)
    x[index] = 2.5 if value_kind == 0 else v_leaf * 1
    assert_on(x, device)
    seen = [tuple(x.shape), to_numpy(x).round(5).tolist(), _name(x), _name(leaf),
            to_numpy(leaf).round(5).tolist()]
    if x.requires_grad:
        seed = np.random.default_rng(1).uniform(-1, 1, tuple(x.shape)).astype(np.float32)
        (x * lib.tensor(seed)).sum().backward()
        for t_ in (leaf, v_leaf):
            grad = t_.grad if t_.is_leaf else None
            seen.append(None if grad is None else to_numpy(grad).round(4).tolist())
    return seen


@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence",
                            "ignore:Use of (index_put_|masked_fill_) on expanded")
@pytest.mark.parametrize("start", range(0, 600, 100))
def test_random_setitem_matches_torch(start, device):
    for case in range(start, start + 100):
        ours = _outcome(_set_outcome, gputensor, case, device)
        assert ours == _outcome(_set_outcome, torch, case, "cpu"), case
