"""Graph nodes: the base of every node, hook handles, and the leaves' AccumulateGrad."""

from __future__ import annotations

import sys
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

    # the tensor holds its accumulator; the accumulator holds the tensor weakly (no cycle)
    __slots__ = ("_variable", "__weakref__")

    def __init__(self, variable):
        self._variable = weakref.ref(variable)

    @property
    def variable(self):
        """The leaf tensor (None once nothing else holds it)."""
        return self._variable()

    def name(self) -> str:
        """The node's name, as torch spells it."""
        return "gputensor::autograd::AccumulateGrad"

    @property
    def _pre_hooks(self):
        var = self.variable
        hooks = None if var is None else var._hooks
        return {0: hooks} if hooks else None

    def accumulate(self, grad) -> None:
        """Add ``grad`` (a backend array, held by the engine's list for this node) into the
        leaf's ``.grad``; the first gradient becomes ``.grad`` itself when nothing else holds
        it, as torch steals it, else a copy."""
        var = self.variable
        old = var._grad
        if old is None:
            if sys.getrefcount(grad) <= _SOLE_HOLDER and _stealable(grad, var._data):
                var._grad = var._wrap(grad)
            else:
                var._grad = var._wrap(var._backend.xp.array(grad, dtype=var._data.dtype,
                                                            copy=True))
        elif getattr(old._data.flags, "writeable", True):  # CuPy's flags have no writeable
            old._data += grad
        else:
            old._data = old._data + grad


def _stealable(grad, data) -> bool:
    """Whether ``grad`` can be the leaf's ``.grad`` as it is: C-contiguous, of the leaf's
    dtype and shape, writable, and owning its memory, or a whole-buffer view (a reshape) of
    an array that nothing but ``grad`` holds."""
    if grad.dtype != data.dtype or grad.shape != data.shape or not grad.flags.c_contiguous \
            or not getattr(grad.flags, "writeable", True):  # (CuPy's flags have none)
        return False
    base = getattr(grad, "base", grad)  # (an array type without ``base`` is copied)
    if base is None:
        return True
    return base is not grad and getattr(base, "base", base) is None \
        and base.size == grad.size and _base_references(grad) <= _BASE_ONLY


def _references(array) -> int:
    return sys.getrefcount(array)


def _base_references(view) -> int:
    return sys.getrefcount(view.base)


class _View:
    __slots__ = ("base",)


def _reference_counts() -> tuple:
    """``sys.getrefcount`` of a gradient in ``accumulate`` when only the engine's list holds
    it, and of a view's base that only the view holds (measured once, the same way: Python
    versions count borrowed references apart)."""
    held = [bytearray(1)]
    view = _View()
    view.base = bytearray(1)
    base = view.base  # held while counting, as ``_stealable`` holds its own
    counts = _references(held[0]), _base_references(view)
    del base
    return counts


_SOLE_HOLDER, _BASE_ONLY = _reference_counts()


def grad_node(t):
    """The node gradients for tensor ``t`` flow into: its grad_fn, or its leaf accumulator."""
    node = t.grad_fn
    return node if node is not None else leaf_accumulator(t)


def leaf_accumulator(t):
    """Leaf ``t``'s AccumulateGrad, made on first use and kept by the tensor (one per leaf,
    as torch's; it holds the tensor weakly, so a leaf nothing else holds gets no gradient)."""
    acc = t._accumulator
    if acc is None:
        acc = t._accumulator = AccumulateGrad(t)
    return acc
