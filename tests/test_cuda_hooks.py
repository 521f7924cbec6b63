"""Each choice of USE_OUR_KERNEL gives the same results: rows of the op tables, compared
with torch, with every backend hook switched to its other implementation (our Numba kernel
or CuPy's way).

The default choices are exercised by the op tables themselves (their "cuda" variants);
here each hook is flipped in turn, and a count of calls shows the chosen implementation
really ran.
"""

import pytest
import test_fast_paths
import test_functional
import test_losses
import test_ops_linalg
import test_ops_pointwise
import test_ops_reduce

from gputensor import backends

# hook -> (module of kernels/cuda, function) that runs when the hook is our kernel
OUR_KERNELS = {
    "elementwise": ("elementwise", "elementwise"),
    "matmul": ("matmul", "matmul"),
    "sum_to_shape": ("reduce", "sum_to_shape"),
    "activation_backward": ("activations", "activation_backward"),
    "cross_entropy": ("losses", "cross_entropy_forward"),
    "layer_norm": ("rows", "layer_norm_forward"),
    "softmax": ("rows", "softmax_forward"),
    "softmax_backward": ("rows", "softmax_backward"),
    "log_softmax_backward": ("rows", "softmax_backward"),
    "gelu": ("gelu", "gelu_forward"),
}

def _unary(name, shape=(3, 4), layout="contiguous"):
    return test_ops_pointwise.test_unary_float, {"name": name, "shape": shape, "layout": layout}


def _binary(name, shapes=((3, 4), (3, 4)), layout="contiguous"):
    return test_ops_pointwise.test_binary_float, {"name": name, "shapes": shapes,
                                                  "layout": layout}


def _matmul(left, right):  # one float32 product: the simulated matmul kernel is slow
    return test_ops_linalg.test_matmul_dtypes, {"shapes": (left, right), "dtype": "float32"}


def _cross_entropy(shape, target_shape, reduction, weighted):
    return test_losses.test_cross_entropy_and_nll_indices, {
        "shape": shape, "target_shape": target_shape, "dtype": "float32",
        "reduction": reduction, "weighted": weighted}


# rows of the op tables (test function, its parameters) that reach each hook
REACHES = {
    "elementwise": [_binary("add"), _binary("div"), _binary("pow"), _binary("maximum"),
                    _binary("mul", ((3, 4), (4,))), _unary("abs"), _unary("exp"),
                    _unary("log"), _unary("sqrt"), _unary("tanh")],
    "matmul": [_matmul((2, 3), (3, 4)), _matmul((2, 3), (3,)), _matmul((5, 2, 3), (3, 4)),
               _matmul((5, 2, 3), (5, 3, 4))],
    "sum_to_shape": [_binary("sub", ((3, 4), (4,))), _binary("add", ((2, 1, 3), (4, 1))),
                     _matmul((5, 2, 3), (3, 4))],
    "activation_backward": [_unary("relu"), _unary("sigmoid"), _unary("tanh", layout="strided"),
                            _unary("relu", shape=())],
    "cross_entropy": [_cross_entropy((6, 5), (6,), "mean", False),
                      _cross_entropy((6, 5), (6,), "sum", True),
                      _cross_entropy((3, 5, 4), (3, 4), "none", False)],
    "layer_norm": [(test_functional.test_layer_norm, {"dtype": "float32", "shape": (2, 3, 4),
                                                      "norm": (3, 4), "affine": "both"})],
    "softmax": [(test_ops_reduce.test_softmax_logsumexp_are_stable, {})],
    "softmax_backward": [(test_ops_reduce.test_reductions_along_one_dim,
                          {"name": "softmax", "shape": (3, 4), "keepdim": False})],
    "log_softmax_backward": [(test_ops_reduce.test_reductions_along_one_dim,
                              {"name": "log_softmax", "shape": (3, 4), "keepdim": False})],
    "gelu": [(test_fast_paths.test_gelu_kernel_matches_torch,
              {"dtype": dtype, "approximate": form})
             for dtype in ("float32", "float64") for form in ("none", "tanh")],
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
    for test, parameters in REACHES[hook]:
        before = len(calls)
        test(**parameters, device=cuda_device)
        assert (len(calls) > before) == ours, (test.__name__, parameters)  # ran when chosen


def test_choosing_an_unknown_hook_raises(cuda_device):
    backend = backends.backend_for("cuda")
    with pytest.raises(KeyError, match="unknown hook 'conv'"):
        backend.choose("conv", True)
