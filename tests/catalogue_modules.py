"""Wrong calls beyond tensors, for the error catalogue: autograd misuse, nn modules and
functional, losses, optimizers, lr schedulers, DataLoader and save/load.

Each table maps a name to ``(make, call)``: ``make(lib)`` builds the objects the call is given
(tensors, modules, optimizers, schedulers), ``call(lib, *objects)`` makes the wrong call; the
runner checks the error and that every object is as it was.
"""

import io

from catalogue_tensors import floats, longs


def _leaf(lib):
    return (floats(lib, grad=True),)


def _linear(lib):
    lib.manual_seed(0)
    return (lib.nn.Linear(4, 3),)


def _batch_norm(lib):
    return (lib.nn.BatchNorm1d(3),)


def _sgd(lib):
    w = floats(lib, 2, grad=True)
    w.grad = lib.ones(2)
    return w, lib.optim.SGD([w], lr=0.1, momentum=0.9)


def _adam(lib):
    w = floats(lib, 2, grad=True)
    w.grad = lib.ones(2)
    opt = lib.optim.Adam([w], lr=0.1)
    opt.step()
    return w, opt


def _scheduler(lib):
    w, opt = _sgd(lib)
    return w, opt, lib.optim.lr_scheduler.StepLR(opt, step_size=2)


def _backward_done(lib):
    x = floats(lib, grad=True)
    y = (x * x).sum()
    y.backward()
    return x, y


def _modified_output(op):
    def call(lib, x):
        y = getattr(x, op)()
        y.add_(1)
        y.sum().backward()
    return call


def _modified_saved_input(lib, x):
    b = x * 1
    c = b * b
    b.mul_(2)
    c.sum().backward()


def _modified_leaf(lib, x):
    b = floats(lib)
    y = x * b
    b.add_(1)
    y.sum().backward()


def _leaf_changed_after_use(lib):
    x = floats(lib, grad=True)
    y = x * x
    with lib.no_grad():
        x.add_(1)
    return x, y


def _modified_mm(lib, x):
    b = x @ x.t()
    c = b @ b
    b.mul_(2)
    c.sum().backward()


AUTOGRAD = {  # name: (make, call)
    "backward_non_scalar": (_leaf, lambda lib, x: (x * 2).backward()),
    "backward_twice": (_backward_done, lambda lib, x, y: y.backward()),
    "backward_no_grad": (lambda lib: (floats(lib),), lambda lib, x: x.sum().backward()),
    "backward_grad_shape": (_leaf, lambda lib, x: (x * 2).backward(lib.ones(2))),
    "grad_unused": (_leaf, lambda lib, x: lib.autograd.grad(
        floats(lib, grad=True).sum(), [x])),
    "grad_non_scalar": (_leaf, lambda lib, x: lib.autograd.grad(x * 2, [x])),
    "requires_grad_non_leaf": (_leaf, lambda lib, x: (x * 2).requires_grad_(False)),
    "modified_sigmoid_output": (_leaf, _modified_output("sigmoid")),
    "modified_exp_output": (_leaf, _modified_output("exp")),
    "modified_tanh_output": (_leaf, _modified_output("tanh")),
    "modified_relu_output": (_leaf, _modified_output("relu")),
    "modified_sqrt_output": (_leaf, _modified_output("sqrt")),
    "modified_saved_input": (_leaf, _modified_saved_input),
    "modified_saved_leaf": (_leaf, _modified_leaf),
    "modified_leaf_no_grad": (_leaf_changed_after_use,
                              lambda lib, x, y: y.sum().backward()),
    "modified_mm_input": (_leaf, _modified_mm),
    "leaf_inplace": (_leaf, lambda lib, x: x.mul_(2)),
    "leaf_setitem": (_leaf, lambda lib, x: x.__setitem__(0, 1.0)),
    "grad_wrong_shape": (_leaf, lambda lib, x: setattr(x, "grad", lib.ones(2))),
    "grad_wrong_dtype": (_leaf, lambda lib, x: setattr(x, "grad", x.double())),
    "grad_not_tensor": (_leaf, lambda lib, x: setattr(x, "grad", 1.0)),
    "numpy_of_grad_tensor": (_leaf, lambda lib, x: x.numpy()),
    "retain_grad_no_grad": (lambda lib: (floats(lib),), lambda lib, x: x.retain_grad()),
    "register_hook_no_grad": (lambda lib: (floats(lib),),
                              lambda lib, x: x.register_hook(lambda g: g)),
}

NN = {  # name: (make, call)
    "linear_features": (_linear, lambda lib, m: m(floats(lib, 2, 5))),
    "linear_scalar": (_linear, lambda lib, m: m(lib.tensor(1.0))),
    "linear_dtype": (_linear, lambda lib, m: m(floats(lib, 2, 4).double())),
    "linear_long": (_linear, lambda lib, m: m(longs(lib, 2, 4))),
    "batch_norm_channels": (_batch_norm, lambda lib, m: m(floats(lib, 2, 4))),
    "batch_norm_1d_input": (_batch_norm, lambda lib, m: m(floats(lib, 3))),
    "batch_norm_4d_input": (_batch_norm, lambda lib, m: m(floats(lib, 2, 3, 2, 2))),
    "batch_norm_one_value": (_batch_norm, lambda lib, m: m(floats(lib, 1, 3))),
    "embedding_out_of_range": (lambda lib: (lib.nn.Embedding(4, 2),),
                               lambda lib, m: m(lib.tensor([4]))),
    "embedding_float_index": (lambda lib: (lib.nn.Embedding(4, 2),),
                              lambda lib, m: m(lib.tensor([1.0]))),
    "embedding_negative": (lambda lib: (lib.nn.Embedding(4, 2),),
                           lambda lib, m: m(lib.tensor([-5]))),
    "layer_norm_shape": (lambda lib: (lib.nn.LayerNorm(5),),
                         lambda lib, m: m(floats(lib, 2, 4))),
    "sequential_index": (lambda lib: (lib.nn.Sequential(lib.nn.ReLU()),), lambda lib, m: m[3]),
    "module_list_index": (lambda lib: (lib.nn.ModuleList([lib.nn.ReLU()]),),
                          lambda lib, m: m[2]),
    "module_missing_attribute": (_linear, lambda lib, m: m.nothing),
    "register_buffer_dotted": (_linear, lambda lib, m: m.register_buffer("a.b", None)),
    "add_module_not_module": (_linear, lambda lib, m: m.add_module("x", 3)),
    "parameter_assign_tensor": (_linear, lambda lib, m: setattr(m, "weight", floats(lib, 3, 4))),
    "load_state_dict_missing": (_linear, lambda lib, m: m.load_state_dict({})),
    "load_state_dict_shape": (_linear, lambda lib, m: m.load_state_dict(
        {"weight": floats(lib, 2, 2), "bias": floats(lib, 3)})),
    "load_state_dict_unexpected": (_linear, lambda lib, m: m.load_state_dict(
        {"weight": floats(lib, 3, 4), "bias": floats(lib, 3), "other": floats(lib, 1)})),
    "dropout_probability": (lambda lib: (), lambda lib: lib.nn.Dropout(1.5)),
    "functional_dropout_p": (_leaf, lambda lib, x: lib.nn.functional.dropout(x, 2.0)),
    "softmax_dim_range": (_leaf, lambda lib, x: lib.nn.functional.softmax(x, 2)),
    "one_hot_float": (lambda lib: (), lambda lib: lib.nn.functional.one_hot(lib.tensor([1.0]))),
    "one_hot_classes": (lambda lib: (), lambda lib: lib.nn.functional.one_hot(
        lib.tensor([3]), 2)),
    "clip_grad_norm_type": (_linear, lambda lib, m: lib.nn.utils.clip_grad_norm_(
        m.parameters(), 1.0, norm_type="bad")),
}

LOSSES = {  # name: (make, call)
    "mse_shapes_not_broadcast": (_leaf, lambda lib, x: lib.nn.functional.mse_loss(
        x, floats(lib, 2, 4))),
    "mse_bad_reduction": (_leaf, lambda lib, x: lib.nn.functional.mse_loss(
        x, x.detach(), reduction="average")),
    "l1_shapes": (_leaf, lambda lib, x: lib.nn.functional.l1_loss(x, floats(lib, 5))),
    "cross_entropy_target_range": (_leaf, lambda lib, x: lib.nn.functional.cross_entropy(
        x, lib.tensor([0, 4, 1]))),
    "cross_entropy_target_dtype": (_leaf, lambda lib, x: lib.nn.functional.cross_entropy(
        x, lib.tensor([0, 1, 1]).int())),
    "cross_entropy_batch": (_leaf, lambda lib, x: lib.nn.functional.cross_entropy(
        x, lib.tensor([0, 1]))),
    "cross_entropy_negative_target": (_leaf, lambda lib, x: lib.nn.functional.cross_entropy(
        x, lib.tensor([0, -3, 1]))),
    "cross_entropy_probabilities_shape": (_leaf, lambda lib, x:
                                          lib.nn.functional.cross_entropy(x, floats(lib, 3, 5))),
    "nll_target_range": (_leaf, lambda lib, x: lib.nn.functional.nll_loss(
        x, lib.tensor([0, 9, 1]))),
    "nll_float_target": (_leaf, lambda lib, x: lib.nn.functional.nll_loss(
        x, lib.tensor([0.0, 1.0, 1.0]))),
    "bce_input_range": (_leaf, lambda lib, x: lib.nn.functional.binary_cross_entropy(
        x, x.detach())),
    "bce_nan_target": (lambda lib: (), lambda lib: lib.nn.functional.binary_cross_entropy(
        lib.tensor([0.5]), lib.tensor([float("nan")]))),
    "bce_target_range_first": (lambda lib: (), lambda lib: lib.nn.functional.
                               binary_cross_entropy(lib.tensor([0.5, 2.0]),
                                                    lib.tensor([2.0, 0.5]))),
    "bce_shapes": (lambda lib: (), lambda lib: lib.nn.functional.binary_cross_entropy(
        lib.tensor([0.5, 0.5]), lib.tensor([0.5]))),
    "bce_logits_shapes": (_leaf, lambda lib, x: lib.nn.functional.
                          binary_cross_entropy_with_logits(x, floats(lib, 4))),
    "huber_bad_delta": (_leaf, lambda lib, x: lib.nn.functional.huber_loss(
        x, x.detach(), delta=-1.0)),
    "smooth_l1_negative_beta": (_leaf, lambda lib, x: lib.nn.functional.smooth_l1_loss(
        x, x.detach(), beta=-1.0)),
    "loss_module_reduction": (lambda lib: (), lambda lib: lib.nn.MSELoss(reduction="bad")(
        lib.ones(2), lib.ones(2))),
}

OPTIM = {  # name: (make, call)
    "sgd_negative_lr": (lambda lib: (floats(lib, 2, grad=True),),
                        lambda lib, w: lib.optim.SGD([w], lr=-0.1)),
    "sgd_negative_momentum": (lambda lib: (floats(lib, 2, grad=True),),
                              lambda lib, w: lib.optim.SGD([w], lr=0.1, momentum=-1)),
    "sgd_nesterov_no_momentum": (lambda lib: (floats(lib, 2, grad=True),),
                                 lambda lib, w: lib.optim.SGD([w], lr=0.1, nesterov=True)),
    "sgd_empty_params": (lambda lib: (), lambda lib: lib.optim.SGD([], lr=0.1)),
    "sgd_tensor_params": (lambda lib: (floats(lib, 2, grad=True),),
                          lambda lib, w: lib.optim.SGD(w, lr=0.1)),
    "adam_betas": (lambda lib: (floats(lib, 2, grad=True),),
                   lambda lib, w: lib.optim.Adam([w], betas=(1.5, 0.9))),
    "adam_eps": (lambda lib: (floats(lib, 2, grad=True),),
                 lambda lib, w: lib.optim.Adam([w], eps=-1.0)),
    "adam_weight_decay": (lambda lib: (floats(lib, 2, grad=True),),
                          lambda lib, w: lib.optim.Adam([w], weight_decay=-1.0)),
    "adamw_lr": (lambda lib: (floats(lib, 2, grad=True),),
                 lambda lib, w: lib.optim.AdamW([w], lr=-1.0)),
    "rmsprop_alpha": (lambda lib: (floats(lib, 2, grad=True),),
                      lambda lib, w: lib.optim.RMSprop([w], alpha=-1.0)),
    "adagrad_lr_decay": (lambda lib: (floats(lib, 2, grad=True),),
                         lambda lib, w: lib.optim.Adagrad([w], lr_decay=-1.0)),
    "add_param_group_duplicate": (_sgd, lambda lib, w, opt: opt.add_param_group(
        {"params": [w]})),
    "add_param_group_no_params": (_sgd, lambda lib, w, opt: opt.add_param_group({"lr": 1.0})),
    "load_state_dict_groups": (_adam, lambda lib, w, opt: opt.load_state_dict(
        {"state": {}, "param_groups": []})),
    "load_state_dict_sizes": (_adam, lambda lib, w, opt: opt.load_state_dict(
        {"state": {}, "param_groups": [dict(opt.param_groups[0], params=[0, 1])]})),
    "step_lr_bad_optimizer": (lambda lib: (), lambda lib: lib.optim.lr_scheduler.StepLR(
        "sgd", step_size=1)),
    "lambda_lr_count": (_sgd, lambda lib, w, opt: lib.optim.lr_scheduler.LambdaLR(
        opt, [lambda e: 1.0, lambda e: 1.0])),
    "reduce_on_plateau_mode": (_sgd, lambda lib, w, opt: lib.optim.lr_scheduler.
                               ReduceLROnPlateau(opt, mode="middle")),
    "reduce_on_plateau_factor": (_sgd, lambda lib, w, opt: lib.optim.lr_scheduler.
                                 ReduceLROnPlateau(opt, factor=2.0)),
    "scheduler_load_state_dict": (_scheduler, lambda lib, w, opt, s: s.load_state_dict(None)),
    "multistep_gamma_milestones": (_sgd, lambda lib, w, opt: lib.optim.lr_scheduler.
                                   MultiStepLR(opt, milestones=3)),
}


def _dataset(lib):
    return (lib.utils.data.TensorDataset(floats(lib, 4), floats(lib, 4)),)


DATA = {  # name: (make, call)
    "tensor_dataset_sizes": (lambda lib: (), lambda lib: lib.utils.data.TensorDataset(
        floats(lib, 3), floats(lib, 4))),
    "loader_batch_size": (_dataset, lambda lib, d: lib.utils.data.DataLoader(d, batch_size=0)),
    "loader_negative_workers": (_dataset, lambda lib, d: lib.utils.data.DataLoader(
        d, num_workers=-1)),
    "loader_sampler_and_shuffle": (_dataset, lambda lib, d: lib.utils.data.DataLoader(
        d, shuffle=True, sampler=[0, 1])),
    "loader_batch_sampler_and_size": (_dataset, lambda lib, d: lib.utils.data.DataLoader(
        d, batch_size=2, batch_sampler=[[0, 1]])),
    "loader_drop_last_with_batch_sampler": (_dataset, lambda lib, d: lib.utils.data.DataLoader(
        d, drop_last=True, batch_sampler=[[0, 1]], batch_size=None)),
    "loader_prefetch_without_workers": (_dataset, lambda lib, d: lib.utils.data.DataLoader(
        d, prefetch_factor=2)),
    "dataset_index": (_dataset, lambda lib, d: d[4]),
    "random_split_lengths": (_dataset, lambda lib, d: lib.utils.data.random_split(d, [1, 1])),
    "subset_index": (_dataset, lambda lib, d: lib.utils.data.Subset(d, [5])[0]),
    "batch_sampler_size": (lambda lib: (), lambda lib: lib.utils.data.BatchSampler(
        [0, 1], batch_size=0, drop_last=False)),
    "random_sampler_samples": (_dataset, lambda lib, d: lib.utils.data.RandomSampler(
        d, num_samples=0)),
}


def _load_bytes(lib, data):
    return lib.load(io.BytesIO(data))


SERIALIZATION = {  # name: (make, call)
    "load_missing_file": (lambda lib: (), lambda lib: lib.load("/nonexistent/file.pt")),
}
