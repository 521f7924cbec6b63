"""The safetensors layout of a checkpoint: dtype names, the header checks, reading tensor data.

A header must describe the data exactly, as the ``safetensors`` package demands: the tensors'
``data_offsets`` sorted by start tile the data with no gap and no overlap, each holds exactly
``prod(shape) * itemsize`` bytes, and (for a file read by path) they end where the file ends.
An optional CRC-32 of the data bytes in ``__metadata__`` catches flipped data bytes.
"""

from __future__ import annotations

import io
import json
import math
import mmap as mmap_module
import zlib

import numpy as np

from . import dtypes

__all__ = ["CheckpointError"]

CHECKSUM_KEY = "gputensor.crc32"
MAX_HEADER_BYTES = 100_000_000  # the safetensors package's limit
MAX_DIMS = 64                   # NumPy's limit on dimensions
ST_NAMES = {dtypes.float16: "F16", dtypes.bfloat16: "BF16", dtypes.float32: "F32",
            dtypes.float64: "F64", dtypes.int8: "I8", dtypes.int16: "I16", dtypes.int32: "I32",
            dtypes.int64: "I64", dtypes.uint8: "U8", dtypes.bool: "BOOL"}
FROM_ST = {v: k for k, v in ST_NAMES.items()}


class CheckpointError(RuntimeError):
    """A file ``load`` cannot read: truncated, corrupt, or not a gputensor/safetensors file."""


def crc_hex(value: int) -> str:
    """The checksum as it is stored in the header: 8 lower-case hex digits."""
    return f"{value & 0xFFFFFFFF:08x}"


def update_crc(crc: int, flat_bytes: np.ndarray) -> int:
    """``crc`` extended by the bytes of a flat uint8 array (zlib's CRC-32, ~1 GB/s)."""
    return zlib.crc32(flat_bytes, crc) if flat_bytes.size else crc


def _foreign_kind(prefix: bytes):
    if prefix.startswith(b"PK\x03\x04") or prefix.startswith(b"PK\x05\x06"):
        return "a zip archive (torch.save's format?)"
    if prefix[:1] == b"\x80":
        return "a pickle file"
    if prefix.startswith(b"\x93NUMPY"):
        return "a NumPy .npy file"
    return None


def _int_list(value) -> bool:
    return isinstance(value, list) and all(type(v) is int for v in value)


class Reader:
    """Reads and checks one file; every problem becomes a CheckpointError naming the file.

    ``whole_file``: the checkpoint is all of the file (read by path), so its tensors must
    cover the data up to the last byte; a stream may go on with the next checkpoint.
    """

    def __init__(self, fh, name, whole_file):
        self.fh, self.name, self.whole_file = fh, name, whole_file
        self.start = fh.tell()
        self.size = fh.seek(0, io.SEEK_END) - self.start
        fh.seek(self.start)
        self.data_start = self.data_size = 0

    def fail(self, what):
        raise CheckpointError(f"gputensor.load: {what} in '{self.name}'")

    def header(self):
        prefix = self.fh.read(8)
        foreign = _foreign_kind(prefix)
        if self.size < 8:
            self.fail(f"the file is truncated ({self.size} bytes; a checkpoint starts with an "
                      "8-byte header length)")
        n = int.from_bytes(prefix, "little")
        if n > self.size - 8 or n > MAX_HEADER_BYTES:
            if foreign:
                self.fail(f"not a gputensor checkpoint: this looks like {foreign}, and "
                          "gputensor reads only safetensors files (it never unpickles)")
            self.fail(f"the header length ({n} bytes) is larger than the file ({self.size} "
                      "bytes) or than 100 MB: the file is truncated or is not a checkpoint")
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

    def _entry(self, name, info):
        if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= set(info):
            self.fail(f"tensor '{name}' has no dtype, shape and data_offsets")
        dtype = FROM_ST.get(info["dtype"]) if isinstance(info["dtype"], str) else None
        if dtype is None:
            self.fail(f"tensor '{name}' has an unknown or unsupported dtype {info['dtype']!r}")
        shape, offsets = info["shape"], info["data_offsets"]
        if not _int_list(shape) or any(s < 0 for s in shape) or len(shape) > MAX_DIMS:
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
        return name, dtype, shape, begin, end

    def check_entries(self, header):
        """(name, dtype, shape, begin, end) for each tensor, in file order, all checked."""
        entries = [self._entry(name, info) for name, info in header.items()
                   if name != "__metadata__"]
        entries.sort(key=lambda e: (e[3], e[4]))
        covered, previous = 0, None
        for entry in entries:
            name, begin = entry[0], entry[3]
            if begin < covered:
                self.fail(f"tensors '{previous}' and '{name}' have overlapping data_offsets")
            if begin > covered:
                self.fail(f"tensor '{name}' starts at byte {begin} of the data, leaving bytes "
                          f"{covered}..{begin} that no tensor covers (a gap)")
            covered, previous = entry[4], name
        if self.whole_file and covered != self.data_size:
            self.fail(f"the data is not fully covered: the tensors end at byte {covered} of "
                      f"{self.data_size} (a wrong header length, or bytes added at the end)")
        return entries

    def read_arrays(self, entries, use_mmap, checksum=True):
        """{name: array} and the CRC-32 of the data bytes (0 unless ``checksum``); mmap'd
        arrays are copy-on-write."""
        mapped = None
        if use_mmap and entries and entries[-1][4] > 0:
            mapped = mmap_module.mmap(self.fh.fileno(), 0, access=mmap_module.ACCESS_COPY)
        arrays, crc = {}, 0
        for name, dtype, shape, begin, end in entries:
            wire = np.dtype(np.uint8) if dtype is dtypes.bool else dtype.numpy.newbyteorder("<")
            if mapped is not None and wire.isnative and end > begin:
                flat = np.frombuffer(mapped, np.uint8, end - begin, self.data_start + begin)
                arr = flat.view(wire).reshape(shape)
            else:
                arr = np.empty(shape, dtype=wire)
                flat = arr.reshape(-1).view(np.uint8)
                self._read_into(flat, begin, end)
            if checksum:
                crc = update_crc(crc, flat)
            if dtype is dtypes.bool:
                arr = arr.view(np.bool_) if np.all(arr <= 1) else arr.astype(np.bool_)
            elif not arr.dtype.isnative:
                arr = arr.astype(dtype.numpy)
            arrays[name] = arr
        return arrays, crc

    def _read_into(self, flat, begin, end):
        self.fh.seek(self.data_start + begin)
        got = self.fh.readinto(flat) if hasattr(self.fh, "readinto") else None
        if got is None:
            chunk = self.fh.read(end - begin)
            got = len(chunk)
            flat[:got] = np.frombuffer(chunk, dtype=np.uint8)
        if got != end - begin:
            self.fail("the file is truncated (it ended while reading tensor data)")

    def check_crc(self, meta, crc):
        """Compare with the stored checksum, where the file has one."""
        stored = meta.get(CHECKSUM_KEY)
        if stored is not None and stored != crc_hex(crc):
            self.fail(f"the tensor data does not match its checksum (CRC-32 {crc_hex(crc)}, "
                      f"stored {stored}): the file is corrupt; gputensor.load(..., "
                      "verify=False) skips this check")

    def seek_past(self, entries):
        """Leave a stream just past this checkpoint (the next one may follow)."""
        self.fh.seek(self.data_start + max((e[4] for e in entries), default=0))
