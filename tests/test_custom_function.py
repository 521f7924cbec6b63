"""User-defined autograd.Functions against torch: each Function is written once against
``lib`` and run on gputensor (on every device) and on torch; values, gradients, grad_fn
names and errors are compared."""

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


def returning(lib, make_grads, inputs=1):
    """A Function ``x * 2`` (of ``inputs`` tensors, summed) whose backward returns
    ``make_grads(lib, g)``."""
    class Returning(lib.autograd.Function):
        @staticmethod
        def forward(ctx, *xs):
            return sum(xs[1:], xs[0] * 2)

        @staticmethod
        def backward(ctx, g):
            return make_grads(lib, g)
    return Returning


def leaf(lib, values=(1.0, -2.0), requires_grad=True):
    """A float leaf tensor."""
    return lib.tensor(list(values), requires_grad=requires_grad)


# ---- values, gradients, needs_input_grad ---------------------------------------------------
def test_values_gradients_and_needs_input_grad(device):
    def run(lib):
        seen = []

        class ScaledProduct(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, w, scale):
                seen.append(ctx.needs_input_grad)
                ctx.save_for_backward(x, w)
                ctx.scale = scale
                return x * w * scale

            @staticmethod
            def backward(ctx, g):
                seen.append(ctx.needs_input_grad)
                x, w = ctx.saved_tensors
                return g * w * ctx.scale, g * x * ctx.scale, None
        x, w = leaf(lib), lib.tensor([3.0, 0.5])
        y = ScaledProduct.apply(x, w, 3.0)
        (y * y).sum().backward()
        with lib.no_grad():
            ScaledProduct.apply(x, w, 1.0)
        return y, x.grad, torch_text(y.grad_fn.name()), seen
    ours, theirs = both(run, device)
    assert_same(ours[:2], theirs[:2])
    assert ours[2:] == theirs[2:]


@pytest.mark.parametrize("grads", [
    lambda lib, g: g,
    lambda lib, g: (g, g, g),
    lambda lib, g: (g, g.sum()),
    lambda lib, g: lib.ones(5),
    lambda lib, g: lib.ones(1),
    lambda lib, g: lib.tensor(3.0),
    lambda lib, g: (3.0, g),
    lambda lib, g: [g, g],
], ids=["too-few", "too-many", "bad-shape-second", "bad-shape", "size-1", "0-d", "number",
        "list"])
def test_wrong_gradients_raise_torch_errors(device, grads):
    def run(lib):
        x, y = leaf(lib), leaf(lib, (0.5, 4.0))
        returning(lib, grads, 2).apply(x, y).sum().backward()
    check_error(run, device=device)


def test_gradient_for_a_non_tensor_input_raises():
    def run(lib):
        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, s):
                return x * s

            @staticmethod
            def backward(ctx, g):
                return g, g
        Scale.apply(leaf(lib), 2.0).sum().backward()
    check_error(run)


@pytest.mark.parametrize("grads", [
    lambda lib, g: (g * 3, None, None),  # extra Nones are dropped
    lambda lib, g: (lib.ones(3, 2) * g, g),  # broadcast: summed to the input's shape
    lambda lib, g: (g.double(), g.long()),  # cast to the input's dtype
    lambda lib, g: (None, g),  # None: no gradient
], ids=["extra-nones", "broadcast", "dtype", "none"])
def test_accepted_gradients_match_torch(device, grads):
    def run(lib):
        x, y = leaf(lib), leaf(lib, (0.5, 4.0))
        returning(lib, grads, 2).apply(x, y).sum().backward()
        return x.grad, y.grad
    ours, theirs = both(run, device)
    for o, t in zip(ours, theirs):
        assert (o is None) == (t is None)
        if t is not None:
            assert_same(o, t)


def test_gradient_for_an_input_without_grad_is_ignored(device):
    def run(lib):
        x, y = leaf(lib), leaf(lib, requires_grad=False)
        returning(lib, lambda lib, g: (g, lib.ones(7)), 2).apply(x, y).sum().backward()
        return x.grad, y.grad
    ours, theirs = both(run, device)
    assert_same(ours[0], theirs[0])
    assert ours[1] is None and theirs[1] is None


def test_gradient_on_another_device_raises(device):
    def backward_to(target):
        def run(lib):
            f = returning(lib, lambda lib, g: g.to(target))
            f.apply(leaf(lib)).sum().backward()
        return run
    with pytest.raises(RuntimeError) as theirs:
        run_on(torch, "cpu", backward_to("meta"))
    other = "cpu" if device != "cpu" else "cuda:0"
    with pytest.raises(RuntimeError) as ours:
        run_on(gputensor, device, backward_to(other))
    here = "cpu" if device == "cpu" else "cuda:0"
    expected = str(theirs.value).replace("got meta", f"got {other}").replace(
        "expected device cpu", f"expected device {here}")
    assert torch_text(str(ours.value)) == expected


# ---- mark_dirty, inputs returned as they are ------------------------------------------------
def add_one(lib, mark=True, return_input=True):
    """An in-place ``x += 1`` Function, marking x dirty or not, returning x or a new tensor."""
    class AddOne(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            if mark:
                ctx.mark_dirty(x)
            return x if return_input else x * 1

        @staticmethod
        def backward(ctx, g):
            return g * 2
    return AddOne


@pytest.mark.parametrize("mark", [True, False], ids=["dirty", "unmarked"])
def test_in_place_function(device, mark):
    def run(lib):
        x = leaf(lib)
        b = x.clone()
        out = add_one(lib, mark).apply(b)
        names = torch_text(out.grad_fn.name()), torch_text(b.grad_fn.name())
        version = b._version if lib is torch else b._version.value
        (out * out).sum().backward()
        return out, x.grad, out is b, names, version
    ours, theirs = both(run, device)
    assert_same(ours[:2], theirs[:2])
    assert ours[2:] == theirs[2:]


@pytest.mark.parametrize("case", ["leaf", "not-returned"])
def test_mark_dirty_errors(device, case):
    def run(lib):
        x = leaf(lib)
        if case == "leaf":
            add_one(lib).apply(x)
        else:
            add_one(lib, return_input=False).apply(x.clone())
    check_error(run, device=device)


def test_mark_dirty_without_grad_changes_the_input(device):
    def run(lib):
        x = leaf(lib, requires_grad=False)
        out = add_one(lib).apply(x)
        return out, x, out is x
    ours, theirs = both(run, device)
    assert_same(ours[:2], theirs[:2])
    assert ours[2] == theirs[2]


# ---- non-differentiable outputs, materialized gradients -------------------------------------
def test_mark_non_differentiable(device):
    def run(lib):
        seen = []

        class SortScaled(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                values, order = x.sort()
                doubled = x * 2
                ctx.mark_non_differentiable(order, doubled)
                ctx.save_for_backward(order)
                return values, order, doubled

            @staticmethod
            def backward(ctx, g_values, g_order, g_doubled):
                seen.extend([g_order, g_doubled])
                (order,) = ctx.saved_tensors
                return lib.zeros_like(g_values).scatter(0, order, g_values)
        x = lib.tensor([3.0, 1.0, 2.0], requires_grad=True)
        values, order, doubled = SortScaled.apply(x)
        flags = [(t.requires_grad, t.grad_fn is None) for t in (values, order, doubled)]
        (values * lib.arange(3.0)).sum().backward()
        return (values, x.grad, *seen), flags
    ours, theirs = both(run, device)
    assert_same(ours[0], theirs[0])
    assert ours[1] == theirs[1]


def test_backward_of_a_non_differentiable_output_raises(device):
    def run(lib):
        class Twice(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x * 2
                ctx.mark_non_differentiable(y)
                return y

            @staticmethod
            def backward(ctx, g):
                return g
        Twice.apply(leaf(lib)).sum().backward()
    check_error(run, device=device)


@pytest.mark.parametrize("materialize", [True, False])
def test_set_materialize_grads(device, materialize):
    def run(lib):
        seen = []

        class Pair(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(materialize)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, g_first, g_second):
                seen.append(g_second)
                return g_first * 2 if g_second is None else g_first * 2 + g_second * 3
        x = leaf(lib)
        Pair.apply(x)[0].sum().backward()
        return x.grad, seen[0]
    ours, theirs = both(run, device)
    assert (ours[1] is None) == (theirs[1] is None) == (not materialize)
    assert_same(ours if materialize else ours[:1], theirs if materialize else theirs[:1])
