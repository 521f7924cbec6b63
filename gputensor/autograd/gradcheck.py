"""gradcheck: compare autograd's gradients with central finite differences."""

from __future__ import annotations

import numpy as np

from .._tensor_core import TensorCore
from .engine import grad as _grad
from .grad_mode import enable_grad, no_grad


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytical and numerical Jacobians differ."""


def _outputs(fn, inputs):
    out = fn(*inputs)
    items = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in items if isinstance(o, TensorCore)]


def _numerical_jacobian(fn, inputs, index, out_index, eps):
    """d out / d inputs[index] by central differences: shape (numel_in, numel_out)."""
    x = inputs[index]
    flat = x._data.reshape(-1)  # a view: x is contiguous (checked by the caller)
    rows = []
    with no_grad():
        for k in range(flat.size):
            orig = flat[k].item()
            flat[k] = orig + eps
            plus = _outputs(fn, inputs)[out_index]._to_numpy().astype(np.float64).ravel()
            flat[k] = orig - eps
            minus = _outputs(fn, inputs)[out_index]._to_numpy().astype(np.float64).ravel()
            flat[k] = orig
            rows.append((plus - minus) / (2 * eps))
    return np.array(rows).reshape(flat.size, -1)


def _analytical_jacobian(out, inputs, index):
    n_out = out.numel()
    jac = np.zeros((inputs[index].numel(), n_out))
    for j in range(n_out):
        seed = np.zeros(n_out, dtype=out._data.dtype)
        seed[j] = 1
        g = _grad(out, inputs[index], seed.reshape(out._data.shape), retain_graph=True,
                  allow_unused=True)[0]
        if g is not None:
            jac[:, j] = g._to_numpy().astype(np.float64).ravel()
    return jac


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True) -> bool:
    """True when every input gradient of ``fn`` matches finite differences (float64 inputs)."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    inputs = tuple(x if not isinstance(x, TensorCore) or x.is_contiguous() else x.contiguous()
                   for x in inputs)
    outputs = _outputs(fn, inputs)
    for out_index, out in enumerate(outputs):
        if not out.requires_grad:
            continue
        for index, x in enumerate(inputs):
            if not isinstance(x, TensorCore) or not x.requires_grad:
                continue
            numerical = _numerical_jacobian(fn, inputs, index, out_index, eps)
            analytical = _analytical_jacobian(out, inputs, index)
            if not np.allclose(analytical, numerical, rtol=rtol, atol=atol):
                if not raise_exception:
                    return False
                raise GradcheckError(
                    f"Jacobian mismatch for output {out_index} with respect to input {index},\n"
                    f"numerical:{numerical}\nanalytical:{analytical}\n")
    return True


def gradgradcheck(func, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True) -> bool:
    """True when the gradients of ``func``'s gradients (second derivatives, through
    ``create_graph=True``) match finite differences, for random ``grad_outputs`` if none
    are given."""
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(
            TensorCore._make(o._backend.asarray(rng.standard_normal(o._data.shape).astype(
                o._data.dtype), index=o._device.index), o._device).requires_grad_(True)
            for o in _outputs(func, inputs) if o.requires_grad)
    else:
        grad_outputs = tuple(grad_outputs) if isinstance(grad_outputs, (tuple, list)) \
            else (grad_outputs,)
    count = len(inputs)

    def first_gradients(*args):
        xs, seeds = args[:count], args[count:]
        with enable_grad():  # (finite differences call this under no_grad)
            outs = [o for o in _outputs(func, xs) if o.requires_grad]
            wrt = [x for x in xs if isinstance(x, TensorCore) and x.requires_grad]
            grads = _grad(outs, wrt, seeds, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_gradients, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
