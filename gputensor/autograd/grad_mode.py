"""Per-thread grad mode: no_grad, enable_grad, set_grad_enabled."""

from __future__ import annotations

import functools
import threading

_state = threading.local()


def is_grad_enabled() -> bool:
    """Whether operations record a graph in this thread."""
    return getattr(_state, "enabled", True)


def _set_enabled(flag: bool) -> None:
    _state.enabled = flag


class _GradModeContext:
    """Context manager and decorator that sets grad mode while it is active."""

    _mode = True

    def __enter__(self):
        self._prev = is_grad_enabled()
        _set_enabled(self._mode)
        return self

    def __exit__(self, *exc):
        _set_enabled(self._prev)
        return False

    def __call__(self, fn):
        mode = self._mode
        if isinstance(self, set_grad_enabled):  # used as a decorator: undo the eager switch
            _set_enabled(self._prev)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = is_grad_enabled()
            _set_enabled(mode)
            try:
                return fn(*args, **kwargs)
            finally:
                _set_enabled(prev)
        return wrapper


class no_grad(_GradModeContext):  # noqa: N801 - torch's name
    """Disable graph recording inside the block or decorated function."""

    _mode = False


class enable_grad(_GradModeContext):  # noqa: N801 - torch's name
    """Enable graph recording inside the block or decorated function."""

    _mode = True


class set_grad_enabled(_GradModeContext):  # noqa: N801 - torch's name
    """Set grad mode on or off; takes effect at once, as in torch, and as a context."""

    def __init__(self, mode: bool):
        self._prev = is_grad_enabled()
        self._mode = bool(mode)
        _set_enabled(self._mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _set_enabled(self._prev)
        return False
