"""Autograd against torch: accumulation, hooks, grad mode, errors, custom Functions."""

import gc
import threading
import weakref

import numpy as np
import pytest
import torch

import gputensor
from helpers import assert_on, assert_same, check_error, rand_array, run_on


def both(fn, device):
    """fn(lib) for gputensor (its tensors made on ``device``) and for torch (on the CPU)."""
    ours = run_on(gputensor, device, fn)
    assert_on(ours, device)
    return ours, fn(torch)


def test_gradients_accumulate_over_backward_calls(device):
    def run(lib):
        w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        for _ in range(3):
            (w * w).sum().backward()
        return w.grad
    assert_same(*both(run, device=device))


def test_reused_node_gets_all_its_gradient(device):
    def run(lib):
        a = lib.tensor([0.5, -1.5], requires_grad=True)
        b = a + a
        c = b * b
        d = c * b + a
        d.sum().backward()
        return a.grad
    assert_same(*both(run, device=device))


def test_backward_with_gradient_on_non_scalar(device):
    seed = rand_array((2, 3))

    def run(lib):
        x = lib.tensor(rand_array((2, 3), rng=np.random.default_rng(0)), requires_grad=True)
        y = (x * 3).exp()
        y.backward(lib.tensor(seed))
        return x.grad
    assert_same(*both(run, device=device), rtol=1e-5)


@pytest.mark.parametrize("case", ["non_scalar", "second_backward", "no_grad_output",
                                  "wrong_gradient_shape"])
def test_backward_misuse_errors_match_torch(case, device):
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        if case == "non_scalar":
            (x * 2).backward()
        elif case == "second_backward":
            y = (x * x).sum()
            y.backward()
            y.backward()
        elif case == "no_grad_output":
            lib.tensor([1.0]).backward()
        else:
            (x * 2).backward(lib.ones(3))
    check_error(run, device=device)


def test_retain_graph_allows_a_second_backward(device):
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).exp().sum()
        y.backward(retain_graph=True)
        y.backward()
        return x.grad
    assert_same(*both(run, device=device))


def test_autograd_grad_leaves_dot_grad_alone(device):
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 3
        y = (h * h).sum()
        gx, gh = lib.autograd.grad(y, (x, h))
        assert x.grad is None
        return gx, gh
    assert_same(*both(run, device=device))


def test_autograd_grad_with_grad_outputs_and_unused_inputs(device):
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        z = lib.tensor([1.0], requires_grad=True)
        y = x.sigmoid()
        (gx, gz) = lib.autograd.grad(y, (x, z), grad_outputs=lib.tensor([1.0, 0.5]),
                                     allow_unused=True)
        assert gz is None
        return gx
    assert_same(*both(run, device=device))
    check_error(lambda lib: lib.autograd.grad(
        (lib.ones(2, requires_grad=True) * 2).sum(), [lib.ones(1, requires_grad=True)]),
        device=device)


def test_grad_mode_contexts_and_decorators():
    for lib in (gputensor, torch):
        x = lib.ones(2, requires_grad=True)
        with lib.no_grad():
            assert not (x * 2).requires_grad
            with lib.enable_grad():
                assert (x * 2).requires_grad
        assert (x * 2).requires_grad
        with lib.set_grad_enabled(False):
            assert not (x * 2).requires_grad
        assert lib.is_grad_enabled()

        @lib.no_grad()
        def f(t):
            return t * 2
        assert not f(x).requires_grad
        assert lib.is_grad_enabled()


def test_grad_mode_is_per_thread():
    seen = []
    with gputensor.no_grad():
        t = threading.Thread(target=lambda: seen.append(gputensor.is_grad_enabled()))
        t.start()
        t.join()
        assert not gputensor.is_grad_enabled()
    assert seen == [True]


def test_detach_and_requires_grad(device):
    for lib in (gputensor, torch):
        x = lib.ones(3, requires_grad=True)
        y = x * 2
        d = y.detach()
        assert not d.requires_grad and d.grad_fn is None and d.is_leaf
        d[0] = 5.0
        assert y[0].item() == 5.0  # shares storage
        y.detach_()
        assert y.grad_fn is None and not y.requires_grad
        z = lib.zeros(2).requires_grad_()
        assert z.requires_grad and z.is_leaf
    check_error(lambda lib: setattr(lib.ones(2, requires_grad=True) * 2, "requires_grad", False),
                device=device)
    check_error(lambda lib: lib.tensor([1, 2]).requires_grad_(), device=device)


def test_hooks_and_retain_grad(device):
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        calls = []
        x.register_hook(lambda g: calls.append(g.clone()))
        h = x * x
        h.retain_grad()
        handle = h.register_hook(lambda g: g * 10)
        (h * 3).sum().backward()
        handle.remove()
        return x.grad, h.grad, calls[0]
    assert_same(*both(run, device=device))


def test_grad_fn_names_and_next_functions(device):
    def run(lib):
        a = lib.tensor([1.0], requires_grad=True)
        b = lib.tensor([2.0])
        y = (a * 2 + b) / 3 - 1
        z = 1 - y ** 2
        names = []
        node = z.grad_fn
        while node is not None:
            names.append(node.name().replace("gputensor", "torch"))
            nexts = [n for n, _ in node.next_functions if n is not None]
            node = nexts[0] if nexts else None
        return names, [None if n is None else n.name().replace("gputensor", "torch") for n, _ in
                       (a * b).grad_fn.next_functions]
    ours, theirs = both(run, device=device)
    assert ours == theirs


NUMBER_OPERAND_CASES = {
    "mul": lambda lib, a: a * 3, "rmul": lambda lib, a: 2 * a, "add": lambda lib, a: a + 3,
    "radd": lambda lib, a: 3 + a, "add_alpha": lambda lib, a: lib.add(a, 3, alpha=2),
    "sub": lambda lib, a: a - 1, "rsub": lambda lib, a: 1 - a, "div": lambda lib, a: a / 2,
    "rdiv": lambda lib, a: 2 / a, "div_floor": lambda lib, a: lib.div(a, 2, rounding_mode="floor"),
    "mul_bool": lambda lib, a: a * True, "add_": lambda lib, a: (a * 1).add_(1),
    "pow": lambda lib, a: a ** 2, "rpow": lambda lib, a: 2 ** a, "remainder": lambda lib, a: a % 2,
    "clamp": lambda lib, a: a.clamp(0, 1), "tensors": lambda lib, a: a * lib.ones(2),
}


@pytest.mark.parametrize("name", list(NUMBER_OPERAND_CASES))
def test_a_number_operand_edge_follows_torch(name, device):
    # torch wraps the number of add/sub/mul/div as a tensor: its edge is (None, 0)
    def run(lib):
        a = lib.tensor([1.5, 2.0], requires_grad=True)
        node = NUMBER_OPERAND_CASES[name](lib, a).grad_fn
        return node.name().split("::")[-1], [None if n is None else n.name().split("::")[-1]
                                             for n, _ in node.next_functions]
    ours, theirs = both(run, device=device)
    assert ours == theirs


def test_inplace_change_of_saved_tensor_is_detected(device):
    def run(lib):
        x = lib.ones(3, requires_grad=True)
        y = x * 1
        e = y.sigmoid()
        e.add_(1)
        e.sum().backward()
    ours, theirs = None, None
    try:
        run_on(gputensor, device, run)
    except RuntimeError as e:
        ours = str(e)
    try:
        run(torch)
    except RuntimeError as e:
        theirs = str(e)
    prefix = "one of the variables needed for gradient computation has been modified by an " \
             "inplace operation"
    assert ours is not None and theirs is not None
    assert ours.startswith(prefix) and theirs.startswith(prefix)


def test_custom_function_matches_torch(device):
    def make(lib):
        class ScaledExp(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, scale):
                y = x.exp() * scale
                ctx.save_for_backward(y)
                ctx.scale = scale
                return y

            @staticmethod
            def backward(ctx, g):
                (y,) = ctx.saved_tensors
                assert ctx.needs_input_grad == (True, False)
                return g * y, None
        return ScaledExp

    def run(lib):
        x = lib.tensor([0.1, -0.3], requires_grad=True)
        y = make(lib).apply(x, 2.0)
        (y * y).sum().backward()
        return y, x.grad, y.grad_fn.name()
    ours, theirs = both(run, device=device)
    assert_same(ours[:2], theirs[:2])
    assert ours[2] == theirs[2] == "ScaledExpBackward"


def test_gradcheck_passes_and_catches_wrong_backward():
    x = gputensor.tensor(rand_array((3,), "float64"), dtype=gputensor.float64,
                         requires_grad=True)
    assert gputensor.autograd.gradcheck(lambda t: (t * t).tanh().sum() * t, (x,))

    class Wrong(gputensor.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t * t

        @staticmethod
        def backward(ctx, g):
            return g  # should be 2 t g

    with pytest.raises(gputensor.autograd.GradcheckError):
        gputensor.autograd.gradcheck(Wrong.apply, (x,))
    assert not gputensor.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False)


def test_training_sized_graph_is_freed_after_backward():
    gc.collect()
    gc.disable()
    try:
        w = gputensor.randn(64, 64, requires_grad=True)
        x = gputensor.randn(32, 64)
        refs = []
        h = x
        for _ in range(20):
            h = (h @ w).tanh() * 0.5 + h
            refs.append(weakref.ref(h))
            refs.append(weakref.ref(h.grad_fn))
        loss = (h * h).mean()
        loss.backward()
        del h, loss
        assert all(r() is None for r in refs), "graph kept alive after the last reference"
    finally:
        gc.enable()
    assert w.grad is not None and w.grad.shape == (64, 64)


def test_a_leaf_keeps_one_accumulator_and_is_freed_without_a_cycle():
    def run(lib):
        w = lib.ones(3, requires_grad=True)
        y1, y2 = w * 2, w * 3
        same = y1.grad_fn.next_functions[0][0] is y2.grad_fn.next_functions[0][0]
        acc = y1.grad_fn.next_functions[0][0]
        return same, acc.variable is w, acc.name().replace("gputensor", "torch")
    assert run(gputensor) == run(torch)
    gc.collect()
    gc.disable()
    try:  # the leaf and its accumulator go with the last reference: no cycle to collect
        w = gputensor.ones(3, requires_grad=True)
        (w * 2).sum().backward()
        leaf, acc = weakref.ref(w), weakref.ref((w * 2).grad_fn.next_functions[0][0])
        del w
        assert leaf() is None and acc() is None
    finally:
        gc.enable()


def test_backward_into_a_leaf_nothing_else_holds(device):
    def run(lib):
        y = (lib.ones(3, requires_grad=True) * lib.tensor([1.0, 2.0, 3.0])).sum()
        x = lib.tensor([4.0], requires_grad=True)
        z = y * x
        z.backward()
        return x.grad, z.grad_fn.next_functions[0][0].name()
    ours, theirs = both(run, device)
    assert_same(ours[0], theirs[0])
    assert ours[1] == theirs[1]


def test_a_leaf_gradient_never_shares_memory_with_another_tensor(device):
    # the first gradient becomes .grad without a copy only when nothing else holds it
    def run(lib):
        a = lib.ones(3, requires_grad=True)
        c = lib.ones(3, requires_grad=True)
        (a + c).backward(lib.ones(3))  # add's backward hands both the same gradient
        a.grad.mul_(5)
        w = lib.ones(2, 2, requires_grad=True)
        g = lib.full((2, 2), 2.0)
        w.backward(g)  # the caller's gradient tensor
        (w * 1).backward(g)  # passed through to the leaf
        g.add_(100)
        u = lib.ones(2, 3, requires_grad=True)
        flat = lib.arange(6.0)
        u.view(-1).backward(flat)  # a reshape of the caller's gradient
        p, q = lib.ones(3, requires_grad=True), lib.ones(3, requires_grad=True)
        lib.cat([p, q]).backward(flat)  # slices of one gradient
        # (torch's .grad of a reshape of the caller's gradient shares its memory, as it
        # steals a tensor that only the engine holds; gputensor copies there: not compared)
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]])
        v = lib.ones(2, 2, requires_grad=True)
        (x @ v).sum().backward()  # a fresh gradient nothing else holds
        first = v.grad
        (x @ v).sum().backward()
        return a.grad, c.grad, w.grad, g, u.grad, q.grad, v.grad, first is v.grad
    ours, theirs = both(run, device)
    for mine, reference in zip(ours[:7], theirs[:7]):
        assert_same(mine, reference)
    assert ours[7] is theirs[7] is True  # accumulated in place into the same .grad
