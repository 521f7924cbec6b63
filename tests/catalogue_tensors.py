"""Wrong calls on tensors, for the error catalogue: creation, dtypes and devices, shape ops,
indexing, pointwise, reductions, linear algebra and in-place ops.

Each table maps a name to ``fn(lib, x)``; the runner makes ``x`` for each library (its
values, dtype and layout named by the table) and checks the error and that ``x`` is unchanged.
"""


def floats(lib, *shape, grad=False):
    """Whole-number floats 0, 1, 2, ... in ``shape`` (3 x 4 by default)."""
    shape = shape or (3, 4)
    n = 1
    for size in shape:
        n *= size
    return lib.arange(n, dtype=lib.float32).reshape(shape).clone().requires_grad_(grad)


def longs(lib, *shape):
    """Integers 0, 1, 2, ... in ``shape`` (3 x 4 by default)."""
    return floats(lib, *shape).long()


CREATION = {  # fn(lib, x): x floats 3 x 4
    "zeros_negative": lambda lib, x: lib.zeros(-1),
    "zeros_negative_2d": lambda lib, x: lib.zeros(2, -3),
    "ones_negative": lambda lib, x: lib.ones(-1),
    "empty_negative": lambda lib, x: lib.empty(3, -2),
    "full_negative": lambda lib, x: lib.full((-1,), 1.0),
    "rand_negative": lambda lib, x: lib.rand(-1),
    "randn_negative": lambda lib, x: lib.randn(2, -1),
    "randperm_negative": lambda lib, x: lib.randperm(-1),
    "randint_empty_range": lambda lib, x: lib.randint(5, 3, (2,)),
    "randint_equal_bounds": lambda lib, x: lib.randint(3, 3, (2,)),
    "randint_negative_high": lambda lib, x: lib.randint(-1, (2,)),
    "tensor_none_item": lambda lib, x: lib.tensor([1.0, None]),
    "tensor_none_nested": lambda lib, x: lib.tensor([[1], [None]]),
    "tensor_ragged": lambda lib, x: lib.tensor([[1, 2], [3]]),
    "arange_step_sign": lambda lib, x: lib.arange(0, 5, -1),
    "arange_step_sign_down": lambda lib, x: lib.arange(5, 0, 1),
    "arange_zero_step": lambda lib, x: lib.arange(0, 5, 0),
    "arange_infinite": lambda lib, x: lib.arange(0, float("inf")),
    "arange_nan": lambda lib, x: lib.arange(0, float("nan")),
    "arange_minus_infinity": lambda lib, x: lib.arange(1.5, float("-inf"), -1),
    "linspace_negative_steps": lambda lib, x: lib.linspace(0, 1, -1),
    "eye_negative": lambda lib, x: lib.eye(-1),
    "full_like_bad_dtype": lambda lib, x: lib.zeros(2, dtype=5),
}

DTYPES_DEVICES = {  # fn(lib, x): x floats 3 x 4
    "to_int_dtype": lambda lib, x: x.to(dtype=5),
    "to_str_dtype": lambda lib, x: x.to(dtype="float"),
    "to_device_and_int_dtype": lambda lib, x: x.to("cpu", dtype=3),
    "to_nonsense_device": lambda lib, x: x.to("nonsense"),
    "device_nonsense": lambda lib, x: lib.device("nonsense"),
    "device_bad_index": lambda lib, x: lib.device("cpu:x"),
    "device_negative_index": lambda lib, x: lib.device("cuda:-1"),
    "tensor_nonsense_device": lambda lib, x: lib.tensor([1.0], device="gpu"),
    "mean_of_long": lambda lib, x: x.long().mean(),
    "var_of_long": lambda lib, x: x.long().var(),
    "matmul_mixed_dtypes": lambda lib, x: x @ x.t().double(),
    "add_out_long": lambda lib, x: lib.add(x, 1, out=lib.zeros(3, 4, dtype=lib.long)),
    "item_of_many": lambda lib, x: x.item(),
    "float_of_many": lambda lib, x: float(x),
    "int_of_many": lambda lib, x: int(x),
    "bool_of_many": lambda lib, x: bool(x),
    "requires_grad_long": lambda lib, x: x.long().requires_grad_(),
    "requires_grad_long_tensor": lambda lib, x: lib.tensor([1], requires_grad=True),
    "numpy_requires_grad": lambda lib, x: x.clone().requires_grad_().numpy(),
}

SHAPES = {  # fn(lib, x): x floats 3 x 4
    "view_size": lambda lib, x: x.view(5),
    "view_two_inferred": lambda lib, x: x.view(-1, -1),
    "view_negative": lambda lib, x: x.view(-2, 6),
    "view_non_contiguous": lambda lib, x: x.t().view(12),
    "reshape_size": lambda lib, x: x.reshape(5, 3),
    "reshape_infer": lambda lib, x: x.reshape(-1, 5),
    "expand_size": lambda lib, x: x.expand(3, 5),
    "expand_fewer_dims": lambda lib, x: x.expand(4),
    "expand_negative_new": lambda lib, x: x.expand(-1, 3, 4),
    "permute_count": lambda lib, x: x.permute(0),
    "permute_repeated": lambda lib, x: x.permute(0, 0),
    "permute_range": lambda lib, x: x.permute(0, 2),
    "transpose_range": lambda lib, x: x.transpose(0, 2),
    "t_of_3d": lambda lib, x: x.reshape(2, 3, 2).t(),
    "squeeze_range": lambda lib, x: x.squeeze(3),
    "unsqueeze_range": lambda lib, x: x.unsqueeze(4),
    "unsqueeze_negative_range": lambda lib, x: x.unsqueeze(-4),
    "flatten_order": lambda lib, x: x.flatten(1, 0),
    "flatten_range": lambda lib, x: x.flatten(0, 2),
    "cat_shapes": lambda lib, x: lib.cat([x, x[:, :2].t()]),
    "cat_empty_list": lambda lib, x: lib.cat([]),
    "cat_dim": lambda lib, x: lib.cat([x, x], dim=2),
    "cat_ndims": lambda lib, x: lib.cat([x, x[0]]),
    "stack_shapes": lambda lib, x: lib.stack([x, x[:2]]),
    "stack_empty": lambda lib, x: lib.stack([]),
    "stack_dim": lambda lib, x: lib.stack([x, x], dim=4),
    "split_zero": lambda lib, x: x.split(0),
    "split_sizes_sum": lambda lib, x: x.split([1, 1]),
    "chunk_zero": lambda lib, x: x.chunk(0),
    "narrow_length": lambda lib, x: x.narrow(0, 2, 2),
    "narrow_start": lambda lib, x: x.narrow(0, 5, 1),
    "select_range": lambda lib, x: x.select(0, 3),
    "unbind_range": lambda lib, x: x.unbind(2),
    "repeat_fewer": lambda lib, x: x.repeat(2),
    "repeat_negative": lambda lib, x: x.repeat(2, -1),
    "roll_shifts_dims": lambda lib, x: x.roll((1, 2), (0,)),
    "flip_repeated": lambda lib, x: x.flip(0, 0),
    "movedim_repeated": lambda lib, x: x.movedim((0, 0), (1, 0)),
    "diagonal_same_dims": lambda lib, x: x.diagonal(0, 0, 0),
    "tril_1d": lambda lib, x: x[0].tril(),
    "broadcast_trailing": lambda lib, x: lib.zeros(2, 3, 4) + lib.zeros(3, 3, 5),
    "broadcast_middle": lambda lib, x: x + lib.zeros(3, 2),
    "where_broadcast": lambda lib, x: lib.where(x > 1, x, lib.zeros(2)),
}

INDEXING = {  # fn(lib, x): x floats 3 x 4
    "index_out_of_range": lambda lib, x: x[3],
    "index_negative_out_of_range": lambda lib, x: x[-4],
    "index_too_many": lambda lib, x: x[0, 0, 0],
    "index_second_dim": lambda lib, x: x[:, 4],
    "index_tensor_out_of_range": lambda lib, x: x[lib.tensor([0, 5])],
    "index_float_tensor": lambda lib, x: x[lib.tensor([0.0])],
    "index_bool_shape": lambda lib, x: x[lib.tensor([True, False])],
    "index_float_number": lambda lib, x: x[1.5],
    "index_step_zero": lambda lib, x: x[::0],
    "index_negative_step": lambda lib, x: x[::-1],
    "index_string": lambda lib, x: x["a"],
    "setitem_shape": lambda lib, x: x.__setitem__(0, lib.ones(5)),
    "setitem_out_of_range": lambda lib, x: x.__setitem__(3, 1.0),
    "setitem_tensor_index": lambda lib, x: x.__setitem__(lib.tensor([0, 7]), 1.0),
    "setitem_mask_shape": lambda lib, x: x.__setitem__(lib.tensor([True, False]), 1.0),
    "setitem_mask_values": lambda lib, x: x.__setitem__(x > 5, lib.ones(2)),
    "setitem_slice_shape": lambda lib, x: x.__setitem__((slice(None), slice(0, 2)), lib.ones(3)),
    "setitem_index_put_dtype": lambda lib, x: x.long().__setitem__(lib.tensor([0]),
                                                                   lib.tensor(2.7)),
    "setitem_mask_values_dtype": lambda lib, x: x.long().__setitem__(x > 5, lib.ones(6)),
    "setitem_step_zero": lambda lib, x: x.__setitem__(slice(None, None, 0), 1.0),
    "masked_fill_shape": lambda lib, x: x.masked_fill(lib.tensor([True, False]), 1.0),
    "masked_fill_float_mask": lambda lib, x: x.masked_fill(x, 1.0),
    "masked_fill_tensor_value": lambda lib, x: x.masked_fill(x > 1, lib.ones(2)),
    "masked_fill__shape": lambda lib, x: x.masked_fill_(lib.ones(4, 4, dtype=lib.bool), 1.0),
    "masked_select_shape": lambda lib, x: x.masked_select(lib.tensor([True, False])),
    "gather_out_of_range": lambda lib, x: x.gather(0, lib.tensor([[5]])),
    "take_out_of_range": lambda lib, x: x.take(lib.tensor([12])),
    "index_select_float": lambda lib, x: x.index_select(0, lib.tensor([0.0])),
    "scatter__out_of_range": lambda lib, x: x.scatter_(0, lib.tensor([[4]]), 1.0),
    "index_add__out_of_range": lambda lib, x: x.index_add_(0, lib.tensor([3]), x[:1].clone()),
    "index_fill__out_of_range": lambda lib, x: x.index_fill_(1, lib.tensor([4]), 0.0),
}

POINTWISE = {  # fn(lib, x): x floats 3 x 4
    "add_shapes": lambda lib, x: x + lib.ones(4, 3),
    "add_alpha_float_for_long": lambda lib, x: x.long().add(x.long(), alpha=1.5),
    "sub_bool": lambda lib, x: (x > 1) - (x > 2),
    "rsub_bool": lambda lib, x: 1 - (x > 1),
    "neg_bool": lambda lib, x: -(x > 1),
    "floordiv_by_zero_long": lambda lib, x: x.long() // 0,
    "remainder_by_zero_long": lambda lib, x: x.long() % 0,
    "div_bad_rounding": lambda lib, x: x.div(2, rounding_mode="round"),
    "bitwise_and_float": lambda lib, x: x & x,
    "bitwise_not_float": lambda lib, x: ~x,
    "pow_long_negative": lambda lib, x: x.long() ** -1,
    "clamp_nothing": lambda lib, x: x.clamp(),
    "lerp_dtypes": lambda lib, x: x.lerp(x.double(), 0.5),
    "where_condition_float": lambda lib, x: lib.where(x, x, x),
    "abs_bool": lambda lib, x: (x > 1).abs(),
    "maximum_shapes": lambda lib, x: lib.maximum(x, lib.ones(2)),
    "eq_shapes": lambda lib, x: x == lib.ones(2),
    "isclose_dtypes": lambda lib, x: lib.isclose(x, x.long()),
    "logical_shapes": lambda lib, x: lib.logical_and(x, lib.ones(2)),
}

REDUCTIONS = {  # fn(lib, x): x floats 3 x 4
    "sum_dim_range": lambda lib, x: x.sum(2),
    "sum_dim_repeated": lambda lib, x: x.sum((0, 0)),
    "mean_dim_range": lambda lib, x: x.mean(-3),
    "max_empty": lambda lib, x: x[:0].max(),
    "min_empty_dim": lambda lib, x: x[:0].min(0),
    "argmax_empty": lambda lib, x: x[:0].argmax(),
    "amax_empty": lambda lib, x: x[:0].amax(0),
    "cumsum_dim_range": lambda lib, x: x.cumsum(2),
    "softmax_dim_range": lambda lib, x: x.softmax(2),
    "topk_too_many": lambda lib, x: x.topk(5),
    "kthvalue_range": lambda lib, x: x.kthvalue(5),
    "sort_dim_range": lambda lib, x: x.sort(2),
    "norm_dim_range": lambda lib, x: x.norm(dim=3),
    "logsumexp_dim_range": lambda lib, x: x.logsumexp(3),
    "all_dim_range": lambda lib, x: x.all(2),
    "count_nonzero_range": lambda lib, x: lib.count_nonzero(x, dim=2),
}

LINALG = {  # fn(lib, x): x floats 3 x 4
    "matmul_shapes": lambda lib, x: x @ x,
    "matmul_scalar": lambda lib, x: x @ lib.tensor(2.0),
    "mm_1d": lambda lib, x: lib.mm(x, x[0]),
    "mm_shapes": lambda lib, x: lib.mm(x, x),
    "mv_shapes": lambda lib, x: lib.mv(x, x[:, 0]),
    "bmm_2d": lambda lib, x: lib.bmm(x, x.t()),
    "bmm_batch": lambda lib, x: lib.bmm(lib.zeros(2, 3, 4), lib.zeros(3, 4, 5)),
    "dot_2d": lambda lib, x: lib.dot(x, x),
    "dot_sizes": lambda lib, x: lib.dot(x[0], x[:, 0]),
    "dot_dtypes": lambda lib, x: lib.dot(x[0], x[0].double()),
    "outer_2d": lambda lib, x: lib.outer(x, x),
    "addmm_shapes": lambda lib, x: lib.addmm(lib.zeros(3, 3), x, x),
    "einsum_operands": lambda lib, x: lib.einsum("ij,jk->ik", x),
    "einsum_sizes": lambda lib, x: lib.einsum("ij,ij->", x, x.t()),
}

INPLACE = {  # fn(lib, x): x floats 3 x 4 (a leaf without grad)
    "add__broadcast_grows": lambda lib, x: x[0].clone().add_(x),
    "mul__dtype": lambda lib, x: x.long().mul_(1.5),
    "div__long": lambda lib, x: x.long().div_(2),
    "add__long_with_float": lambda lib, x: x.long().add_(x),
    "copy__shape": lambda lib, x: x.copy_(lib.ones(2)),
    "fill__tensor_dims": lambda lib, x: x.fill_(lib.ones(2)),
    "clamp__long_float": lambda lib, x: x.long().clamp_(0.5),
    "sqrt__long": lambda lib, x: x.long().sqrt_(),
    "zero__requires_grad": lambda lib, x: x.clone().requires_grad_().zero_(),
    "add__leaf_requires_grad": lambda lib, x: x.clone().requires_grad_().add_(1),
    "mul__expanded": lambda lib, x: x[:1].expand(3, 4).mul_(2),
    "pow__bool": lambda lib, x: (x > 1).pow_(2),
}
