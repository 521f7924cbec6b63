"""More shape ops and writes at positions compared with torch: values, dtypes, grads, grad_fn
names and errors, on every device."""

import numpy as np
import pytest
import torch

import gputensor
from helpers import check_error, check_op, rand_array, to_numpy

A34 = rand_array((3, 4))
A4 = rand_array((4,))
A234 = rand_array((2, 3, 4))
A0 = rand_array(())
MASK34 = rand_array((3, 4), "bool")

OPS = {  # name: (fn(lib, *operands), arrays)
    "broadcast_to": (lambda lib, v: lib.broadcast_to(v, (3, 4)), [A4]),
    "broadcast_to_method": (lambda lib, v: v.broadcast_to((2, 3, 4)), [A4]),
    "broadcast_tensors": (lambda lib, x, v: lib.broadcast_tensors(x, v), [A34, A4]),
    "broadcast_tensors_list": (lambda lib, x, v: lib.broadcast_tensors(*[v[:1], x]), [A34, A4]),
    "ravel": (lambda lib, x: x.ravel(), [A34]),
    "ravel_transposed": (lambda lib, x: lib.ravel(x.t()), [A34]),
    "tile": (lambda lib, x: x.tile((2,)), [A34]),
    "tile_more": (lambda lib, x: lib.tile(x, (2, 1, 3)), [A34]),
    "hstack": (lambda lib, x: lib.hstack([x, x * 2]), [A34]),
    "hstack_1d": (lambda lib, v: lib.hstack((v, v)), [A4]),
    "hstack_0d": (lambda lib, s: lib.hstack([s, s]), [A0]),
    "vstack": (lambda lib, v, x: lib.vstack([v, x]), [A4, A34]),
    "row_stack": (lambda lib, v: lib.row_stack([v, v]), [A4]),
    "dstack": (lambda lib, x: lib.dstack([x, x]), [A34]),
    "dstack_1d": (lambda lib, v: lib.dstack((v, v)), [A4]),
    "column_stack": (lambda lib, v, x: lib.column_stack([v[:3], x, x[:, 0]]), [A4, A34]),
    "column_stack_0d": (lambda lib, s: lib.column_stack([s, s]), [A0]),
    "rot90": (lambda lib, x: x.rot90(), [A34]),
    "rot90_k2": (lambda lib, x: lib.rot90(x, 2), [A34]),
    "rot90_k3_dims": (lambda lib, x: lib.rot90(x, 3, [2, 0]), [A234]),
    "rot90_negative": (lambda lib, x: x.rot90(-1, (0, 1)), [A34]),
    "rot90_k0": (lambda lib, x: x.rot90(0), [A34]),
    "unfold": (lambda lib, x: x.unfold(1, 2, 1), [A34]),
    "unfold_step": (lambda lib, x: x.unfold(-1, 2, 2), [A234]),
    "unfold_dim0": (lambda lib, x: x.unfold(0, 2, 1) * 1, [A234]),
    "unfold_0d": (lambda lib, s: s.unfold(0, 1, 1), [A0]),
    "sum_to_size": (lambda lib, x: x.sum_to_size(1, 4), [A34]),
    "sum_to_size_lead": (lambda lib, x: x.sum_to_size((3, 1)), [A234]),
    "sum_to_size_same": (lambda lib, x: (x * 1).sum_to_size(3, 4), [A34]),
    "atleast_1d": (lambda lib, s: lib.atleast_1d(s), [A0]),
    "atleast_2d": (lambda lib, s, v: lib.atleast_2d(s, v), [A0, A4]),
    "atleast_3d": (lambda lib, s, v, x: lib.atleast_3d([s, v, x]), [A0, A4, A34]),
    "atleast_3d_one": (lambda lib, x: lib.atleast_3d(x), [A234]),
    "block_diag": (lambda lib, x, v, s: lib.block_diag(x, v, s), [A34, A4, A0]),
    "block_diag_ints": (lambda lib, x: lib.block_diag(x, lib.ones(2, 1, dtype=lib.long)), [A34]),
    "block_diag_none": (lambda lib: lib.block_diag(), []),
    "cartesian_prod": (lambda lib, v: lib.cartesian_prod(v, v[:2], v[1:]), [A4]),
    "cartesian_prod_one": (lambda lib, v: lib.cartesian_prod(v), [A4]),
    "combinations": (lambda lib, v: lib.combinations(v), [A4]),
    "combinations_r3": (lambda lib, v: lib.combinations(v, 3), [A4]),
    "combinations_replacement": (lambda lib, v: lib.combinations(v, 2, True), [A4]),
    "combinations_r0": (lambda lib, v: lib.combinations(v, 0), [A4]),
    "combinations_too_many": (lambda lib, v: lib.combinations(v, 5), [A4]),
    "argwhere": (lambda lib, m: lib.argwhere(m), [MASK34]),
    "argwhere_method": (lambda lib, x: (x > 0).argwhere(), [A234]),
    # writes at positions
    "masked_scatter": (lambda lib, x, m, s: x.masked_scatter(m, s), [A34, MASK34, A34]),
    "masked_scatter_broadcast": (lambda lib, x, s: lib.masked_scatter(
        x, lib.tensor([True, False, True, False]), s), [A34, A34]),
    "masked_scatter_": (lambda lib, x, m, s: (x * 1).masked_scatter_(m, s.reshape(-1)),
                        [A34, MASK34, A34]),
    "index_put": (lambda lib, x, v: x.index_put((lib.tensor([0, 2]),), v), [A34, A4]),
    "index_put_accumulate": (lambda lib, x, v: lib.index_put(
        x, (lib.tensor([0, 0, 2]), lib.tensor([1, 1, -1])), v[:3], accumulate=True), [A34, A4]),
    "index_put_": (lambda lib, x, v: (x * 1).index_put_((lib.tensor([1]),), v), [A34, A4]),
    "index_put_accumulate_": (lambda lib, x, s: (x * 1).index_put_(
        [lib.tensor([1, 1])], s, accumulate=True), [A34, A0]),
    "put": (lambda lib, x, v: x.put(lib.tensor([1, -1, 5]), v[:3]), [A34, A4]),
    "put_function": (lambda lib, x, v: lib.put(x, lib.tensor([0, 2]), v[:2], True), [A34, A4]),
    "index_put__function": (lambda lib, x, v: lib.index_put_(x * 1, (lib.tensor([2]),), v),
                            [A34, A4]),
    "put_": (lambda lib, x, v: (x * 1).put_(lib.tensor([[0, 7]]), v[:2]), [A34, A4]),
    "put_accumulate": (lambda lib, x, v: (x * 1).put_(lib.tensor([3, 3, 3]), v[:3], True),
                       [A34, A4]),
    "put_transposed": (lambda lib, x, v: (x.t() * 1).put_(lib.tensor([1, 2]), v[:2]),
                       [A34, A4]),
    "slice_scatter": (lambda lib, x, y: lib.slice_scatter(x, y[:, :2], 1, 0, 2), [A34, A34]),
    "slice_scatter_step": (lambda lib, x, y: x.slice_scatter(y[:, :2], 1, step=2), [A34, A34]),
    "slice_scatter_default": (lambda lib, x, y: lib.slice_scatter(x, y), [A34, A34]),
    "select_scatter": (lambda lib, x, v: lib.select_scatter(x, v[:3], 1, -1), [A34, A4]),
    "fill_diagonal_": (lambda lib, x: (x * 1).fill_diagonal_(5.0), [A34]),
    "fill_diagonal_cube": (lambda lib: lib.zeros(3, 3, 3).fill_diagonal_(2), []),
    "fill_diagonal_wrap": (lambda lib: lib.zeros(7, 3).fill_diagonal_(1, wrap=True), []),
    "fill_diagonal_nowrap": (lambda lib: lib.zeros(7, 3).fill_diagonal_(1), []),
    "fill_diagonal_view": (lambda lib, x: (x * 1)[:, 1:].fill_diagonal_(-1.0), [A34]),
}


@pytest.mark.parametrize("name", OPS)
def test_op(name, device):
    fn, arrays = OPS[name]
    check_op(fn, *arrays, device=device)


@pytest.mark.parametrize("name", ["unfold", "ravel", "broadcast_to"])
def test_views_share_storage(name, device):
    """unfold, ravel of a contiguous tensor and broadcast_to are views: writes show through."""
    fn = OPS[name][0]
    base = gputensor.arange(12.0, device=device).reshape(3, 4)
    arg = base if name != "broadcast_to" else base[0]
    view = fn(gputensor, arg)
    base.add_(1)
    np.testing.assert_array_equal(to_numpy(view), to_numpy(fn(gputensor, arg.clone())))
    assert view._base is not None


def test_broadcast_shapes():
    for shapes in [((2, 1), (3,)), (2, (3, 1)), ((), (1, 4), (5, 1, 1)), ((0, 1), (3,)), ()]:
        ours, theirs = gputensor.broadcast_shapes(*shapes), torch.broadcast_shapes(*shapes)
        assert tuple(ours) == tuple(theirs) and type(ours).__name__ == "Size"


def test_in_place_returns_self(device):
    x = gputensor.zeros(3, 4, device=device)
    for write in (lambda t: t.fill_diagonal_(1), lambda t: t.put_(
            gputensor.tensor([0], device=device), gputensor.ones(1, device=device)),
            lambda t: t.masked_scatter_(t > 0, gputensor.ones(12, device=device)),
            lambda t: t.index_put_((gputensor.tensor([0], device=device),),
                                   gputensor.tensor(2.0, device=device))):
        assert write(x) is x


ERRORS = {
    "broadcast_shapes": lambda lib: lib.broadcast_shapes((2, 3), (4, 3)),
    "broadcast_tensors": lambda lib: lib.broadcast_tensors(lib.zeros(2, 3), lib.zeros(4, 3)),
    "broadcast_to": lambda lib: lib.broadcast_to(lib.zeros(3), (2,)),
    "rot90_dims": lambda lib: lib.zeros(3, 4).rot90(1, [0, 1, 2]),
    "rot90_1d": lambda lib: lib.zeros(3).rot90(),
    "rot90_same": lambda lib: lib.zeros(3, 4).rot90(1, [0, 0]),
    "rot90_same_negative": lambda lib: lib.zeros(3, 4).rot90(1, [0, -2]),
    "rot90_range": lambda lib: lib.zeros(3, 4).rot90(1, [0, 5]),
    "unfold_size": lambda lib: lib.zeros(3, 4).unfold(1, 5, 1),
    "unfold_step": lambda lib: lib.zeros(3, 4).unfold(1, 2, 0),
    "unfold_0d": lambda lib: lib.tensor(1.0).unfold(0, 2, 1),
    "sum_to_size": lambda lib: lib.zeros(3, 4).sum_to_size(2, 4),
    "block_diag_3d": lambda lib: lib.block_diag(lib.zeros(2, 2, 2)),
    "cartesian_prod_2d": lambda lib: lib.cartesian_prod(lib.zeros(3, 4)),
    "combinations_2d": lambda lib: lib.combinations(lib.zeros(3, 4)),
    "combinations_negative": lambda lib: lib.combinations(lib.arange(3), -1),
    "hstack_empty": lambda lib: lib.hstack([]),
    "hstack_tensor": lambda lib: lib.hstack(lib.zeros(3)),
    "vstack_sizes": lambda lib: lib.vstack([lib.zeros(3), lib.zeros(4)]),
    "fill_diagonal_1d": lambda lib: lib.zeros(3).fill_diagonal_(1),
    "fill_diagonal_unequal": lambda lib: lib.zeros(2, 2, 3).fill_diagonal_(1),
    "fill_diagonal_leaf": lambda lib: lib.zeros(3, 3, requires_grad=True).fill_diagonal_(1),
    "masked_scatter_float_mask": lambda lib: lib.zeros(3).masked_scatter(lib.ones(3),
                                                                          lib.ones(3)),
    "masked_scatter_short": lambda lib: lib.zeros(3).masked_scatter(lib.ones(3) > 0,
                                                                     lib.ones(2)),
    "masked_scatter_dtype": lambda lib: lib.zeros(3).masked_scatter(
        lib.ones(3) > 0, lib.ones(3, dtype=lib.float64)),
    "index_put_dtype": lambda lib: lib.zeros(3).index_put(
        (lib.tensor([0]),), lib.tensor(1.0, dtype=lib.float64), accumulate=True),
    "put_out_of_range": lambda lib: lib.zeros(3, 4).put_(lib.tensor([12]), lib.tensor([1.0])),
    "put_sizes": lambda lib: lib.zeros(3, 4).put_(lib.tensor([1, 2]), lib.tensor([1.0])),
    "put_dtype": lambda lib: lib.zeros(3, 4).put_(lib.tensor([1]),
                                                  lib.tensor([1.0], dtype=lib.float64)),
    "put_float_index": lambda lib: lib.zeros(3, 4).put_(lib.tensor([1.0]), lib.tensor([1.0])),
    "slice_scatter_shape": lambda lib: lib.slice_scatter(lib.zeros(3, 4), lib.zeros(3, 3), 1,
                                                         0, 2),
    "select_scatter_shape": lambda lib: lib.select_scatter(lib.zeros(3, 4), lib.zeros(4), 1, 0),
    "select_scatter_index": lambda lib: lib.select_scatter(lib.zeros(3, 4), lib.zeros(3), 1, 9),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors(name, device):
    check_error(ERRORS[name], device=device)


def test_masked_scatter_mask_error():
    """(torch names the mask's type by device: CPUBoolType, compared on the CPU)"""
    check_error(lambda lib: lib.zeros(3, 4).masked_scatter_(lib.ones(3, 1, 4, dtype=lib.bool),
                                                            lib.ones(12)))


def test_failed_writes_leave_tensor_unchanged(device):
    x = gputensor.arange(12.0, device=device).reshape(3, 4)
    before = x.cpu().numpy().copy()
    for bad in (lambda: x.put_(gputensor.tensor([12], device=device),
                               gputensor.tensor([1.0], device=device)),
                lambda: x.masked_scatter_(x >= 0, gputensor.ones(2, device=device))):
        with pytest.raises((RuntimeError, IndexError)):
            bad()
    np.testing.assert_array_equal(x.cpu().numpy(), before)
