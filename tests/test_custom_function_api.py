"""User-defined autograd.Functions against torch, the ctx API beyond gradients: saved
tensors, once_differentiable, torch 2's setup_context, keyword arguments, odd outputs."""

import warnings

import pytest
import torch

import gputensor
from helpers import assert_on, assert_same, check_error, run_on, torch_text


def both(fn, device):
    """fn(lib) for gputensor (its tensors made on ``device``) and for torch (on the CPU)."""
    ours = run_on(gputensor, device, fn)
    assert_on([o for o in ours if isinstance(o, gputensor.Tensor)]
              if isinstance(ours, (tuple, list)) else ours, device)
    return ours, fn(torch)


def leaf(lib, values=(1.0, -2.0), requires_grad=True):
    """A float leaf tensor."""
    return lib.tensor(list(values), requires_grad=requires_grad)


# ---- saved tensors ---------------------------------------------------------------------------
def saving(lib, save_output=False):
    """``x * w`` saving its inputs (or its output) for backward."""
    class Product(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            out = x * w
            ctx.save_for_backward(x, w, out if save_output else None)
            return out

        @staticmethod
        def backward(ctx, g):
            x, w, out = ctx.saved_tensors
            return g * w, g * x
    return Product


@pytest.mark.parametrize("case", ["leaf-without-grad", "non-leaf", "output", "twice",
                                  "freed"])
def test_saved_tensors_checks(device, case):
    def run(lib):
        x = leaf(lib)
        w = lib.tensor([3.0, 4.0])
        if case == "non-leaf":
            w = x * 1
        out = saving(lib, save_output=case == "output").apply(x, w)
        if case == "output":
            out.mul_(2)
        elif case == "twice":
            w.add_(1)
            w.add_(1)
        elif case != "freed":
            w.add_(1)
        out.sum().backward()
        if case == "freed":
            out.grad_fn.saved_tensors  # noqa: B018 - raises once backward freed them
    check_error(run, device=device)


def test_saved_tensors_are_the_tensors_saved(device):
    def run(lib):
        x = leaf(lib)
        out = saving(lib).apply(x, lib.tensor([3.0, 4.0]))
        saved = out.grad_fn.saved_tensors
        return saved[0] is x, saved[2] is None
    ours, theirs = both(run, device)
    assert ours == theirs == (True, True)


def test_save_for_backward_refuses_non_tensors():
    def run(lib):
        class SavesNumber(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x, 3)
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g
        SavesNumber.apply(leaf(lib))
    check_error(run)


def test_once_differentiable(device):
    def run(lib):
        seen = []

        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            @lib.autograd.function.once_differentiable
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                grad = 2 * x * g
                seen.append((lib.is_grad_enabled(), grad.requires_grad))
                return grad
        x = leaf(lib)
        Square.apply(x).sum().backward()
        return x.grad, seen, Square.backward.__name__
    ours, theirs = both(run, device)
    assert_same(ours[0], theirs[0])
    assert ours[1:] == theirs[1:]


# ---- torch 2's setup_context, keyword arguments ---------------------------------------------
def setup_style(lib):
    """``x * y * scale`` with a ctx-less forward and a separate setup_context."""
    class ScaledProduct(lib.autograd.Function):
        @staticmethod
        def forward(x, y, scale=2.0):
            return x * y * scale

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, y, scale = inputs
            ctx.save_for_backward(x, y)
            ctx.scale = scale
            ctx.output_shape = tuple(output.shape)

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return g * y * ctx.scale, g * x * ctx.scale, None
    return ScaledProduct


def keyword_style(lib):
    """``x * y * scale`` in the classic style (forward takes ctx)."""
    class ScaledProduct(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y=None, scale=2.0):
            return x * y * scale

        @staticmethod
        def backward(ctx, g):
            return (g * 2,) + (None,) * (len(ctx.needs_input_grad) - 1)
    return ScaledProduct


@pytest.mark.parametrize("style", [setup_style, keyword_style], ids=["setup", "classic"])
@pytest.mark.parametrize("call", [
    lambda f, x, y: f.apply(x, y),
    lambda f, x, y: f.apply(x, y=y),
    lambda f, x, y: f.apply(x, y, 3.0),
    lambda f, x, y: f.apply(x, scale=5.0, y=y),
], ids=["positional", "keyword", "three", "reordered"])
def test_keyword_arguments(device, style, call):
    def run(lib):
        x, y = leaf(lib), leaf(lib, (0.5, 4.0))
        out = call(style(lib), x, y)
        out.sum().backward()
        return out, x.grad, y.grad
    ours, theirs = both(run, device)
    for o, t in zip(ours, theirs):
        assert (o is None) == (t is None)
        if t is not None:
            assert_same(o, t)


@pytest.mark.parametrize("style", [setup_style, keyword_style], ids=["setup", "classic"])
@pytest.mark.parametrize("call", [
    lambda f, x: f.apply(x, z=x),
    lambda f, x: f.apply(x, x=x),
    lambda f, x: f.apply(x, scale=3.0),
    lambda f, x: f.apply(x, ctx=x),
    lambda f, x: f.apply(x, x, 1.0, 2.0),
], ids=["unknown", "twice", "gap", "ctx", "too-many"])
def test_keyword_argument_errors(style, call):
    check_error(lambda lib: call(style(lib), leaf(lib)))


def test_keyword_only_parameter_is_refused():
    def run(lib):
        class KeywordOnly(lib.autograd.Function):
            @staticmethod
            def forward(x, *, y):
                return x * y

            @staticmethod
            def setup_context(ctx, inputs, output):
                pass

            @staticmethod
            def backward(ctx, g):
                return g
        KeywordOnly.apply(leaf(lib), y=leaf(lib))
    check_error(run)


# ---- what is missing or unusual ---------------------------------------------------------------
def test_missing_forward_or_backward():
    def no_forward(lib):
        class NoForward(lib.autograd.Function):
            pass
        NoForward.apply(leaf(lib))

    def no_backward(lib):
        class NoBackward(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2
        NoBackward.apply(leaf(lib)).sum().backward()
    check_error(no_forward)
    check_error(no_backward)


def test_calling_an_instance_is_refused():
    def run(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            keyword_style(lib)()(leaf(lib), leaf(lib))
    check_error(run)


def test_outputs_that_are_no_tensor_tuple(device):
    def run(lib):
        class Odd(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, kind):
                return 3 if kind == "number" else [x * 2]

            @staticmethod
            def backward(ctx, g):
                return g, None
        x = leaf(lib)
        listed = Odd.apply(x, "list")
        return Odd.apply(x, "number"), type(listed).__name__, listed[0].requires_grad
    ours, theirs = both(run, device)
    assert ours == theirs


def test_returned_input_keeps_its_place_in_the_graph(device):
    def run(lib):
        class Identity(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 3
        x = leaf(lib)
        out = Identity.apply(x)
        facts = out is x, x.grad_fn is None, torch_text(out.grad_fn.name())
        out.sum().backward()
        return x.grad, facts
    ours, theirs = both(run, device)
    assert_same(ours[0], theirs[0])
    assert ours[1] == theirs[1]


def test_vmap_rule_is_not_generated():
    assert gputensor.autograd.Function.generate_vmap_rule is \
        torch.autograd.Function.generate_vmap_rule


def test_tensor_outputs_among_others_keep_the_graph(device):
    def run(lib):
        seen = []

        class Mixed(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return 3, x * 2, "label", x * 3

            @staticmethod
            def backward(ctx, g_number, g_double, g_label, g_triple):
                seen.extend([g_number, g_label])
                return g_double * 2 + g_triple * 3
        x = leaf(lib)
        number, doubled, label, tripled = Mixed.apply(x)
        (doubled * tripled).sum().backward()
        return (doubled, tripled, x.grad), (number, label, seen,
                                            torch_text(doubled.grad_fn.name()))
    ours, theirs = both(run, device)
    assert_same(ours[0], theirs[0])
    assert ours[1] == theirs[1]
