"""The error catalogue: wrong calls across the public API raise torch's exception type and
message and change nothing (values, gradients, versions, module parameters and buffers,
optimizer and scheduler state); torch's warnings and edge values.

The calls live in catalogue_tensors.py, catalogue_modules.py and catalogue_calls.py.
"""

import warnings

import catalogue_calls
import catalogue_modules
import catalogue_tensors
import numpy as np
import pytest
import torch

import gputensor
from helpers import check_op, made_on, to_numpy, torch_text

TENSOR_TABLES = ("CREATION", "DTYPES_DEVICES", "SHAPES", "INDEXING", "POINTWISE", "REDUCTIONS",
                 "LINALG", "INPLACE")
MODULE_TABLES = ("AUTOGRAD", "NN", "LOSSES", "OPTIM", "DATA", "SERIALIZATION")
CPU_ONLY_TABLES = ("OPTIM", "DATA", "SERIALIZATION", "HOST_CALLS")  # no device in these calls


def _tensor_case(fn):
    return (lambda lib: (catalogue_tensors.floats(lib),)), fn


CASES = {f"{table}/{name}": _tensor_case(fn)
         for table in TENSOR_TABLES for name, fn in getattr(catalogue_tensors, table).items()}
CASES.update({f"{table}/{name}": case for table in MODULE_TABLES
              for name, case in getattr(catalogue_modules, table).items()})
CASES.update({f"CALLS/{name}": ((lambda lib: ()), lambda lib, fn=fn: fn(lib))
              for name, fn in catalogue_calls.ON_DEVICE.items()})
CASES.update({f"HOST_CALLS/{name}": ((lambda lib: ()), lambda lib, fn=fn: fn(lib))
              for name, fn in catalogue_calls.ON_HOST.items()})


# where torch changes state before it raises (we change nothing): it loads the matching
# entries of a state dict, counts a batch whose shape BatchNorm then rejects
TORCH_CHANGES_STATE = {"NN/load_state_dict_shape", "NN/load_state_dict_unexpected",
                       "NN/batch_norm_channels", "NN/batch_norm_one_value"}


def snapshot(item):
    """Everything a wrong call must leave as it was, in plain Python and NumPy values."""
    if isinstance(item, (torch.Tensor, gputensor.Tensor)):
        version = item._version
        return ("tensor", tuple(item.shape), str(item.dtype).split(".")[-1], to_numpy(item),
                item.requires_grad, getattr(version, "value", version),
                None if not item.is_leaf or item.grad is None else to_numpy(item.grad))
    if isinstance(item, (torch.nn.Module, gputensor.nn.Module)):
        return ("module", item.training, snapshot(item.state_dict()),
                [None if p.grad is None else to_numpy(p.grad) for p in item.parameters()])
    if hasattr(item, "param_groups") or hasattr(item, "state_dict"):  # optimizers, schedulers
        state = {k: v for k, v in item.state_dict().items() if k != "lr_lambdas"}
        return ("state", snapshot(state))
    if isinstance(item, dict):
        return {k: snapshot(v) for k, v in item.items()}
    if isinstance(item, (list, tuple)):
        return [snapshot(v) for v in item]
    return item if isinstance(item, (int, float, str, bool, type(None))) else type(item).__name__


def assert_same_snapshot(a, b):
    """Two snapshots equal (arrays by value, NaN equal to NaN)."""
    if isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            assert_same_snapshot(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same_snapshot(x, y)
    else:
        assert a == b or (a != a and b != b), (a, b)


def _changed(before, after) -> bool:
    try:
        assert_same_snapshot(before, after)
    except AssertionError:
        return True
    return False


def run_case(lib, make, call, device):
    """(exception or None, snapshot before, snapshot after) of one wrong call."""
    with made_on(lib, device), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        objects = make(lib)
        before = snapshot(objects)
        try:
            call(lib, *objects)
        except Exception as error:  # noqa: BLE001 - comparing whatever torch raises
            return error, before, snapshot(objects)
        return None, before, snapshot(objects)


DEVICE_CASES = sorted(n for n in CASES if n.split("/")[0] not in CPU_ONLY_TABLES)
HOST_CASES = sorted(n for n in CASES if n.split("/")[0] in CPU_ONLY_TABLES)


@pytest.mark.parametrize("name", DEVICE_CASES)
def test_wrong_call(name, device):
    """torch's exception type and message; every input as it was."""
    check_wrong_call(name, device)


@pytest.mark.parametrize("name", HOST_CASES)
def test_wrong_call_on_host(name):
    """The same for calls whose objects live on the host (optimizers, data, files)."""
    check_wrong_call(name, "cpu")


def check_wrong_call(name, device):
    """Run ``CASES[name]`` on both libraries and compare."""
    make, call = CASES[name]
    ours, our_before, our_after = run_case(gputensor, make, call, device)
    theirs, their_before, their_after = run_case(torch, make, call, "cpu")
    assert theirs is not None, "torch did not raise"
    assert ours is not None, f"gputensor did not raise; torch raised {theirs!r}"
    assert isinstance(ours, type(theirs)), (ours, theirs)
    assert torch_text(str(ours)) == str(theirs)
    assert_same_snapshot(our_before, our_after)
    assert _changed(their_before, their_after) == (name in TORCH_CHANGES_STATE)


def test_catalogue_size():
    """The catalogue covers at least 200 wrong calls."""
    assert len(CASES) >= 200


def _nonleaf_grad(lib):
    x = lib.ones(2, requires_grad=True)
    return (x * 2).grad


WARNINGS = {  # name: fn(lib): torch warns (the same category and text)
    "grad_of_non_leaf": _nonleaf_grad,
    "tensor_of_tensor": lambda lib: lib.tensor(lib.zeros(2)),
    "new_tensor_of_tensor": lambda lib: lib.zeros(2).new_tensor(lib.zeros(2)),
    "T_of_3d": lambda lib: lib.zeros(2, 3, 4).T,
    "var_one_element": lambda lib: lib.ones(1).var(),
    "softmax_implicit_dim": lambda lib: lib.nn.functional.softmax(lib.ones(2, 3)),
    "optimizer_repeated_parameter": lambda lib: lib.optim.SGD([lib.ones(2, requires_grad=True)] * 2,
                                                              lr=0.1),
}
SILENT = {  # name: fn(lib): torch does not warn
    "grad_of_leaf": lambda lib: lib.ones(2, requires_grad=True).grad,
    "T_of_2d": lambda lib: lib.zeros(2, 3).T,
    "T_of_1d": lambda lib: lib.zeros(3).T,
    "as_tensor_of_tensor": lambda lib: lib.as_tensor(lib.zeros(2), dtype=lib.float64),
    "Tensor_of_tensor": lambda lib: lib.Tensor(lib.zeros(2)),
    "var_of_infinities": lambda lib: lib.tensor([float("inf"), 1.0]).var(),
    "prod_of_inf_and_zero": lambda lib: lib.tensor([float("inf"), 0.0]).prod(),
}


_TORCH_WARNINGS = {}


def _warnings_of(lib, fn, device):
    with made_on(lib, device), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn(lib)
    return [(w.category, torch_text(str(w.message)).split(" (Triggered internally")[0])
            for w in caught]


@pytest.mark.parametrize("name", sorted(WARNINGS) + sorted(SILENT))
def test_warnings(name, device):
    """torch's warnings where torch warns, none where it does not."""
    fn = WARNINGS.get(name) or SILENT[name]
    ours = _warnings_of(gputensor, fn, device)
    if name not in _TORCH_WARNINGS:  # torch warns of some once a process (x.T)
        _TORCH_WARNINGS[name] = _warnings_of(torch, fn, "cpu")
    theirs = _TORCH_WARNINGS[name]
    assert ours == theirs
    assert bool(theirs) == (name in WARNINGS)


def _masked_assign(lib, x, mask):
    y = x.clone()
    y[mask] = 2.7
    return y


def _masked_assign_tensor(lib, x, mask):
    y = x.clone()
    y[mask] = lib.tensor(2.7)  # one value: torch casts it as masked_fill_ does
    return y


def _embedding_empty(lib, weight, index):
    return lib.nn.functional.embedding(index, weight)


EDGE_VALUES = {  # name: (fn(lib, *operands), arrays): values and gradients as torch's
    "var_of_infinities": (lambda lib, x: x.var(), [np.array([np.inf, 1.0, 2.0])]),
    "std_of_infinities": (lambda lib, x: x.std(), [np.array([np.inf, np.inf])]),
    "var_dim_of_minus_infinity": (lambda lib, x: x.var(1),
                                  [np.array([[-np.inf, 1.0], [2.0, 3.0]], np.float32)]),
    "l1_at_nan": (lambda lib, x, y: lib.nn.functional.l1_loss(x, y),
                  [np.array([np.nan, 1.0, -2.0], np.float32), np.zeros(3, np.float32)]),
    "smooth_l1_at_nan": (lambda lib, x, y: lib.nn.functional.smooth_l1_loss(x, y),
                         [np.array([np.nan, 1.0, -2.0], np.float32), np.zeros(3, np.float32)]),
    "prod_with_inf": (lambda lib, x: x.prod(), [np.array([np.inf, 2.0, 3.0], np.float32)]),
    "prod_with_nan": (lambda lib, x: x.prod(), [np.array([np.nan, 2.0, 3.0], np.float32)]),
    "prod_with_inf_and_zero": (lambda lib, x: x.prod(),
                               [np.array([np.inf, 0.0, 3.0], np.float32)]),
    "prod_dim_with_inf_and_nan": (lambda lib, x: x.prod(1), [np.array(
        [[np.inf, 2.0, 0.0], [1.0, np.nan, 4.0], [np.inf, np.inf, 2.0]], np.float32)]),
    "prod_dim_no_zero": (lambda lib, x: x.prod(0, keepdim=True),
                         [np.array([[np.inf, 2.0], [3.0, 4.0]], np.float32)]),
    "prod_of_0d_inf": (lambda lib, x: x.prod(0), [np.array(np.inf, np.float32)]),
    "cumprod_of_one_inf": (lambda lib, x: x.cumprod(0), [np.array([np.inf], np.float32)]),
    "max_with_nan_gradient": (lambda lib, x: x.max() * float("nan"),
                              [np.array([1.0, 3.0, 2.0], np.float32)]),
    "amax_of_nan_slice": (lambda lib, x: x.amax(1),
                          [np.array([[1.0, np.nan], [2.0, 3.0]], np.float32)]),
    "int_masked_assign_float": (_masked_assign, [np.array([1, 2, 3]),
                                                 np.array([True, False, True])]),
    "int_masked_assign_float_tensor": (_masked_assign_tensor, [np.array([1, 2, 3]),
                                                               np.array([True, False, True])]),
    "int_masked_fill_float": (lambda lib, x, m: x.masked_fill(m, 2.7),
                              [np.array([1, 2, 3]), np.array([True, False, True])]),
    "empty_long_floor_divide_by_zero": (lambda lib, x: x // 0, [np.zeros(0, np.int64)]),
    "empty_long_remainder_by_zero": (lambda lib, x: x % 0, [np.zeros(0, np.int64)]),
    "empty_long_div_floor_by_zero": (lambda lib, x: lib.div(x, 0, rounding_mode="floor"),
                                     [np.zeros(0, np.int64)]),
    "embedding_empty_index": (_embedding_empty, [np.ones((4, 3), np.float32),
                                                 np.zeros(0, np.int64)]),
    "embedding_empty_2d_index": (_embedding_empty, [np.ones((4, 3), np.float32),
                                                    np.zeros((2, 0), np.int64)]),
}


@pytest.mark.parametrize("name", sorted(EDGE_VALUES))
def test_edge_values(name, device):
    """Infinities, NaN and empty tensors: torch's values, dtypes and gradients."""
    fn, arrays = EDGE_VALUES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no NumPy warning where torch is silent
        check_op(fn, *arrays, device=device)
