"""Grad modes against torch: no_grad, enable_grad, set_grad_enabled and inference_mode in
each form torch accepts (context, decorator with and without parentheses, generators), and
grad_fn nodes printed and linked as torch's."""

from __future__ import annotations

import re

import pytest

import gputensor
from helpers import LIBS, check_error, torch_text

NODE_REPR = re.compile(r"<(\w+) object at 0x[0-9a-f]+>")


def _same(scenario):
    """``scenario(lib)`` gives the same result on both libraries; grad mode is left on."""
    results = []
    for lib in LIBS:
        results.append(scenario(lib))
        assert lib.is_grad_enabled() and not lib.is_inference_mode_enabled()
    assert results[0] == results[1], results
    return results[0]


# ---- grad_fn printing and next_functions ----------------------------------------------
def _graph(lib):
    x = lib.ones(2, requires_grad=True)
    w = lib.ones(2, requires_grad=True)
    return x, w, ((x * 2 + w).exp() - 1).sum()


def _tree(node, depth=0):
    """(name, [(child tree or None, index)]) of a node, as printed."""
    if node is None:
        return None
    match = NODE_REPR.fullmatch(repr(node))
    assert match, repr(node)
    return (match.group(1), [(_tree(n, depth + 1), i) for n, i in node.next_functions])


def test_grad_fn_repr_and_next_functions_as_torch():
    _same(lambda lib: _tree(_graph(lib)[2].grad_fn))
    assert _tree(_graph(gputensor)[2].grad_fn)[0] == "SumBackward0"


def test_grad_fn_repr_names_the_object():
    for lib in LIBS:
        y = _graph(lib)[2]
        assert repr(y.grad_fn) == f"<SumBackward0 object at {id(y.grad_fn):#x}>"


def test_node_reprs_of_views_writes_and_user_functions():
    def scenario(lib):
        class Twice(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2

        x = lib.ones(3, requires_grad=True)
        written = x.clone()
        written[0] = 5
        nodes = (x[0].grad_fn, written.grad_fn, Twice.apply(x).grad_fn, x.t().grad_fn)
        texts = [repr(node) for node in nodes]
        for node, text in zip(nodes, texts):
            assert text.endswith(f" object at {id(node):#x}>")
        return [torch_text(text.split(" object at ")[0]) for text in texts]
    assert _same(scenario)[2] == "<torch.autograd.function.TwiceBackward"


def test_accumulate_grad_holds_the_leaf():
    for lib in LIBS:
        x, w, y = _graph(lib)
        mul = y.grad_fn.next_functions[0][0].next_functions[0][0].next_functions[0][0]
        mul = mul.next_functions[0][0]
        acc = mul.next_functions[0][0]
        assert NODE_REPR.fullmatch(repr(acc)).group(1) == "AccumulateGrad"
        assert acc.variable is x
        assert torch_text(acc.name()) == "torch::autograd::AccumulateGrad"
        assert mul.next_functions[1] == (None, 0)


# ---- no_grad, enable_grad, set_grad_enabled --------------------------------------------
def test_no_grad_and_enable_grad_forms():
    def scenario(lib):
        x = lib.ones(2, requires_grad=True)
        seen = []

        @lib.no_grad
        def bare():
            return (x * 2).requires_grad

        @lib.no_grad()
        def called():
            with lib.enable_grad():
                inner = (x * 2).requires_grad
            return inner, (x * 2).requires_grad

        @lib.enable_grad
        def enabled():
            return lib.is_grad_enabled()

        with lib.no_grad():
            seen.append((x * 2).requires_grad)
            seen.append(enabled())
            seen.append(lib.is_grad_enabled())
        seen += [bare(), called(), bare.__name__, called.__name__]
        return seen
    assert _same(scenario)[:3] == [False, True, False]


def test_decorated_generators_step_in_the_mode():
    def scenario(lib):
        def gen():
            sent = yield lib.is_grad_enabled()
            yield sent, lib.is_grad_enabled()
            return "done"

        out = []
        for decorated in (lib.no_grad()(gen), lib.no_grad(gen)):
            g = decorated()
            out += [next(g), g.send(5), lib.is_grad_enabled()]
            try:
                next(g)
            except StopIteration as stop:
                out.append(stop.value)
        with lib.no_grad():
            g = lib.enable_grad()(gen)()
            out += [next(g), lib.is_grad_enabled()]
            g.close()
        return out
    assert _same(scenario)[:3] == [False, (5, False), True]


def test_exceptions_thrown_into_decorated_generators():
    def scenario(lib):
        @lib.no_grad()
        def gen():
            try:
                yield 1
            except ValueError:
                yield lib.is_grad_enabled()
        g = gen()
        next(g)
        return g.throw(ValueError("x")), lib.is_grad_enabled()
    assert _same(scenario) == (False, True)


def test_set_grad_enabled_forms():
    def scenario(lib):
        out = []
        switch = lib.set_grad_enabled(False)  # a plain call switches at once
        out.append(lib.is_grad_enabled())
        lib.set_grad_enabled(True)
        out.append(lib.is_grad_enabled())
        with lib.set_grad_enabled(False):
            out.append(lib.is_grad_enabled())
        out.append(lib.is_grad_enabled())

        @lib.set_grad_enabled(False)
        def off():
            return lib.is_grad_enabled()
        out += [lib.is_grad_enabled(), off(), off(), lib.is_grad_enabled()]
        with lib.no_grad():
            with lib.set_grad_enabled(True):
                out.append(lib.is_grad_enabled())
            out.append(lib.is_grad_enabled())
        out.append(torch_text(repr(switch)))
        return out
    assert _same(scenario)[:4] == [False, True, False, True]


@pytest.mark.parametrize("mode", [1, None, 0.0, lambda: None])
def test_set_grad_enabled_wants_a_bool(mode):
    check_error(lambda lib: lib.set_grad_enabled(mode))
    assert gputensor.is_grad_enabled()


def test_decorating_a_class_warns_as_torch():
    for lib in LIBS:
        with pytest.warns(FutureWarning, match="Decorating classes is deprecated"):
            @lib.no_grad()
            class Made:
                def __init__(self, lib=lib):
                    self.grad = lib.is_grad_enabled()
        assert Made().grad is False


def test_grad_mode_restored_after_an_exception():
    for lib in LIBS:
        @lib.no_grad
        def fails():
            raise KeyError("x")
        with pytest.raises(KeyError):
            fails()
        with pytest.raises(KeyError), lib.inference_mode():
            raise KeyError("y")
        assert lib.is_grad_enabled() and not lib.is_inference_mode_enabled()


# ---- inference_mode ------------------------------------------------------------------------
def test_inference_mode_forms():
    def scenario(lib):
        out = []
        w = lib.ones(2, requires_grad=True)
        with lib.inference_mode():
            x = lib.ones(2)
            y = w * 2
            out += [lib.is_inference_mode_enabled(), lib.is_grad_enabled(), x.is_inference(),
                    y.is_inference(), y.requires_grad]
            with lib.inference_mode(False):
                z = lib.ones(1)
                out += [lib.is_inference_mode_enabled(), lib.is_grad_enabled(),
                        z.is_inference()]
        out += [x.is_inference(), w.is_inference(), x.view(-1).is_inference(),
                x.detach().is_inference(), (x * 2).is_inference(), x.clone().is_inference(),
                x[0].is_inference(), lib.ones(1).is_inference()]

        @lib.inference_mode
        def bare():
            return lib.is_inference_mode_enabled(), lib.ones(1).is_inference()

        @lib.inference_mode()
        def called():
            return lib.is_inference_mode_enabled(), lib.is_grad_enabled()

        @lib.inference_mode(False)
        def off():
            return lib.is_inference_mode_enabled()

        @lib.inference_mode()
        def gen():
            yield lib.is_inference_mode_enabled()
        out += [bare(), called(), off(), list(gen()), bare.__name__]
        with lib.no_grad(), lib.inference_mode(False):
            out.append(lib.is_grad_enabled())
        return out
    assert _same(scenario)[:5] == [True, False, True, True, False]


def _inference_tensor(lib):
    with lib.inference_mode():
        return lib.ones(2)


def _saving_function(lib):
    class SaveInput(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x)
            return x * w

        @staticmethod
        def backward(ctx, g):
            return None, g
    return SaveInput


@pytest.mark.parametrize("case", [
    lambda lib: _inference_tensor(lib) * lib.ones(2, requires_grad=True),
    lambda lib: _saving_function(lib).apply(_inference_tensor(lib),
                                            lib.ones(2, requires_grad=True)),
    lambda lib: _inference_tensor(lib).add_(1),
    lambda lib: _inference_tensor(lib).view(2).mul_(2),
    lambda lib: _inference_tensor(lib).requires_grad_(),
])
def test_inference_tensors_refuse_what_torch_refuses(case):
    check_error(case)


def test_what_inference_tensors_still_allow():
    def scenario(lib):
        x = _inference_tensor(lib)
        w = lib.ones(2, requires_grad=True)
        s = x + w  # add saves nothing for backward
        s.sum().backward()
        with lib.no_grad():
            y = x * 3
        with lib.inference_mode():
            x.add_(1)  # in place inside inference mode
            x.requires_grad_()
        return (s.grad_fn.name(), w.grad.tolist(), y.is_inference(), x.tolist(),
                x.requires_grad, x.clone().is_inference())
    _same(scenario)
