"""Write ``_tensor.pyi``, the type stub of class Tensor, from its method table.

Run ``python -m gputensor._stubgen`` after changing the table in ``_tensor.py`` (a test
fails while the checked-in stub differs from what this prints). Every public attribute of
Tensor and its core is declared on Tensor itself, so type checkers and IDEs see each method
with its parameters; a method's return type is its annotation, else ``Tensor`` for the
functions of ``gputensor.ops`` (what nearly every op returns), else ``Any``.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

from ._tensor import Tensor

STUB_PATH = Path(__file__).with_name("_tensor.pyi")

# return types that are not the annotation or the ops' Tensor
RETURNS = {
    "split": "tuple[Tensor, ...]", "chunk": "tuple[Tensor, ...]", "unbind": "tuple[Tensor, ...]",
    "max": "Any", "min": "Any",  # a Tensor, or (values, indices) with a dim
    "__eq__": "Any", "__ne__": "Any",  # a Tensor, or a bool for objects of other kinds
    "__setitem__": "None", "__init__": "None", "__iter__": "Iterator[Tensor]",
    "__repr__": "builtins.str", "__str__": "builtins.str", "__format__": "builtins.str",
    "__float__": "builtins.float", "__int__": "builtins.int", "__index__": "builtins.int",
    "__bool__": "builtins.bool", "__len__": "builtins.int", "__hash__": "builtins.int",
    "__deepcopy__": "Tensor", "grad": "Tensor | None", "device": "_device",
}
# annotations as the source writes them -> as the stub spells them
NAMES = {"Tensor": "Tensor", "TensorCore": "Tensor", "Size": "Size", "dtypes.dtype": "_dtype",
         "bool": "builtins.bool", "int": "builtins.int", "str": "builtins.str",
         "float": "builtins.float", "None": "None", "np.ndarray": "np.ndarray"}
# instance fields declared by the core's __slots__ that users read
FIELDS = {"grad_fn": "Any"}
OVERRIDES = {"__eq__", "__ne__"}  # object's signature says bool: declared anew on purpose

HEADER = '''"""The type stub of Tensor (``python -m gputensor._stubgen`` writes it: do not edit)."""

import builtins
from typing import Any, Iterator

import numpy as np

from .device import device as _device
from .dtypes import dtype as _dtype
from .size import Size

def typename(obj: Any) -> builtins.str: ...

class Tensor:
    """A multi-dimensional array on a device, with optional gradient tracking."""

'''


def _attributes():
    """(name, value) of every public attribute and operator of Tensor, in name order."""
    seen = {}
    for cls in reversed(Tensor.__mro__[:-1]):
        for name, value in vars(cls).items():
            if name.startswith("__") and name.endswith("__"):
                if not callable(value) or name in ("__new__", "__init_subclass__"):
                    continue
            elif name.startswith("_"):
                continue
            seen[name] = value
    return sorted(seen.items())


def _return_type(name, fn) -> str:
    if name in RETURNS:
        return RETURNS[name]
    annotation = getattr(fn, "__annotations__", {}).get("return")
    if annotation is not None:
        return NAMES.get(annotation, "Any")
    module = getattr(fn, "__module__", "") or ""
    return "Tensor" if module.startswith("gputensor.ops") else "Any"


def _parameters(fn) -> str:
    """The parameters as the stub writes them: the first is self, defaults are ``...``."""
    if inspect.isfunction(fn):
        params = list(inspect.signature(fn).parameters.values())[1:]
    else:  # a descriptor object (``where``): the signature of what it binds to a tensor
        params = list(inspect.signature(fn.__get__(Tensor([0.0]), Tensor)).parameters.values())
    out, star_done = ["self"], False
    for p in params:
        if p.name == "out" and p.kind is p.KEYWORD_ONLY:
            continue  # the functions' out=, which torch's Tensor methods do not take
        if p.kind is p.VAR_POSITIONAL:
            out.append(f"*{p.name}: Any")
            star_done = True
        elif p.kind is p.VAR_KEYWORD:
            out.append(f"**{p.name}: Any")
        else:
            if p.kind is p.KEYWORD_ONLY and not star_done:
                out.append("*")
                star_done = True
            default = "" if p.default is p.empty else " = ..."
            out.append(f"{p.name}: Any{default}")
    return ", ".join(out)


def render() -> str:
    """The text of _tensor.pyi."""
    lines = [HEADER.rstrip("\n"), ""]
    for name, kind in FIELDS.items():
        lines.append(f"    {name}: {kind}")
    for name, value in _attributes():
        if name in FIELDS:
            continue
        if isinstance(value, property):
            lines.append("    @property")
            lines.append(f"    def {name}(self) -> {_return_type(name, value.fget)}: ...")
            if value.fset is not None:
                lines.append(f"    @{name}.setter")
                lines.append(f"    def {name}(self, value: Any) -> None: ...")
            continue
        fn = value.__func__ if isinstance(value, (staticmethod, classmethod)) else value
        if not callable(fn):
            continue
        ignore = "  # type: ignore[override]" if name in OVERRIDES else ""
        lines.append(f"    def {name}({_parameters(fn)}) -> {_return_type(name, fn)}: ..."
                     f"{ignore}")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    """Write the stub (``--check``: only report whether the checked-in one is current)."""
    argv = sys.argv[1:] if argv is None else argv
    text = render()
    if "--check" in argv:
        current = STUB_PATH.exists() and STUB_PATH.read_text() == text
        print(f"{STUB_PATH.name} is {'current' if current else 'out of date'}")
        return 0 if current else 1
    STUB_PATH.write_text(text)
    print(f"wrote {STUB_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
