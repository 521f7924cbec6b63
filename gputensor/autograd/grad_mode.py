"""Per-thread grad mode: no_grad, enable_grad, set_grad_enabled, inference_mode.

Each is a context manager and a decorator, as torch's: ``no_grad`` and ``enable_grad``
with or without parentheses, ``inference_mode`` with or without them, ``set_grad_enabled``
also as a plain call that switches at once. A decorated generator function runs each of
its steps in the mode, not the caller's.
"""

from __future__ import annotations

import functools
import inspect
import sys
import threading
import warnings
from collections.abc import Callable
from typing import Any, TypeVar, overload

from .._tensor_core import INFERENCE_MODE

__all__ = ["enable_grad", "inference_mode", "is_grad_enabled", "is_inference_mode_enabled",
           "no_grad", "set_grad_enabled"]


class _GradState(threading.local):
    """Per-thread grad mode (on in every new thread)."""

    enabled = True


_state = _GradState()
_F = TypeVar("_F", bound=Callable[..., Any])
_NoParam = TypeVar("_NoParam", bound="_NoParamDecoratorContextManager")
_Inference = TypeVar("_Inference", bound="inference_mode")


def is_grad_enabled() -> bool:
    """Whether operations record a graph in this thread."""
    return _state.enabled


def _set_enabled(flag: bool) -> None:
    _state.enabled = flag


def is_inference_mode_enabled() -> bool:
    """Whether inference mode is on in this thread."""
    return INFERENCE_MODE.enabled


def _wrap_generator(ctx_factory, func):
    """A generator function whose every step runs inside a fresh ``ctx_factory()``."""
    @functools.wraps(func)
    def generator_context(*args, **kwargs):
        gen = func(*args, **kwargs)
        try:
            with ctx_factory():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with ctx_factory():
                        gen.close()
                    raise
                except BaseException:  # noqa: BLE001 - handed on to the generator
                    with ctx_factory():
                        response = gen.throw(*sys.exc_info())
                else:
                    with ctx_factory():
                        response = gen.send(request)
        except StopIteration as stop:
            return stop.value
    return generator_context


def _context_decorator(ctx_factory, func):
    """``func`` run inside a fresh ``ctx_factory()`` on each call (generators step by step)."""
    if inspect.isclass(func):
        raise RuntimeError(
            "Cannot decorate classes; it is ambiguous whether or not only the constructor or "
            "all methods should have the context manager applied; additionally, decorating a "
            "class at definition-site will prevent use of the identifier as a conventional "
            "type.  To specify which methods to decorate, decorate each of them individually.")
    if inspect.isgeneratorfunction(func):
        return _wrap_generator(ctx_factory, func)

    @functools.wraps(func)
    def decorate_context(*args, **kwargs):
        with ctx_factory():
            return func(*args, **kwargs)
    return decorate_context


class _DecoratorContextManager:
    """A context manager that is also a decorator (torch's ``_DecoratorContextManager``)."""

    def __call__(self, orig_func: _F) -> _F:
        if inspect.isclass(orig_func):
            warnings.warn(
                "Decorating classes is deprecated and will be disabled in future versions. You "
                "should only decorate functions or methods. To preserve the current behavior "
                "of class decoration, you can directly decorate the `__init__` method and "
                "nothing else.", FutureWarning, stacklevel=2)
            func = lambda *args, **kwargs: orig_func(*args, **kwargs)  # noqa: E731
        else:
            func = orig_func
        return _context_decorator(self.clone, func)  # type: ignore[return-value]

    def clone(self):
        """A fresh copy of this context manager."""
        return self.__class__()


class _NoParamDecoratorContextManager(_DecoratorContextManager):
    """A decorator context manager that can also decorate without parentheses."""

    @overload
    def __new__(cls, orig_func: _F) -> _F: ...

    @overload
    def __new__(cls: type[_NoParam], orig_func: None = None) -> _NoParam: ...

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class no_grad(_NoParamDecoratorContextManager):  # noqa: N801 - torch's name
    """Disable graph recording inside the block or decorated function."""

    def __init__(self) -> None:
        self.prev = False

    def __enter__(self) -> None:
        self.prev = is_grad_enabled()
        _set_enabled(False)

    def __exit__(self, *exc) -> None:
        _set_enabled(self.prev)


class enable_grad(_NoParamDecoratorContextManager):  # noqa: N801 - torch's name
    """Enable graph recording inside the block or decorated function."""

    def __enter__(self) -> None:
        self.prev = is_grad_enabled()
        _set_enabled(True)

    def __exit__(self, *exc) -> None:
        _set_enabled(self.prev)


def _check_bool(mode) -> None:
    if not isinstance(mode, bool):
        raise TypeError("set_grad_enabled(): argument 'enabled' (position 1) must be bool, not "
                        f"{type(mode).__name__}")


class set_grad_enabled(_DecoratorContextManager):  # noqa: N801 - torch's name
    """Set grad mode on or off: at once when called, and as a context or a decorator."""

    def __init__(self, mode: bool) -> None:
        _check_bool(mode)
        self.prev = is_grad_enabled()
        self.mode = mode
        _set_enabled(mode)

    def __call__(self, orig_func: _F) -> _F:
        _set_enabled(self.prev)  # used as a decorator: undo the switch made by __init__
        return super().__call__(orig_func)

    def __enter__(self) -> None:
        _set_enabled(self.mode)

    def __exit__(self, *exc) -> None:
        _set_enabled(self.prev)

    def __str__(self) -> str:
        return f"gputensor.autograd.grad_mode.set_grad_enabled(mode={self.mode})"

    __repr__ = __str__

    def clone(self) -> set_grad_enabled:
        """A fresh copy of this context manager."""
        return self.__class__(self.mode)


class inference_mode(_DecoratorContextManager):  # noqa: N801 - torch's name
    """No graph recording, and tensors made inside are inference tensors (``mode=True``)."""

    @overload
    def __new__(cls: type[_Inference], mode: bool = True) -> _Inference: ...

    @overload
    def __new__(cls, mode: _F) -> _F: ...

    def __new__(cls, mode=True):
        if isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)  # used as a decorator without parentheses

    def __init__(self, mode: bool = True) -> None:
        self.mode = mode

    def __enter__(self) -> None:
        self._prev = (is_grad_enabled(), INFERENCE_MODE.enabled)
        _set_enabled(not self.mode)
        INFERENCE_MODE.enabled = self.mode

    def __exit__(self, *exc) -> None:
        grad, INFERENCE_MODE.enabled = self._prev
        _set_enabled(grad)

    def clone(self) -> inference_mode:
        """A fresh copy of this context manager."""
        return self.__class__(self.mode)
