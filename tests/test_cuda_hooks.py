"""Each choice of USE_OUR_KERNEL gives the same results: the ops of the parity table with
every backend hook switched to its other implementation (our Numba kernel or CuPy's way).

The default choices are exercised by tests/test_cuda_parity.py; here each hook is flipped
in turn, and a count of calls shows the chosen implementation really ran.
"""

import pytest
from test_cuda_parity import run_and_compare

from gputensor import backends

# hook -> (module of kernels/cuda, function) that runs when the hook is our kernel
OUR_KERNELS = {
    "elementwise": ("elementwise", "elementwise"),
    "matmul": ("matmul", "matmul"),
    "sum_to_shape": ("reduce", "sum_to_shape"),
    "activation_backward": ("activations", "activation_backward"),
    "cross_entropy": ("losses", "cross_entropy_forward"),
}
# ops of the parity table that reach each hook
REACHES = {
    "elementwise": ["add", "sub_broadcast", "div", "pow", "neg_abs", "exp_log", "sqrt_sin",
                    "tanh", "maximum_where", "mul_scalar", "linear", "mse_loss"],
    "matmul": ["matmul", "matmul_transposed", "matmul_batched", "bmm", "matvec", "linear"],
    "sum_to_shape": ["sub_broadcast", "expand", "matmul_batched", "linear"],
    "activation_backward": ["relu", "sigmoid", "tanh", "relu_strided", "tanh_0d", "inplace"],
    "cross_entropy": ["cross_entropy", "cross_entropy_weight_ignore", "cross_entropy_none_3d"],
}


@pytest.fixture
def flipped(request, cuda_device, monkeypatch):
    """The CUDA backend with hook ``request.param`` flipped; yields (hook, call counter)."""
    hook = request.param
    backend = backends.backend_for("cuda")
    module_name, function = OUR_KERNELS[hook]
    module = backend.kernel_module(module_name)
    calls = []
    original = getattr(module, function)

    def counted(*args, **kwargs):
        calls.append(args[0] if isinstance(args[0], str) else function)
        return original(*args, **kwargs)
    monkeypatch.setattr(module, function, counted)
    default = backend.use_our_kernel[hook]
    backend.choose(hook, not default)
    try:
        yield hook, calls, not default
    finally:
        backend.choose(hook, default)


@pytest.mark.parametrize("flipped", list(OUR_KERNELS), indirect=True)
def test_flipping_a_hook_gives_the_same_results(flipped, cuda_device):
    hook, calls, ours = flipped
    for name in REACHES[hook]:
        before = len(calls)
        run_and_compare(name, cuda_device)
        assert (len(calls) > before) == ours, name  # our kernel ran exactly when chosen


def test_choosing_an_unknown_hook_raises(cuda_device):
    backend = backends.backend_for("cuda")
    with pytest.raises(KeyError, match="unknown hook 'conv'"):
        backend.choose("conv", True)
