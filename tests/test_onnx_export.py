"""gputensor.onnx.export: traced models written as ONNX and run by onnxruntime."""

import io
import os
import subprocess
import sys

import numpy as np
import pytest

import gputensor
import gputensor.onnx
from gputensor import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

onnx = pytest.importorskip("onnx", reason="the onnx extra is not installed")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")


def _run(data, feeds):
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    return session.run(None, {k: v.numpy() for k, v in feeds.items()})


def _expected(model, *args):
    with gputensor.no_grad():
        out = model(*args)
    return [t.numpy() for t in (out if isinstance(out, tuple) else (out,))]


def _mlp():
    return nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.LayerNorm(8), nn.Dropout(0.5), nn.ReLU(),
                         nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 3, bias=False), nn.Sigmoid(),
                         nn.Softmax(dim=-1))


@pytest.mark.parametrize("opset", [17, 18, 20])
def test_a_sequential_model_runs_the_same_in_onnxruntime_with_a_dynamic_batch(opset, tmp_path):
    model = _mlp()
    path = tmp_path / "mlp.onnx"
    gputensor.onnx.export(model, (gputensor.randn(5, 4),), path, input_names=["x"],
                          output_names=["probs"], opset_version=opset,
                          dynamic_axes={"x": {0: "batch"}, "probs": {0: "batch"}})
    assert model.training  # export traces in eval mode and gives the mode back
    loaded = onnx.load(str(path))
    assert loaded.opset_import[0].version == opset
    assert [i.name for i in loaded.graph.input] == ["x"]
    assert loaded.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    x = gputensor.randn(9, 4)  # another batch size than the trace's
    model.eval()
    (got,) = _run(path.read_bytes(), {"x": x})
    np.testing.assert_allclose(got, _expected(model, x)[0], rtol=1e-5, atol=1e-6)


class Tagger(nn.Module):
    """Embedding, attention, arithmetic in forward, two outputs."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 8)
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
        self.norm = nn.LayerNorm(8)
        self.head = nn.Linear(8, 5)

    def forward(self, tokens):
        h = self.embed(tokens)
        a, weights = self.attn(h, h, h)
        h = self.norm(h + a) * 0.5 - 1.0
        logits = self.head(h).transpose(1, 2)
        return nn.functional.log_softmax(logits, dim=1), weights.mean(dim=1)


def test_embedding_attention_and_two_outputs():
    model = Tagger()
    tokens = gputensor.tensor([[1, 2, 3, 4], [5, 6, 7, 19]])
    buffer = io.BytesIO()
    gputensor.onnx.export(model, tokens, buffer, input_names=["tokens"])
    model.eval()
    got = _run(buffer.getvalue(), {"tokens": tokens})
    for ours, theirs in zip(got, _expected(model, tokens)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make, x_shape", [
    (lambda: nn.LSTM(3, 4, num_layers=2), (5, 2, 3)),
    (lambda: nn.GRU(3, 4, batch_first=True, bidirectional=True), (2, 5, 3)),
    (lambda: nn.RNN(3, 4, nonlinearity="relu"), (4, 1, 3)),
])
def test_recurrent_layers_unrolled_over_the_traced_length(make, x_shape):
    model = make()
    x = gputensor.randn(*x_shape)
    buffer = io.BytesIO()
    gputensor.onnx.export(model, (x,), buffer, input_names=["x"])
    model.eval()
    got = _run(buffer.getvalue(), {"x": x})
    out, state = model(x)
    expected = [out, *(state if isinstance(state, tuple) else (state,))]
    assert len(got) == len(expected)
    for ours, theirs in zip(got, expected):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-5, atol=1e-6)


class RunningTotal(nn.Module):
    """A model with an op that has no ONNX form here."""

    def forward(self, x):
        return gputensor.cumsum(x, 0).relu()


def test_an_op_without_an_onnx_form_is_named():
    with pytest.raises(gputensor.onnx.UnsupportedOperatorError,
                       match="Exporting the operator 'Cumsum' to ONNX opset version 18 is not "
                             "supported") as err:
        gputensor.onnx.export(RunningTotal(), gputensor.randn(2, 3), io.BytesIO())
    assert isinstance(err.value, RuntimeError)
    with pytest.raises(gputensor.onnx.UnsupportedOperatorError,
                       match="'NativeLayerNorm' to ONNX opset version 16"):
        gputensor.onnx.export(nn.LayerNorm(3), gputensor.randn(2, 3), io.BytesIO(),
                              opset_version=16)


def test_import_works_without_the_onnx_package():
    code = ("import sys; sys.modules['onnx'] = None\n"
            "import gputensor, gputensor.onnx\n"
            "try:\n"
            "    gputensor.onnx.export(gputensor.nn.ReLU(), gputensor.ones(1), 'x.onnx')\n"
            "except ImportError as err:\n"
            "    print(err)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT)).stdout
    assert "pip install 'gputensor[onnx]'" in out


def test_export_from_every_device(device):
    model = nn.Sequential(nn.Linear(3, 4), nn.SiLU(), nn.LayerNorm(4), nn.LeakyReLU(0.2))
    model.to(device)
    x = gputensor.randn(2, 3, device=device)
    buffer = io.BytesIO()
    gputensor.onnx.export(model, (x,), buffer, input_names=["x"])
    (got,) = _run(buffer.getvalue(), {"x": x.cpu()})
    np.testing.assert_allclose(got, model(x).detach().cpu().numpy(), rtol=1e-5, atol=1e-6)
