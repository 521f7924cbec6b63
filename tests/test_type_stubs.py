"""Type checkers know gputensor's names: the Tensor stub is current, and mypy and pyright
report nothing on a program written for torch, while still catching a real mistake."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import gputensor
from gputensor import _stubgen

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "tests" / "programs" / "typed_classifier.py"
MISTAKE = """\
import gputensor as torch

x = torch.randn(3, 4)
total = x.summ(dim=1)
"""


def test_the_checked_in_stub_is_current():
    assert _stubgen.STUB_PATH.read_text() == _stubgen.render(), (
        "gputensor/_tensor.pyi is out of date: run python -m gputensor._stubgen")


def test_the_stub_declares_every_public_method_of_tensor():
    text = _stubgen.STUB_PATH.read_text()
    public = [n for n in dir(gputensor.Tensor) if not n.startswith("_")]
    missing = [n for n in public if f"def {n}(" not in text and f"    {n}: " not in text]
    assert missing == []


def test_the_package_is_marked_typed():
    assert (ROOT / "gputensor" / "py.typed").exists()
    assert '"py.typed", "*.pyi"' in (ROOT / "pyproject.toml").read_text()


def test_every_public_name_is_listed_in_all():
    public = {n for n in dir(gputensor) if not n.startswith("_")
              and type(getattr(gputensor, n)).__name__ != "module"}
    assert public - set(gputensor.__all__) == set()
    assert [n for n in gputensor.__all__ if not hasattr(gputensor, n)] == []


def test_the_typed_program_trains():
    output = subprocess.run([sys.executable, str(PROGRAM)], capture_output=True, text=True,
                            check=True).stdout
    accuracy = float(output.strip().splitlines()[-1].split()[-1])
    assert accuracy > 0.9, output


def _mypy(path: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--follow-imports=silent", "--no-color-output",
         "--cache-dir", str(tmp_path / "mypy_cache"), str(path)],
        capture_output=True, text=True, env=env, cwd=tmp_path)


def _pyright(path: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    executable = shutil.which("basedpyright") or str(Path(sys.executable).with_name(
        "basedpyright"))
    config = tmp_path / "pyrightconfig.json"
    config.write_text('{"extraPaths": ["%s"], "typeCheckingMode": "standard"}' % ROOT)
    return subprocess.run([executable, "--project", str(config), str(path)],
                          capture_output=True, text=True, cwd=tmp_path)


@pytest.mark.parametrize("checker", [_mypy, _pyright], ids=["mypy", "pyright"])
def test_a_program_written_for_torch_type_checks(checker, tmp_path):
    result = checker(PROGRAM, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("checker", [_mypy, _pyright], ids=["mypy", "pyright"])
def test_a_misspelled_method_is_reported(checker, tmp_path):
    script = tmp_path / "mistake.py"
    script.write_text(MISTAKE)
    result = checker(script, tmp_path)
    assert result.returncode != 0
    assert "summ" in result.stdout and "Tensor" in result.stdout
