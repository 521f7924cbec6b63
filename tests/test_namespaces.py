"""The namespaces scripts probe at start-up, against torch's CPU build: backends switches,
accelerator, amp.autocast, distributed, nn.parallel, cuda.is_bf16_supported."""

from __future__ import annotations

import warnings

import pytest
import torch

import gputensor
from helpers import LIBS, check_error, torch_text

SWITCHES = [
    ("cuda", "matmul", "allow_tf32"),
    ("cuda", "matmul", "allow_fp16_reduced_precision_reduction"),
    ("cuda", "matmul", "allow_bf16_reduced_precision_reduction"),
    ("cudnn", None, "allow_tf32"),
    ("cudnn", None, "benchmark"),
    ("cudnn", None, "deterministic"),
    ("cudnn", None, "enabled"),
]


def _holder(lib, module, sub):
    holder = getattr(lib.backends, module)
    return holder if sub is None else getattr(holder, sub)


@pytest.mark.parametrize("module,sub,name", SWITCHES)
def test_switch_defaults_as_torch_and_settable(module, sub, name):
    ours, theirs = _holder(gputensor, module, sub), _holder(torch, module, sub)
    assert getattr(ours, name) == getattr(theirs, name)
    saved = getattr(ours, name)
    try:
        setattr(ours, name, not saved)
        assert getattr(ours, name) is (not saved)
    finally:
        setattr(ours, name, saved)


def test_matmul_switches_refuse_unknown_names_as_torch():
    check_error(lambda lib: setattr(lib.backends.cuda.matmul, "allow_tf33", True))
    check_error(lambda lib: lib.backends.cuda.matmul.allow_tf33)


@pytest.mark.parametrize("kind", ["flash", "mem_efficient", "math", "cudnn"])
def test_sdp_switches_are_settings(kind):
    enable = getattr(gputensor.backends.cuda, f"enable_{kind}_sdp")
    enabled = getattr(gputensor.backends.cuda, f"{kind}_sdp_enabled")
    assert enabled() == getattr(torch.backends.cuda, f"{kind}_sdp_enabled")()
    enable(False)
    try:
        assert enabled() is False
    finally:
        enable(True)
    assert enabled() is True


def test_backend_availability_answers():
    b = gputensor.backends
    assert b.mps.is_available() is torch.backends.mps.is_available() is False
    assert b.mps.is_built() is False
    assert b.openmp.is_available() is True
    assert b.cudnn.is_available() is False
    assert b.mkldnn.is_available() is False  # gputensor has no oneDNN kernels
    assert isinstance(b.mkl.is_available(), bool)
    assert isinstance(b.cuda.is_built(), bool)


def test_the_cuda_backend_is_no_longer_at_the_switch_name():
    assert not hasattr(gputensor.backends.cuda, "CudaBackend")
    assert gputensor.backends.CudaBackend.__module__ == "gputensor.backends.cuda_backend"


def test_accelerator_without_cuda_as_torch(cuda_unavailable):
    for lib in LIBS:
        assert lib.accelerator.is_available() is False
        assert lib.accelerator.current_accelerator() is None
        assert lib.accelerator.current_accelerator(check_available=True) is None
        assert lib.accelerator.device_count() == 0
    check_error(lambda lib: lib.accelerator.current_device_index())
    check_error(lambda lib: lib.accelerator.synchronize())
    check_error(lambda lib: lib.accelerator.set_device_index(0))


def test_accelerator_with_cuda(cuda_device):
    acc = gputensor.accelerator
    assert acc.is_available() is True
    assert acc.current_accelerator() == gputensor.device("cuda")
    assert repr(acc.current_accelerator()) == "device(type='cuda')"
    assert acc.device_count() == gputensor.cuda.device_count() >= 1
    assert acc.current_device_index() == gputensor.cuda.current_device()
    acc.set_device_index(0)
    with acc.device_index(0):
        assert acc.current_device_index() == 0
    acc.synchronize()


def test_distributed_and_parallel_names():
    assert gputensor.distributed.is_available() is torch.distributed.is_available() is True
    assert gputensor.distributed.is_initialized() is False
    for lib in LIBS:
        assert hasattr(lib.nn.parallel, "DistributedDataParallel")
        assert lib.nn.DataParallel is lib.nn.parallel.DataParallel
    check_error(lambda lib: lib.nn.parallel.DistributedDataParallel(lib.nn.Linear(2, 3)))


def test_data_parallel_runs_the_module_as_torch():
    outs = []
    for lib in LIBS:
        lib.manual_seed(0)
        model = lib.nn.DataParallel(lib.nn.Linear(2, 3))
        outs.append((model, model(lib.ones(4, 2))))
    (ours, y), (theirs, t_y) = outs
    assert torch_text(repr(ours)) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.module.weight is next(iter(ours.parameters()))
    assert y.shape == t_y.shape and y.grad_fn.name() == t_y.grad_fn.name()


def test_autocast_state_and_default_dtypes_as_torch():
    for lib in LIBS:
        assert lib.is_autocast_enabled() is False
        assert lib.get_autocast_dtype("cpu") == lib.bfloat16
        assert lib.get_autocast_dtype("cuda") == lib.float16
        with lib.autocast("cpu", dtype=lib.float16):
            assert lib.is_autocast_enabled("cpu") is True
            assert lib.is_autocast_enabled() is False
            assert lib.get_autocast_dtype("cpu") == lib.float16
        assert lib.is_autocast_enabled("cpu") is False
        assert lib.get_autocast_dtype("cpu") == lib.bfloat16
    assert gputensor.amp.autocast is gputensor.autocast


def test_autocast_is_a_dtype_no_op_here():
    a = gputensor.ones(2, 2)
    with gputensor.autocast("cpu"):
        out = a @ a
    assert out.dtype == gputensor.float32


def test_autocast_as_a_decorator():
    @gputensor.autocast("cpu")
    def inside():
        return gputensor.is_autocast_enabled("cpu")

    assert inside() is True
    assert gputensor.is_autocast_enabled("cpu") is False


def _warnings_of(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [(w.category, torch_text(str(w.message))) for w in caught]


def _enter_and_leave(region):
    with region:
        pass


def test_autocast_warnings_as_torch(cuda_unavailable):
    for fn in (lambda lib: _enter_and_leave(lib.autocast("cpu", dtype=lib.float64)),
               lambda lib: lib.cuda.amp.autocast(),
               lambda lib: lib.autocast("cuda")):
        ours, theirs = (_warnings_of(lambda lib=lib, fn=fn: fn(lib)) for lib in LIBS)
        assert ours == theirs and ours


def test_bf16_supported_as_torch_without_cuda(cuda_unavailable):
    assert gputensor.cuda.is_bf16_supported() is torch.cuda.is_bf16_supported() is False


def test_bf16_unsupported_on_cuda_devices(cuda_device):
    assert gputensor.cuda.is_bf16_supported() is False
    with pytest.raises(RuntimeError, match="does not support bfloat16"):
        gputensor.autocast("cuda", dtype=gputensor.bfloat16)
