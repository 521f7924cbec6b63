"""``save`` and ``load``: safetensors files whose header also holds the non-tensor structure.

Layout (the safetensors format): 8 bytes little-endian header length, a JSON header
``{name: {"dtype", "shape", "data_offsets"}, "__metadata__": {str: str}}``, then the raw
little-endian tensor bytes. Everything that is not a tensor (dicts, lists, tuples, numbers,
strings, None) is one JSON string in ``__metadata__``, pointing at tensors by name. There is no
pickle anywhere, so loading a file never runs code.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import importlib
import io
import json
import math
import os
import stat
import sys
import tempfile
from typing import Any

import numpy as np

from . import cuda, dtypes
from ._tensor import Tensor
from .device import CPU, as_device, device
from .size import Size

__all__ = ["save", "load", "CheckpointError"]

STRUCTURE_KEY = "gputensor.structure"
VERSION_KEY = "gputensor.version"
FORMAT_VERSION = 1
_ST_NAMES = {dtypes.float16: "F16", dtypes.float32: "F32", dtypes.float64: "F64",
             dtypes.int8: "I8", dtypes.int16: "I16", dtypes.int32: "I32", dtypes.int64: "I64",
             dtypes.uint8: "U8", dtypes.bool: "BOOL"}
_FROM_ST = {v: k for k, v in _ST_NAMES.items()}
_DTYPES_BY_NAME = {d.name: d for d in dtypes.ALL_DTYPES}
_NUMPY_SCALARS = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                  "uint64", "float16", "float32", "float64")


class CheckpointError(RuntimeError):
    """A file ``load`` cannot read: truncated, corrupt, or not a gputensor/safetensors file."""


# ---- save -------------------------------------------------------------------------------
class _Encoder:
    """Turns an object into JSON-able structure, collecting its tensors by name."""

    def __init__(self):
        self.tensors = {}     # name -> Tensor or np.ndarray, in first-seen order
        self._names = {}      # id(tensor) -> name: one tensor saved once, loaded as one object
        self._active = set()  # ids of the containers being encoded (cycle check)

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
            ref = {"$tensor": self._name_for(obj, path)}
            if obj.requires_grad:
                ref["requires_grad"] = True
            nn = sys.modules.get("gputensor.nn")
            if nn is not None and isinstance(obj, getattr(nn, "Parameter", ())):
                ref["parameter"] = True
            if obj.device.type != "cpu":
                ref["device"] = str(obj.device)
            return ref
        if kind is np.ndarray:
            dtypes.from_numpy_dtype(obj.dtype)  # TypeError for unsupported dtypes
            return {"$ndarray": self._name_for(obj, path)}
        if isinstance(obj, np.generic) and obj.dtype.name in _NUMPY_SCALARS:
            return {"$numpy": obj.dtype.name, "value": self.encode(obj.item(), path)}
        if kind is Size:
            return {"$size": list(obj)}
        if kind is dtypes.dtype:
            return {"$dtype": obj.name}
        if kind is device:
            return {"$device": str(obj)}
        if kind is bytes:
            return {"$bytes": base64.b64encode(obj).decode("ascii")}
        if kind in (list, tuple, dict, collections.OrderedDict):
            if id(obj) in self._active:
                raise ValueError("gputensor.save: the object contains a reference cycle")
            self._active.add(id(obj))
            try:
                return self._encode_container(obj, kind, path)
            finally:
                self._active.discard(id(obj))
        raise TypeError(f"gputensor.save: cannot save an object of type {kind.__name__} (only "
                        "tensors, dicts, OrderedDicts, lists, tuples, numbers, strings, bytes "
                        "and None); save a module's or optimizer's state_dict() instead")

    def _encode_container(self, obj, kind, path):
        if kind is list:
            return [self.encode(v, path + [i]) for i, v in enumerate(obj)]
        if kind is tuple:
            return {"$tuple": [self.encode(v, path + [i]) for i, v in enumerate(obj)]}
        items = []
        for key, value in obj.items():
            if isinstance(key, (Tensor, np.ndarray)) or type(key) not in (
                    str, int, bool, float, tuple, bytes, type(None)):
                raise TypeError("gputensor.save: dict keys must be str, int, float, bool, "
                                f"bytes, None or tuples of those, not {type(key).__name__}")
            items.append([self.encode(key, path), self.encode(value, path + [key])])
        return {"$odict" if kind is collections.OrderedDict else "$dict": items}


def _tensor_bytes(obj) -> np.ndarray:
    """The C-ordered little-endian bytes of a tensor or array, as a flat uint8 array."""
    arr = obj.numpy(force=True) if isinstance(obj, Tensor) else obj
    arr = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<"))
    return arr.reshape(-1).view(np.uint8)


def _dtype_of(obj):
    return obj.dtype if isinstance(obj, Tensor) else dtypes.from_numpy_dtype(obj.dtype)


def _write(fh, obj) -> None:
    encoder = _Encoder()
    structure = encoder.encode(obj, [])
    # widest dtypes first: with the header padded to 8 bytes every tensor stays aligned
    names = sorted(encoder.tensors, key=lambda n: -_dtype_of(encoder.tensors[n]).itemsize)
    header = {"__metadata__": {"format": "pt", VERSION_KEY: str(FORMAT_VERSION),
                               STRUCTURE_KEY: json.dumps(structure, separators=(",", ":"),
                                                         allow_nan=False)}}
    offset = 0
    for name in names:
        t = encoder.tensors[name]
        dtype = _dtype_of(t)
        nbytes = math.prod(t.shape) * dtype.itemsize
        header[name] = {"dtype": _ST_NAMES[dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    fh.write(len(raw).to_bytes(8, "little"))
    fh.write(raw)
    for name in names:
        fh.write(_tensor_bytes(encoder.tensors[name]))


def _new_file_mode(target: str) -> int:
    """Keep an existing file's permissions; a new file gets 0o666 minus the umask."""
    with contextlib.suppress(OSError):
        return stat.S_IMODE(os.stat(target).st_mode)
    mask = os.umask(0o022)  # reading the umask means setting it: put it straight back
    os.umask(mask)
    return 0o666 & ~mask


def _save_atomic(obj, path) -> None:
    target = os.path.realpath(os.fsdecode(path))
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        raise RuntimeError(f"Parent directory {os.path.dirname(os.fsdecode(path))} "
                           "does not exist.")
    mode = _new_file_mode(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp",
                               dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            _write(fh, obj)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError, AttributeError):  # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def save(obj, f) -> None:
    """Save tensors and containers of them (a state_dict) to a path or binary file, atomically."""
    if isinstance(f, (str, bytes, os.PathLike)):
        _save_atomic(obj, f)
    elif hasattr(f, "write"):
        _write(f, obj)
    else:
        raise AttributeError("expected 'f' to be string, path, or a file-like object with a "
                             "'write' attribute")


# ---- load -------------------------------------------------------------------------------
def _foreign_kind(prefix: bytes):
    if prefix.startswith(b"PK\x03\x04") or prefix.startswith(b"PK\x05\x06"):
        return "a zip archive (torch.save's format?)"
    if prefix[:1] == b"\x80":
        return "a pickle file"
    if prefix.startswith(b"\x93NUMPY"):
        return "a NumPy .npy file"
    return None


class _Reader:
    """Reads and checks one file; every problem becomes a CheckpointError naming the file."""

    def __init__(self, fh, name):
        self.fh, self.name = fh, name
        self.start = fh.tell()
        self.size = fh.seek(0, io.SEEK_END) - self.start
        fh.seek(self.start)

    def fail(self, what):
        raise CheckpointError(f"gputensor.load: {what} in '{self.name}'")

    def header(self):
        prefix = self.fh.read(8)
        foreign = _foreign_kind(prefix)
        if self.size < 8:
            self.fail(f"the file is truncated ({self.size} bytes; a checkpoint starts with an "
                      "8-byte header length)")
        n = int.from_bytes(prefix, "little")
        if n > self.size - 8:
            if foreign:
                self.fail(f"not a gputensor checkpoint: this looks like {foreign}, and "
                          "gputensor reads only safetensors files (it never unpickles)")
            self.fail(f"the header length ({n} bytes) is larger than the file ({self.size} "
                      "bytes): the file is truncated or is not a checkpoint")
        try:
            header = json.loads(self.fh.read(n).decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as err:
            what = f"this looks like {foreign}" if foreign else f"the header is not JSON ({err})"
            self.fail(f"not a gputensor checkpoint: {what}")
        if not isinstance(header, dict):
            self.fail("not a gputensor checkpoint: the header is not a JSON object")
        self.data_start = self.start + 8 + n
        self.data_size = self.size - 8 - n
        return header

    def check_entries(self, header):
        """(name, dtype, shape, begin, end) for each tensor, in file order, all checked."""
        entries = []
        for name, info in header.items():
            if name == "__metadata__":
                continue
            if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= set(info):
                self.fail(f"tensor '{name}' has no dtype, shape and data_offsets")
            dtype = _FROM_ST.get(info["dtype"]) if isinstance(info["dtype"], str) else None
            if dtype is None:
                self.fail(f"tensor '{name}' has an unknown or unsupported dtype "
                          f"{info['dtype']!r}")
            shape, offsets = info["shape"], info["data_offsets"]
            if not _int_list(shape) or any(s < 0 for s in shape):
                self.fail(f"tensor '{name}' has a bad shape {shape!r}")
            if not _int_list(offsets) or len(offsets) != 2 or not 0 <= offsets[0] <= offsets[1]:
                self.fail(f"tensor '{name}' has bad data_offsets {offsets!r}")
            begin, end = offsets
            if end > self.data_size:
                self.fail(f"tensor '{name}' data_offsets {offsets} run past the end of the "
                          f"data ({self.data_size} bytes): the file is truncated")
            need = math.prod(shape) * dtype.itemsize
            if end - begin != need:
                self.fail(f"tensor '{name}' data_offsets {offsets} hold {end - begin} bytes "
                          f"but dtype {info['dtype']} and shape {shape} need {need}")
            entries.append((name, dtype, shape, begin, end))
        entries.sort(key=lambda e: (e[3], e[4]))
        previous = None
        for entry in entries:
            if entry[3] == entry[4]:
                continue
            if previous is not None and entry[3] < previous[4]:
                self.fail(f"tensors '{previous[0]}' and '{entry[0]}' have overlapping "
                          "data_offsets")
            previous = entry
        return entries

    def read_array(self, dtype, shape, begin, end):
        """One tensor's data as a fresh native-endian NumPy array."""
        wire = np.dtype(np.uint8) if dtype is dtypes.bool else dtype.numpy.newbyteorder("<")
        arr = np.empty(shape, dtype=wire)
        self.fh.seek(self.data_start + begin)
        flat = arr.reshape(-1).view(np.uint8)
        got = self.fh.readinto(flat) if hasattr(self.fh, "readinto") else None
        if got is None:
            chunk = self.fh.read(end - begin)
            got = len(chunk)
            flat[:got] = np.frombuffer(chunk, dtype=np.uint8)
        if got != end - begin:
            self.fail("the file is truncated (it ended while reading tensor data)")
        if dtype is dtypes.bool:
            return arr.astype(np.bool_)
        return arr if arr.dtype.isnative else arr.astype(dtype.numpy)


def _int_list(value) -> bool:
    return isinstance(value, list) and all(type(v) is int for v in value)


class _Decoder:
    """Rebuilds the saved object from the JSON structure and the loaded arrays."""

    def __init__(self, arrays, make_tensor):
        self.arrays, self.make_tensor = arrays, make_tensor
        self._made = {}

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
        if tag == "$tuple":
            return tuple(self.decode(v) for v in value)
        if tag == "$float" and value in ("nan", "inf", "-inf"):
            return float(value)
        if tag == "$size" and _int_list(value):
            return Size(value)
        if tag == "$dtype":
            return _DTYPES_BY_NAME[value]
        if tag == "$device":
            try:
                return device(value)
            except RuntimeError as err:
                raise ValueError(str(err)) from None
        if tag == "$bytes":
            return base64.b64decode(value, validate=True)
        if tag == "$numpy" and value in _NUMPY_SCALARS:
            return np.dtype(value).type(self.decode(node["value"]))
        raise ValueError(f"unknown entry {tag!r}")


def _saved_device(saved: str):
    """The device a tensor was saved from, where it loads by default; torch's errors when
    this machine does not have it."""
    dev = as_device(saved)
    if dev.type == "cuda":
        if not cuda.is_available():
            raise RuntimeError(
                "Attempting to deserialize object on a CUDA device but "
                "gputensor.cuda.is_available() is False. If you are running on a CPU-only "
                "machine, please use gputensor.load with map_location=gputensor.device('cpu') "
                "to map your storages to the CPU.")
        count = cuda.device_count()
        if dev.index >= count:
            raise RuntimeError(
                f"Attempting to deserialize object on CUDA device {dev.index} but "
                f"gputensor.cuda.device_count() is {count}. Please use gputensor.load with "
                "map_location to map your storages to an existing device.")
    return dev


def _check_map_location(map_location):
    """A function from the saved device string to the device to load on."""
    if map_location is None:
        return _saved_device
    if isinstance(map_location, (str, device)):
        target = as_device(map_location)
        return lambda saved: target
    if isinstance(map_location, dict):
        table = {str(k): as_device(v) for k, v in map_location.items()}
        return lambda saved: table.get(saved) or _saved_device(saved)
    raise TypeError("map_location must be None, a str, a gputensor.device or a dict of "
                    f"device strings, not {type(map_location).__name__}")


@contextlib.contextmanager
def _opened(f):
    if isinstance(f, (str, bytes, os.PathLike)):
        with open(f, "rb") as fh:
            yield fh, os.fsdecode(f)
    elif hasattr(f, "read"):
        name = getattr(f, "name", None)
        name = os.fsdecode(name) if isinstance(name, (str, bytes)) else f"<{type(f).__name__}>"
        seekable = getattr(f, "seekable", None)
        yield (f if seekable is not None and seekable() else io.BytesIO(f.read())), name
    else:
        raise AttributeError("expected 'f' to be string, path, or a file-like object with a "
                             "'read' attribute")


def load(f, map_location=None, *, weights_only=True) -> Any:
    """Load what ``save`` wrote (or any safetensors file); never runs code from the file.

    ``weights_only`` is accepted for torch compatibility: nothing is ever unpickled, so both
    values behave the same. Tensors load on the device they were saved from (as torch's),
    unless ``map_location`` maps them elsewhere.
    """
    device_for = _check_map_location(map_location)
    with _opened(f) as (fh, name):
        reader = _Reader(fh, name)
        header = reader.header()
        entries = reader.check_entries(header)
        meta = header.get("__metadata__", {})
        if not isinstance(meta, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
            reader.fail("__metadata__ is not a JSON object of strings")
        version = meta.get(VERSION_KEY, str(FORMAT_VERSION))
        if version != str(FORMAT_VERSION):
            reader.fail(f"unsupported gputensor format version {version!r} (this gputensor "
                        f"reads version {FORMAT_VERSION})")
        if STRUCTURE_KEY in meta:
            try:
                structure = json.loads(meta[STRUCTURE_KEY])
            except (ValueError, RecursionError) as err:
                reader.fail(f"the saved structure is not JSON ({err})")
        else:  # a plain safetensors file: a dict of its tensors, in file order
            structure = {"$dict": [[e[0], {"$tensor": e[0]}] for e in entries]}
        arrays = {e[0]: reader.read_array(*e[1:]) for e in entries}
        fh.seek(reader.data_start + max((e[4] for e in entries), default=0))  # just past it

    def make_tensor(array, ref):
        t = Tensor._make(array, CPU)
        target = device_for(ref.get("device", "cpu"))
        if target.type != "cpu":
            t = t.to(target)
        requires_grad = ref.get("requires_grad") is True
        if ref.get("parameter") is True:
            with contextlib.suppress(ImportError, AttributeError):
                return importlib.import_module("gputensor.nn").Parameter(t, requires_grad)
        return t.requires_grad_(True) if requires_grad else t

    try:
        return _Decoder(arrays, make_tensor).decode(structure)
    except (KeyError, TypeError, ValueError, IndexError, OverflowError, RecursionError) as err:
        reader.fail(f"the saved structure is corrupt ({type(err).__name__}: {err})")
