"""Legacy names old tutorials use, against torch: Variable, the typed tensor constructors,
is_tensor/is_floating_point/is_nonzero/numel as functions, the thread settings."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gputensor
from helpers import LIBS, assert_same, check_error, torch_text

TYPES = ["FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor",
         "IntTensor", "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor"]


@pytest.mark.parametrize("name", TYPES)
def test_typed_constructors_as_torch(name):
    for make in (lambda cls: cls(2, 3), lambda cls: cls(gputensor.Size([2]))
                 if cls.__module__ == "gputensor" else cls(torch.Size([2])), lambda cls: cls()):
        ours, theirs = (make(getattr(lib, name)) for lib in LIBS)
        assert tuple(ours.shape) == tuple(theirs.shape)
        assert str(ours.dtype) == str(theirs.dtype).replace("torch", "gputensor")
    ours, theirs = (getattr(lib, name)([1, 0, 2]) for lib in LIBS)
    assert torch_text(repr(ours)) == repr(theirs)
    assert torch_text(repr(getattr(gputensor, name))) == repr(getattr(torch, name))


@pytest.mark.parametrize("name", TYPES)
def test_isinstance_follows_the_dtype_as_torch(name):
    for dtype in ("float32", "float64", "int64", "bool"):
        ours, theirs = (isinstance(lib.zeros(2, dtype=getattr(lib, dtype)), getattr(lib, name))
                        for lib in LIBS)
        assert ours == theirs


def test_isinstance_is_false_on_cuda(cuda_device):
    assert not isinstance(gputensor.ones(2, device=cuda_device), gputensor.FloatTensor)
    assert isinstance(gputensor.ones(2), gputensor.FloatTensor)


def test_typed_constructor_errors_as_torch():
    check_error(lambda lib: lib.FloatTensor(lib.ones(2, dtype=lib.float64)))
    check_error(lambda lib: lib.FloatTensor("a"))
    check_error(lambda lib: lib.FloatTensor(2, "a"))
    check_error(lambda lib: lib.FloatTensor(2, device="cuda"))


def test_typed_constructor_of_a_tensor_of_its_dtype_is_an_alias_as_torch():
    for lib in LIBS:
        t = lib.ones(2)
        alias = lib.FloatTensor(t)
        alias[0] = 7
        assert alias is not t and t[0].item() == 7


def test_variable_as_torch():
    results = []
    for lib in LIBS:
        base = lib.ones(2)
        v = lib.autograd.Variable(base, requires_grad=True)
        (v * 3).sum().backward()
        plain = lib.autograd.Variable(base)
        plain[0] = 5
        results.append((v, v.grad, base, plain.requires_grad, v is base,
                        isinstance(base, lib.autograd.Variable)))
    (ours, theirs) = results
    assert torch_text(repr(ours[0])) == repr(theirs[0])
    assert_same(ours[1], theirs[1])
    assert_same(ours[2], theirs[2])
    assert ours[3:] == theirs[3:]
    check_error(lambda lib: lib.autograd.Variable([1.0]))


def test_variable_of_a_non_leaf_is_a_leaf_as_torch():
    for lib in LIBS:
        v = lib.autograd.Variable(lib.ones(2, requires_grad=True) * 2)
        assert (v.requires_grad, v.grad_fn, v.is_leaf) == (False, None, True)


def test_function_forms_as_torch():
    for lib in LIBS:
        x = lib.ones(2, 3)
        assert lib.is_tensor(x) and not lib.is_tensor(np.ones(2)) and not lib.is_tensor(1)
        assert lib.is_floating_point(x) and not lib.is_floating_point(lib.arange(2))
        assert lib.numel(x) == 6
        assert lib.is_nonzero(lib.tensor([1.5])) and not lib.is_nonzero(lib.tensor(0))
    check_error(lambda lib: lib.is_nonzero(lib.ones(2)))
    check_error(lambda lib: lib.is_nonzero(lib.ones(0)))
    check_error(lambda lib: lib.is_floating_point(1))
    check_error(lambda lib: lib.numel([1, 2]))


def test_thread_settings():
    saved = gputensor.get_num_threads()
    try:
        gputensor.set_num_threads(1)
        assert gputensor.get_num_threads() == 1
    finally:
        gputensor.set_num_threads(saved)
    assert gputensor.get_num_threads() == saved
    assert gputensor.get_num_interop_threads() >= 1
    for bad in (0, 2.5, True):
        check_error(lambda lib, bad=bad: lib.set_num_threads(bad))
        check_error(lambda lib, bad=bad: lib.set_num_interop_threads(bad))
