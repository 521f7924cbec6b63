"""A checkpoint's structure as JSON: containers, plain values, and whole objects by class path.

An object that is not a tensor or a container (a model, an optimizer) is saved as the import
path of its class and its attributes, the way pickle would describe it, but as data: loading
rebuilds it only when its class is allowlisted (``add_safe_globals``, the ``safe_globals``
context manager) or when ``weights_only=False``, as torch 2.13's safe loading does.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import importlib
import math
import sys
import types
from pickle import UnpicklingError  # the exception type torch raises; nothing is unpickled

import numpy as np

from . import dtypes
from ._tensor import Tensor
from .device import device
from .size import Size

__all__ = ["add_safe_globals", "clear_safe_globals", "get_safe_globals", "safe_globals"]

NUMPY_SCALARS = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                 "uint64", "float16", "float32", "float64")
DTYPES_BY_NAME = {d.name: d for d in dtypes.ALL_DTYPES}
_KEY_TYPES = (str, int, bool, float, tuple, bytes, type(None))
_FACTORIES = {"dict": dict, "list": list, "set": set, "int": int, "float": float}

# ---- the allowlist ------------------------------------------------------------------------
_SAFE_GLOBALS: list = []
_scoped_globals: list = []


def _global_name(entry) -> str:
    if isinstance(entry, tuple):
        return entry[1]
    return f"{entry.__module__}.{entry.__qualname__}"


def add_safe_globals(safe_globals) -> None:
    """Allow these classes and functions (or ``(obj, "module.name")`` pairs) in weights-only
    loads."""
    _SAFE_GLOBALS.extend(list(safe_globals))


def get_safe_globals() -> list:
    """The classes and functions added with ``add_safe_globals``."""
    return list(_SAFE_GLOBALS)


def clear_safe_globals() -> None:
    """Forget every class and function added with ``add_safe_globals``."""
    _SAFE_GLOBALS.clear()


@contextlib.contextmanager
def safe_globals(safe_globals):
    """Allow these classes and functions in weights-only loads inside the ``with`` block."""
    added = list(safe_globals)
    _scoped_globals.extend(added)
    try:
        yield
    finally:
        del _scoped_globals[len(_scoped_globals) - len(added):]


def _allowed_names() -> set:
    return {_global_name(g) for g in (*_SAFE_GLOBALS, *_scoped_globals)}


def weights_only_error(path: str) -> UnpicklingError:
    """torch 2.13's error for a class or function that is not allowlisted."""
    return UnpicklingError(
        "Weights only load failed. This file can still be loaded, to do so you have two "
        "options, \x1b[1mdo those steps only if you trust the source of the checkpoint\x1b[0m. "
        "\n\t(1) In PyTorch 2.6, we changed the default value of the `weights_only` argument "
        "in `torch.load` from `False` to `True`. Re-running `gputensor.load` with "
        "`weights_only` set to `False` will likely succeed, but it can result in arbitrary "
        "code execution. Do it only if you got the file from a trusted source.\n\t(2) "
        "Alternatively, to load with `weights_only=True` please check the recommended steps "
        "in the following error message.\n\tWeightsUnpickler error: Unsupported global: "
        f"GLOBAL {path} was not an allowed global by default. Please use "
        f"`gputensor.serialization.add_safe_globals([{path}])` or the "
        f"`gputensor.serialization.safe_globals([{path}])` context manager to allowlist "
        "this global if you trust this class/function.\n\nCheck the documentation of "
        "gputensor.load to learn more about types accepted by default with weights_only "
        "https://pytorch.org/docs/stable/generated/torch.load.html.")


def _importable_path(obj):
    """``module.qualname`` when importing it gives back ``obj`` itself, else None."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or "<" in qualname:
        return None
    found = sys.modules.get(module)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return f"{module}:{qualname}" if found is obj else None


def _object_state(obj):
    own_getstate = getattr(type(obj), "__getstate__", None)
    if own_getstate is not None and own_getstate is not getattr(object, "__getstate__", None):
        return obj.__getstate__()
    return vars(obj)


# ---- save ---------------------------------------------------------------------------------
class Encoder:
    """Turns an object into JSON-able structure, collecting its tensors by name."""

    def __init__(self):
        self.tensors = {}     # name -> Tensor or np.ndarray, in first-seen order
        self._names = {}      # id(tensor) -> name: one tensor saved once, loaded as one object
        self._active = set()  # ids of the containers being encoded (cycle check)
        self._objects = {}    # id(object) -> its index: shared objects load as one
        self._in_object = 0   # inside a whole object's attributes tensors may be dict keys

    def _name_for(self, obj, path):
        if id(obj) in self._names:
            return self._names[id(obj)]
        base = ".".join(str(p) for p in path) or "tensor"
        name, k = base, 1
        while name in self.tensors or name == "__metadata__":
            name, k = f"{base}#{k}", k + 1
        self._names[id(obj)] = name
        self.tensors[name] = obj
        return name

    def encode(self, obj, path):
        kind = type(obj)
        if obj is None or kind in (bool, int, str):
            return obj
        if kind is float:
            return obj if math.isfinite(obj) else {"$float": repr(obj)}
        if isinstance(obj, Tensor):
            return self._encode_tensor(obj, path)
        if kind is np.ndarray:
            dtypes.from_numpy_dtype(obj.dtype)  # TypeError for unsupported dtypes
            return {"$ndarray": self._name_for(obj, path)}
        if isinstance(obj, np.generic) and obj.dtype.name in NUMPY_SCALARS:
            return {"$numpy": obj.dtype.name, "value": self.encode(obj.item(), path)}
        if kind is Size:
            return {"$size": list(obj)}
        if kind is dtypes.dtype:
            return {"$dtype": obj.name}
        if kind is device:
            return {"$device": str(obj)}
        if kind is bytes:
            return {"$bytes": base64.b64encode(obj).decode("ascii")}
        if kind in (list, tuple, dict, collections.OrderedDict, collections.defaultdict, set):
            if id(obj) in self._active:
                raise ValueError("gputensor.save: the object contains a reference cycle")
            self._active.add(id(obj))
            try:
                return self._encode_container(obj, kind, path)
            finally:
                self._active.discard(id(obj))
        if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
            if _importable_path(obj) is not None:
                return {"$global": _importable_path(obj)}
        elif hasattr(obj, "__dict__") and _importable_path(kind) is not None:
            return self._encode_object(obj, kind, path)
        raise TypeError(f"gputensor.save: cannot save an object of type {kind.__name__} (only "
                        "tensors, dicts, OrderedDicts, lists, tuples, sets, numbers, strings, "
                        "bytes, None, and objects of importable classes with such attributes)")

    def _encode_tensor(self, obj, path):
        ref = {"$tensor": self._name_for(obj, path)}
        if obj.requires_grad:
            ref["requires_grad"] = True
        nn = sys.modules.get("gputensor.nn")
        if nn is not None and isinstance(obj, getattr(nn, "Parameter", ())):
            ref["parameter"] = True
        if obj.device.type != "cpu":
            ref["device"] = str(obj.device)
        return ref

    def _encode_object(self, obj, kind, path):
        if id(obj) in self._objects:
            return {"$ref": self._objects[id(obj)]}
        if id(obj) in self._active:
            raise ValueError("gputensor.save: the object contains a reference cycle")
        self._active.add(id(obj))
        self._in_object += 1
        try:
            state = self.encode(_object_state(obj), path)
        finally:
            self._in_object -= 1
            self._active.discard(id(obj))
        index = self._objects[id(obj)] = len(self._objects)
        return {"$object": _importable_path(kind), "id": index, "state": state}

    def _encode_container(self, obj, kind, path):
        if kind is list:
            return [self.encode(v, path + [i]) for i, v in enumerate(obj)]
        if kind is tuple:
            return {"$tuple": [self.encode(v, path + [i]) for i, v in enumerate(obj)]}
        if kind is set:
            return {"$set": [self.encode(v, path) for v in obj]}
        items = []
        for key, value in obj.items():
            tensor_key = self._in_object and isinstance(key, Tensor)
            if not tensor_key and (isinstance(key, (Tensor, np.ndarray))
                                   or type(key) not in _KEY_TYPES):
                raise TypeError("gputensor.save: dict keys must be str, int, float, bool, "
                                f"bytes, None or tuples of those, not {type(key).__name__}")
            items.append([self.encode(key, path), self.encode(value, path + [key])])
        if kind is collections.defaultdict:
            factory = obj.default_factory
            name = next((n for n, f in _FACTORIES.items() if f is factory), None)
            if factory is not None and name is None:
                raise TypeError("gputensor.save: a defaultdict's factory must be None, dict, "
                                f"list, set, int or float, not {factory!r}")
            return {"$defaultdict": items, "factory": name}
        return {"$odict" if kind is collections.OrderedDict else "$dict": items}


# ---- load ---------------------------------------------------------------------------------
class Decoder:
    """Rebuilds the saved object from the JSON structure and the loaded arrays."""

    def __init__(self, arrays, make_tensor, weights_only):
        self.arrays, self.make_tensor = arrays, make_tensor
        self.weights_only = weights_only
        self._made = {}
        self._objects = {}
        self._allowed = _allowed_names() if weights_only else None

    def decode(self, node):
        if node is None or type(node) in (bool, int, float, str):
            return node
        if type(node) is list:
            return [self.decode(v) for v in node]
        if type(node) is not dict or not node:
            raise ValueError(f"unexpected value {node!r}")
        tag = next(iter(node))
        value = node[tag]
        if tag == "$tensor":
            if value not in self._made:
                self._made[value] = self.make_tensor(self.arrays[value], node)
            return self._made[value]
        if tag == "$ndarray":
            return self.arrays[value]
        if tag in ("$dict", "$odict"):
            kind = dict if tag == "$dict" else collections.OrderedDict
            return kind((self.decode(k), self.decode(v)) for k, v in value)
        if tag == "$defaultdict":
            factory = None if node["factory"] is None else _FACTORIES[node["factory"]]
            return collections.defaultdict(factory, ((self.decode(k), self.decode(v))
                                                     for k, v in value))
        if tag == "$tuple":
            return tuple(self.decode(v) for v in value)
        if tag == "$set":
            return {self.decode(v) for v in value}
        return self._decode_value(tag, value, node)

    def _decode_value(self, tag, value, node):
        if tag == "$float" and value in ("nan", "inf", "-inf"):
            return float(value)
        if tag == "$size" and isinstance(value, list) and all(type(v) is int for v in value):
            return Size(value)
        if tag == "$dtype":
            return DTYPES_BY_NAME[value]
        if tag == "$device":
            try:
                return device(value)
            except RuntimeError as err:
                raise ValueError(str(err)) from None
        if tag == "$bytes":
            return base64.b64decode(value, validate=True)
        if tag == "$numpy" and value in NUMPY_SCALARS:
            return np.dtype(value).type(self.decode(node["value"]))
        if tag == "$global":
            return self._resolve(value)
        if tag == "$object":
            return self._decode_object(value, node)
        if tag == "$ref":
            return self._objects[value]
        raise ValueError(f"unknown entry {tag!r}")

    def _resolve(self, path):
        """The class or function at ``module:qualname``, if allowed."""
        if not isinstance(path, str) or path.count(":") != 1:
            raise ValueError(f"bad class path {path!r}")
        module, qualname = path.split(":")
        dotted = f"{module}.{qualname}"
        if self._allowed is not None and dotted not in self._allowed:
            raise weights_only_error(dotted)
        try:
            found = importlib.import_module(module)
            for part in qualname.split("."):
                found = getattr(found, part)
        except (ImportError, AttributeError) as err:
            raise ValueError(f"cannot find {dotted} ({err})") from None
        return found

    def _decode_object(self, path, node):
        cls = self._resolve(path)
        if not isinstance(cls, type):
            raise ValueError(f"{path} is not a class")
        state = self.decode(node["state"])
        obj = cls.__new__(cls)
        if getattr(cls, "__setstate__", None) is not None:
            obj.__setstate__(state)
        elif isinstance(state, dict):
            obj.__dict__.update(state)
        else:
            raise ValueError(f"the saved state of a {path} is not a dict")
        self._objects[node["id"]] = obj
        return obj
