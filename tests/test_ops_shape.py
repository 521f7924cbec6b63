"""Shape ops compared with torch: values, grads, grad_fn names, view semantics and errors."""

import numpy as np
import pytest
import torch

import gputensor
from helpers import (
    LAYOUTS,
    LIBS,
    assert_on,
    check_error,
    check_op,
    made_on,
    make_input,
    rand_array,
    to_numpy,
)


def _operands(lib, arrays, layout, device):
    return [make_input(lib, a, layout, a.dtype.kind == "f", device)[1]
            if isinstance(a, np.ndarray) else a for a in arrays]


def loss_grads(fn, *arrays, device, layout="contiguous"):
    """Input grads of sum(output_i * seed_i) over all outputs, equal to torch's."""
    grads, seeds = {}, None
    for lib in (torch, gputensor):
        with made_on(lib, device):
            pairs = [make_input(lib, a, layout, a.dtype.kind == "f", device) for a in arrays]
            out = fn(lib, *[op for _, op in pairs])
            outs = [o for o in (out if isinstance(out, (tuple, list)) else (out,))
                    if o.requires_grad]
            if not outs:
                return
            if seeds is None:
                rng = np.random.default_rng(7)
                seeds = [rng.uniform(-1, 1, tuple(o.shape)).astype(np.float64) for o in outs]
            loss = sum((o * lib.tensor(s, dtype=o.dtype)).sum() for o, s in zip(outs, seeds))
            loss.backward()
        grads[lib] = [leaf.grad for leaf, _ in pairs if leaf.requires_grad]
    for ours, theirs in zip(grads[gputensor], grads[torch]):
        if theirs is None:
            assert ours is None
            continue
        assert_on(ours, device)
        np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), rtol=1e-5, atol=1e-5)


def compare(fn, *arrays, device, layout="contiguous", grad=True):
    """Values, grads and grad_fn names as torch; when torch raises, the same error instead.

    Gradients are checked twice: by check_op (one backward seed per output) and through one
    scalar loss over all outputs (ops with several outputs).
    """
    try:
        fn(torch, *_operands(torch, arrays, layout, "cpu"))
    except Exception:  # noqa: BLE001 - then we must raise the same
        check_error(lambda lib: fn(lib, *_operands(lib, arrays, layout, device)), device=device)
        return
    check_op(fn, *arrays, device=device, layout=layout, grad=grad)
    if grad:
        loss_grads(fn, *arrays, device=device, layout=layout)


def _version(t):
    return t._version if isinstance(t, torch.Tensor) else t._version.value


UNARY = {  # name: (fn, input shapes)
    "view_flat": (lambda lib, x: x.view(-1), [(2, 3, 4), (), (0, 3)]),
    "view_split": (lambda lib, x: x.view(4, -1), [(2, 3, 4), (4, 6)]),
    "view_0d": (lambda lib, x: x.view(1, 1), [(), (1,)]),
    "view_to_0d": (lambda lib, x: x.view(()), [(1,), (1, 1)]),
    "view_merge_last": (lambda lib, x: x.view(2, 12), [(2, 3, 4)]),
    "view_size": (lambda lib, x: x.view(torch.Size([3, 8]) if lib is torch else
                                        gputensor.Size([3, 8])), [(2, 3, 4)]),
    "view_empty": (lambda lib, x: x.view(-1, 0), [(0, 3)]),
    "reshape": (lambda lib, x: x.reshape(-1), [(2, 3, 4), (), (0, 3)]),
    "reshape_list": (lambda lib, x: x.reshape([4, 3, 2]), [(2, 3, 4)]),
    "reshape_fn": (lambda lib, x: lib.reshape(x, (3, -1)), [(2, 3, 4), (3, 0)]),
    "flatten": (lambda lib, x: x.flatten(), [(2, 3, 4), (), (5,), (0, 3)]),
    "flatten_1": (lambda lib, x: x.flatten(1), [(2, 3, 4)]),
    "flatten_01": (lambda lib, x: lib.flatten(x, 0, 1), [(2, 3, 4)]),
    "flatten_neg": (lambda lib, x: x.flatten(-2, -1), [(2, 3, 4)]),
    "flatten_same": (lambda lib, x: x.flatten(1, 1), [(2, 3, 4)]),
    "unflatten": (lambda lib, x: x.unflatten(-1, (2, -1)), [(2, 3, 4)]),
    "unflatten_0": (lambda lib, x: lib.unflatten(x, 0, (1, 2, 1)), [(2, 3, 4)]),
    "squeeze": (lambda lib, x: x.squeeze(), [(3, 1, 4), (1, 1), (), (1, 0)]),
    "squeeze_dim": (lambda lib, x: x.squeeze(1), [(3, 1, 4), (3, 2, 4)]),
    "squeeze_neg": (lambda lib, x: lib.squeeze(x, -1), [(3, 1), ()]),
    "squeeze_dims": (lambda lib, x: x.squeeze((0, 2)), [(1, 3, 1), (2, 3, 1)]),
    "squeeze_list": (lambda lib, x: x.squeeze([-1, 0]), [(1, 3, 1)]),
    "squeeze_none": (lambda lib, x: x.squeeze(()), [(1, 3)]),
    "unsqueeze_0": (lambda lib, x: x.unsqueeze(0), [(2, 3), (), (0,)]),
    "unsqueeze_neg": (lambda lib, x: lib.unsqueeze(x, -1), [(2, 3), ()]),
    "unsqueeze_mid": (lambda lib, x: x.unsqueeze(1), [(2, 3, 4)]),
    "permute": (lambda lib, x: x.permute(2, 0, 1), [(2, 3, 4)]),
    "permute_tuple": (lambda lib, x: x.permute((1, 0)), [(3, 4)]),
    "permute_neg": (lambda lib, x: lib.permute(x, (-1, 0, 1)), [(2, 3, 4)]),
    "permute_0d": (lambda lib, x: x.permute(()), [()]),
    "transpose": (lambda lib, x: x.transpose(0, 2), [(2, 3, 4)]),
    "transpose_neg": (lambda lib, x: lib.transpose(x, -1, -2), [(3, 4), (2, 3, 4)]),
    "transpose_same": (lambda lib, x: x.transpose(1, 1), [(3, 4)]),
    "transpose_0d": (lambda lib, x: x.transpose(0, -1), [()]),
    "swapaxes": (lambda lib, x: x.swapaxes(0, 1), [(3, 4)]),
    "swapdims": (lambda lib, x: lib.swapdims(x, 1, 0), [(3, 4)]),
    "t": (lambda lib, x: x.t(), [(3, 4), (5,), (), (0, 2)]),
    "t_fn": (lambda lib, x: lib.t(x), [(3, 4)]),
    "adjoint": (lambda lib, x: x.adjoint(), [(3, 4), (2, 3, 4)]),
    "expand": (lambda lib, x: x.expand(2, 3, 4), [(3, 1), (3, 4), (1, 1)]),
    "expand_keep": (lambda lib, x: x.expand(-1, 5), [(3, 1)]),
    "expand_lead": (lambda lib, x: x.expand(2, -1, -1), [(3, 1)]),
    "expand_tuple": (lambda lib, x: x.expand((4, 3)), [(), (3,)]),
    "expand_0d": (lambda lib, x: x.expand(()), [()]),
    "expand_zero": (lambda lib, x: x.expand(3, 0), [(3, 1)]),
    "expand_as": (lambda lib, x: x.expand_as(lib.zeros(2, 3, 4)), [(3, 1)]),
    "contiguous": (lambda lib, x: x.contiguous(), [(2, 3), ()]),
    "repeat": (lambda lib, x: x.repeat(2, 1, 3), [(2, 3, 4), (3, 1, 2)]),
    "repeat_lead": (lambda lib, x: x.repeat(2, 1, 1), [(3, 4), (), (2,)]),
    "repeat_list": (lambda lib, x: x.repeat([1, 2]), [(3, 2)]),
    "repeat_zero": (lambda lib, x: x.repeat(1, 0), [(3, 2)]),
    "split": (lambda lib, x: x.split(2, 1), [(2, 3, 4), (2, 5)]),
    "split_big": (lambda lib, x: x.split(5), [(3, 2)]),
    "split_sizes": (lambda lib, x: x.split([1, 2], -2), [(2, 3, 4)]),
    "split_fn": (lambda lib, x: lib.split(x, (3, 0, 1), dim=2), [(2, 3, 4)]),
    "split_empty": (lambda lib, x: x.split(0), [(0, 2)]),
    "chunk": (lambda lib, x: x.chunk(2, -1), [(2, 3, 4), (3, 5)]),
    "chunk_uneven": (lambda lib, x: lib.chunk(x, 5), [(6,), (4, 2)]),
    "chunk_empty": (lambda lib, x: x.chunk(3, 0), [(0, 2)]),
    "unbind": (lambda lib, x: x.unbind(0), [(2, 3, 4), (3,)]),
    "unbind_neg": (lambda lib, x: lib.unbind(x, -1), [(2, 3, 4)]),
    "narrow": (lambda lib, x: x.narrow(1, 1, 2), [(2, 3, 4), (4, 3)]),
    "narrow_neg": (lambda lib, x: lib.narrow(x, -1, -2, 2), [(2, 3), (4,)]),
    "select": (lambda lib, x: x.select(1, -1), [(2, 3, 4), (4, 3)]),
    "select_fn": (lambda lib, x: lib.select(x, 0, 1), [(3,), (3, 2)]),
    "movedim": (lambda lib, x: x.movedim(0, -1), [(2, 3, 4)]),
    "movedim_tuple": (lambda lib, x: lib.movedim(x, (0, 1), (2, 0)), [(2, 3, 4)]),
    "moveaxis": (lambda lib, x: x.moveaxis(-1, 0), [(2, 3, 4)]),
    "chain": (lambda lib, x: x.permute(1, 0, 2).reshape(3, -1).t().unsqueeze(0).squeeze(0),
              [(2, 3, 4)]),
}
UNARY_CASES = [(name, shape) for name, (_, shapes) in UNARY.items() for shape in shapes]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name,shape", UNARY_CASES)
def test_unary_shape_ops(name, shape, layout, device):
    compare(UNARY[name][0], rand_array(shape), layout=layout, device=device)


@pytest.mark.parametrize("dtype", ["int64", "bool", "float64"])
@pytest.mark.parametrize("name", ["view_flat", "permute", "expand_lead", "repeat", "split",
                                  "unbind", "flatten", "transpose"])
def test_unary_shape_ops_other_dtypes(name, dtype, device):
    fn, shapes = UNARY[name]
    compare(fn, rand_array(shapes[0], dtype), device=device)


MULTI = {  # name: (fn, input shapes)
    "cat": (lambda lib, x, y: lib.cat([x, y]), [(2, 3), (4, 3)]),
    "cat_dim": (lambda lib, x, y: lib.cat((x, y), dim=-1), [(2, 3), (2, 1)]),
    "cat_three": (lambda lib, x, y, z: lib.concat([x, y, z], 1), [(2, 1, 3), (2, 2, 3),
                                                                    (2, 0, 3)]),
    "cat_legacy_empty": (lambda lib, x, y: lib.concatenate([x, y]), [(2, 3), (0,)]),
    "cat_one": (lambda lib, x: lib.cat([x], 0), [(2, 3)]),
    "stack": (lambda lib, x, y: lib.stack([x, y]), [(2, 3), (2, 3)]),
    "stack_last": (lambda lib, x, y: lib.stack((x, y), -1), [(2, 3), (2, 3)]),
    "stack_mid": (lambda lib, x, y, z: lib.stack([x, y, z], 1), [(2, 3), (2, 3), (2, 3)]),
    "stack_0d": (lambda lib, x, y: lib.stack([x, y]), [(), ()]),
    "view_as": (lambda lib, x, y: x.view_as(y), [(2, 3), (3, 2)]),
    "reshape_as": (lambda lib, x, y: x.reshape_as(y), [(2, 3), (6,)]),
    "expand_as": (lambda lib, x, y: x.expand_as(y), [(3, 1), (2, 3, 4)]),
}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", list(MULTI))
def test_multi_input_shape_ops(name, layout, device):
    fn, shapes = MULTI[name]
    compare(fn, *[rand_array(s) for s in shapes], layout=layout, device=device)


@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("int64", "float32"),
                                    ("int32", "int64"), ("bool", "int64"),
                                    ("float16", "float32")])
@pytest.mark.parametrize("op", ["cat", "stack"])
def test_cat_stack_promote_dtypes(op, dtypes, device):
    fn = getattr(gputensor, op), getattr(torch, op)
    arrays = [rand_array((2, 3), d) for d in dtypes]
    check_op(lambda lib, x, y: (fn[0] if lib is gputensor else fn[1])([x, y], 1), *arrays,
             device=device)


@pytest.mark.filterwarnings("ignore:The use of `x.T`", "ignore:Tensor.T is deprecated")
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4), (5,), ()])
def test_T_property(shape, device):
    compare(lambda lib, x: x.T, rand_array(shape), layout="transposed", device=device)


@pytest.mark.filterwarnings("ignore:Tensor.m?[TH] is deprecated on 0-D")
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4), (5,), ()])
@pytest.mark.parametrize("attr", ["mT", "mH", "H"])
def test_matrix_transpose_properties(shape, attr, device):
    compare(lambda lib, x: getattr(x, attr), rand_array(shape), device=device)


# ---- view semantics ------------------------------------------------------------------------

VIEWS = {  # ops whose result shares storage with the input
    "view": lambda x: x.view(-1),
    "reshape": lambda x: x.reshape(4, 6),
    "flatten": lambda x: x.flatten(1),
    "unflatten": lambda x: x.unflatten(2, (2, 2)),
    "squeeze": lambda x: x.unsqueeze(1).squeeze(),
    "unsqueeze": lambda x: x.unsqueeze(-1),
    "permute": lambda x: x.permute(2, 0, 1),
    "transpose": lambda x: x.transpose(0, 1),
    "t": lambda x: x[0].t(),
    "select": lambda x: x.select(1, 2),
    "narrow": lambda x: x.narrow(2, 1, 2),
    "split": lambda x: x.split(2, 2)[1],
    "chunk": lambda x: x.chunk(3, 1)[-1],
    "unbind": lambda x: x.unbind(1)[1],
    "movedim": lambda x: x.movedim(0, 2),
    "view_as": lambda x: x.view_as(x.flatten()),
}


@pytest.mark.parametrize("name", list(VIEWS))
def test_views_share_storage_and_version(name, device):
    results = {}
    for lib in LIBS:
        with made_on(lib, device):
            x = lib.tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
            y = VIEWS[name](x)
            assert y._base is x
            before = _version(x)
            y.mul_(-1)
            assert _version(x) == _version(y) == before + 1
            x.add_(100)
            assert _version(y) == before + 2
            results[lib] = (to_numpy(x).copy(), to_numpy(y).copy())
    for ours, theirs in zip(results[gputensor], results[torch]):
        np.testing.assert_array_equal(ours, theirs)


def test_view_of_transposed_raises_and_reshape_copies(device):
    check_error(lambda lib: lib.ones(2, 3).t().view(-1), device=device)
    check_error(lambda lib: lib.ones(4, 6)[:, :4].view(-1), device=device)
    check_error(lambda lib: lib.ones(2, 3, 4).permute(1, 0, 2).view(6, 4), device=device)
    for lib in LIBS:
        with made_on(lib, device):
            x = lib.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3), requires_grad=True)
            y = x.t().reshape(-1)
            assert y._base is None and y.is_contiguous()
            assert type(y.grad_fn).__name__ == "UnsafeViewBackward0"
            assert type(y.grad_fn.next_functions[0][0]).__name__ == "CloneBackward0"
            with lib.no_grad():
                y.mul_(0)
            assert to_numpy(x).sum() == 15


def test_view_of_compatible_strides_is_a_view(device):
    for lib in LIBS:
        with made_on(lib, device):
            x = lib.zeros(4, 6)[:, :4]  # rows are not contiguous, each row is
            y = x.view(4, 2, 2)
            z = x.t().view(2, 2, 4)  # splitting a dim always works
            y[0, 0, 0] = 1
            z[1, 1, 3] = 2
            assert y._base is x._base and x[0, 0].item() == 1 and x[3, 3].item() == 2
            assert y.stride() == (6, 2, 1) and z.stride() == (2, 1, 6)


def test_contiguous_is_self_or_a_clone(device):
    for lib in LIBS:
        with made_on(lib, device):
            x = lib.ones(2, 3, requires_grad=True)
            assert x.contiguous() is x
            y = x.t().contiguous()
            assert y.is_contiguous() and y.stride() == (2, 1)
            assert type(y.grad_fn).__name__ == "CloneBackward0"
            assert y._base is None


def test_expand_is_a_broadcast_view(device):
    for lib in LIBS:
        with made_on(lib, device):
            x = lib.tensor([[1.0], [2.0]])
            y = x.expand(3, 2, 4)
            assert y.stride() == (0, 1, 0) and y._base is x
            x.mul_(2)
            assert y.sum().item() == 72


def test_repeated_views_accumulate_gradients(device):
    def fn(lib, x):
        return x.t()[0] * 2 + x.unbind(1)[0] + x.split(1, 1)[0].squeeze(1) + x.view(-1)[:3]
    check_op(fn, rand_array((3, 3)), device=device)


# ---- errors ----------------------------------------------------------------------------------

ERRORS = {
    "view_two_infer": lambda lib, x: x.view(-1, -1),
    "view_bad_size": lambda lib, x: x.view(5),
    "view_negative": lambda lib, x: x.view(-2, 12),
    "view_zero": lambda lib, x: x.view(2, -1, 0),
    "view_ambiguous": lambda lib, x: x[:0].view(-1, 0),
    "view_ambiguous2": lambda lib, x: x[:0].view(0, -1),
    "reshape_bad": lambda lib, x: x.reshape(7, -1),
    "flatten_order": lambda lib, x: x.flatten(2, 1),
    "flatten_dim": lambda lib, x: x.flatten(0, 5),
    "unflatten_empty": lambda lib, x: x.unflatten(1, ()),
    "unflatten_bad": lambda lib, x: x.unflatten(-1, (3, -1)),
    "unflatten_bad2": lambda lib, x: x.unflatten(2, (3, 3)),
    "squeeze_dim": lambda lib, x: x.squeeze(3),
    "squeeze_repeat": lambda lib, x: x.squeeze((0, 0)),
    "squeeze_repeat_neg": lambda lib, x: x.squeeze((0, -3)),
    "unsqueeze_high": lambda lib, x: x.unsqueeze(4),
    "unsqueeze_low": lambda lib, x: x.unsqueeze(-5),
    "unsqueeze_0d": lambda lib, x: x.sum().unsqueeze(2),
    "permute_len": lambda lib, x: x.permute(0, 1),
    "permute_dup": lambda lib, x: x.permute(0, 1, 1),
    "permute_dup_neg": lambda lib, x: x.permute(0, 2, -1),
    "permute_range": lambda lib, x: x.permute(0, 1, 3),
    "permute_none": lambda lib, x: x.permute(),
    "transpose_range": lambda lib, x: x.transpose(0, 3),
    "t_3d": lambda lib, x: x.t(),
    "t_fn_3d": lambda lib, x: lib.t(x),
    "expand_mismatch": lambda lib, x: x[0].expand(4, 4),
    "expand_mismatch2": lambda lib, x: x[:, :1].expand(3, 2, 4),
    "expand_few": lambda lib, x: x.expand(4),
    "expand_leading_minus": lambda lib, x: x.expand(-1, 2, 3, 4),
    "expand_negative": lambda lib, x: x[:, :1].expand(2, -2, 4),
    "repeat_few": lambda lib, x: x.repeat(2, 1),
    "repeat_negative": lambda lib, x: x.repeat(1, -1, 1),
    "repeat_none": lambda lib, x: x.repeat(),
    "split_zero": lambda lib, x: x.split(0, 1),
    "split_negative": lambda lib, x: x.split(-1, 1),
    "split_0d": lambda lib, x: x.sum().split(1),
    "split_sizes_sum": lambda lib, x: x.split([1, 1], 1),
    "split_sizes_neg_dim": lambda lib, x: x.split([1, 1], -2),
    "split_sizes_negative": lambda lib, x: x.split([4, -1], 1),
    "split_dim": lambda lib, x: x.split(1, 3),
    "chunk_zero": lambda lib, x: x.chunk(0),
    "chunk_negative": lambda lib, x: x.chunk(-1),
    "chunk_0d": lambda lib, x: x.sum().chunk(1),
    "unbind_0d": lambda lib, x: x.sum().unbind(),
    "unbind_dim": lambda lib, x: x.unbind(3),
    "narrow_length": lambda lib, x: x.narrow(0, 0, -1),
    "narrow_start": lambda lib, x: x.narrow(0, 5, 0),
    "narrow_start_neg": lambda lib, x: x.narrow(0, -5, 0),
    "narrow_overflow": lambda lib, x: x.narrow(2, 3, 2),
    "narrow_0d": lambda lib, x: x.sum().narrow(0, 0, 1),
    "select_range": lambda lib, x: x.select(0, 5),
    "select_range_neg": lambda lib, x: x.select(1, -4),
    "select_0d": lambda lib, x: x.sum().select(0, 0),
    "movedim_count": lambda lib, x: x.movedim((0, 1), (2,)),
    "movedim_repeat_src": lambda lib, x: x.movedim((0, -3), (1, 2)),
    "movedim_repeat_dst": lambda lib, x: x.movedim((0, 1), (1, 1)),
    "movedim_range": lambda lib, x: x.movedim(3, 0),
    "cat_empty": lambda lib, x: lib.cat([]),
    "cat_tensor": lambda lib, x: lib.cat(x),
    "cat_0d": lambda lib, x: lib.cat([x.sum(), x.sum()]),
    "cat_0d_second": lambda lib, x: lib.cat([x[0, 0], x.sum()]),
    "cat_ndim": lambda lib, x: lib.cat([x, x[0]], 1),
    "cat_sizes": lambda lib, x: lib.cat([x, x[:, :2, :2]], 1),
    "cat_dim": lambda lib, x: lib.cat([x, x], 3),
    "stack_empty": lambda lib, x: lib.stack([]),
    "stack_sizes": lambda lib, x: lib.stack([x, x[0]]),
    "stack_sizes_later": lambda lib, x: lib.stack([x, x, x[:1]]),
    "stack_dim": lambda lib, x: lib.stack([x, x], 4),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_match_torch(name, device):
    array = rand_array((2, 3, 4))
    check_error(lambda lib: ERRORS[name](lib, lib.tensor(array)), device=device)


@pytest.mark.parametrize("attr", ["mT", "mH", "H"])
def test_matrix_property_errors(attr, device):
    check_error(lambda lib: getattr(lib.ones(3), attr), device=device)
    if attr == "H":
        check_error(lambda lib: lib.ones(2, 3, 4).H, device=device)
