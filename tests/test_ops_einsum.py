"""einsum and the BLAS-style products (addmm, addmv, addbmm, baddbmm, outer, kron) compared
with torch: values, dtypes, gradients, grad_fn names and errors."""

import warnings

import numpy as np
import pytest

import gputensor
from helpers import LAYOUTS, check_error, check_op, rand_array, run_on

EQUATIONS = [  # (equation, operand shapes)
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("bij,bjk->bki", [(2, 3, 4), (2, 4, 5)]),
    ("ij->ji", [(3, 4)]),
    ("ji", [(3, 4)]),
    ("ij", [(3, 4)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iij->j", [(2, 2, 3)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("ijk->ki", [(2, 3, 4)]),
    ("ij,j->i", [(3, 4), (4,)]),
    ("i,i->", [(4,), (4,)]),
    ("i,i", [(4,), (4,)]),
    ("ij,ij->ij", [(3, 4), (3, 4)]),
    ("ij,ij->", [(3, 4), (3, 4)]),
    ("ij,kj->ik", [(3, 4), (5, 4)]),
    ("ij,jk,kl->il", [(3, 4), (4, 5), (5, 2)]),
    ("ijm,jk->ik", [(3, 4, 2), (4, 5)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (3, 4, 5)]),
    ("...ij,jk", [(2, 3, 4), (4, 5)]),
    ("i...->...", [(3, 2, 4)]),
    ("...ii->...i", [(2, 3, 3)]),
    ("b...,b...->b", [(2, 3, 4), (2, 3, 4)]),
    ("i j , j k -> i k", [(3, 4), (4, 5)]),
    ("Ab,bA->A", [(3, 4), (4, 3)]),
    ("ij,jk->ik", [(3, 0), (0, 5)]),
    ("ij,jk->ik", [(0, 4), (4, 5)]),
    ("i,j,k->ijk", [(2,), (3,), (4,)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("ij,ij->i", [(3, 1), (3, 4)]),
    ("bij,bjk->bik", [(1, 3, 4), (2, 4, 5)]),
    ("i,i,i->i", [(3,), (3,), (3,)]),
    ("i,i,i->", [(3,), (3,), (3,)]),
    ("ijk,ikl->jl", [(2, 3, 4), (2, 4, 1)]),
    ("ab,cd,bc->ad", [(2, 3), (4, 5), (3, 4)]),
    ("...,...->...", [(2, 3), (3,)]),
    ("i,->i", [(3,), ()]),
    ("->", [()]),
]


def _quiet(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with its deprecation warning silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _arrays(shapes, dtype="float32"):
    return [rand_array(s, dtype) for s in shapes]


@pytest.mark.parametrize("equation,shapes", EQUATIONS, ids=[e for e, _ in EQUATIONS])
def test_einsum(equation, shapes, device):
    for layout in LAYOUTS:
        check_op(lambda lib, *xs: lib.einsum(equation, *xs), *_arrays(shapes), layout=layout,
                 device=device)


def test_einsum_operands_as_a_list(device):
    check_op(lambda lib, a, b: lib.einsum("ij,jk->ik", [a, b]), *_arrays([(3, 4), (4, 2)]),
             device=device)
    check_op(lambda lib, a, b: lib.einsum("i,j", (a, b)), *_arrays([(3,), (2,)]), device=device)


def test_einsum_sublist_format(device):
    check_op(lambda lib, a, b: lib.einsum(a, [0, 1], b, [1, 27], [0, 27]),
             *_arrays([(3, 4), (4, 2)]), device=device)
    check_op(lambda lib, a, b: lib.einsum(a, [Ellipsis, 0], b, [Ellipsis, 0]),
             *_arrays([(2, 3, 4), (3, 4)]), device=device)
    arrays = _arrays([(3, 4)])
    check_error(lambda lib: lib.einsum(lib.tensor(arrays[0]), [0, 60]), device=device)


@pytest.mark.parametrize("dtype", ["float64", "int64", "int32"])
def test_einsum_dtypes(dtype, device):
    check_op(lambda lib, a, b: lib.einsum("ij,jk->ik", a, b), *_arrays([(3, 4), (4, 2)], dtype),
             device=device)
    check_op(lambda lib, a: lib.einsum("ii", a), *_arrays([(3, 3)], dtype), device=device)


EINSUM_ERRORS = [
    ("ij,jk->ik", [(3, 4)]),
    ("ij->ij", [(3, 4), (4, 5)]),
    ("ij,jk->ik", [(3, 4), (5, 6)]),
    ("ij->ik", [(3, 4)]),
    ("ij->ii", [(3, 4)]),
    ("ii->i", [(3, 4)]),
    ("ijk->i", [(3, 4)]),
    ("ij->i", [(3, 4, 5)]),
    ("...ijk->i", [(3, 4)]),
    ("i.j->i", [(3, 4)]),
    ("...i...->i", [(3, 4)]),
    ("i1->i", [(3, 4)]),
    ("ij->i1", [(3, 4)]),
    ("ij->i.", [(3, 4)]),
    ("...ij->......", [(3, 4)]),
    ("...i,...i->...", [(2, 3), (4, 3)]),
]


@pytest.mark.parametrize("equation,shapes", EINSUM_ERRORS, ids=[e for e, _ in EINSUM_ERRORS])
def test_einsum_errors(equation, shapes, device):
    arrays = _arrays(shapes)
    check_error(lambda lib: lib.einsum(equation, *[lib.tensor(a) for a in arrays]),
                device=device)


def test_einsum_needs_operands(device):
    check_error(lambda lib: lib.einsum("ij"), device=device)


PRODUCTS = {  # name: (fn, operand shapes)
    "addmm": (lambda lib, m, a, b: lib.addmm(m, a, b), [(3, 5), (3, 4), (4, 5)]),
    "addmm_method": (lambda lib, m, a, b: m.addmm(a, b, beta=0.5, alpha=2),
                     [(3, 5), (3, 4), (4, 5)]),
    "addmm_row": (lambda lib, m, a, b: lib.addmm(m, a, b, alpha=-1), [(5,), (3, 4), (4, 5)]),
    "addmm_scalar": (lambda lib, m, a, b: lib.addmm(m, a, b, beta=2), [(), (3, 4), (4, 5)]),
    "addmm_beta0": (lambda lib, m, a, b: lib.addmm(m, a, b, beta=0), [(3, 1), (3, 4), (4, 5)]),
    "addmv": (lambda lib, m, a, v: lib.addmv(m, a, v), [(3,), (3, 4), (4,)]),
    "addmv_method": (lambda lib, m, a, v: m.addmv(a, v, beta=-1, alpha=3), [(3,), (3, 4), (4,)]),
    "addmv_scalar": (lambda lib, m, a, v: lib.addmv(m, a, v, beta=0), [(), (3, 4), (4,)]),
    "baddbmm": (lambda lib, m, a, b: lib.baddbmm(m, a, b), [(2, 3, 5), (2, 3, 4), (2, 4, 5)]),
    "baddbmm_method": (lambda lib, m, a, b: m.baddbmm(a, b, beta=0.5, alpha=0.25),
                       [(1, 3, 5), (2, 3, 4), (2, 4, 5)]),
    "baddbmm_row": (lambda lib, m, a, b: lib.baddbmm(m, a, b, beta=0), [(5,), (2, 3, 4),
                                                                         (2, 4, 5)]),
    "addbmm": (lambda lib, m, a, b: lib.addbmm(m, a, b), [(3, 5), (2, 3, 4), (2, 4, 5)]),
    "addbmm_method": (lambda lib, m, a, b: m.addbmm(a, b, beta=2, alpha=-0.5),
                      [(5,), (2, 3, 4), (2, 4, 5)]),
    "outer": (lambda lib, a, b: lib.outer(a, b), [(3,), (4,)]),
    "outer_method": (lambda lib, a, b: a.outer(b), [(0,), (4,)]),
    "ger": (lambda lib, a, b: _quiet(a.ger, b), [(3,), (2,)]),
    "kron": (lambda lib, a, b: lib.kron(a, b), [(2, 3), (3, 2)]),
    "kron_method": (lambda lib, a, b: a.kron(b), [(3,), (2, 3, 2)]),
    "kron_scalar": (lambda lib, a, b: lib.kron(a, b), [(), (2, 3)]),
}


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_products(name, device):
    fn, shapes = PRODUCTS[name]
    # torch's kron of a 1-D tensor and a transposed 3-D one fails with a view error
    layouts = [x for x in LAYOUTS if not (name == "kron_method" and x == "transposed")]
    for layout in layouts:
        check_op(fn, *_arrays(shapes), layout=layout, device=device)


@pytest.mark.parametrize("dtype", ["float64", "int64", "int32"])
@pytest.mark.parametrize("name", ["addmm", "addmv", "baddbmm", "addbmm", "outer", "kron"])
def test_product_dtypes(name, dtype, device):
    fn, shapes = PRODUCTS[name]
    check_op(fn, *_arrays(shapes, dtype), device=device)


def test_beta_zero_ignores_nan_in_input(device):
    nan = np.full((3, 5), np.nan, dtype=np.float32)
    check_op(lambda lib, m, a, b: lib.addmm(m, a, b, beta=0), nan, *_arrays([(3, 4), (4, 5)]),
             device=device)
    check_op(lambda lib, m, a, b: lib.baddbmm(m, a, b, beta=0), nan[None],
             *_arrays([(1, 3, 4), (1, 4, 5)]), device=device)
    check_op(lambda lib, m, a, b: lib.addbmm(m, a, b, beta=0.0), nan,
             *_arrays([(2, 3, 4), (2, 4, 5)]), device=device)
    check_op(lambda lib, m, a, v: lib.addmv(m, a, v, beta=0), nan[0, :3],
             *_arrays([(3, 4), (4,)]), device=device)


PRODUCT_ERRORS = {
    "addmm_shapes": (lambda lib, m, a, b: lib.addmm(m, a, b), [(3, 5), (3, 4), (3, 4)]),
    "addmm_input": (lambda lib, m, a, b: lib.addmm(m, a, b), [(2, 5), (3, 4), (4, 5)]),
    "addmm_vector": (lambda lib, m, a, b: lib.addmm(m, a, b), [(3, 5), (4,), (4, 5)]),
    "addmm_vector2": (lambda lib, m, a, b: lib.addmm(m, a, b), [(3, 5), (3, 4), (4,)]),
    "addmm_dtype": (lambda lib, m, a, b: lib.addmm(m, a, b.double()), [(3, 5), (3, 4), (4, 5)]),
    "addmm_self_dtype": (lambda lib, m, a, b: lib.addmm(m.double(), a, b),
                         [(3, 5), (3, 4), (4, 5)]),
    "addmm_bool": (lambda lib, m, a, b: lib.addmm(m > 0, a > 0, b > 0),
                   [(3, 5), (3, 4), (4, 5)]),
    "addmv_input": (lambda lib, m, a, v: lib.addmv(m, a, v), [(4,), (3, 4), (4,)]),
    "addmv_vec": (lambda lib, m, a, v: lib.addmv(m, a, v), [(3,), (3, 4), (5,)]),
    "addmv_dims": (lambda lib, m, a, v: lib.addmv(m, a, v), [(3,), (4,), (4,)]),
    "addmv_matrix": (lambda lib, m, a, v: lib.addmv(m, a, v), [(3,), (3, 4), (4, 4)]),
    "baddbmm_shapes": (lambda lib, m, a, b: lib.baddbmm(m, a, b), [(2, 3, 5), (2, 3, 4),
                                                                    (2, 3, 4)]),
    "baddbmm_2d": (lambda lib, m, a, b: lib.baddbmm(m, a, b), [(2, 3, 5), (3, 4), (2, 4, 5)]),
    "baddbmm_batch": (lambda lib, m, a, b: lib.baddbmm(m, a, b), [(2, 3, 5), (2, 3, 4),
                                                                   (3, 4, 5)]),
    "baddbmm_input": (lambda lib, m, a, b: lib.baddbmm(m, a, b), [(4, 3, 5), (2, 3, 4),
                                                                   (2, 4, 5)]),
    "addbmm_shapes": (lambda lib, m, a, b: lib.addbmm(m, a, b), [(3, 5), (2, 3, 4), (2, 3, 4)]),
    "addbmm_2d": (lambda lib, m, a, b: lib.addbmm(m, a, b), [(3, 5), (3, 4), (2, 4, 5)]),
    "addbmm_input": (lambda lib, m, a, b: lib.addbmm(m, a, b), [(2, 3, 5), (2, 3, 4),
                                                                 (2, 4, 5)]),
    "outer_2d": (lambda lib, a, b: lib.outer(a, b), [(3, 4), (4,)]),
    "outer_0d": (lambda lib, a, b: lib.outer(a, b), [(3,), ()]),
    "addmm_mat_dtype": (lambda lib, m, a, b: lib.addmm(m, a.double(), b),
                        [(3, 5), (3, 4), (4, 5)]),
    "addmv_dtype": (lambda lib, m, a, v: lib.addmv(m, a.double(), v), [(3,), (3, 4), (4,)]),
    "baddbmm_dtype": (lambda lib, m, a, b: lib.baddbmm(m.double(), a, b),
                      [(2, 3, 5), (2, 3, 4), (2, 4, 5)]),
    "addbmm_dtype": (lambda lib, m, a, b: lib.addbmm(m, a.double(), b),
                     [(3, 5), (2, 3, 4), (2, 4, 5)]),
}


@pytest.mark.parametrize("name", sorted(PRODUCT_ERRORS))
def test_product_errors(name, device):
    fn, shapes = PRODUCT_ERRORS[name]
    arrays = _arrays(shapes)
    check_error(lambda lib: fn(lib, *[lib.tensor(a) for a in arrays]), device=device)


@pytest.mark.parametrize("name", ["addmm", "addmv", "baddbmm", "addbmm", "outer", "ger", "kron"])
def test_out(name, device):
    fn, shapes = PRODUCTS[name]

    def with_out(lib, *xs):
        out = lib.empty(0)
        result = _quiet(getattr(lib, name), *xs, out=out)
        assert result is out
        return out

    check_op(with_out, *_arrays(shapes), grad=False, device=device)
    arrays = _arrays(shapes)
    check_error(lambda lib: _quiet(getattr(lib, name), lib.tensor(arrays[0], requires_grad=True),
                                   *[lib.tensor(a) for a in arrays[1:]], out=lib.empty(0)),
                device=device)


def test_ger_is_deprecated(device):
    # torch warns once per process (TORCH_WARN_ONCE): its text is written out here
    expected = ("torch.ger is deprecated and will be removed in a future PyTorch release. Use "
                "torch.outer instead.")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_on(gputensor, device, lambda lib: lib.ger(lib.ones(2), lib.ones(3)))
    assert [(w.category, str(w.message)) for w in caught] == [(UserWarning, expected)]
