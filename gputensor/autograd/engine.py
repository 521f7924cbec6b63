"""The backward engine: walks the graph from the outputs, in dependency order."""

from __future__ import annotations

import warnings

from .._tensor_core import TensorCore
from .grad_mode import enable_grad, no_grad
from .graph_backward import run_node
from .nodes import AccumulateGrad, grad_node

CREATE_GRAPH_WARNING = (
    "Using backward() with create_graph=True will create a reference cycle between the "
    "parameter and its gradient which can cause a memory leak. We recommend using "
    "autograd.grad when creating the graph to avoid this. If you have to use this function, "
    "make sure to reset the .grad fields of your parameters to None after use to break the "
    "cycle and avoid the leak.")


def _as_tuple(x):
    if x is None:
        return ()
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _root_grads(outputs, grad_outputs, graph=False):
    """The gradients the walk starts from: arrays, or (``graph``) tensors."""
    grads = []
    for out, g in zip(outputs, grad_outputs):
        if not out.requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn")
        if g is None:
            if out.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not out.dtype.is_floating_point:
                raise RuntimeError("grad can be implicitly created only for real scalar outputs "
                                   f"but got {out.dtype}")
            backend = out._backend
            with backend.on_device(out._device.index):
                ones = backend.xp.ones(out._data.shape, out._data.dtype)
            grads.append(TensorCore._make(ones, out._device) if graph else ones)
        else:
            if not isinstance(g, TensorCore):
                backend = out._backend
                g = out._wrap(backend.asarray(g, dtype=out._data.dtype, index=out._device.index))
            if tuple(g.shape) != tuple(out.shape):
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[0] has a shape of {g.shape} and output[0] "
                    f"has a shape of {out.shape}.")
            grads.append(g if graph else g._data)
    return grads


def _run(roots, root_grads, retain_graph, accumulate, captures=None, graph=False):
    """Propagate ``root_grads`` from ``roots`` [(node, output_nr)]; fill ``captures``.

    With ``graph`` the gradients are tensors and each node's backward is recorded
    (``create_graph``): the results can be differentiated again.
    """
    deps = {}
    root_nodes = [roots[0][0]] if len(roots) == 1 else list(dict.fromkeys(n for n, _ in roots))
    stack = list(root_nodes)
    seen = set(stack)
    while stack:
        for nxt, _ in stack.pop().next_functions:
            if nxt is not None:
                deps[nxt] = deps.get(nxt, 0) + 1
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
    buffers = {}
    for (node, nr), g in zip(roots, root_grads):
        buf = buffers.setdefault(node, [None] * node._num_outputs)
        buf[nr] = g if buf[nr] is None else buf[nr] + g
    ready = [node for node in root_nodes if node not in deps]
    while ready:
        node = ready.pop()
        leaf = type(node) is AccumulateGrad
        if leaf:
            var = node.variable
            if var is None:  # a leaf nothing holds any more: its gradient has no reader
                buffers.pop(node, None)
                continue
        index = (var if leaf else node)._device.index
        switch = None
        if index is not None:  # CUDA: the node's device is current while it runs
            switch = (var._backend if leaf else node.backend).on_device(index)
            switch.__enter__()
        try:
            grads = buffers.pop(node, None)
            if leaf:
                if grads is not None and var._hooks:
                    grads = _apply_pre_hooks(node, grads, graph)
                if captures is not None and (node, 0) in captures:
                    captures[node, 0] = grads[0] if grads is not None else None
                if accumulate and grads is not None and grads[0] is not None:
                    if graph:
                        _accumulate_tensor(var, grads[0])
                    else:  # (the gradient is held by grads alone, or also by others)
                        node.accumulate(grads[0])
                    post_hooks = var._post_acc_hooks
                    if post_hooks:
                        for hook in list(post_hooks):
                            hook(var)  # post-accumulate hooks see the new .grad
                continue
            if grads is not None and (node._pre_hooks or node._retain_hooks):
                grads = _apply_pre_hooks(node, grads, graph)
            if captures is not None and grads is not None:
                for nr in range(len(grads)):
                    if (node, nr) in captures:
                        captures[node, nr] = grads[nr]
            if grads is None or (grads[0] is None and all(g is None for g in grads)):
                in_grads = [None] * len(node.next_functions)
            elif graph:
                in_grads = run_node(node, grads, retain_graph)
            else:
                in_grads = node._run_backward(grads, retain_graph)
            for (nxt, nr), g in zip(node.next_functions, in_grads):
                if nxt is None:
                    continue
                if g is not None:
                    buf = buffers.get(nxt)
                    if buf is None:
                        buf = buffers[nxt] = [None] * nxt._num_outputs
                    buf[nr] = g if buf[nr] is None else buf[nr] + g
                count = deps[nxt] - 1
                deps[nxt] = count
                if count == 0:
                    ready.append(nxt)
            in_grads = g = None  # (the leaves' accumulators count who holds a gradient)
        finally:
            if switch is not None:
                switch.__exit__(None, None, None)


def _apply_pre_hooks(node, grads, graph=False):
    device = node.variable._device if isinstance(node, AccumulateGrad) else node._device
    grads = list(grads)
    for nr in range(len(grads)):
        if grads[nr] is None:
            continue
        hooks = list((node._pre_hooks or {}).get(nr, ()))
        retain = (node._retain_hooks or {}).get(nr)
        for hook in hooks + ([retain] if retain else []):
            result = hook(grads[nr] if graph else TensorCore._make(grads[nr], device))
            if result is not None:
                grads[nr] = result if graph else result._data
    return grads


def _accumulate_tensor(variable, grad) -> None:
    """A leaf's ``.grad`` plus ``grad`` (a tensor that may have a graph), out of place."""
    old = variable._grad
    if old is None:
        variable._grad = grad if grad._requires_grad else grad.detach().clone()
    else:
        variable._grad = old + grad


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate into the leaves' ``.grad`` the gradients of ``tensors``."""
    if inputs is not None and not _as_tuple(inputs):
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    outputs = _as_tuple(tensors)
    grads = _as_tuple(grad_tensors) or (None,) * len(outputs)
    root_grads = _root_grads(outputs, grads, create_graph)
    roots = [(grad_node(t), t._output_nr) for t in outputs]
    retain = create_graph if retain_graph is None else retain_graph
    if create_graph:
        warnings.warn(CREATE_GRAPH_WARNING, UserWarning, stacklevel=3)
    with enable_grad() if create_graph else no_grad():
        _run(roots, root_grads, bool(retain), accumulate=True, graph=create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None):
    """The gradients of ``outputs`` with respect to ``inputs``, without touching ``.grad``."""
    outputs, inputs = _as_tuple(outputs), _as_tuple(inputs)
    grads = _as_tuple(grad_outputs) or (None,) * len(outputs)
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    root_grads = _root_grads(outputs, grads, create_graph)
    roots = [(grad_node(t), t._output_nr) for t in outputs]
    keys = [(grad_node(t), t._output_nr) for t in inputs]
    captures = dict.fromkeys(keys)
    retain = create_graph if retain_graph is None else retain_graph
    with enable_grad() if create_graph else no_grad():
        _run(roots, root_grads, bool(retain), accumulate=False, captures=captures,
             graph=create_graph)
    results = []
    for i, (t, key) in enumerate(zip(inputs, keys)):
        g = captures[key]
        if g is None and not allow_unused:
            raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have "
                               "been used in the graph. Set allow_unused=True if this is the "
                               "desired behavior.")
        if g is not None and create_graph:
            results.append(g if g._data.dtype == t._data.dtype else g.to(t.dtype))
        else:
            results.append(None if g is None else TensorCore._make(
                g.astype(t._data.dtype, copy=False), t._device))
    return tuple(results)
