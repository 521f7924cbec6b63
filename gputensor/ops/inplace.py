"""In-place ops: run the op out of place, then write the result into the tensor's storage."""

from __future__ import annotations

from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor
from . import pointwise as pw

_CATEGORY_NAMES = {0: "Bool", 1: "Long", 2: "Float"}


def _check_can_modify(t: Tensor) -> None:
    if not is_grad_enabled():
        return
    if t._requires_grad and t.grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    base = t._base
    if base is not None and base._requires_grad and base.grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")


def _snapshot(t: Tensor) -> Tensor:
    """A tensor with t's graph identity and a copy of its current values."""
    snap = Tensor._make(t._data.copy(), t._device)
    snap._requires_grad, snap.grad_fn, snap._output_nr = t._requires_grad, t.grad_fn, \
        t._output_nr
    if t.grad_fn is None and t._requires_grad:
        snap._acc_ref = t._acc_ref
    return snap


def _write(t: Tensor, result: Tensor) -> Tensor:
    """Copy ``result`` into t's storage, check the cast, and adopt result's graph node."""
    src, dst = result._data, t._data
    if src.shape != dst.shape:
        try:
            t._backend.xp.broadcast_shapes(src.shape, dst.shape)
            ok = t._backend.xp.broadcast_shapes(src.shape, dst.shape) == dst.shape
        except ValueError:
            ok = False
        if not ok:
            raise RuntimeError(f"output with shape {list(dst.shape)} doesn't match the "
                               f"broadcast shape {list(_broadcast_shape(src.shape, dst.shape))}")
    src_cat, dst_cat = result.dtype.category, t.dtype.category
    if src_cat > dst_cat:
        raise RuntimeError(f"result type {_CATEGORY_NAMES[src_cat]} can't be cast to the "
                           f"desired output type {t.dtype.name.capitalize()}")
    dst[...] = src
    t._version.value += 1
    if result.grad_fn is not None:
        t.grad_fn, t._output_nr, t._requires_grad = result.grad_fn, result._output_nr, True
    return t


def _broadcast_shape(a, b):
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    return tuple(max(x, y) for x, y in zip(a, b))


def _tracks(t: Tensor, args) -> bool:
    return is_grad_enabled() and (t._requires_grad or any(
        isinstance(a, Tensor) and a._requires_grad for a in args))


def apply_inplace(t: Tensor, fn, *args, **kwargs) -> Tensor:
    """``t = fn(t, *args)`` in t's storage, recorded by autograd when needed."""
    _check_can_modify(t)
    source = _snapshot(t) if _tracks(t, args) else t
    return _write(t, fn(source, *args, **kwargs))


def add_(self, other, alpha=1):
    """In-place add."""
    return apply_inplace(self, pw.add, other, alpha=alpha)


def sub_(self, other, alpha=1):
    """In-place subtract."""
    return apply_inplace(self, pw.sub, other, alpha=alpha)


def mul_(self, other):
    """In-place multiply."""
    return apply_inplace(self, pw.mul, other)


def div_(self, other, rounding_mode=None):
    """In-place divide."""
    return apply_inplace(self, pw.div, other, rounding_mode=rounding_mode)


def pow_(self, exponent):
    """In-place power."""
    return apply_inplace(self, pw.pow, exponent)


def clamp_(self, min=None, max=None):  # noqa: A002
    """In-place clamp."""
    return apply_inplace(self, pw.clamp, min, max)


clip_ = clamp_


def neg_(self):
    """In-place negation."""
    return apply_inplace(self, pw.neg)


def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast) into this tensor."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
    _check_can_modify(self)
    cast = pw.to_dtype(src, self.dtype) if src.dtype is not self.dtype else src
    out = pw.add(pw.mul(_snapshot(self), 0), cast) if _tracks(self, (src,)) else cast
    if out.dtype is not self.dtype:
        out = pw.to_dtype(out, self.dtype)
    try:
        self._backend.xp.broadcast_to(out._data, self._data.shape)
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({self._data.shape[-1] if self.ndim else 1}) "
                           f"must match the size of tensor b ({src.shape[-1] if src.ndim else 1})"
                           f" at non-singleton dimension {max(self.ndim - 1, 0)}") from None
    return _write(self, out)


def fill_(self, value):
    """Fill with one value."""
    _check_can_modify(self)
    if isinstance(value, Tensor):
        value = value.item()
    if _tracks(self, ()):
        return _write(self, pw.add(pw.mul(_snapshot(self), 0), value))
    if isinstance(value, float) and not self.dtype.is_floating_point:
        value = int(value)
    self._data[...] = value
    self._version.value += 1
    return self


def zero_(self):
    """Fill with zeros."""
    return fill_(self, 0)
