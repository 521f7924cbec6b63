"""repr/str of gputensor tensors must equal torch's, with ``torch.`` spelled ``gputensor.``."""

import numpy as np
import pytest
import torch

import gputensor
from gputensor import printing

RNG = np.random.default_rng(1234)


def _with(values, index, new):
    out = np.array(values, copy=True)
    out.reshape(-1)[index] = new
    return out


CASES = {
    # 0-d
    "scalar_int": np.array(2, np.int64),
    "scalar_float": np.array(1.5, np.float32),
    "scalar_whole_float": np.array(3.0, np.float32),
    "scalar_nan": np.array(np.nan, np.float32),
    "scalar_neg_inf_f64": np.array(-np.inf, np.float64),
    "scalar_bool": np.array(True),
    "scalar_big_f64": np.array(123456789.5, np.float64),
    # 1-d
    "whole_floats": np.array([2.0, 2.0], np.float32),
    "floats": np.array([1.25, -3.5, 0.1], np.float32),
    "negative_ints": np.array([-1, 20, -300], np.int64),
    "bools": np.array([True, False]),
    "nan_inf_negzero": np.array([np.nan, np.inf, -np.inf, -0.0, 1.0], np.float32),
    "nan_inf_frac": np.array([np.nan, np.inf, 0.5, -2.25], np.float64),
    "all_zero": np.zeros(4, np.float32),
    "neg_zero": np.array([-0.0, 0.0], np.float32),
    "sci_ratio": np.array([1.0, 1001.0], np.float32),
    "no_sci_ratio_1000": np.array([1.0, 1000.0], np.float32),
    "sci_big": np.array([1e9, 2e9], np.float64),
    "sci_small": np.array([1e-5, 2e-5], np.float32),
    "small_not_sci": np.array([1e-4, 2e-4], np.float64),
    "sci_whole": np.array([1e10, 1.0], np.float64),
    "float16": (RNG.standard_normal(7) * 10).astype(np.float16),
    "float16_extremes": np.array([65504.0, -65504.0, 6e-8], np.float16),
    "float64": RNG.standard_normal(6),
    "int8": np.array([-128, 0, 127], np.int8),
    "int16": np.array([-32768, 7, 32767], np.int16),
    "int32": np.array([-(2**31), 5, 2**31 - 1], np.int32),
    "uint8": np.array([0, 17, 255], np.uint8),
    "large_int64": np.array([2**63 - 1, -(2**63), 0], np.int64),
    "wrap_big_floats": (RNG.standard_normal(30) * 12345.0).astype(np.float32),
    "wrap_ints": np.arange(60, dtype=np.int64) * 1000,
    "wrap_f64_dtype_suffix": RNG.standard_normal(23) * 100.0,
    "dtype_suffix_line_end": np.arange(10, dtype=np.float64) * 10.5,
    "summarised_1d": RNG.standard_normal(1001).astype(np.float32),
    "summarised_ints": np.arange(5000, dtype=np.int32),
    "summarised_2d": RNG.standard_normal((40, 30)).astype(np.float32),
    "summarised_3d_f64": RNG.standard_normal((11, 10, 10)) * 1e5,
    "summarised_bool": RNG.integers(0, 2, 2000).astype(bool),
    "summarised_nan": _with(RNG.standard_normal(1500).astype(np.float32), 0, np.nan),
    # n-d
    "matrix": RNG.standard_normal((3, 4)).astype(np.float32),
    "matrix_ints": RNG.integers(-1000, 1000, (4, 5)),
    "tensor3d": RNG.standard_normal((2, 3, 4)).astype(np.float32),
    "tensor4d": RNG.integers(0, 10, (2, 2, 2, 3)).astype(np.int16),
    "tensor4d_f16": RNG.standard_normal((2, 1, 3, 2)).astype(np.float16),
    "wide_rows": RNG.standard_normal((3, 25)).astype(np.float32) * 1e3,
    "unit_dims": np.ones((1, 1, 1), np.float32),
    "bool_matrix": RNG.integers(0, 2, (3, 3)).astype(bool),
    "mixed_sci_matrix": np.array([[1e-8, 1.0], [5.0, 1e6]], np.float32),
    # empty
    "empty_f32": np.zeros((0,), np.float32),
    "empty_f64": np.zeros((0,), np.float64),
    "empty_int64": np.zeros((0,), np.int64),
    "empty_bool": np.zeros((0,), bool),
    "empty_2d": np.zeros((0, 3), np.float32),
    "empty_3d_int8": np.zeros((2, 0, 4), np.int8),
}

GRAD_CASES = ["scalar_float", "floats", "float64", "wrap_big_floats", "matrix", "empty_f32",
              "float16", "summarised_2d"]


def _pair(values, requires_grad=False):
    values = np.ascontiguousarray(values).copy()
    dtype = getattr(gputensor, values.dtype.name if values.dtype != np.bool_ else "bool")
    ours = gputensor.tensor(values, dtype=dtype, requires_grad=requires_grad)
    theirs = torch.from_numpy(values.copy()).requires_grad_(requires_grad)
    return ours, theirs


def _expected(t):
    return repr(t).replace("torch.", "gputensor.")


@pytest.fixture
def restore_printoptions():
    yield
    printing.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


@pytest.mark.parametrize("name", sorted(CASES))
def test_repr_matches_torch(name):
    ours, theirs = _pair(CASES[name])
    assert repr(ours) == _expected(theirs)
    assert str(ours) == str(theirs).replace("torch.", "gputensor.")


@pytest.mark.parametrize("name", GRAD_CASES)
def test_requires_grad_suffix(name):
    ours, theirs = _pair(CASES[name], requires_grad=True)
    assert repr(ours) == _expected(theirs)


def test_grad_fn_suffix():
    ours = gputensor.tensor([1.0], requires_grad=True) * 2
    theirs = torch.tensor([1.0], requires_grad=True) * 2
    assert repr(ours) == _expected(theirs) == "tensor([2.], grad_fn=<MulBackward0>)"


@pytest.mark.parametrize("options", [
    {"precision": 2},
    {"precision": 8},
    {"sci_mode": True},
    {"sci_mode": False},
    {"profile": "short"},
    {"profile": "full"},
    {"threshold": 5},
    {"threshold": 10, "edgeitems": 1},
    {"threshold": 10, "edgeitems": 0},
    {"linewidth": 40},
], ids=str)
def test_printoptions_match_torch(options, restore_printoptions):
    printing.set_printoptions(**options)
    torch.set_printoptions(**options)
    assert printing.get_printoptions() == torch._tensor_str.get_printoptions()
    for name in ("floats", "sci_big", "wrap_big_floats", "summarised_1d", "summarised_3d_f64",
                 "matrix_ints", "tensor3d", "empty_2d", "nan_inf_negzero", "scalar_float"):
        ours, theirs = _pair(CASES[name])
        assert repr(ours) == _expected(theirs), name


def test_printoptions_defaults_and_profiles(restore_printoptions):
    assert printing.get_printoptions() == torch._tensor_str.get_printoptions()
    printing.set_printoptions(profile="full")
    assert printing.get_printoptions()["threshold"] == float("inf")
    with printing.printoptions(precision=1):
        assert printing.get_printoptions()["precision"] == 1
    assert printing.get_printoptions()["precision"] == 4
    printing.set_printoptions(profile="default")
    assert printing.get_printoptions() == {"precision": 4, "threshold": 1000, "edgeitems": 3,
                                           "linewidth": 80, "sci_mode": None}


def test_parameter_style_prefix():
    ours, _ = _pair(CASES["matrix"], requires_grad=True)
    theirs = torch.nn.Parameter(torch.from_numpy(CASES["matrix"].copy()))
    text = printing.tensor_repr(ours, prefix="Parameter containing:\ntensor(")
    assert text == _expected(theirs)
