"""Masks and triangles compared with torch: tril/triu, their indices, masked_fill,
masked_select, nonzero and where (values, dtypes, grads, grad_fn names, errors)."""

import numpy as np
import pytest
import torch

import gputensor
from helpers import LAYOUTS, assert_same, check_error, check_op, rand_array

TRIANGLES = {
    "tril": lambda lib, x: lib.tril(x),
    "tril_1": lambda lib, x: x.tril(1),
    "tril_neg": lambda lib, x: lib.tril(x, diagonal=-1),
    "triu": lambda lib, x: x.triu(),
    "triu_2": lambda lib, x: lib.triu(x, 2),
    "triu_neg": lambda lib, x: x.triu(-2),
    "tril_far": lambda lib, x: x.tril(10),
}


@pytest.mark.parametrize("shape", [(3, 4), (4, 3), (2, 3, 3), (0, 2)])
@pytest.mark.parametrize("name", list(TRIANGLES))
def test_triangles(device, name, shape):
    check_op(TRIANGLES[name], rand_array(shape), device=device)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_triangles_layouts(device, layout):
    check_op(lambda lib, x: x.triu(1) * 2, rand_array((3, 4)), device=device, layout=layout)


@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_triangles_of_other_dtypes(device, dtype):
    check_op(lambda lib, x: (x.tril(-1), lib.triu(x)), rand_array((2, 3, 4), dtype),
             device=device)


@pytest.mark.parametrize("name", ["tril_", "triu_"])
def test_triangles_in_place(device, name):
    def fn(lib, x):
        y = x * 1
        getattr(y, name)(1)
        return y
    check_op(fn, rand_array((3, 4)), device=device)


def test_triangles_in_place_on_a_leaf_is_refused(device):
    check_error(lambda lib: lib.ones(3, 3, requires_grad=True).tril_(), device=device)


@pytest.mark.parametrize("shape", [(), (3,)])
@pytest.mark.parametrize("name", ["tril", "triu"])
def test_triangles_need_two_dims(device, name, shape):
    check_error(lambda lib: getattr(lib, name)(lib.ones(shape)), device=device)


def test_triangle_out(device):
    def fn(lib, x):
        out = lib.empty(3, 4)
        result = lib.tril(x, 0, out=out)
        return result, out
    check_op(fn, rand_array((3, 4)), device=device, grad=False)


INDICES = [(3, 4, 0), (4, 3, 1), (3, 3, -1), (0, 3, 0), (3, 5, 10), (3, 5, -10)]


@pytest.mark.parametrize("name", ["tril_indices", "triu_indices"])
@pytest.mark.parametrize("args", INDICES)
def test_triangle_indices(device, name, args):
    check_op(lambda lib: getattr(lib, name)(*args), device=device)
    check_op(lambda lib: getattr(lib, name)(*args, dtype=lib.int32), device=device)


def test_triangle_indices_on_a_device(device):
    ours = gputensor.tril_indices(3, 3, device=device)
    assert ours.device.type == device
    assert_same(ours, torch.tril_indices(3, 3))


@pytest.mark.parametrize("name", ["tril_indices", "triu_indices"])
@pytest.mark.parametrize("args, kwargs", [((-1, 3), {}), ((3, -1), {}),
                                          ((3, 3), {"dtype": "float32"}),
                                          ((3, 3), {"dtype": "bool"})])
def test_triangle_indices_errors(device, name, args, kwargs):
    def fn(lib):
        options = {k: getattr(lib, v) for k, v in kwargs.items()}
        return getattr(lib, name)(*args, **options)
    check_error(fn, device=device)


# ---- masked_fill ------------------------------------------------------------------------
FILLS = {
    "number": lambda lib, x, m: x.masked_fill(m, 2.5),
    "int_number": lambda lib, x, m: lib.masked_fill(x, m, 3),
    "nan": lambda lib, x, m: x.masked_fill(m, float("nan")),
    "tensor": lambda lib, x, m: x.masked_fill(m, lib.tensor(-1.5)),
    "double_tensor": lambda lib, x, m: x.masked_fill(m, lib.tensor(-1.5, dtype=lib.float64)),
}
MASK_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (3, 4)), ((3, 4), (2, 3, 4)),
               ((), (3,)), ((0, 4), (4,))]


@pytest.mark.parametrize("shapes", MASK_SHAPES)
@pytest.mark.parametrize("name", list(FILLS))
def test_masked_fill(device, name, shapes):
    x_shape, mask_shape = shapes
    check_op(FILLS[name], rand_array(x_shape), rand_array(mask_shape, "bool"), device=device)


def test_masked_fill_value_gradient(device):
    def fn(lib, x, m, v):
        return x.masked_fill(m, v * 2)
    check_op(fn, rand_array((3, 4)), rand_array((3, 4), "bool"), rand_array(()),
             device=device)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "uint8"])
def test_masked_fill_other_dtypes(device, dtype):
    def fn(lib, x, m):
        return (x.masked_fill(m, 1.7), x.masked_fill(m, lib.tensor(2.9)),
                x.masked_fill(m, True))
    check_op(fn, rand_array((3, 4), dtype), rand_array((3, 4), "bool"), device=device)


@pytest.mark.parametrize("mask_shape", [(3, 4), (4,)])
def test_masked_fill_in_place(device, mask_shape):
    def fn(lib, x, m, v):
        y = x * 1
        y.masked_fill_(m, v)
        return y
    check_op(fn, rand_array((3, 4)), rand_array(mask_shape, "bool"), rand_array(()),
             device=device)


@pytest.mark.parametrize("mask_dtype", ["int64", "uint8", "int32", "float32"])
def test_masked_fill_needs_a_bool_mask(device, mask_dtype):
    def fn(lib, x, m):
        return x.masked_fill(m, 1.0)
    check_error(lambda lib: fn(lib, lib.ones(3, 4), lib.ones(3, 4, dtype=getattr(lib, mask_dtype))),
                device=device)


MASKED_FILL_ERRORS = {
    "vector_value": lambda lib: lib.ones(3).masked_fill(lib.ones(3, dtype=lib.bool),
                                                        lib.ones(1)),
    "wrong_shape": lambda lib: lib.ones(3, 4).masked_fill(lib.ones(5, dtype=lib.bool), 1.0),
    "in_place_grows": lambda lib: lib.ones(3, 4).masked_fill_(lib.ones(2, 3, 4, dtype=lib.bool),
                                                              1.0),
    "in_place_int_mask": lambda lib: lib.ones(3).masked_fill_(lib.ones(3, dtype=lib.int64), 1),
}


@pytest.mark.parametrize("name", list(MASKED_FILL_ERRORS))
def test_masked_fill_errors(device, name):
    check_error(MASKED_FILL_ERRORS[name], device=device)


def test_masked_fill_in_place_error_leaves_the_tensor(device):
    x = gputensor.ones(3, 4, device=device)
    with pytest.raises(RuntimeError):
        x.masked_fill_(gputensor.ones(2, 3, 4, dtype=gputensor.bool, device=device), 5.0)
    assert_same(x, torch.ones(3, 4))
    assert x._version_value == 0


def test_masked_fill_with_a_cpu_value_on_cuda(cuda_device):
    x = gputensor.zeros(2, 3, device=cuda_device)
    mask = gputensor.tensor([[True, False, True], [False, True, False]], device=cuda_device)
    out = x.masked_fill(mask, gputensor.tensor(4.0))
    assert out.device.type == "cuda"
    assert_same(out, torch.zeros(2, 3).masked_fill(torch.tensor([[True, False, True],
                                                                [False, True, False]]), 4.0))


# ---- masked_select ----------------------------------------------------------------------
@pytest.mark.parametrize("shapes", MASK_SHAPES)
def test_masked_select(device, shapes):
    x_shape, mask_shape = shapes
    check_op(lambda lib, x, m: x.masked_select(m), rand_array(x_shape),
             rand_array(mask_shape, "bool"), device=device)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_masked_select_layouts(device, layout):
    check_op(lambda lib, x, m: lib.masked_select(x, m) * 3, rand_array((3, 4)),
             rand_array((3, 4), "bool"), device=device, layout=layout)


def test_masked_select_out(device):
    def fn(lib, x, m):
        out = lib.empty(0)
        return lib.masked_select(x, m, out=out), out
    check_op(fn, rand_array((3, 4)), rand_array((3, 4), "bool"), device=device, grad=False)


@pytest.mark.parametrize("mask", ["int", "uint8", "shape"])
def test_masked_select_errors(device, mask):
    def fn(lib):
        m = {"int": lambda: lib.ones(3, 4, dtype=lib.int64),
             "uint8": lambda: lib.ones(3, 4, dtype=lib.uint8),
             "shape": lambda: lib.ones(5, dtype=lib.bool)}[mask]()
        return lib.ones(3, 4).masked_select(m)
    check_error(fn, device=device)


# ---- nonzero and where ------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 3, 2), (0, 3)])
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_nonzero(device, shape, dtype):
    array = np.asarray(rand_array(shape, dtype) * (rand_array(shape) > 0)).astype(dtype)
    check_op(lambda lib, x: (lib.nonzero(x), x.nonzero(as_tuple=True)), array, device=device,
             grad=False)
    check_op(lambda lib, x: lib.where(x != 0), array, device=device, grad=False)


@pytest.mark.parametrize("value", [0.0, 2.0])
def test_nonzero_of_a_number(device, value):
    check_op(lambda lib: (lib.tensor(value).nonzero(), lib.nonzero(lib.tensor(value),
                                                                     as_tuple=True)),
             device=device)


WHERES = {
    "number_tensor": lambda lib, c, x: lib.where(c, 1, x),
    "tensor_number": lambda lib, c, x: lib.where(c, x, 2.5),
    "ints": lambda lib, c, x: lib.where(c, 1, 2),
    "floats": lambda lib, c, x: lib.where(c, 1.0, 2),
    "bools": lambda lib, c, x: lib.where(c, True, False),
    "int32_number": lambda lib, c, x: lib.where(c, 1, x.to(lib.int32)),
    "int32_float": lambda lib, c, x: lib.where(c, 1.5, x.to(lib.int32)),
    "double_0d": lambda lib, c, x: lib.where(c, lib.tensor(2.0, dtype=lib.float64), x),
    "method": lambda lib, c, x: x.where(c, -x),
}


@pytest.mark.parametrize("name", list(WHERES))
def test_where_with_numbers(device, name):
    check_op(WHERES[name], rand_array((3, 4), "bool"), rand_array((3, 4)), device=device)


def test_where_out(device):
    def fn(lib, c, x, y):
        out = lib.empty(3, 4)
        return lib.where(c, x, y, out=out), out
    check_op(fn, rand_array((3, 4), "bool"), rand_array((3, 4)), rand_array((4,)),
             device=device, grad=False)


WHERE_ERRORS = {
    "out_with_number": lambda lib: lib.where(lib.ones(2) > 0, lib.ones(2), 1,
                                             out=lib.empty(2)),
    "out_with_number_first": lambda lib: lib.where(lib.ones(2) > 0, 1, lib.ones(2),
                                                   out=lib.empty(2)),
    "float_condition": lambda lib: lib.where(lib.ones(2), lib.ones(2), 1),
    "out_needs_grad": lambda lib: lib.where(lib.ones(2) > 0, lib.ones(2, requires_grad=True),
                                            lib.ones(2), out=lib.empty(2)),
}


@pytest.mark.parametrize("name", list(WHERE_ERRORS))
def test_where_errors(device, name):
    check_error(WHERE_ERRORS[name], device=device)


def test_printed_like_torch():
    def fn(lib):
        x = lib.arange(12.0).reshape(3, 4).requires_grad_()
        return [repr(x.tril()), repr(x.masked_fill(x > 5, 0.5)), repr(x.masked_select(x > 8)),
                repr(lib.triu_indices(3, 3))]
    assert [t.replace("gputensor", "torch") for t in fn(gputensor)] == fn(torch)


def test_numbers_stay_numbers():
    assert gputensor.tensor([1.0, 2.0]).masked_fill(gputensor.tensor([True, False]),
                                                    np.float32(3.0)).tolist() == [3.0, 2.0]
