"""Damaged checkpoints: headers judged as the safetensors package judges them, the data's
checksum, truncations and byte flips, crafted JSON, kill -9 during a save, and the loading
options (BF16, mmap, map_location)."""

import io
import json
import mmap
import os
import signal
import subprocess
import sys
import textwrap
import time
import zlib

import numpy as np
import pytest
import safetensors.numpy
import safetensors.torch
import torch

import gputensor
from gputensor import serialization
from gputensor.serialization import CheckpointError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _file(header, data):
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw + data


def _f32(offsets, n=2):
    return {"dtype": "F32", "shape": [n], "data_offsets": offsets}


def _valid():
    return safetensors.numpy.save({"b": np.arange(2, dtype=np.int64),
                                   "a": np.arange(4, dtype=np.float32)}, metadata={"x": "y"})


def _header_length_changed(delta):
    raw = _valid()
    n = int.from_bytes(raw[:8], "little")
    return (n + delta).to_bytes(8, "little") + raw[8:]


CRAFTED = {
    "valid": _valid(),
    "header one byte short": _header_length_changed(-1),
    "header one byte long": _header_length_changed(1),
    "data one byte short": _valid()[:-1],
    "one byte appended": _valid() + b"\0",
    "gap between tensors": _file({"a": _f32([0, 8]), "b": _f32([12, 20])}, bytes(20)),
    "overlapping tensors": _file({"a": _f32([0, 8]), "b": _f32([4, 12])}, bytes(12)),
    "header out of file order": _file({"b": _f32([8, 16]), "a": _f32([0, 8])},
                                      np.arange(4, dtype=np.float32).tobytes()),
    "tail not covered": _file({"a": _f32([0, 8])}, bytes(12)),
    "empty tensor beside another": _file({"a": _f32([0, 0], 0), "b": _f32([0, 8])}, bytes(8)),
    "negative shape": _file({"a": _f32([0, 8], -2)}, bytes(8)),
    "unknown dtype": _file({"a": {"dtype": "F33", "shape": [2], "data_offsets": [0, 8]}},
                           bytes(8)),
    "offsets reversed": _file({"a": _f32([8, 0], 0)}, bytes(8)),
    "size does not match the shape": _file({"a": _f32([0, 8], 3)}, bytes(8)),
    "header not an object": (3).to_bytes(8, "little") + b"[1]",
    "empty header": (2).to_bytes(8, "little") + b"{}",
    "metadata not strings": _file({"__metadata__": {"a": 1}}, b""),
    "header length over 100 MB": (200_000_000).to_bytes(8, "little") + b"{}" + bytes(10),
}


@pytest.mark.parametrize("case", list(CRAFTED))
def test_crafted_headers_are_judged_as_the_safetensors_package_judges_them(case, tmp_path):
    path = tmp_path / "crafted.safetensors"
    path.write_bytes(CRAFTED[case])
    try:
        theirs = safetensors.numpy.load_file(str(path))
    except Exception:  # noqa: BLE001 - the package's own error type
        theirs = None
    if theirs is None:
        with pytest.raises(CheckpointError, match=str(path)):
            gputensor.load(path)
    else:
        ours = gputensor.load(path)
        assert list(ours) == list(theirs) or sorted(ours) == sorted(theirs)
        for key, value in theirs.items():
            assert ours[key].numpy().tobytes() == value.tobytes()
            assert ours[key].numpy().dtype == value.dtype


def _checkpoint():
    buffer = io.BytesIO()
    gputensor.save({"w": gputensor.arange(12.0).reshape(3, 4), "step": gputensor.tensor(3),
                    "groups": [{"lr": 0.1, "betas": (0.9, 0.99)}]}, buffer)
    return buffer.getvalue()


def _header_size(raw):
    return 8 + int.from_bytes(raw[:8], "little")


def _load_or_fail(data, tmp_path, **kwargs):
    """'error' for a CheckpointError, else the loaded object; anything else fails the test."""
    path = tmp_path / "damaged.st"
    path.write_bytes(data)
    try:
        return gputensor.load(path, **kwargs)
    except CheckpointError:
        return "error"


def test_every_truncation_is_a_checkpoint_error(tmp_path):
    raw = _checkpoint()
    for cut in range(len(raw)):  # the length field, the header, the data: every byte
        assert _load_or_fail(raw[:cut], tmp_path) == "error", cut


def test_header_byte_flips_never_raise_anything_else(tmp_path):
    raw = _checkpoint()
    outcomes = set()
    for pos in range(_header_size(raw)):
        for mask in (0x01, 0x80):
            data = bytearray(raw)
            data[pos] ^= mask
            outcomes.add("error" if _load_or_fail(bytes(data), tmp_path) == "error" else "ok")
    assert "error" in outcomes


def test_a_flipped_data_byte_is_caught_by_the_checksum(tmp_path):
    raw = _checkpoint()
    meta = json.loads(raw[8:_header_size(raw)])["__metadata__"]
    assert meta[serialization.CHECKSUM_KEY] == f"{zlib.crc32(raw[_header_size(raw):]):08x}"
    for pos in range(_header_size(raw), len(raw), 7):
        data = bytearray(raw)
        data[pos] ^= 0x10
        path = tmp_path / "flipped.st"
        path.write_bytes(bytes(data))
        with pytest.raises(CheckpointError, match="does not match its checksum"):
            gputensor.load(path)
        unchecked = gputensor.load(path, verify=False)  # the documented way to skip the check
        assert isinstance(unchecked["w"], gputensor.Tensor)


def _with_structure(structure):
    buffer = io.BytesIO()
    gputensor.save({"w": gputensor.ones(2)}, buffer)
    raw = buffer.getvalue()
    header = json.loads(raw[8:_header_size(raw)])
    header["__metadata__"][serialization.STRUCTURE_KEY] = json.dumps(structure)
    return _file(header, raw[_header_size(raw):])


def _with_entry(entry):
    return _file({"__metadata__": {}, "w": entry}, bytes(8))


CRAFTED_JSON = {
    "shape a string": _with_entry({"dtype": "F32", "shape": "2", "data_offsets": [0, 8]}),
    "shape of floats": _with_entry({"dtype": "F32", "shape": [2.0], "data_offsets": [0, 8]}),
    "negative shape": _with_entry({"dtype": "F32", "shape": [-1, -2], "data_offsets": [0, 8]}),
    "65 dimensions": _with_entry({"dtype": "F32", "shape": [1] * 64 + [2],
                                  "data_offsets": [0, 8]}),
    "huge shape": _with_entry({"dtype": "F32", "shape": [2 ** 62, 2 ** 62, 0, 3],
                               "data_offsets": [0, 8]}),
    "dtype null": _with_entry({"dtype": None, "shape": [2], "data_offsets": [0, 8]}),
    "dtype lower case": _with_entry({"dtype": "f32", "shape": [2], "data_offsets": [0, 8]}),
    "offsets a dict": _with_entry({"dtype": "F32", "shape": [2], "data_offsets": {"0": 8}}),
    "offsets three": _with_entry({"dtype": "F32", "shape": [2], "data_offsets": [0, 4, 8]}),
    "entry a list": _file({"w": [1, 2]}, bytes(8)),
    "metadata a list": _file({"__metadata__": ["a"]}, b""),
    "device a number": _with_structure({"$tensor": "w", "device": 3}),
    "device unknown": _with_structure({"$tensor": "w", "device": "tpu"}),
    "device index negative": _with_structure({"$tensor": "w", "device": "cuda:-1"}),
    "device in structure": _with_structure({"$device": "cuda:x"}),
    "dtype name unknown": _with_structure({"$dtype": "float128"}),
    "size of strings": _with_structure({"$size": ["a"]}),
    "tensor name not a string": _with_structure({"$tensor": ["w"]}),
    "defaultdict factory unknown": _with_structure({"$defaultdict": [], "factory": "os"}),
    "object path malformed": _with_structure({"$object": "no_colon", "id": 0, "state": {}}),
    "object class missing": _with_structure({"$object": "gputensor:NoSuchClass", "id": 0,
                                             "state": {}}),
    "object not a class": _with_structure({"$object": "gputensor:ones", "id": 0,
                                           "state": {}}),
    "reference to nothing": _with_structure({"$ref": 4}),
    "set of lists": _with_structure({"$set": [[1]]}),
    "bytes not base64": _with_structure({"$bytes": "***"}),
}


@pytest.mark.parametrize("case", list(CRAFTED_JSON))
def test_crafted_json_is_a_checkpoint_error(case, tmp_path):
    path = tmp_path / "crafted.st"
    path.write_bytes(CRAFTED_JSON[case])
    with pytest.raises(CheckpointError, match=str(path)):
        gputensor.load(path, weights_only=False)


def test_bfloat16_files_load_as_bfloat16(tmp_path):
    values = torch.randn(3, 5).to(torch.bfloat16)
    path = str(tmp_path / "bf16.safetensors")
    safetensors.torch.save_file({"w": values}, path)
    loaded = gputensor.load(path)["w"]
    assert loaded.dtype is gputensor.bfloat16
    assert loaded.float().tolist() == values.float().tolist()
    gputensor.save({"w": loaded}, tmp_path / "again.st")
    again = safetensors.torch.load_file(str(tmp_path / "again.st"))["w"]
    assert again.dtype == torch.bfloat16 and torch.equal(again, values)


def test_mmap_maps_the_data_copy_on_write(tmp_path):
    path = tmp_path / "big.st"
    saved = {"w": gputensor.arange(4096.0), "flags": gputensor.tensor([True, False]),
             "e": gputensor.zeros(0)}
    gputensor.save(saved, path)
    before = path.read_bytes()
    mapped = gputensor.load(path, mmap=True)
    assert mapped["w"].tolist() == saved["w"].tolist()
    assert mapped["flags"].tolist() == [True, False] and mapped["e"].shape == (0,)
    owner = mapped["w"].numpy()
    while isinstance(owner, np.ndarray):
        owner = owner.base
    assert isinstance(owner, memoryview) and isinstance(owner.obj, mmap.mmap)
    mapped["w"].add_(1)  # copy-on-write: the file keeps its bytes
    assert mapped["w"][0].item() == 1.0 and path.read_bytes() == before
    with pytest.raises(ValueError, match="f must be a file path in order to use the mmap"):
        gputensor.load(io.BytesIO(before), mmap=True)


def test_map_location_as_torch_takes_it(tmp_path):
    path = tmp_path / "m.st"
    gputensor.save({"w": gputensor.ones(2)}, path)
    tpath = tmp_path / "t.pt"
    torch.save({"w": torch.ones(2)}, tpath)
    seen = []
    for loc in ("cpu", gputensor.device("cpu"), {"cpu": "cpu"},
                lambda storage, location: seen.append(location) or storage,
                lambda storage, location: None):
        ours = gputensor.load(path, map_location=loc)
        assert ours["w"].device == gputensor.device("cpu") and ours["w"].tolist() == [1, 1]
    theirs = []
    torch.load(tpath, map_location=lambda storage, location: theirs.append(location) or storage)
    assert seen == theirs == ["cpu"]


# ---- kill -9 during a save --------------------------------------------------------------
WRITER = textwrap.dedent("""
    import sys
    import gputensor
    path = sys.argv[1]
    big = gputensor.zeros(12_500_000)  # 50 MB
    k = 0
    while True:
        k += 1
        big.fill_(k)
        gputensor.save({"big": big, "k": k}, path)
        print(k, flush=True)
""")


def _temp_files(directory):
    return sorted(n for n in os.listdir(directory) if n.endswith(".tmp"))


def test_kill_9_during_saves_keeps_the_old_file_and_a_later_save_cleans_up(tmp_path):
    path = tmp_path / "ckpt.st"
    env = dict(os.environ, PYTHONPATH=ROOT)
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE,
                             env=env, text=True)
    try:
        assert child.stdout.readline().strip() == "1"  # one whole save is on disk
        deadline = time.monotonic() + 20
        while not _temp_files(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)  # in the middle of the next save
    finally:
        child.kill()
        child.wait()
    stale = _temp_files(tmp_path)
    assert stale and all(f".ckpt.st.{child.pid}." in n for n in stale)
    loaded = gputensor.load(path)  # the last finished save, checksum verified
    k = loaded["k"]
    assert k >= 1 and loaded["big"].shape == (12_500_000,)
    assert loaded["big"][0].item() == k and loaded["big"][-1].item() == k
    # a temp file of a live writer (here: this process's parent) stays
    live = tmp_path / f".ckpt.st.{os.getppid()}.abc.tmp"
    live.write_bytes(b"")
    gputensor.save({"k": k + 1}, path)
    assert _temp_files(tmp_path) == [live.name]
    assert gputensor.load(path) == {"k": k + 1}
