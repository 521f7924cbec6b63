"""The examples run: the digits classifier reaches its accuracy and writes its files."""

import contextlib
import importlib.util
import io
import runpy
import sys
from pathlib import Path

import numpy as np
import torch

import gputensor
from helpers import my_cool_net

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))  # as running an example puts its folder first


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # where dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_train_digits_reaches_95_percent_and_saves_plot_and_checkpoint(tmp_path, capsys,
                                                                       cuda_unavailable):
    digits = _load("train_digits")
    accuracy = digits.main(["--device", "cuda", "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    assert accuracy >= 0.95
    assert "CUDA is not available here; training on the CPU instead." in printed
    assert (tmp_path / "training.png").stat().st_size > 0
    checkpoint = gputensor.load(tmp_path / "digits.gtckpt")
    assert checkpoint["epoch"] == 30 and "0.weight" in checkpoint["model"]


def test_train_cnn_reaches_97_percent_and_saves_its_files(tmp_path, capsys, cuda_unavailable):
    cnn = _load("train_cnn")
    accuracy = cnn.main(["--device", "cuda", "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    assert accuracy >= 0.97
    assert "CUDA is not available here; training on the CPU instead." in printed
    assert "the reloaded model agrees" in printed
    for name in ("training.png", "mistakes.png"):
        assert (tmp_path / name).stat().st_size > 0
    checkpoint = gputensor.load(tmp_path / "cnn.gtckpt")
    assert checkpoint["epoch"] == 8 and "features.0.weight" in checkpoint["model"]
    assert checkpoint["schedule"]["total_steps"] == 8 * 23  # 1437 training digits, batches of 64


def _tour_output(default_device="cpu"):
    """What the seed tour prints with ``default_device`` as gputensor's default device."""
    out = io.StringIO()
    gputensor.set_default_device(default_device)
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(str(EXAMPLES / "seed_tour.py"), run_name="__main__")
    finally:
        gputensor.set_default_device("cpu")
    return out.getvalue()


def test_seed_tour_runs_end_to_end():
    text = _tour_output()
    assert "== 4. The optim package ==" in text and "Loss 9:" in text


def test_seed_tour_on_cuda_prints_what_the_cpu_prints(cuda_device):
    # as benchmarks/gpu_check.sh runs it (there against torch on the GPU)
    on_cuda = _tour_output(cuda_device)
    assert "== 4. The optim package ==" in on_cuda and "Loss 9:" in on_cuda
    sections = on_cuda.split("== 3. Modules ==")[0]
    assert sections.count("device='cuda:0'") > 10
    assert sections.replace(", device='cuda:0'", "") == _tour_output().split("== 3.")[0]


def _seed_section_4_losses(lib, weights, make_optimizer):
    model = my_cool_net(lib)
    model.load_state_dict({k: lib.tensor(v) for k, v in weights.items()})
    optimizer = make_optimizer(lib, model)
    x = lib.tensor([1., 2, 3, 4, 5])
    losses = []
    for _ in range(10):
        out = model(x)
        loss = lib.sum((0 - out) ** 2)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    return losses


def test_seed_sections_3_and_4_give_torch_losses_from_the_same_weights():
    reference = my_cool_net(torch)
    weights = {k: v.detach().numpy().copy() for k, v in reference.state_dict().items()}
    for make in (lambda lib, m: lib.optim.SGD(m.parameters(), lr=0.1, momentum=0.8),
                 lambda lib, m: lib.optim.Adam(m.parameters(), lr=0.01)):
        ours = _seed_section_4_losses(gputensor, weights, make)
        theirs = _seed_section_4_losses(torch, weights, make)
        np.testing.assert_allclose(ours, theirs, rtol=1e-5)
        assert theirs[-1] < theirs[0]


def test_train_gpt_quick_run_lowers_the_loss_and_samples_text(tmp_path, capsys,
                                                              cuda_unavailable):
    gpt = _load("train_gpt")
    result = gpt.main(["--quick", "--device", "cuda", "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    assert "CUDA is not available here; training on the CPU instead." in printed
    losses = result["losses"]
    assert len(losses) == 30 and np.mean(losses[-5:]) < losses[0] - 0.3
    sample = result["sample"]
    assert sample.startswith("The ") and len(sample) == len("The ") + 60
    assert set(sample) <= set(gpt.TEXT.read_text()) and sample in printed
    assert (tmp_path / "loss.png").stat().st_size > 0

    checkpoint = gputensor.load(result["checkpoint"])
    assert checkpoint["step"] == 30
    assert checkpoint["chars"] == "".join(sorted(set(gpt.TEXT.read_text())))
    restored = gpt.GPT(gpt.GPTConfig(**checkpoint["config"]))
    restored.load_state_dict(checkpoint["model"])
    restored.eval()
    idx = gputensor.tensor([[1, 2, 3, 4]])
    with gputensor.no_grad():
        assert (restored(idx)[0] == result["model"](idx)[0]).all().item()


def test_gpt_weight_decay_groups_and_learning_rate_schedule():
    gpt = _load("train_gpt")
    model = gpt.GPT(gpt.GPTConfig(vocab_size=5, block_size=4, n_layer=1, n_head=1, n_embd=4))
    decay, no_decay = gpt.configure_optimizer(model, 1e-3, 0.1).param_groups
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert all(p.dim() == 2 for p in decay["params"])
    assert all(p.dim() == 1 for p in no_decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))
    factor = gpt.warmup_cosine(warmup=10, total=110, floor=0.1)
    assert [factor(0), factor(4), factor(9)] == [0.1, 0.5, 1.0]
    np.testing.assert_allclose([factor(10), factor(60), factor(110), factor(200)],
                               [1.0, 0.55, 0.1, 0.1])


def test_train_gpt_on_cuda_gives_the_cpu_losses(tmp_path, cuda_device):
    gpt = _load("train_gpt")
    quick = ["--quick", "--steps", "4", "--sample-length", "5"]
    on_cuda = gpt.main([*quick, "--device", cuda_device, "--out", str(tmp_path / "cuda")])
    on_cpu = gpt.main([*quick, "--device", "cpu", "--out", str(tmp_path / "cpu")])
    assert next(on_cuda["model"].parameters()).device.type == "cuda"
    np.testing.assert_allclose(on_cuda["losses"], on_cpu["losses"], rtol=1e-4)
    assert len(on_cuda["sample"]) == len("The ") + 5
