"""More wrong calls for the error catalogue, each ``fn(lib)`` with no input to keep: creation
from bad data, functional and module arguments, optimizers, schedulers, DataLoader, save.
"""

import numpy as np
from catalogue_tensors import floats


def _functional(lib):
    return lib.nn.functional


def _labels(lib):
    return lib.tensor([0, 1, 2])


def _longs(lib):
    return lib.ones(2, dtype=lib.long)


def _weight(lib):
    return lib.ones(2, requires_grad=True)


def _sgd(lib):
    return lib.optim.SGD([_weight(lib)], lr=0.1)


ON_DEVICE = {  # calls making tensors: run on every device
    "backward_inputs_empty": (
        lambda lib: (_weight(lib) * 2).sum().backward(inputs=[])),
    "bce_weight_shape": (
        lambda lib: _functional(lib).binary_cross_entropy(
            lib.full((2, 3), 0.5), lib.full((2, 3), 0.5), weight=lib.ones(4))),
    "chunk_negative": lambda lib: floats(lib).chunk(-1),
    "clamp_tensor_bounds_shape": lambda lib: floats(lib).clamp(lib.zeros(2), lib.ones(2)),
    "cross_entropy_ignore_index_weight": (
        lambda lib: _functional(lib).cross_entropy(floats(lib), _labels(lib), weight=lib.ones(5))),
    "cross_entropy_label_smoothing": (
        lambda lib: _functional(lib).cross_entropy(floats(lib), _labels(lib), label_smoothing=1.5)),
    "cuda_bad_index": lambda lib: lib.zeros(2).to("cuda:x"),
    "dropout_training_p": lambda lib: _functional(lib).dropout(floats(lib), -0.1),
    "embedding_weight_1d": lambda lib: _functional(lib).embedding(lib.tensor([0]), lib.ones(3)),
    "gelu_approx": lambda lib: _functional(lib).gelu(floats(lib), approximate="bad"),
    "grad_allow_unused": (
        lambda lib: lib.autograd.grad((_weight(lib) * 2).sum(), [_weight(lib)])),
    "grad_no_grad_outputs": (
        lambda lib: lib.autograd.grad(lib.ones(2).sum(), [_weight(lib)])),
    "item_empty": lambda lib: lib.zeros(0).item(),
    "layer_norm_call_shape": lambda lib: lib.nn.LayerNorm(3)(floats(lib)),
    "layer_norm_shape": lambda lib: _functional(lib).layer_norm(floats(lib), (3,)),
    "linear_bias_shape": (
        lambda lib: _functional(lib).linear(floats(lib), lib.ones(2, 4), lib.ones(3))),
    "mean_dtype_int": lambda lib: floats(lib).mean(dtype=lib.int64),
    "mse_int": (
        lambda lib: _functional(lib).mse_loss(_longs(lib), _longs(lib))),
    "new_zeros_bad": lambda lib: lib.zeros(2).new_zeros(-1),
    "nll_weight_size": (
        lambda lib: _functional(lib).nll_loss(floats(lib), _labels(lib), weight=lib.ones(3))),
    "parameter_int": lambda lib: lib.nn.Parameter(_longs(lib)),
    "split_negative": lambda lib: floats(lib).split(-1),
    "tensor_dict": lambda lib: lib.tensor({1: 2}),
    "tensor_none": lambda lib: lib.tensor(None),
    "tensor_str": lambda lib: lib.tensor("abc"),
    "tensor_str_list": lambda lib: lib.tensor(["a", "b"]),
    "tensor_str_mixed": lambda lib: lib.tensor([1, "a"]),
    "tensor_str_nested": lambda lib: lib.tensor([["a"], ["b"]]),
    "tolist_ok": lambda lib: lib.zeros(2, requires_grad=True).numpy(),
    "topk_negative": lambda lib: floats(lib).topk(-1),
}

ON_HOST = {  # calls about host objects (modules built, optimizers, data, files)
    "adam_amsgrad_bad": (
        lambda lib: lib.optim.Adam([_weight(lib)], betas=(0.9, -0.1))),
    "cosine_annealing_bad": (
        lambda lib: lib.optim.lr_scheduler.CosineAnnealingLR(_sgd(lib), T_max=0).step()),
    "embedding_padding_idx": lambda lib: lib.nn.Embedding(3, 2, padding_idx=5),
    "exponential_lr_bad": lambda lib: lib.optim.lr_scheduler.ExponentialLR("x", 0.5),
    "from_numpy_list": lambda lib: lib.from_numpy([1, 2]),
    "from_numpy_object": lambda lib: lib.from_numpy(np.array([object()])),
    "linear_lr_start": (
        lambda lib: lib.optim.lr_scheduler.LinearLR(_sgd(lib), start_factor=0)),
    "linear_neg_features": lambda lib: lib.nn.Linear(-1, 2),
    "loader_bad_sampler": lambda lib: list(lib.utils.data.DataLoader([1, 2], sampler=[5])),
    "loader_collate_mixed": lambda lib: list(lib.utils.data.DataLoader([1, "a"], batch_size=2)),
    "loader_collate_sizes": (
        lambda lib: list(lib.utils.data.DataLoader([lib.ones(2), lib.ones(3)], batch_size=2))),
    "loader_len_iterable": lambda lib: len(lib.utils.data.DataLoader(iter([1, 2]))),
    "manual_seed_str": lambda lib: lib.manual_seed("a"),
    "module_get_parameter": lambda lib: lib.nn.Linear(2, 2).get_parameter("a"),
    "module_get_submodule": lambda lib: lib.nn.Linear(2, 2).get_submodule("a"),
    "module_list_bad": lambda lib: lib.nn.ModuleList([3]),
    "module_to_bad": lambda lib: lib.nn.Linear(2, 2).to("nonsense"),
    "optim_param_not_leaf": (
        lambda lib: lib.optim.SGD([_weight(lib) * 2], lr=0.1)),
    "save_bad_target": lambda lib: lib.save(lib.ones(2), 3),
    "sequential_bad": lambda lib: lib.nn.Sequential(3),
    "set_default_dtype_int": lambda lib: lib.set_default_dtype(lib.int64),
    "state_dict_load_bad_type": lambda lib: lib.nn.Linear(2, 2).load_state_dict([1]),
}
