"""Statistics, products and distances compared with torch: values, dtypes, grads, grad_fn
names and errors, on every device."""

import math
import warnings

import numpy as np
import pytest
import torch

import gputensor
from helpers import assert_same, check_error, check_op, rand_array, run_on

A34 = rand_array((3, 4))
A35 = rand_array((3, 5))
A234 = rand_array((2, 3, 4))
A5 = rand_array((5,))
A0 = rand_array(())
A43 = rand_array((4, 3))
B43 = rand_array((4, 3))
NAN34 = A34.copy()
NAN34[0, 1] = NAN34[2, 0] = NAN34[2, 3] = math.nan
ALLNAN_ROW = A34.copy()
ALLNAN_ROW[1] = math.nan
INTS = np.array([[2, 1, 2, 1, 3], [4, 4, 0, 0, 0]], dtype=np.int64)
Q = np.array([0.0, 0.25, 0.5, 0.9, 1.0], dtype=np.float32)

OPS = {  # name: (fn(lib, *operands), arrays)
    "median": (lambda lib, x: x.median(), [A35]),
    "median_even": (lambda lib, x: lib.median(x), [A34]),
    "median_dim": (lambda lib, x: x.median(1), [A35]),
    "median_dim_keepdim": (lambda lib, x: lib.median(x, 0, keepdim=True), [A234]),
    "median_0d": (lambda lib, s: s.median(0), [A0]),
    "median_nan": (lambda lib, x: x.median(), [NAN34]),
    "median_nan_dim": (lambda lib, x: x.median(1), [NAN34]),
    "median_int": (lambda lib, x: x.median(), [INTS]),
    "nanmedian": (lambda lib, x: x.nanmedian(), [NAN34]),
    "nanmedian_dim": (lambda lib, x: lib.nanmedian(x, 1), [NAN34]),
    "nanmedian_clean": (lambda lib, x: x.nanmedian(-1), [A234]),
    "mode": (lambda lib, x: x.mode(), [INTS]),
    "mode_dim0": (lambda lib, x: lib.mode(x, 0), [INTS]),
    "mode_float": (lambda lib, x: x.mode(1, keepdim=True), [A34]),
    "quantile": (lambda lib, x: x.quantile(0.3), [A35]),
    "quantile_dim": (lambda lib, x: lib.quantile(x, 0.75, dim=1), [A35]),
    "quantile_tensor": (lambda lib, x, q: x.quantile(q.detach(), dim=0, keepdim=True), [A35, Q]),
    "quantile_tensor_all": (lambda lib, x, q: lib.quantile(x, q.detach()), [A234, Q]),
    "quantile_lower": (lambda lib, x: x.quantile(0.4, 1, interpolation="lower"), [A35]),
    "quantile_higher": (lambda lib, x: x.quantile(0.4, 1, interpolation="higher"), [A35]),
    "quantile_midpoint": (lambda lib, x: x.quantile(0.4, 1, interpolation="midpoint"), [A35]),
    "quantile_nearest": (lambda lib, x: x.quantile(0.6, 1, interpolation="nearest"), [A35]),
    "quantile_nan": (lambda lib, x: x.quantile(0.5, dim=1), [NAN34]),
    "nanquantile": (lambda lib, x: x.nanquantile(0.5, dim=1), [NAN34]),
    "nanquantile_all_nan_row": (lambda lib, x: lib.nanquantile(x, 0.2, dim=1), [ALLNAN_ROW]),
    "nanquantile_all": (lambda lib, x: x.nanquantile(0.8), [NAN34]),
    "nansum": (lambda lib, x: x.nansum(), [NAN34]),
    "nansum_dim": (lambda lib, x: lib.nansum(x, 1, keepdim=True), [NAN34]),
    "nansum_int": (lambda lib, x: x.nansum(0), [INTS]),
    "nansum_dtype": (lambda lib, x: x.nansum(dtype=lib.float64), [NAN34]),
    "nanmean": (lambda lib, x: x.nanmean(), [NAN34]),
    "nanmean_dim": (lambda lib, x: lib.nanmean(x, 1), [ALLNAN_ROW]),
    "std_mean": (lambda lib, x: lib.std_mean(x), [A34]),
    "std_mean_dim": (lambda lib, x: lib.std_mean(x, 1, keepdim=True), [A34]),
    "std_mean_correction": (lambda lib, x: lib.std_mean(x, (0, 2), correction=0), [A234]),
    "var_mean": (lambda lib, x: lib.var_mean(x, 0), [A34]),
    "var_mean_unbiased": (lambda lib, x: lib.var_mean(x, 1, False), [A34]),
    "var_mean_bool": (lambda lib, x: lib.var_mean(x, False), [A34]),
    "aminmax": (lambda lib, x: lib.aminmax(x), [A34]),
    "aminmax_dim": (lambda lib, x: x.aminmax(dim=1, keepdim=True), [A234]),
    "aminmax_ties": (lambda lib: lib.aminmax(lib.tensor([1.0, 3.0, 1.0, 3.0],
                                                          requires_grad=True), dim=0), []),
    "aminmax_int": (lambda lib, x: lib.aminmax(x, dim=0), [INTS]),
    "logspace": (lambda lib: lib.logspace(0, 2, 5), []),
    "logspace_base": (lambda lib: lib.logspace(-1, 3, 4, base=2, dtype=lib.float64), []),
    "logspace_int": (lambda lib: lib.logspace(0, 2, 3, dtype=lib.long), []),
    "isin": (lambda lib, x: lib.isin(x, lib.tensor([0, 2, 4])), [INTS]),
    "isin_invert": (lambda lib, x: lib.isin(x, lib.tensor([1, 3]), invert=True), [INTS]),
    "isin_scalar": (lambda lib, x: lib.isin(x, 2), [INTS]),
    "isin_scalar_elements": (lambda lib: lib.isin(2, lib.arange(4)), []),
    "isin_mixed": (lambda lib: lib.isin(lib.arange(4.0), lib.tensor([1, 2])), []),
    "inner": (lambda lib, x, y: lib.inner(x, y), [A34, A34]),
    "inner_1d": (lambda lib, v: v.inner(v * 2), [A5]),
    "inner_0d": (lambda lib, s, x: lib.inner(s, x), [A0, A34]),
    "inner_3d": (lambda lib, x, y: lib.inner(x, y), [A234, A34]),
    "tensordot": (lambda lib, x, y: lib.tensordot(x, y, dims=([1], [1])), [A34, A34]),
    "tensordot_int": (lambda lib, x, y: lib.tensordot(x, y, 1), [A234, A43]),
    "tensordot_two": (lambda lib, x, y: lib.tensordot(x, y), [A234, A34]),
    "tensordot_zero": (lambda lib, x, y: lib.tensordot(x, y, 0), [A5, A5]),
    "tensordot_pairs": (lambda lib, x, y: lib.tensordot(x, y, ([0, 2], [1, 0])),
                        [A234, rand_array((4, 2, 5))]),
    "cross": (lambda lib, x, y: lib.cross(x, y, dim=1), [A43, B43]),
    "cross_method": (lambda lib, x, y: x.cross(y, 1), [A43, B43]),
    "linalg_cross": (lambda lib, x, y: lib.linalg.cross(x, y), [A43, B43]),
    "linalg_cross_dim0": (lambda lib, x, y: lib.linalg.cross(x.t(), y.t(), dim=0), [A43, B43]),
    "linalg_cross_broadcast": (lambda lib, x, y: lib.linalg.cross(x[:1], y), [A43, B43]),
    "dist": (lambda lib, x, y: lib.dist(x, y), [A34, A34]),
    "dist_p3": (lambda lib, x, y: x.dist(y, 3), [A34, A34]),
    "dist_p1": (lambda lib, x, y: lib.dist(x, y, 1), [A34, A34]),
    "dist_inf": (lambda lib, x, y: lib.dist(x, y, math.inf), [A34, A34]),
    "dist_p0": (lambda lib, x, y: lib.dist(x, y, 0), [A34, A34]),
    "dist_broadcast": (lambda lib, x, v: lib.dist(x, v), [A34, rand_array((4,))]),
    "cdist": (lambda lib, x, y: lib.cdist(x, y), [A34, rand_array((5, 4))]),
    "cdist_p1": (lambda lib, x, y: lib.cdist(x, y, p=1), [A34, rand_array((5, 4))]),
    "cdist_p3": (lambda lib, x, y: lib.cdist(x, y, 3.0), [A34, rand_array((5, 4))]),
    "cdist_inf": (lambda lib, x, y: lib.cdist(x, y, math.inf), [A34, rand_array((5, 4))]),
    "cdist_batch": (lambda lib, x, y: lib.cdist(x, y), [A234, rand_array((2, 5, 4))]),
    "cov": (lambda lib, x: lib.cov(x), [A35]),
    "cov_method_correction": (lambda lib, x: x.cov(correction=0), [A35]),
    "cov_1d": (lambda lib, v: lib.cov(v), [A5]),
    "cov_int": (lambda lib, x: lib.cov(x), [INTS]),
    "corrcoef": (lambda lib, x: lib.corrcoef(x), [A35]),
    "corrcoef_method": (lambda lib, x: x.corrcoef(), [A234[0]]),
    "corrcoef_1d": (lambda lib, v: lib.corrcoef(v), [A5]),
}


@pytest.mark.parametrize("name", OPS)
def test_op(name, device):
    fn, arrays = OPS[name]
    grad = name != "dist_p0"  # torch's own backward of dist(p=0) fails
    check_op(fn, *arrays, device=device, grad=grad, rtol=1e-5, atol=1e-5)


def test_cross_without_dim_warns(device):
    def fn(lib, x, y):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = lib.cross(x, y)
        if lib is gputensor:  # (torch warns once per process)
            assert any("without specifying the dim" in str(w.message) for w in caught)
        return result
    check_op(fn, A43.T.copy(), B43.T.copy(), device=device)


def test_cov_few_observations_warns(device):
    def fn(lib, x):
        with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
            return lib.cov(x)
    check_op(fn, rand_array((2, 1)), device=device)


def test_return_types(device):
    for name in ("median", "nanmedian", "mode"):
        ours = run_on(gputensor, device, lambda lib, n=name: getattr(lib.tensor(A34), n)(1))
        theirs = getattr(torch.tensor(A34), name)(1)
        assert type(ours).__name__ == type(theirs).__name__ == name
        assert type(ours) is getattr(gputensor.return_types, name)
        assert_same(ours.values, theirs.values)
        assert_same(ours.indices, theirs.indices)
        assert "return_types." + name + "(\nvalues=" in repr(ours)
    ours = run_on(gputensor, device, lambda lib: lib.aminmax(lib.tensor(A34)))
    theirs = torch.aminmax(torch.tensor(A34))
    assert type(ours) is gputensor.return_types.aminmax
    assert_same(ours.min, theirs.min)
    assert_same(ours.max, theirs.max)
    assert repr(ours).replace("gputensor", "torch").startswith("torch.return_types.aminmax(")


def test_out(device):
    for name, fn in {"median": lambda lib, x, out: lib.median(x, 1, out=out),
                     "nansum": lambda lib, x, out: lib.nansum(x, out=out[0]),
                     "quantile": lambda lib, x, out: lib.quantile(x, 0.5, 1, out=out[0]),
                     "aminmax": lambda lib, x, out: lib.aminmax(x, dim=0, out=out)}.items():
        results = []
        for lib in (gputensor, torch):
            x = run_on(lib, device if lib is gputensor else "cpu",
                       lambda lib: lib.tensor(A34))
            dev = device if lib is gputensor else "cpu"
            out = (lib.empty(0, device=dev), lib.empty(0, dtype=lib.long, device=dev))
            if name == "aminmax":
                out = (lib.empty(0, device=dev), lib.empty(0, device=dev))
            result = fn(lib, x, out)
            assert result is out[0] or result[0] is out[0], name
            results.append(result)
        assert_same(results[0], results[1])


ERRORS = {
    "median_empty_dim": lambda lib: lib.zeros(2, 0).median(1),
    "mode_empty_dim": lambda lib: lib.zeros(2, 0).mode(1),
    "median_dim_range": lambda lib: lib.zeros(2, 3).median(2),
    "quantile_int": lambda lib: lib.tensor([1, 2]).quantile(0.5),
    "quantile_q": lambda lib: lib.zeros(3).quantile(1.5),
    "quantile_q_tensor": lambda lib: lib.zeros(3).quantile(lib.tensor([0.5, 1.5])),
    "quantile_interpolation": lambda lib: lib.zeros(3).quantile(0.5, interpolation="foo"),
    "quantile_empty": lambda lib: lib.zeros(0).quantile(0.5),
    "quantile_q_dtype": lambda lib: lib.zeros(3).quantile(lib.tensor([0.5], dtype=lib.float64)),
    "quantile_q_2d": lambda lib: lib.zeros(3).quantile(lib.zeros(2, 2)),
    "nanmean_int": lambda lib: lib.tensor([1, 2]).nanmean(),
    "std_mean_int": lambda lib: lib.std_mean(lib.tensor([1, 2])),
    "var_mean_int": lambda lib: lib.var_mean(lib.tensor([1, 2])),
    "logspace_steps": lambda lib: lib.logspace(0, 2, -1),
    "inner_sizes": lambda lib: lib.inner(lib.zeros(3, 4), lib.zeros(3, 3)),
    "tensordot_sizes": lambda lib: lib.tensordot(lib.zeros(3, 4), lib.zeros(3, 4), ([1], [0])),
    "tensordot_negative": lambda lib: lib.tensordot(lib.zeros(3, 4), lib.zeros(3, 4), -1),
    "tensordot_lengths": lambda lib: lib.tensordot(lib.zeros(3, 4), lib.zeros(3, 4),
                                                   ([1], [0, 1])),
    "tensordot_dtype": lambda lib: lib.tensordot(lib.zeros(3, 4),
                                                 lib.zeros(4, 3, dtype=lib.float64), 1),
    "cross_length": lambda lib: lib.linalg.cross(lib.zeros(3, 4), lib.zeros(3, 4)),
    "cross_ndim": lambda lib: lib.linalg.cross(lib.zeros(3), lib.zeros(2, 3)),
    "cross_dim": lambda lib: lib.cross(lib.zeros(3, 4), lib.zeros(3, 4), dim=1),
    "dist_int": lambda lib: lib.dist(lib.ones(3, dtype=lib.long), lib.ones(3, dtype=lib.long)),
    "dist_shapes": lambda lib: lib.dist(lib.ones(3), lib.ones(4)),
    "cdist_int": lambda lib: lib.cdist(lib.ones(2, 3, dtype=lib.long),
                                       lib.ones(2, 3, dtype=lib.long)),
    "cdist_columns": lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(2, 4)),
    "cdist_1d": lambda lib: lib.cdist(lib.ones(3), lib.ones(2, 3)),
    "cdist_p": lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(2, 3), p=-1),
    "cov_3d": lambda lib: lib.cov(lib.zeros(2, 2, 2)),
    "aminmax_empty": lambda lib: lib.zeros(0).aminmax(),
    "aminmax_empty_dim": lambda lib: lib.zeros(2, 0).aminmax(dim=1),
}


@pytest.mark.parametrize("name", ERRORS)
def test_errors(name, device):
    check_error(ERRORS[name], device=device)
