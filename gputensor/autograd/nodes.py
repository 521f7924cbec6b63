"""Graph nodes: the base of every node, hook handles, and the leaves' AccumulateGrad."""

from __future__ import annotations

import weakref

__all__ = ["AccumulateGrad", "Node", "RemovableHandle", "grad_node", "leaf_accumulator"]


class Node:
    """A node of the backward graph, reachable from a tensor as its ``grad_fn``."""

    __slots__ = ()  # (a Function's node keeps its context in a __dict__)
    next_functions = ()
    _pre_hooks = None
    _retain_hooks = None  # run after the other hooks, as torch runs retain_grad last
    _num_outputs = 1

    def name(self) -> str:
        """The node's class name, e.g. ``MulBackward0``."""
        return type(self).__name__

    def __repr__(self) -> str:
        # torch prints its C++ nodes by name, a user's Function's node with its Python module
        node_type = type(self)
        builtin = node_type.__module__.startswith("gputensor.")
        module = "" if builtin else "gputensor.autograd.function."
        return f"<{module}{node_type.__name__} object at {id(self):#x}>"

    def register_prehook(self, hook, output_nr=0):
        """Call ``hook(grad)`` on the gradient of output ``output_nr`` before this node runs."""
        if self._pre_hooks is None:
            self._pre_hooks = {}
        hooks = self._pre_hooks.setdefault(output_nr, [])
        hooks.append(hook)
        return RemovableHandle(hooks, hook)


class RemovableHandle:
    """Handle returned by hook registration; ``remove()`` unregisters the hook."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        """Unregister the hook (a no-op when already removed)."""
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


class AccumulateGrad(Node):
    """The node that adds incoming gradients into a leaf tensor's ``.grad``."""

    __slots__ = ("variable", "__weakref__")  # made for each op on a leaf: kept small
    def __init__(self, variable):
        self.variable = variable

    def name(self) -> str:
        """The node's name, as torch spells it."""
        return "gputensor::autograd::AccumulateGrad"

    @property
    def _pre_hooks(self):
        hooks = self.variable._hooks
        return {0: hooks} if hooks else None

    def accumulate(self, grad) -> None:
        """Add ``grad`` (a backend array) into the leaf's ``.grad``."""
        var = self.variable
        old = var._grad
        if old is None:
            var._grad = var._wrap(var._backend.xp.array(grad, dtype=var._data.dtype, copy=True))
        elif getattr(old._data.flags, "writeable", True):  # CuPy's flags have no writeable
            old._data += grad
        else:
            old._data = old._data + grad


def grad_node(t):
    """The node gradients for tensor ``t`` flow into: its grad_fn, or its leaf accumulator."""
    node = t.grad_fn
    return node if node is not None else leaf_accumulator(t)


def leaf_accumulator(t):
    """Leaf ``t``'s AccumulateGrad: the one a node still points at, or a new one (held
    weakly by the tensor, strongly by the nodes that point at it, as torch's)."""
    ref = t._acc_ref
    acc = None if ref is None else ref()
    if acc is None:
        acc = AccumulateGrad(t)
        t._acc_ref = weakref.ref(acc)
    return acc
