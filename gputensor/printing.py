"""Torch-exact ``repr``/``str`` of tensors and the print options that steer them.

The algorithm follows ``torch/_tensor_str.py``: one formatter per tensor decides, from the
non-zero finite values (only the shown ones when summarising), between integer mode
(``2.``), fixed point (``1.5000``) and scientific notation (``1.0000e+10``), and pads every
element to a common width; rows wrap at ``linewidth``; suffixes such as ``dtype=`` follow.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

from .dtypes import get_default_dtype

__all__ = ["get_printoptions", "printoptions", "set_printoptions", "tensor_repr"]

_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}
_OPTS = {**_PROFILES["default"], "sci_mode": None}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Set the print options, as ``torch.set_printoptions`` (sci_mode is always reassigned)."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"unknown print profile {profile!r}; "
                             "expected 'default', 'short' or 'full'")
        _OPTS.update(_PROFILES[profile])
    for key, value in (("precision", precision), ("threshold", threshold),
                       ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            _OPTS[key] = value
    _OPTS["sci_mode"] = sci_mode


def get_printoptions() -> dict:
    """The current print options as a dict that ``set_printoptions(**opts)`` accepts."""
    return {key: _OPTS[key]
            for key in ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")}


@contextlib.contextmanager
def printoptions(**kwargs):
    """Context manager that sets print options and restores the previous ones on exit."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """Chooses the number style and common element width for one tensor's values."""

    def __init__(self, values: np.ndarray, floating: bool):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        flat = values.reshape(-1)
        if not floating:
            if flat.size:
                self.width = max(1, max(len(str(v)) for v in np.unique(flat).tolist()))
            return
        flat = flat[np.isfinite(flat) & (flat != 0)]
        if flat.size == 0:
            return
        mags = np.abs(flat)
        lo, hi = float(mags.min()), float(mags.max())
        self.int_mode = bool(np.all(flat == np.ceil(flat)))
        sci = _OPTS["sci_mode"]
        if sci is None:
            with np.errstate(over="ignore"):
                ratio = float(np.float64(hi) / np.float64(lo))
            sci = ratio > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        self.sci_mode = sci
        prec = _OPTS["precision"]
        if self.sci_mode:
            spec, extra = f".{prec}e", 0
        elif self.int_mode:
            spec, extra = ".0f", 1
        else:
            spec, extra = f".{prec}f", 0
        self.width = max(len(format(v, spec)) + extra for v in np.unique(flat).tolist())

    def format(self, value) -> str:
        """One element, right-aligned to the common width."""
        if not self.floating:
            text = f"{value}"
        elif self.sci_mode:
            text = f"{value:{self.width}.{_OPTS['precision']}e}"
        elif self.int_mode:
            text = f"{value:.0f}"
            if math.isfinite(value):
                text += "."
        else:
            text = f"{value:.{_OPTS['precision']}f}"
        return text.rjust(self.width)


def _summarized(values: np.ndarray, edge: int) -> np.ndarray:
    """Only the elements a summarised print shows (``edge`` each side of every axis)."""
    for axis, size in enumerate(values.shape):
        if size > 2 * edge:
            keep = np.r_[0:edge, size - edge:size]
            values = np.take(values, keep, axis=axis)
    return values


def _vector_str(values: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    edge = _OPTS["edgeitems"]
    if summarize and values.shape[0] > 2 * edge:
        items = ([fmt.format(v) for v in values[:edge].tolist()] + [" ..."]
                 + [fmt.format(v) for v in values[-edge:].tolist()])
    else:
        items = [fmt.format(v) for v in values.tolist()]
    per_line = max(1, math.floor((_OPTS["linewidth"] - indent) / (fmt.width + 2)))
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(values: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    if values.ndim == 0:
        return fmt.format(values.item())
    if values.ndim == 1:
        return _vector_str(values, indent, summarize, fmt)
    edge, size = _OPTS["edgeitems"], values.shape[0]
    if summarize and size > 2 * edge:
        slices = ([_nested_str(values[i], indent + 1, summarize, fmt) for i in range(edge)]
                  + ["..."]
                  + [_nested_str(values[i], indent + 1, summarize, fmt)
                     for i in range(size - edge, size)])
    else:
        slices = [_nested_str(row, indent + 1, summarize, fmt) for row in values]
    sep = "," + "\n" * (values.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(slices) + "]"


def _values_str(values: np.ndarray, floating: bool, indent: int) -> str:
    """The bracketed body of a non-empty tensor."""
    summarize = values.size > _OPTS["threshold"]
    if summarize and not _OPTS["edgeitems"]:
        return "[...]"
    if floating:
        values = values.astype(np.float64)
    shown = _summarized(values, _OPTS["edgeitems"]) if summarize else values
    return _nested_str(values, indent, summarize, _Formatter(shown, floating))


def _add_suffixes(text: str, suffixes: list, indent: int) -> str:
    # Line breaks are decided on torch's spelling ("torch." rather than "gputensor.") so the
    # result is torch's repr with only the module names swapped.
    parts = [text]
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        size = len(suffix.replace("gputensor.", "torch."))
        if last_line_len + size + 2 > _OPTS["linewidth"]:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + size
        else:
            parts.append(", " + suffix)
            last_line_len += size + 2
    parts.append(")")
    return "".join(parts)


def _grad_fn_name(node) -> str:
    name = node.name() if callable(getattr(node, "name", None)) else type(node).__name__
    return name.rsplit("::", 1)[-1]


def tensor_repr(t, prefix: str = "tensor(", indent: int | None = None) -> str:
    """What ``torch``'s ``repr(t)`` gives, with ``gputensor.`` in place of ``torch.``."""
    header, newline, head = prefix.rpartition("\n")
    if indent is None:
        indent = len(head)
    values = np.asarray(t._to_numpy())
    dtype = t.dtype
    default_name = get_default_dtype().name
    shape = tuple(int(s) for s in values.shape)
    suffixes = []
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    if values.size == 0:
        if values.ndim != 1:
            suffixes.append(f"size={shape}")
        if dtype.name != default_name:
            suffixes.append(f"dtype={dtype!r}")
        body = "[]"
    else:
        if not _OPTS["edgeitems"]:
            suffixes.append(f"size={shape}")
        if dtype.name not in (default_name, "int64", "bool"):
            suffixes.append(f"dtype={dtype!r}")
        body = _values_str(values, bool(dtype.is_floating_point), indent)
    grad_fn = getattr(t, "grad_fn", None)
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{_grad_fn_name(grad_fn)}>")
    elif getattr(t, "requires_grad", False):
        suffixes.append("requires_grad=True")
    return header + newline + _add_suffixes(head + body, suffixes, indent)
