"""gputensor.save / gputensor.load: bit-exact round trips, atomic writes, corrupt files."""

import collections
import io
import json
import math
import os
import pathlib
import pickle
import re
import stat
import zipfile

import numpy as np
import pytest
import safetensors.numpy
import torch

import gputensor
from gputensor import serialization
from gputensor.serialization import CheckpointError
from helpers import LAYOUTS, make_input, rand_array

DTYPES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")
RNG = np.random.default_rng(7)


def to_ours(obj):
    """A torch object (state_dict...) with every torch tensor copied into a gputensor tensor."""
    if isinstance(obj, torch.Tensor):
        return gputensor.tensor(obj.detach().numpy())
    if isinstance(obj, (dict, collections.OrderedDict)):
        return type(obj)((k, to_ours(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_ours(v) for v in obj)
    return obj


def bits(t):
    """A tensor's values as raw bytes (NaN payloads and signed zeros included)."""
    arr = t.detach().numpy() if isinstance(t, (gputensor.Tensor, torch.Tensor)) else t
    return np.ascontiguousarray(arr).tobytes()


def assert_identical(loaded, original):
    """Same types all the way down; tensors bit-exact with equal dtype and shape."""
    assert type(loaded) is type(original), (type(loaded), type(original))
    if isinstance(original, gputensor.Tensor):
        assert loaded.dtype is original.dtype
        assert tuple(loaded.shape) == tuple(original.shape)
        assert bits(loaded) == bits(original)
        assert loaded.requires_grad == original.requires_grad
    elif isinstance(original, np.ndarray):
        assert loaded.dtype == original.dtype and loaded.shape == original.shape
        assert bits(loaded) == bits(original)
    elif isinstance(original, dict):
        assert list(loaded) == list(original)
        for key in original:
            assert [type(k) for k in loaded if k == key] == [type(key)]
            assert_identical(loaded[key], original[key])
    elif isinstance(original, (list, tuple)):
        assert len(loaded) == len(original)
        for a, b in zip(loaded, original):
            assert_identical(a, b)
    elif isinstance(original, float):
        assert math.copysign(1, loaded) == math.copysign(1, original)
        assert loaded == original or (math.isnan(loaded) and math.isnan(original))
    else:
        assert loaded == original


def round_trip(obj, tmp_path, name="ckpt.safetensors"):
    path = tmp_path / name
    gputensor.save(obj, path)
    return gputensor.load(path)


# ---- round trips ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_tensor_round_trip_is_bit_exact(dtype, layout, tmp_path):
    _, t = make_input(gputensor, rand_array((3, 4), dtype, rng=RNG), layout)
    loaded = round_trip(t, tmp_path)
    assert loaded.is_contiguous()
    assert_identical(loaded, t)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3), (1,), (5, 1, 2)])
def test_zero_dim_and_empty_tensors(dtype, shape, tmp_path):
    t = gputensor.tensor(rand_array(shape, dtype, rng=RNG))
    assert_identical(round_trip(t, tmp_path), t)


def test_float_specials_are_bit_exact(tmp_path):
    values = np.array([np.nan, -np.nan, np.inf, -np.inf, -0.0, 0.0, 5e-324, 1e308], np.float64)
    payload = np.array([0x7FF8000000000123], np.uint64).view(np.float64)
    with np.errstate(over="ignore"):
        arrays = (values, np.concatenate([values, payload]), values.astype(np.float16),
                  values.astype(np.float32))
    for arr in arrays:
        t = gputensor.tensor(arr)
        assert_identical(round_trip(t, tmp_path), t)


def test_nested_structure_round_trip(tmp_path):
    shared = gputensor.arange(6).reshape(2, 3)
    obj = {
        "tensors": [gputensor.ones(2), gputensor.zeros((), dtype=gputensor.bool), shared],
        "numbers": (0, -1, 2 ** 70, 1.5, -0.0, float("nan"), float("inf"), -float("inf"),
                    True, False, 1e-310),
        3: "int key",
        -7: None,
        "nested": collections.OrderedDict([("b", {"x": (1, [2, (3,)])}), ("a", [])]),
        "strings": ["", "ünïcødé ✓", "with \"quotes\" and \\ and \n"],
        "empties": ({}, [], (), collections.OrderedDict()),
        "bytes": b"\x00\xff raw",
        "misc": [gputensor.Size([2, 3]), gputensor.float16, gputensor.device("cpu")],
        "numpy": [np.float32(0.1), np.int64(-3), np.bool_(True), np.arange(4, dtype=np.int16)],
        (1, "tuple key"): 2.0,
        1.5: "float key",
        None: "none key",
    }
    loaded = round_trip(obj, tmp_path)
    assert_identical(loaded, obj)
    # every tensor is a safetensors tensor named by its path
    arrays = safetensors.numpy.load_file(str(tmp_path / "ckpt.safetensors"))
    assert sorted(arrays) == ["numpy.3", "tensors.0", "tensors.1", "tensors.2"]
    assert arrays["tensors.2"].tobytes() == bits(shared)


def test_the_same_tensor_twice_loads_as_one_object(tmp_path):
    w = gputensor.randn(3, 3)
    loaded = round_trip({"encoder.weight": w, "decoder.weight": w, "other": w.clone()},
                        tmp_path)
    assert loaded["encoder.weight"] is loaded["decoder.weight"]
    assert loaded["other"] is not loaded["encoder.weight"]
    assert bits(loaded["decoder.weight"]) == bits(w)


def test_requires_grad_is_kept(tmp_path):
    leaf = gputensor.randn(2, 2, requires_grad=True)
    loaded = round_trip({"leaf": leaf, "plain": leaf.detach(), "nonleaf": leaf * 2}, tmp_path)
    assert loaded["leaf"].requires_grad and loaded["leaf"].is_leaf
    assert not loaded["plain"].requires_grad
    assert loaded["nonleaf"].requires_grad and loaded["nonleaf"].grad_fn is None
    assert bits(loaded["leaf"]) == bits(leaf.detach())


def test_parameters_load_as_parameters(tmp_path):
    from gputensor import nn
    p = nn.Parameter(gputensor.randn(3))
    loaded = round_trip([p], tmp_path)[0]
    assert type(loaded) is nn.Parameter and loaded.requires_grad
    assert bits(loaded.detach()) == bits(p.detach())


def test_model_state_dict_round_trip_and_safetensors_compatibility(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.BatchNorm1d(4),
                                torch.nn.ReLU(), torch.nn.Linear(4, 2))
    model[3].register_buffer("scale", torch.randn(2, dtype=torch.float64))
    model[3].register_buffer("mask", torch.rand(2, 3) > 0.5)
    model(torch.randn(8, 5))  # running statistics and num_batches_tracked move
    state = to_ours(model.state_dict())
    assert type(state) is collections.OrderedDict
    path = tmp_path / "model.safetensors"
    gputensor.save(state, path)
    loaded = gputensor.load(path)
    assert_identical(loaded, state)
    for key, value in model.state_dict().items():
        assert bits(loaded[key]) == bits(value) and loaded[key].dtype.name == str(
            value.dtype).split(".")[-1]
    # the file is a plain safetensors file: the safetensors package reads the same arrays
    arrays = safetensors.numpy.load_file(str(path))
    assert sorted(arrays) == sorted(state)
    for key, value in model.state_dict().items():
        assert arrays[key].dtype == value.numpy().dtype
        assert arrays[key].shape == tuple(value.shape)
        assert arrays[key].tobytes() == value.numpy().tobytes()


def test_optimizer_state_dict_round_trip(tmp_path):
    params = [torch.nn.Parameter(torch.randn(3, 2)), torch.nn.Parameter(torch.randn(4))]
    opt = torch.optim.Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.1}],
                           betas=(0.8, 0.9), amsgrad=True)
    sum((p ** 2).sum() for p in params).backward()
    opt.step()
    theirs = opt.state_dict()
    state = to_ours(theirs)
    loaded = round_trip(state, tmp_path)
    assert_identical(loaded, state)
    assert list(loaded["state"]) == [0, 1] and type(loaded["param_groups"][0]["betas"]) is tuple
    for group, their_group in zip(loaded["param_groups"], theirs["param_groups"]):
        assert group == their_group
    for index, entry in theirs["state"].items():
        for key, value in entry.items():
            assert bits(loaded["state"][index][key]) == bits(value)


def test_paths_and_file_objects(tmp_path):
    t = {"w": gputensor.randn(4, 3)}
    for target in (str(tmp_path / "a.st"), tmp_path / "b.st", os.fsencode(tmp_path / "c.st")):
        gputensor.save(t, target)
        assert_identical(gputensor.load(target), t)
    buffer = io.BytesIO()
    gputensor.save(t, buffer)
    buffer.seek(0)
    assert_identical(gputensor.load(buffer), t)
    with open(tmp_path / "d.st", "wb") as fh:
        gputensor.save(t, fh)
    with open(tmp_path / "d.st", "rb") as fh:
        assert_identical(gputensor.load(fh), t)
    assert_identical(gputensor.load(tmp_path / "d.st", weights_only=False), t)
    stream = io.BytesIO()
    gputensor.save(t, stream)
    gputensor.save([1, gputensor.ones(2)], stream)
    stream.seek(0)
    assert_identical(gputensor.load(stream), t)  # leaves the stream just past the first
    assert_identical(gputensor.load(stream), [1, gputensor.ones(2)])


def test_load_reads_files_written_by_the_safetensors_package(tmp_path):
    arrays = {"b": np.arange(6, dtype=np.int32).reshape(2, 3), "a": np.ones(3, np.float16),
              "flag": np.array([True, False])}
    path = str(tmp_path / "foreign.safetensors")
    safetensors.numpy.save_file(arrays, path)
    loaded = gputensor.load(path)
    assert type(loaded) is dict and sorted(loaded) == sorted(arrays)
    for key, arr in arrays.items():
        assert loaded[key].numpy().dtype == arr.dtype and bits(loaded[key]) == arr.tobytes()


def test_loaded_tensors_are_writable_and_independent(tmp_path):
    loaded = round_trip({"a": gputensor.zeros(3), "b": gputensor.zeros(3)}, tmp_path)
    loaded["a"].add_(1)
    assert loaded["a"].tolist() == [1, 1, 1] and loaded["b"].tolist() == [0, 0, 0]


@pytest.mark.parametrize("loc", [None, "cpu", gputensor.device("cpu"), {"cuda:0": "cpu"}])
def test_map_location_cpu(loc, tmp_path):
    path = tmp_path / "m.st"
    gputensor.save([gputensor.ones(2)], path)
    out = gputensor.load(path, map_location=loc)
    assert out[0].device == gputensor.device("cpu")


def test_map_location_errors(tmp_path, cuda_unavailable):
    path = tmp_path / "m.st"
    gputensor.save([gputensor.ones(2)], path)
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda, .* device type at start of "
                       "device string: tpu"):
        gputensor.load(path, map_location="tpu")
    with pytest.raises(TypeError, match="map_location"):
        gputensor.load(path, map_location=3)
    with pytest.raises(RuntimeError, match="CUDA"):
        gputensor.load(path, map_location="cuda")


def test_save_rejects_what_it_cannot_store(tmp_path):
    path = tmp_path / "x.st"
    with pytest.raises(TypeError, match="cannot save an object of type object"):
        gputensor.save({"a": gputensor.ones(1), "b": object()}, path)
    with pytest.raises(TypeError, match="dict keys"):
        gputensor.save({gputensor.ones(1): 1}, path)
    cycle = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match="cycle"):
        gputensor.save(cycle, path)
    assert not path.exists() and os.listdir(tmp_path) == []
    with pytest.raises(RuntimeError, match="Parent directory .* does not exist"):
        gputensor.save([], tmp_path / "missing" / "x.st")
    with pytest.raises(AttributeError, match="expected 'f' to be string"):
        gputensor.save([], 3)


def test_serialization_never_uses_pickle():
    source = pathlib.Path(serialization.__file__).read_text()
    assert not re.search(r"^\s*(import|from)\s+\S*(pickle|marshal|shelve)", source, re.M)
    assert "eval(" not in source and "exec(" not in source


# ---- atomic writes ----------------------------------------------------------------------
@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_crash_during_save_keeps_the_old_file(error, tmp_path, monkeypatch):
    path = tmp_path / "ckpt.st"
    old = {"w": gputensor.randn(5), "b": gputensor.randn(2)}
    gputensor.save(old, path)
    before = path.read_bytes()
    real, calls = serialization._tensor_bytes, []

    def crash_on_second(t):
        calls.append(t)
        if len(calls) == 2:
            raise error
        return real(t)

    monkeypatch.setattr(serialization, "_tensor_bytes", crash_on_second)
    with pytest.raises(type(error)):
        gputensor.save({"w": gputensor.zeros(5), "b": gputensor.zeros(2), "c": gputensor.ones(1)},
                       path)
    assert len(calls) == 2
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.st"]
    assert_identical(gputensor.load(path), old)


def test_save_replaces_atomically_and_keeps_permissions(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.st"
    gputensor.save({"a": gputensor.ones(1)}, path)
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask
    os.chmod(path, 0o640)
    replaced = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (replaced.append((a, b)),
                                                     real_replace(a, b)))
    gputensor.save({"a": gputensor.zeros(1)}, path)
    (src, dst), = replaced
    assert os.path.dirname(src) == str(tmp_path) and dst == os.path.realpath(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert gputensor.load(path)["a"].tolist() == [0.0]
    assert os.listdir(tmp_path) == ["ckpt.st"]


def test_save_through_a_symlink_updates_the_target(tmp_path):
    target = tmp_path / "real.st"
    link = tmp_path / "link.st"
    gputensor.save([gputensor.ones(1)], target)
    link.symlink_to(target)
    gputensor.save([gputensor.zeros(1)], link)
    assert link.is_symlink() and gputensor.load(target)[0].tolist() == [0.0]


# ---- truncated, corrupt and foreign files -----------------------------------------------
def _valid_bytes():
    buffer = io.BytesIO()
    gputensor.save({"w": gputensor.randn(3, 4), "step": gputensor.tensor(3.0),
                    "groups": [{"lr": 0.1, "betas": (0.9, 0.99)}]}, buffer)
    return buffer.getvalue()


def _with_header(raw, edit):
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    edit(header)
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + raw[8 + n:]


def _set(path, value):
    def edit(header):
        node = header
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return edit


def _set_structure(value):
    return _set(["__metadata__", serialization.STRUCTURE_KEY], value)


def _corrupt_cases():
    raw = _valid_bytes()
    n = int.from_bytes(raw[:8], "little")
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"a": 1}))
    torch_file = io.BytesIO()
    torch.save({"w": torch.ones(2)}, torch_file)
    return {
        "empty": (b"", "truncated"),
        "short": (raw[:5], "truncated"),
        "cut in header": (raw[:8 + n // 2], "header length"),
        "cut in data": (raw[:-7], "truncated"),
        "huge header length": ((2 ** 63).to_bytes(8, "little") + raw[8:], "header length"),
        "bad json": (raw[:8] + b"x" + raw[9:], "not JSON"),
        "header not an object": (b"\x02" + b"\x00" * 7 + b"[]", "not a JSON object"),
        "not utf-8": (b"\x04" + b"\x00" * 7 + b"\xff\xfe{}", "not JSON"),
        "unknown dtype": (_with_header(raw, _set(["w", "dtype"], "F8_E4M3")),
                          "dtype .F8_E4M3."),
        "dtype not a string": (_with_header(raw, _set(["w", "dtype"], [1])), "dtype"),
        "offsets past the end": (_with_header(raw, _set(["w", "data_offsets"], [0, 10 ** 6])),
                                 "past the end"),
        "offsets reversed": (_with_header(raw, _set(["w", "data_offsets"], [48, 0])),
                             "bad data_offsets"),
        "offsets wrong size": (_with_header(raw, _set(["w", "data_offsets"], [0, 40])),
                               "need 48"),
        "offsets overlap": (_with_header(raw, _set(["step", "data_offsets"], [4, 8])),
                            "overlapping"),
        "offsets not ints": (_with_header(raw, _set(["w", "data_offsets"], [0.0, 48.0])),
                             "bad data_offsets"),
        "bad shape": (_with_header(raw, _set(["w", "shape"], [-3, -4])), "bad shape"),
        "missing fields": (_with_header(raw, _set(["w"], {"dtype": "F32"})), "no dtype"),
        "metadata not strings": (_with_header(raw, _set(["__metadata__", "x"], 3)),
                                 "__metadata__"),
        "structure not json": (_with_header(raw, _set_structure("{oops")), "not JSON"),
        "unknown tag": (_with_header(raw, _set_structure('{"$evil": "os.system"}')),
                        "structure is corrupt"),
        "missing tensor": (_with_header(raw, _set_structure('{"$tensor": "nope"}')),
                           "structure is corrupt"),
        "bad dict": (_with_header(raw, _set_structure('{"$dict": [[1]]}')),
                     "structure is corrupt"),
        "unhashable key": (_with_header(raw, _set_structure('{"$dict": [[[1], 2]]}')),
                           "structure is corrupt"),
        "bad device": (_with_header(raw, _set_structure('{"$device": "tpu"}')),
                       "structure is corrupt"),
        "bad numpy scalar": (_with_header(
            raw, _set_structure('{"$numpy": "int8", "value": 1000}')), "structure is corrupt"),
        "newer version": (_with_header(raw, _set(["__metadata__", serialization.VERSION_KEY],
                                                 "99")), "version"),
        "zip archive": (zipped.getvalue(), "zip archive"),
        "torch.save file": (torch_file.getvalue(), "zip archive"),
        "pickle file": (pickle.dumps({"a": [1, 2, 3]}), "pickle"),
        "npy file": (b"\x93NUMPY\x01\x00v\x00{'descr': '<f8'}" + b" " * 100, "NumPy"),
        "text file": (b"hello, world\n" * 3, "header length"),
    }


CORRUPT = _corrupt_cases()


@pytest.mark.parametrize("case", list(CORRUPT))
def test_corrupt_files_raise_a_clear_error(case, tmp_path):
    data, message = CORRUPT[case]
    path = tmp_path / "bad.st"
    path.write_bytes(data)
    with pytest.raises(CheckpointError, match=message) as err:
        gputensor.load(path)
    assert isinstance(err.value, RuntimeError)
    assert str(path) in str(err.value)
    with pytest.raises(CheckpointError, match=message):
        gputensor.load(io.BytesIO(data))


def test_random_damage_never_raises_anything_else(tmp_path):
    raw = _valid_bytes()
    rng = np.random.default_rng(0)
    outcomes = collections.Counter()
    for i in range(300):
        data = bytearray(raw)
        if i % 3 == 0:
            data = data[:rng.integers(0, len(data))]
        else:
            for pos in rng.integers(0, len(data), size=rng.integers(1, 4)):
                data[pos] = rng.integers(0, 256)
        try:
            gputensor.load(io.BytesIO(bytes(data)))
            outcomes["loaded"] += 1
        except CheckpointError:
            outcomes["error"] += 1
    assert outcomes["error"] > 100


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        gputensor.load(tmp_path / "nope.st")
