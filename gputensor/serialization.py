"""``save`` and ``load``: safetensors files whose header also holds the non-tensor structure.

Layout (the safetensors format): 8 bytes little-endian header length, a JSON header
``{name: {"dtype", "shape", "data_offsets"}, "__metadata__": {str: str}}``, then the raw
little-endian tensor bytes. Everything that is not a tensor (dicts, lists, tuples, numbers,
strings, None) is one JSON string in ``__metadata__``, pointing at tensors by name. There is no
pickle anywhere, so loading a file never runs code.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import stat
import tempfile
from typing import Any

import numpy as np

from . import cuda, dtypes
from ._checkpoint_format import CHECKSUM_KEY, ST_NAMES, CheckpointError, Reader, crc_hex, update_crc
from ._checkpoint_objects import (
    Decoder,
    Encoder,
    add_safe_globals,
    clear_safe_globals,
    get_safe_globals,
    safe_globals,
)
from ._tensor import Tensor
from .device import CPU, as_device, device

__all__ = ["save", "load", "CheckpointError", "add_safe_globals", "clear_safe_globals",
           "get_safe_globals", "safe_globals"]

STRUCTURE_KEY = "gputensor.structure"
VERSION_KEY = "gputensor.version"
FORMAT_VERSION = 1
TEMP_SUFFIX = ".tmp"


def _tensor_bytes(obj) -> np.ndarray:
    """The C-ordered little-endian bytes of a tensor or array, as a flat uint8 array."""
    arr = obj.numpy(force=True) if isinstance(obj, Tensor) else obj
    arr = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<"))
    return arr.reshape(-1).view(np.uint8)


def _dtype_of(obj):
    return obj.dtype if isinstance(obj, Tensor) else dtypes.from_numpy_dtype(obj.dtype)


def _write(fh, obj) -> None:
    encoder = Encoder()
    structure = encoder.encode(obj, [])
    # widest dtypes first: with the header padded to 8 bytes every tensor stays aligned
    names = sorted(encoder.tensors, key=lambda n: -_dtype_of(encoder.tensors[n]).itemsize)
    chunks, crc = [], 0
    for name in names:
        chunks.append(_tensor_bytes(encoder.tensors[name]))
        crc = update_crc(crc, chunks[-1])
    header = {"__metadata__": {"format": "pt", VERSION_KEY: str(FORMAT_VERSION),
                               CHECKSUM_KEY: crc_hex(crc),
                               STRUCTURE_KEY: json.dumps(structure, separators=(",", ":"),
                                                         allow_nan=False)}}
    offset = 0
    for name, chunk in zip(names, chunks):
        t = encoder.tensors[name]
        header[name] = {"dtype": ST_NAMES[_dtype_of(t)], "shape": list(t.shape),
                        "data_offsets": [offset, offset + chunk.size]}
        offset += chunk.size
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    fh.write(len(raw).to_bytes(8, "little"))
    fh.write(raw)
    for chunk in chunks:
        fh.write(chunk)


def _new_file_mode(target: str) -> int:
    """Keep an existing file's permissions; a new file gets 0o666 minus the umask."""
    with contextlib.suppress(OSError):
        return stat.S_IMODE(os.stat(target).st_mode)
    mask = os.umask(0o022)  # reading the umask means setting it: put it straight back
    os.umask(mask)
    return 0o666 & ~mask


def _temp_prefix(target: str, pid: int) -> str:
    """Temp files name their writer: ``.NAME.PID.`` + random + ``.tmp`` beside the target."""
    return f".{os.path.basename(target)}.{pid}."


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process (PermissionError): alive
        return True
    return True


def _remove_stale_temp_files(target: str) -> None:
    """Delete temp files that writers of ``target`` left when they died (kill -9, power loss)."""
    directory, prefix = os.path.dirname(target), f".{os.path.basename(target)}."
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(TEMP_SUFFIX)):
            continue
        pid = name[len(prefix):].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _process_exists(int(pid)):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(directory, name))


def _save_atomic(obj, path) -> None:
    target = os.path.realpath(os.fsdecode(path))
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        raise RuntimeError(f"Parent directory {os.path.dirname(os.fsdecode(path))} "
                           "does not exist.")
    mode = _new_file_mode(target)
    _remove_stale_temp_files(target)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(target, os.getpid()), suffix=TEMP_SUFFIX,
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
    """A function (saved device string, CPU tensor) -> the tensor on the device to load on."""
    if map_location is None:
        return lambda saved, t: _moved(t, _saved_device(saved))
    if isinstance(map_location, (str, device)):
        target = as_device(map_location)
        return lambda saved, t: _moved(t, target)
    if isinstance(map_location, dict):
        table = {str(k): as_device(v) for k, v in map_location.items()}
        return lambda saved, t: _moved(t, table.get(saved) or _saved_device(saved))
    if callable(map_location):
        # torch calls map_location(storage, location); None means "where it was saved"
        def call(saved, t):
            result = map_location(t, saved)
            return _moved(t, _saved_device(saved)) if result is None else result
        return call
    raise TypeError("map_location must be None, a str, a gputensor.device, a dict of "
                    f"device strings or a callable, not {type(map_location).__name__}")


def _moved(t, target):
    return t if target.type == "cpu" else t.to(target)


@contextlib.contextmanager
def _opened(f):
    """(file object, name for messages, whether the checkpoint is the whole file)."""
    if isinstance(f, (str, bytes, os.PathLike)):
        with open(f, "rb") as fh:
            yield fh, os.fsdecode(f), True
    elif hasattr(f, "read"):
        name = getattr(f, "name", None)
        name = os.fsdecode(name) if isinstance(name, (str, bytes)) else f"<{type(f).__name__}>"
        seekable = getattr(f, "seekable", None)
        yield (f if seekable is not None and seekable() else io.BytesIO(f.read())), name, False
    else:
        raise AttributeError("expected 'f' to be string, path, or a file-like object with a "
                             "'read' attribute")


def _read(f, use_mmap, verify):
    """The header's metadata, the structure and the arrays of one checkpoint, all checked."""
    with _opened(f) as (fh, name, whole_file):
        if use_mmap and not whole_file:
            raise ValueError("f must be a file path in order to use the mmap argument")
        reader = Reader(fh, name, whole_file)
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
        arrays, crc = reader.read_arrays(entries, use_mmap, verify)
        if verify:
            reader.check_crc(meta, crc)
        reader.seek_past(entries)
    return reader, structure, arrays


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         verify=True, **pickle_load_args) -> Any:
    """Load what ``save`` wrote (or any safetensors file); never runs code from the file.

    Tensors load on the device they were saved from (as torch's), unless ``map_location``
    (a device, a string, a dict of device strings, or ``fn(tensor, location)``) maps them
    elsewhere. Whole objects (a saved model) are rebuilt only from classes allowlisted with
    ``add_safe_globals``/``safe_globals``, unless ``weights_only=False``. ``mmap=True`` maps
    the file's tensor data instead of reading it (copy-on-write). ``verify=False`` skips the
    CRC-32 check of the data (it runs at about 1 GB/s and, with ``mmap=True``, reads every
    page once).
    """
    del pickle_module, pickle_load_args  # torch's pickle options: nothing is ever unpickled
    device_for = _check_map_location(map_location)
    reader, structure, arrays = _read(f, bool(mmap), verify)

    def make_tensor(array, ref):
        saved = ref.get("device", "cpu")
        if not isinstance(saved, str):
            raise ValueError(f"bad device {saved!r}")
        try:
            as_device(saved)
        except RuntimeError as err:
            raise ValueError(str(err)) from None
        t = device_for(saved, Tensor._make(array, CPU))
        if not isinstance(t, Tensor):
            raise TypeError(f"map_location returned {type(t).__name__}, not a tensor")
        requires_grad = ref.get("requires_grad") is True
        if ref.get("parameter") is True:
            with contextlib.suppress(ImportError, AttributeError):
                return importlib.import_module("gputensor.nn").Parameter(t, requires_grad)
        return t.requires_grad_(True) if requires_grad else t

    decoder = Decoder(arrays, make_tensor, weights_only is not False)
    try:
        return decoder.decode(structure)
    except (KeyError, TypeError, ValueError, IndexError, OverflowError, RecursionError,
            AttributeError) as err:
        reader.fail(f"the saved structure is corrupt ({type(err).__name__}: {err})")
