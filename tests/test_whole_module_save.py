"""Whole models and optimizers saved as data (class paths and attributes, no pickle) and
loaded the way torch 2.13's weights-only loading allows: allowlisted classes only."""

import io
import pathlib
import pickle
import re

import numpy as np
import pytest
import torch

import gputensor
from gputensor import _checkpoint_format as checkpoint_format
from gputensor import _checkpoint_objects as checkpoint_objects
from gputensor import nn, serialization
from gputensor.serialization import (
    add_safe_globals,
    clear_safe_globals,
    get_safe_globals,
    safe_globals,
)


class MyNet(nn.Module):
    """A user's model, as tutorials write one."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.LayerNorm(5))
        self.head = nn.Linear(5, 2)
        self.scale, self.name, self.sizes = 0.5, "net", (3, 5, 2)

    def forward(self, x):
        return self.head(self.body(x)) * self.scale


class TorchNet(torch.nn.Module):
    """torch's twin of MyNet, for torch's messages."""

    def __init__(self):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(),
                                        torch.nn.LayerNorm(5))
        self.head = torch.nn.Linear(5, 2)


@pytest.fixture(autouse=True)
def _empty_allowlist():
    clear_safe_globals()
    yield
    clear_safe_globals()


def _saved(lib, obj):
    buffer = io.BytesIO()
    lib.save(obj, buffer)
    buffer.seek(0)
    return buffer


def _error(lib, obj, **kwargs):
    with pytest.raises(pickle.UnpicklingError) as err:
        lib.load(_saved(lib, obj), **kwargs)
    return str(err.value)


def _as_ours(torch_message):
    """torch's text with gputensor in torch's place (its history of torch.load and its
    documentation link kept)."""
    return (torch_message.replace("torch.", "gputensor.").replace("TorchNet", "MyNet")
            .replace("argument in `gputensor.load`", "argument in `torch.load`")
            .replace("pygputensor.org", "pytorch.org")
            .replace("generated/gputensor.load.html", "generated/torch.load.html"))


def test_load_refuses_a_class_that_is_not_allowlisted_with_torchs_message():
    ours = _error(gputensor, MyNet())
    assert ours == _as_ours(_error(torch, TorchNet()))
    assert "GLOBAL test_whole_module_save.MyNet was not an allowed global" in ours
    assert _error(gputensor, nn.Sequential(nn.Linear(2, 2))) == _as_ours(
        _error(torch, torch.nn.Sequential(torch.nn.Linear(2, 2))))


def test_the_allowlist_names_the_next_missing_class_as_torch_does():
    with safe_globals([MyNet]), torch.serialization.safe_globals([TorchNet]):
        ours = _error(gputensor, MyNet())
        assert ours == _as_ours(_error(torch, TorchNet()))
    assert "torch.nn.modules" not in ours and "gputensor.nn.modules." in ours


def test_allowlisted_classes_load_and_compute_the_same():
    model = MyNet()
    x = gputensor.randn(4, 3)
    classes = [MyNet, nn.Sequential, nn.Linear, nn.ReLU, nn.LayerNorm]
    with safe_globals(classes):
        loaded = gputensor.load(_saved(gputensor, model))
    assert type(loaded) is MyNet and type(loaded.body[2]) is nn.LayerNorm
    assert (loaded.scale, loaded.name, loaded.sizes) == (0.5, "net", (3, 5, 2))
    assert np.array_equal(loaded(x).detach().numpy(), model(x).detach().numpy())
    assert all(type(p) is nn.Parameter for p in loaded.parameters())
    assert [n for n, _ in loaded.named_parameters()] == [n for n, _ in model.named_parameters()]
    with pytest.raises(pickle.UnpicklingError):  # the context manager's classes are gone
        gputensor.load(_saved(gputensor, model))
    add_safe_globals(classes)
    assert get_safe_globals() == classes
    assert type(gputensor.load(_saved(gputensor, model))) is MyNet
    clear_safe_globals()
    assert get_safe_globals() == []


def test_weights_only_false_loads_everything_without_an_allowlist(tmp_path):
    model = MyNet()
    model.eval()
    path = tmp_path / "model.pt"
    gputensor.save(model, path)
    loaded = gputensor.load(path, weights_only=False)
    assert loaded.training is False and loaded.body[0].training is False
    x = gputensor.randn(2, 3)
    assert np.array_equal(loaded(x).detach().numpy(), model(x).detach().numpy())


def test_data_only_files_need_no_allowlist():
    state = MyNet().state_dict()
    for weights_only in (None, True, False):
        loaded = gputensor.load(_saved(gputensor, state), weights_only=weights_only)
        assert list(loaded) == list(state)


def test_model_and_optimizer_together_keep_sharing_parameters():
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    opt = gputensor.optim.Adam(model.parameters(), lr=0.01)
    x, y = gputensor.randn(8, 3), gputensor.randn(8, 1)

    def step(m, o):
        o.zero_grad()
        loss = ((m(x) - y) ** 2).mean()
        loss.backward()
        o.step()
        return loss.item()

    step(model, opt)
    loaded = gputensor.load(_saved(gputensor, {"model": model, "opt": opt}),
                            weights_only=False)
    model2, opt2 = loaded["model"], loaded["opt"]
    assert opt2.param_groups[0]["params"][0] is model2[0].weight
    assert [step(model, opt) for _ in range(3)] == [step(model2, opt2) for _ in range(3)]
    for a, b in zip(model.parameters(), model2.parameters()):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())


def test_functions_are_globals_too():
    layer = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0)
    message = _error(gputensor, layer)
    assert "GLOBAL gputensor.nn.modules" in message
    loaded = gputensor.load(_saved(gputensor, layer), weights_only=False)
    x = gputensor.randn(3, 2, 4)
    assert np.allclose(loaded(x).detach().numpy(), layer(x).detach().numpy())


def test_objects_that_cannot_be_found_again_are_refused_at_save():
    class Local(nn.Module):
        pass

    with pytest.raises(TypeError, match="cannot save an object of type Local"):
        gputensor.save(Local(), io.BytesIO())
    with pytest.raises(TypeError, match="cannot save an object of type function"):
        gputensor.save({"f": lambda x: x}, io.BytesIO())


def test_the_checkpoint_modules_take_only_an_exception_type_from_pickle():
    for module in (serialization, checkpoint_format, checkpoint_objects):
        source = pathlib.Path(module.__file__).read_text()
        imports = re.findall(r"^\s*(?:import|from)\s+\S*(?:pickle|marshal|shelve).*$", source,
                             re.M)
        assert imports in ([], ["from pickle import UnpicklingError  # the exception type torch "
                                "raises; nothing is unpickled"])
        assert "eval(" not in source and "exec(" not in source and "pickle.load" not in source


def test_a_model_on_a_device_loads_there_or_where_map_location_says(device):
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU()).to(device)
    buffer = _saved(gputensor, model)
    loaded = gputensor.load(buffer, weights_only=False)
    assert {p.device.type for p in loaded.parameters()} == {device}
    buffer.seek(0)
    on_cpu = gputensor.load(buffer, weights_only=False, map_location="cpu")
    assert {p.device.type for p in on_cpu.parameters()} == {"cpu"}
    x = gputensor.randn(4, 2)
    assert np.array_equal(on_cpu(x).detach().numpy(), model(x.to(device)).detach().cpu().numpy())
