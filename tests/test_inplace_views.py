"""In-place ops on views against torch: the base's CopySlices, the view's AsStridedBackward0.

The bases here are contiguous or not (made from transposed, strided or expanded inputs), so
the positions map that finds a view's elements in its base is exercised on every layout.
"""

from __future__ import annotations

import numpy as np
import pytest

from gputensor.ops import view_writes
from helpers import LAYOUTS, check_error, check_op, rand_array

RNG = np.random.default_rng(12)


def arr(shape):
    return np.asarray(rand_array(shape, "float32", rng=RNG))


def view_cases():
    def slice_mul(lib, x, z):
        y = x * 1
        y[:2].mul_(z[0])
        return y

    def column_add(lib, x, z):
        y = x * 1
        y[:, 1].add_(z.sum(0)[:3] * 2)
        return y

    def transposed_view(lib, x, z):
        y = x * 1
        y.t()[1:].clamp_(-0.5, 0.5)
        return y

    def view_and_base_used(lib, x, z):
        y = x * 1
        v = y[1]
        v.mul_(z[1])
        return y.sum(0) + v * 2

    def two_inplace_on_view(lib, x, z):
        y = x * 1
        v = y[::2]
        v.mul_(z[:2])
        v.add_(z[1:])
        return y * 3

    def view_of_non_grad_base(lib, x, z):
        y = lib.zeros(3, 4)
        y[1:].add_(x[1:] * z[1:])
        return y

    def nested_views(lib, x, z):
        y = x * 1
        y[1:][:, 2:].mul_(z[0, 2:])
        return y

    def permuted_base(lib, x, z):
        y = x.reshape(3, 2, 2).permute(2, 0, 1) * 1
        y[1, :, ::2].sub_(z[:, :1], alpha=2)
        return y

    def copy_into_column(lib, x, z):
        y = x.t() * 1
        y[:, 2].copy_(z[1] * 3)
        return y.exp()
    return [slice_mul, column_add, transposed_view, view_and_base_used, two_inplace_on_view,
            view_of_non_grad_base, nested_views, permuted_base, copy_into_column]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("fn", view_cases(), ids=lambda f: f.__name__)
def test_inplace_on_views_of_non_leaves(fn, layout, device):
    """The base sees the view's change in values and in gradients, whatever its layout."""
    check_op(fn, arr((3, 4)), arr((3, 4)), layout=layout, device=device)


def test_fill_and_zero_through_expanded_views(device):
    def fn(lib, x):
        y = x.detach() * 1
        y[1:2].expand(2, 4).zero_()
        y[:1].expand(3, 4).fill_(3)
        return y
    check_op(fn, arr((3, 4)), device=device)


def test_backward_into_an_expanded_written_view_raises(device):
    """torch cannot write the gradient of a view's old value into expanded memory."""
    def fn(lib, x):
        y = lib.tensor(x, requires_grad=True) * 1
        y[1:2].expand(2, 4).fill_(1.5)
        (y * 2).sum().backward()
    check_error(fn, arr((3, 4)), device=device)


OWNERS = {  # memory layouts of a base with 12 elements
    "contiguous": lambda a: a.reshape(3, 4),
    "transposed": lambda a: np.asfortranarray(a.reshape(3, 4)),
    "strided": lambda a: np.repeat(a.reshape(3, 4), 2, axis=1)[:, ::2],
    "permuted": lambda a: np.ascontiguousarray(a.reshape(2, 3, 2)).transpose(2, 0, 1),
}
VIEWS = {
    "itself": lambda b: b,
    "slices": lambda b: b[1:, ::2],
    "transposed_row": lambda b: b.T[1],
    "new_dim": lambda b: b[None, :, -1],
    "expanded": lambda b: np.broadcast_to(b[1:2], (3,) + b.shape[1:]),
}


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("owner", OWNERS)
def test_positions_find_a_view_in_its_base(owner, view):
    """positions(base, view) == the same view of the base's row-major element indices."""
    base = OWNERS[owner](np.zeros(12, np.float32))
    expected = VIEWS[view](np.arange(base.size).reshape(base.shape))
    got = view_writes.positions(base, VIEWS[view](base), np)
    np.testing.assert_array_equal(got, expected)
