"""Higher-order gradients against torch: create_graph=True through every op's backward
formula (values and second derivatives), gradgradcheck, autograd.functional, and the errors
where a backward cannot be differentiated."""

import numpy as np
import pytest
import torch
from test_fuzz import BINARY, UNARY

import gputensor

SECOND_ORDER = {  # name: (fn(lib, *inputs), input shapes)
    "linear": (lambda L, x, w: L.nn.functional.linear(x, w), [(3, 4), (5, 4)]),
    "linear_bias": (lambda L, x, w: L.nn.functional.linear(x, w, w[:, 0]), [(3, 4), (5, 4)]),
    "mm": (lambda L, x, w: x @ w.T, [(3, 4), (5, 4)]),
    "bmm": (lambda L, x, w: L.bmm(x, w.transpose(1, 2)), [(2, 3, 4), (2, 5, 4)]),
    "matmul_bcast": (lambda L, x, w: L.matmul(x, w), [(2, 3, 4), (4, 5)]),
    "einsum": (lambda L, x, w: L.einsum("ij,kj->ik", x, w), [(3, 4), (5, 4)]),
    "addmm": (lambda L, x, w: L.addmm(x[:, :1], x, w), [(3, 4), (4, 2)]),
    "relu": (lambda L, x: L.relu(x), [(3, 4)]),
    "gelu": (lambda L, x: L.nn.functional.gelu(x), [(3, 4)]),
    "gelu_tanh": (lambda L, x: L.nn.functional.gelu(x, approximate="tanh"), [(3, 4)]),
    "leaky_relu": (lambda L, x: L.nn.functional.leaky_relu(x, 0.2), [(3, 4)]),
    "elu": (lambda L, x: L.nn.functional.elu(x), [(3, 4)]),
    "silu": (lambda L, x: L.nn.functional.silu(x), [(3, 4)]),
    "sigmoid": (lambda L, x: L.sigmoid(x), [(3, 4)]),
    "tanh": (lambda L, x: L.tanh(x), [(3, 4)]),
    "softmax0": (lambda L, x: L.softmax(x, 0), [(3, 4)]),
    "log_softmax": (lambda L, x: L.log_softmax(x, -1), [(3, 4)]),
    "logsumexp": (lambda L, x: L.logsumexp(x, 1), [(3, 4)]),
    "mse": (lambda L, x, y: L.nn.functional.mse_loss(x, y), [(3, 4), (3, 4)]),
    "smooth_l1": (lambda L, x, y: L.nn.functional.smooth_l1_loss(x, y), [(3, 4), (3, 4)]),
    "huber": (lambda L, x, y: L.nn.functional.huber_loss(x, y), [(3, 4), (3, 4)]),
    "cross_entropy": (
        lambda L, x: L.nn.functional.cross_entropy(x, x.new_tensor([0, 2, 3]).long()),
        [(3, 4)],
    ),
    "cross_entropy_ls": (
        lambda L, x: L.nn.functional.cross_entropy(
            x, x.new_tensor([0, 2, 3]).long(), label_smoothing=0.1
        ),
        [(3, 4)],
    ),
    "nll": (lambda L, x: L.nn.functional.nll_loss(x, x.new_tensor([0, 2, 3]).long()), [(3, 4)]),
    "bce": (
        lambda L, x, y: L.nn.functional.binary_cross_entropy(L.sigmoid(x), L.sigmoid(y)),
        [(3, 4), (3, 4)],
    ),
    "bce_logits": (
        lambda L, x, y: L.nn.functional.binary_cross_entropy_with_logits(x, L.sigmoid(y)),
        [(3, 4), (3, 4)],
    ),
    "layer_norm": (
        lambda L, x, w: L.nn.functional.layer_norm(x, (4,), w[0], w[1]),
        [(3, 4), (2, 4)],
    ),
    "layer_norm_plain": (lambda L, x: L.nn.functional.layer_norm(x, (4,)), [(3, 4)]),
    "norm2": (lambda L, x: x.norm(dim=1), [(3, 4)]),
    "vector_norm": (lambda L, x: L.linalg.vector_norm(x, 3), [(3, 4)]),
    "std": (lambda L, x: x.std(1), [(3, 4)]),
    "embedding": (
        lambda L, w: L.nn.functional.embedding(w.new_tensor([[0, 2], [1, 0]]).long(), w) ** 2,
        [(4, 3)],
    ),
    "sdpa": (
        lambda L, q, k, v: L.nn.functional.scaled_dot_product_attention(q, k, v),
        [(1, 3, 4), (1, 3, 4), (1, 3, 4)],
    ),
    "sdpa_causal": (
        lambda L, q, k, v: L.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True),
        [(1, 3, 4), (1, 3, 4), (1, 3, 4)],
    ),
    "max_dim": (lambda L, x: x.max(1).values, [(3, 4)]),
    "topk": (lambda L, x: x.topk(2).values, [(3, 4)]),
    "index_select": (lambda L, x: x.index_select(1, x.new_tensor([0, 2, 2]).long()), [(3, 4)]),
    "chunk": (lambda L, x: x.chunk(2, 1)[1] * 2, [(3, 4)]),
    "split": (lambda L, x: x.split([1, 3], 1)[1] ** 2, [(3, 4)]),
    "unbind": (lambda L, x: x.unbind(0)[1] ** 2, [(3, 4)]),
    "tril": (lambda L, x: x.tril() ** 2, [(3, 4)]),
    "atan2": (lambda L, x, y: L.atan2(x, y), [(3, 4), (3, 4)]),
    "lerp_t": (lambda L, x, y: L.lerp(x, y, L.sigmoid(x)), [(3, 4), (3, 4)]),
    "clamp_t": (lambda L, x: x.clamp(min=-0.5, max=0.5) * x, [(3, 4)]),
    "log1p_exp": (lambda L, x: L.log1p(L.exp(x)), [(3, 4)]),
    "cosine": (lambda L, x: L.cos(x) * L.sin(x), [(3, 4)]),
    "erf": (lambda L, x: L.erf(x), [(3, 4)]),
    "rsqrt": (lambda L, x: L.rsqrt(x.abs() + 1), [(3, 4)]),
    "outer": (lambda L, x, y: L.outer(x, y), [(3,), (4,)]),
    "dot": (lambda L, x, y: L.dot(x, y) ** 2, [(3,), (3,)]),
    "mv": (lambda L, x, y: L.mv(x, y), [(3, 4), (4,)]),
    "masked_fill": (lambda L, x: x.masked_fill(x > 0, 0.0) ** 2, [(3, 4)]),
    "roll": (lambda L, x: x.roll(1, 1) ** 2, [(3, 4)]),
    "repeat_interleave": (lambda L, x: x.repeat_interleave(2, 0) ** 2, [(3, 4)]),
    "scatter_add": (
        lambda L, x: (
            x.new_zeros(3, 4).scatter_add(1, x.new_tensor([[0, 1, 1, 3]] * 3).long(), x) ** 2
        ),
        [(3, 4)],
    ),
    "index_add": (
        lambda L, x: x.new_zeros(3, 4).index_add(0, x.new_tensor([0, 0, 2]).long(), x) ** 2,
        [(3, 4)],
    ),
    "batch_norm_train": (
        lambda L, x, w: L.nn.functional.batch_norm(x, None, None, w[0], w[1], training=True),
        [(5, 3), (2, 3)],
    ),
    "batch_norm_eval": (
        lambda L, x, w: L.nn.functional.batch_norm(x, x.new_zeros(3), x.new_ones(3), w[0], w[1]),
        [(5, 3), (2, 3)],
    ),
    "diagonal": (lambda L, x: x.diagonal() ** 2, [(3, 4)]),
    "trace": (lambda L, x: (x**2).trace(), [(3, 4)]),
    "rot90": (lambda L, x: x.rot90() ** 2, [(3, 4)]),
    "setitem_then_view_in_place": (
        lambda L, x: (
            (lambda z: (z.__setitem__((slice(None), 1), x[:, 0] ** 2), z[0].mul_(2), z)[2])(x * 1)
            ** 2
        ),
        [(3, 4)],
    ),
    "dropout_eval": (lambda L, x: L.nn.functional.dropout(x, 0.5, training=False) ** 2, [(3, 4)]),
    "prod": (lambda L, x: x.prod(), [(3, 4)]),
    "cumsum": (lambda L, x: (x.cumsum(1)) ** 2, [(3, 4)]),
    "amax": (lambda L, x: x.amax(1) * x.sum(), [(3, 4)]),
    "sort": (lambda L, x: x.sort(1).values ** 2, [(3, 4)]),
    "median": (lambda L, x: x.median(1).values ** 2, [(3, 4)]),
    "expand_sum": (lambda L, x: x[:, :1].expand(3, 4) ** 3, [(3, 4)]),
    "cat": (lambda L, x, y: L.cat([x, y**2], 1) ** 2, [(3, 4), (3, 2)]),
    "stack": (lambda L, x, y: L.stack([x, y**2]) ** 2, [(3, 4), (3, 4)]),
    "xlogy": (lambda L, x, y: L.xlogy(x, y.abs() + 0.1), [(3, 4), (3, 4)]),
    "sinc_like": (lambda L, x: L.sin(x) / (x.abs() + 1), [(3, 4)]),
}

for _name, (_fn, _kinds) in UNARY.items():
    if "f" in _kinds:
        SECOND_ORDER[f"unary_{_name}"] = (lambda L, x, fn=_fn: fn(L, x, 0.3), [(3, 4)])
for _name, (_fn, _kinds) in BINARY.items():
    if "f" in _kinds and _name not in ("floor_divide", "matmul"):
        SECOND_ORDER[f"binary_{_name}"] = (_fn, [(3, 4), (3, 4)])
# no output that needs a gradient: nothing to differentiate in torch either
for _name in (
    "unary_logical_not",
    "unary_to_int",
    "unary_argmax_dim",
    "unary_all_dim",
    "unary_gt_float",
    "binary_eq",
    "binary_lt",
    "binary_logical_and",
):
    SECOND_ORDER.pop(_name, None)


def F(lib):
    """torch.nn.functional of a library."""
    return lib.nn.functional


PAIRED = {  # name: fn(lib, x, y) on two (3, 4) inputs
    "softplus": lambda L, x, y: F(L).softplus(x, beta=2),
    "softsign": lambda L, x, y: F(L).softsign(x),
    "hardtanh": lambda L, x, y: F(L).hardtanh(x) * x,
    "relu6": lambda L, x, y: F(L).relu6(x * 4) * x,
    "hardswish": lambda L, x, y: F(L).hardswish(x * 3),
    "mish": lambda L, x, y: F(L).mish(x),
    "selu": lambda L, x, y: F(L).selu(x),
    "celu": lambda L, x, y: F(L).celu(x, 0.5),
    "elu": lambda L, x, y: F(L).elu(x),
    "logsigmoid": lambda L, x, y: F(L).logsigmoid(x),
    "threshold": lambda L, x, y: F(L).threshold(x, 0.1, 2.0) * x,
    "tanhshrink": lambda L, x, y: F(L).tanhshrink(x),
    "softshrink": lambda L, x, y: F(L).softshrink(x) * x,
    "hardshrink": lambda L, x, y: F(L).hardshrink(x) * x,
    "prelu": lambda L, x, y: F(L).prelu(x, y[0, :1].abs()),
    "glu": lambda L, x, y: F(L).glu(x, 1),
    "softmin": lambda L, x, y: F(L).softmin(x, 1),
    "group_norm": lambda L, x, y: F(L).group_norm(x.reshape(3, 4, 1), 2, y[0], y[1]),
    "instance_norm": lambda L, x, y: F(L).instance_norm(x.reshape(1, 3, 4)),
    "local_response_norm": lambda L, x, y: F(L).local_response_norm(x.reshape(1, 3, 4), 2),
    "pad_constant": lambda L, x, y: F(L).pad(x, (1, 2)) ** 2,
    "pad_reflect": lambda L, x, y: F(L).pad(x[None], (1, 2), mode="reflect") ** 2,
    "pad_replicate": lambda L, x, y: F(L).pad(x[None], (1, 2), mode="replicate") ** 2,
    "pad_circular": lambda L, x, y: F(L).pad(x[None], (1, 2), mode="circular") ** 2,
    "interp_nearest": lambda L, x, y: F(L).interpolate(x[None], scale_factor=2) ** 2,
    "interp_linear": lambda L, x, y: F(L).interpolate(x[None], size=7, mode="linear") ** 2,
    "interp_bilinear": lambda L, x, y: (
        F(L).interpolate(x[None, None], size=(5, 7), mode="bilinear", align_corners=True) ** 2
    ),
    "unfold": lambda L, x, y: F(L).unfold(x[None, None], 2) ** 2,
    "fold": lambda L, x, y: F(L).fold(x[None], (3, 4), (3, 1)) ** 2,
    "pixel_shuffle": lambda L, x, y: F(L).pixel_shuffle(x.reshape(1, 4, 3, 1), 2) ** 2,
    "cosine_similarity": lambda L, x, y: F(L).cosine_similarity(x, y),
    "pairwise_distance": lambda L, x, y: F(L).pairwise_distance(x, y),
    "normalize": lambda L, x, y: F(L).normalize(x),
    "kl_div": lambda L, x, y: F(L).kl_div(x.log_softmax(1), y.softmax(1), reduction="batchmean"),
    "poisson_nll": lambda L, x, y: F(L).poisson_nll_loss(x, y.abs()),
    "gaussian_nll": lambda L, x, y: F(L).gaussian_nll_loss(x, y, x.abs() + 0.5),
    "margin_ranking": lambda L, x, y: F(L).margin_ranking_loss(x, y, x.sign()),
    "hinge_emb": lambda L, x, y: F(L).hinge_embedding_loss(x, y.sign()),
    "cosine_emb": lambda L, x, y: F(L).cosine_embedding_loss(x, y, x[:, 0].sign()),
    "triplet": lambda L, x, y: F(L).triplet_margin_loss(x, y, y.flip(0)),
    "multilabel_soft": lambda L, x, y: F(L).multilabel_soft_margin_loss(x, (y > 0).to(x.dtype)),
    "bce": lambda L, x, y: F(L).binary_cross_entropy(x.sigmoid(), y.sigmoid()),
    "bce_logits_pw": lambda L, x, y: F(L).binary_cross_entropy_with_logits(
        x, y.sigmoid(), pos_weight=x.new_ones(4) * 2
    ),
}

PAIRED.update(
    {
        "cummax": lambda L, x, y: x.cummax(1)[0],
        "cummin": lambda L, x, y: x.cummin(1)[0],
        "kthvalue": lambda L, x, y: x.kthvalue(2, 1)[0] ** 2,
        "msort": lambda L, x, y: x.msort() ** 2,
        "movedim": lambda L, x, y: x.movedim(0, 1) ** 2,
        "select": lambda L, x, y: x.select(1, 2) ** 2,
        "tile": lambda L, x, y: x.tile((2,)) ** 2,
        "addcmul": lambda L, x, y: L.addcmul(x, x, y),
        "addcdiv": lambda L, x, y: L.addcdiv(x, x, y.abs() + 1, value=0.5),
        "baddbmm": lambda L, x, y: L.baddbmm(x[None, :, :3], x[None], y.T[None, :, :3]),
        "addmv": lambda L, x, y: L.addmv(x[:, 0], x, y[0]),
        "inner": lambda L, x, y: L.inner(x, y),
        "kron": lambda L, x, y: L.kron(x[:2, :2], y[:2, :2]),
        "tensordot": lambda L, x, y: L.tensordot(x, y, dims=([1], [1])),
        "hypot": lambda L, x, y: L.hypot(x, y),
        "logaddexp": lambda L, x, y: L.logaddexp(x, y),
        "logaddexp2": lambda L, x, y: L.logaddexp2(x, y),
        "copysign": lambda L, x, y: L.copysign(x, y),
        "fmod": lambda L, x, y: L.fmod(x, 0.7) * x,
        "float_power": lambda L, x, y: L.float_power(x.abs(), y),
        "nan_to_num": lambda L, x, y: L.nan_to_num(x) ** 2,
        "logit": lambda L, x, y: L.logit(L.sigmoid(x)),
        "erfinv": lambda L, x, y: L.erfinv(x.tanh() * 0.9),
        "acosh": lambda L, x, y: L.acosh(x.abs() + 1.5),
        "atanh": lambda L, x, y: L.atanh(x.tanh() * 0.9),
        "std_mean": lambda L, x, y: L.std_mean(x, 1)[0],
        "var_mean": lambda L, x, y: L.var_mean(x, 1)[1] * L.var_mean(x, 1)[0],
    }
)
for _name, _fn in PAIRED.items():
    SECOND_ORDER[f"paired_{_name}"] = (_fn, [(3, 4), (3, 4)])


def second_order(lib, fn, arrays, device="cpu"):
    """First gradients (create_graph) of fn's output times v, then the gradients of their
    weighted sum with respect to the inputs and to v, as NumPy arrays (None where unused)."""
    xs = [lib.tensor(a, requires_grad=True, device=device) for a in arrays]
    y = fn(lib, *xs)
    rng = np.random.default_rng(1)
    v = lib.tensor(rng.standard_normal(tuple(y.shape)), requires_grad=True, device=device)
    firsts = lib.autograd.grad(y, xs, v, create_graph=True, allow_unused=True)
    total = sum(
        (g * lib.tensor(rng.standard_normal(tuple(g.shape)), device=device)).sum()
        for g in firsts
        if g is not None
    )
    first = [None if g is None else g.detach().cpu().numpy() for g in firsts]
    if not total.requires_grad:
        return first, None
    seconds = lib.autograd.grad(total, xs + [v], allow_unused=True)
    return first, [None if h is None else h.cpu().numpy(force=True) for h in seconds]


def _same(expected, actual):
    if expected is None or actual is None:  # torch and gputensor may differ in None vs 0
        other = actual if expected is None else expected
        return other is None or np.allclose(other, 0)
    return np.allclose(expected, actual, rtol=1e-6, atol=1e-8, equal_nan=True)


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_second_derivatives_match_torch(name, device):
    fn, shapes = SECOND_ORDER[name]
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    first_t, second_t = second_order(torch, fn, arrays)
    first_g, second_g = second_order(gputensor, fn, arrays, device)
    assert all(_same(a, b) for a, b in zip(first_t, first_g))
    assert (second_t is None) == (second_g is None)
    if second_t is not None:
        assert len(second_t) == len(second_g)
        for a, b in zip(second_t, second_g):
            assert _same(a, b), (a, b)


GRADGRAD = [
    "linear_bias",
    "bmm",
    "gelu",
    "silu",
    "tanh",
    "log_softmax",
    "softmax0",
    "logsumexp",
    "mse",
    "cross_entropy",
    "layer_norm",
    "norm2",
    "std",
    "sdpa_causal",
    "embedding",
    "index_select",
    "binary_pow_abs",
    "binary_div",
    "unary_cumprod",
    "unary_var_dim",
    "binary_maximum",
    "unary_masked_select",
    "xlogy",
]


@pytest.mark.parametrize("name", GRADGRAD)
def test_gradgradcheck(name):
    fn, shapes = SECOND_ORDER[name]
    rng = np.random.default_rng(2)
    inputs = [gputensor.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    assert gputensor.autograd.gradgradcheck(lambda *xs: fn(gputensor, *xs), inputs)


def test_gradgradcheck_finds_a_wrong_second_derivative():
    class BadSquare(gputensor.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 2 * x.detach() * x.detach() / x.detach()  # right value, no x in graph

    x = gputensor.tensor([0.5, -1.5], dtype=gputensor.float64, requires_grad=True)
    assert gputensor.autograd.gradcheck(BadSquare.apply, (x,))
    assert not gputensor.autograd.gradgradcheck(BadSquare.apply, (x,), raise_exception=False)


NOT_TWICE = {  # a backward with no differentiable form: torch's second derivative exists
    "logcumsumexp": lambda L, x: x.logcumsumexp(1),
    "dist": lambda L, x: L.dist(x, x.flip(0)),
    "svdvals": lambda L, x: L.linalg.svdvals(x),
}


@pytest.mark.parametrize("name", sorted(NOT_TWICE))
def test_backward_without_differentiable_form_raises_when_reached(name):
    fn = NOT_TWICE[name]
    x = gputensor.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    (g,) = gputensor.autograd.grad(fn(gputensor, x).sum(), x, create_graph=True)
    assert g.requires_grad
    with pytest.raises(RuntimeError, match="derivative for .* is not implemented"):
        g.sum().backward()


def _both(fn):
    """fn(lib) for torch and gputensor, as nested lists of NumPy arrays."""

    def numpy_of(value):
        if isinstance(value, (tuple, list)):
            return [numpy_of(v) for v in value]
        return value.detach().cpu().numpy() if value is not None else None

    return numpy_of(fn(torch)), numpy_of(fn(gputensor))


def _assert_nested_close(a, b):
    if isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        for x, y in zip(a, b):
            _assert_nested_close(x, y)
    else:
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)


def _inputs(lib):
    x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64)
    w = lib.tensor([[0.1, 0.2, -0.3], [0.4, -0.5, 0.6]], dtype=lib.float64)
    return x, w


FUNCTIONAL = {
    "jacobian": lambda L, x, w: L.autograd.functional.jacobian(lambda x: L.tanh(w @ x), x),
    "jacobian_tuple": lambda L, x, w: L.autograd.functional.jacobian(
        lambda a, b: (a * b.sum(), (a @ b.T).sin()), (x, w)
    ),
    "hessian": lambda L, x, w: L.autograd.functional.hessian(
        lambda x: (L.sigmoid(w @ x) ** 2).sum() * x.exp().sum(), x
    ),
    "hessian_tuple": lambda L, x, w: L.autograd.functional.hessian(
        lambda a, b: (a * b).sum() ** 2, (x, w[0])
    ),
    "vjp": lambda L, x, w: L.autograd.functional.vjp(
        lambda x: w @ x.exp(), x, L.ones(2, dtype=L.float64)
    ),
    "jvp": lambda L, x, w: L.autograd.functional.jvp(
        lambda x: w @ x.exp(), x, L.ones(3, dtype=L.float64)
    ),
    "hvp": lambda L, x, w: L.autograd.functional.hvp(lambda x: (x**3).sum() * x[0], x, x.cos()),
    "vhp": lambda L, x, w: L.autograd.functional.vhp(lambda x: L.log_softmax(x, 0)[1], x, x.sin()),
    "unused_input": lambda L, x, w: L.autograd.functional.jacobian(lambda a, b: a * 2, (x, w)),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONAL))
def test_autograd_functional_matches_torch(name):
    expected, actual = _both(lambda L: FUNCTIONAL[name](L, *_inputs(L)))
    _assert_nested_close(expected, actual)


@pytest.mark.parametrize(
    "call",
    [
        lambda L, x: L.autograd.functional.vjp(lambda x: x * 2, x),
        lambda L, x: L.autograd.functional.jacobian(lambda x: x * 2, [x, 3]),
        lambda L, x: L.autograd.functional.vjp(lambda x: x * 2, x, L.ones(2, dtype=L.float64)),
    ],
)
def test_autograd_functional_errors_match_torch(call):
    errors = []
    for lib in (torch, gputensor):
        with pytest.raises((RuntimeError, TypeError)) as info:
            call(lib, _inputs(lib)[0])
        errors.append((info.type, str(info.value).replace("gputensor", "torch")))
    assert errors[0] == errors[1]


def test_backward_create_graph_keeps_a_graph_in_grad():
    results = []
    for lib in (torch, gputensor):
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        (x**3).sum().backward(create_graph=True)
        first = x.grad
        assert first.requires_grad and first.grad_fn is not None
        x.grad = None
        first.sum().backward()  # d/dx sum(3 x^2) = 6 x
        results.append((first.detach().numpy(), x.grad.numpy()))
    np.testing.assert_allclose(results[1][0], results[0][0])
    np.testing.assert_allclose(results[1][1], results[0][1])


def test_gradient_penalty_training_step_matches_torch():
    """A WGAN-GP style critic update: the penalty on the input gradient's norm."""

    def run(lib):
        rng = np.random.default_rng(5)
        nn = lib.nn
        critic = nn.Sequential(
            nn.Linear(4, 8), nn.LeakyReLU(0.2), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 1)
        )
        with lib.no_grad():
            for p in critic.parameters():
                p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)) * 0.5))
        opt = lib.optim.Adam(critic.parameters(), lr=1e-2)
        real = lib.tensor(rng.standard_normal((6, 4)), dtype=lib.float32)
        fake = lib.tensor(rng.standard_normal((6, 4)), dtype=lib.float32)
        alpha = lib.tensor(rng.uniform(size=(6, 1)), dtype=lib.float32)
        losses = []
        for _ in range(3):
            mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
            grads = lib.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)[0]
            penalty = ((grads.norm(2, dim=1) - 1) ** 2).mean()
            loss = critic(fake).mean() - critic(real).mean() + 10 * penalty
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses, [p.detach().numpy() for p in critic.parameters()]

    (loss_t, params_t), (loss_g, params_g) = run(torch), run(gputensor)
    np.testing.assert_allclose(loss_g, loss_t, rtol=1e-5)
    for a, b in zip(params_t, params_g):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)


def test_custom_function_double_backward_and_once_differentiable():
    messages = []
    for lib in (torch, gputensor):

        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x**3

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * 3 * x**2

        class CubeOnce(Cube):
            @staticmethod
            @lib.autograd.function.once_differentiable
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * 3 * x**2

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (g,) = lib.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x)
        messages.append(h.numpy())
        (g,) = lib.autograd.grad(CubeOnce.apply(x).sum(), x, create_graph=True)
        with pytest.raises(RuntimeError) as info:
            g.sum().backward()
        messages.append(str(info.value))
    np.testing.assert_allclose(messages[2], messages[0])
    assert messages[3] == messages[1]


def test_second_derivatives_across_dtypes_match_torch():
    """Operands of different dtypes are cast inside the op: the casts stay in the graph."""
    results = []
    for lib in (torch, gputensor):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = lib.tensor([0.5, 1.5, 2.5], dtype=lib.float64, requires_grad=True)
        z = (x * y) ** 2 / (x + 1).double() + lib.nanmean(x**3)
        gx, gy = lib.autograd.grad(z.sum(), (x, y), create_graph=True)
        hx, hy = lib.autograd.grad(gx.sum() + (gy**2).sum(), (x, y))
        results.append([t.detach().numpy() for t in (gx, gy, hx, hy)])
    for ours, theirs in zip(results[1], results[0]):
        assert ours.dtype == theirs.dtype
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
