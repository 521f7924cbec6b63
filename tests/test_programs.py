"""Programs written for torch print the same under gputensor as under torch.

Each program in ``tests/programs/`` runs twice in a subprocess: as it is, under torch, and
through ``as_torch.py``, with gputensor standing in for every ``import torch``. The two
outputs must read the same once ``gputensor`` is read as ``torch``: the same words and
punctuation (white space around numbers and brackets does not count, since a number's width
may change its padding and line breaks), the same integers, and floats equal within the
program's tolerance (looser for numbers that come after training steps, where rounding
differences add up). A failure shows the differing numbers and a diff of the two outputs.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = ROOT / "tests" / "programs"
RUNNER = PROGRAMS / "as_torch.py"


@dataclass(frozen=True)
class Tolerance:
    """How close two printed floats must be: ``|a - b| <= atol + rtol * |b|``."""

    rtol: float
    atol: float


EXACT = Tolerance(rtol=0.0, atol=0.0)  # the same random numbers and arithmetic: no slack
ONE_SHOT = Tolerance(rtol=1e-4, atol=1e-6)
TRAINED = Tolerance(rtol=2e-3, atol=1e-5)

# the programs run in CI, with the tolerance of their floats (the random numbers are
# torch's, so only the arithmetic after them, linear algebra and training, needs slack)
COMPARED = {
    "tensor_basics.py": ONE_SHOT,
    "tensor_ops.py": EXACT,
    "autograd_basics.py": EXACT,
    "build_model.py": EXACT,
    "training_loop.py": TRAINED,
    "lstm_lm.py": ONE_SHOT,
    "transformer.py": ONE_SHOT,
    "cnn_classifier.py": ONE_SHOT,
    "distribution_fit.py": TRAINED,
    "reinforce_vae.py": TRAINED,
}
# programs that need what gputensor does not have yet, with what they wait for
WAITING: dict[str, str] = {}
# files here that are not programs to compare
NOT_PROGRAMS = {"as_torch.py", "typed_classifier.py"}

NUMBER = re.compile(r"(?<![\w.])-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.])"
                    r"|(?<![\w.])-?(?:nan|inf)(?![\w.])")


def _environment() -> dict:
    """The test process's environment with no CUDA device (simulated or real: both libraries
    run on the CPU, where torch is the reference), one thread each, and the repo importable."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("GPUTENSOR_SIMULATE_CUDA", "NUMBA_ENABLE_CUDASIM")}
    env["CUDA_VISIBLE_DEVICES"] = ""
    env["OMP_NUM_THREADS"] = "1"  # torch's thread pool only slows tiny ops on a busy machine
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def run_both(program: Path, workdir: Path) -> tuple[str, str]:
    """What ``program`` prints under torch and under gputensor, run side by side."""
    commands = {"torch": [sys.executable, str(program)],
                "gputensor": [sys.executable, str(RUNNER), str(program)]}
    processes = {}
    for name, command in commands.items():
        folder = workdir / name
        folder.mkdir()
        processes[name] = subprocess.Popen(command, cwd=folder, env=_environment(),
                                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                           text=True)
    outputs = {}
    for name, process in processes.items():
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, f"{program.name} failed under {name}:\n{stderr}"
        outputs[name] = stdout
    return outputs["torch"], outputs["gputensor"]


def _as_torch(text: str) -> str:
    return text.replace("gputensor", "torch")


def _skeleton(text: str) -> str:
    """The text with every number replaced by ``#``, white space around numbers and brackets
    dropped and other runs of white space read as one space."""
    text = re.sub(r"\s+", " ", NUMBER.sub("#", text))
    return re.sub(r" ?([#\[\](),]) ?", r"\1", text).strip()


def _is_integer(token: str) -> bool:
    return re.fullmatch(r"-?\d+", token) is not None


def differences(expected: str, actual: str, tolerance: Tolerance) -> list[str]:
    """How ``actual`` (gputensor's output, read as torch) differs from ``expected``."""
    if _skeleton(expected) != _skeleton(actual):
        return ["the texts differ in more than their numbers"]
    found = []
    for want, got in zip(NUMBER.findall(expected), NUMBER.findall(actual)):
        if _is_integer(want) and _is_integer(got):
            same = int(want) == int(got)
        else:
            a, b = float(got), float(want)
            same = (math.isnan(a) and math.isnan(b)) or a == b or (
                abs(a - b) <= tolerance.atol + tolerance.rtol * abs(b))
        if not same:
            found.append(f"torch printed {want}, gputensor {got}")
    return found


def _report(program: str, expected: str, actual: str, found: list[str]) -> str:
    diff = difflib.unified_diff(expected.splitlines(), actual.splitlines(),
                                "under torch", "under gputensor", lineterm="", n=2)
    return "\n".join([f"{program}: " + "; ".join(found[:8]), *diff])


@pytest.mark.parametrize("program", sorted(COMPARED))
def test_program_prints_what_torch_prints(program, tmp_path):
    expected, actual = run_both(PROGRAMS / program, tmp_path)
    actual = _as_torch(actual)
    assert expected.strip(), f"{program} printed nothing under torch"
    found = differences(expected, actual, COMPARED[program])
    assert not found, _report(program, expected, actual, found)


def test_every_program_is_compared_or_waits_with_a_reason():
    files = {p.name for p in PROGRAMS.glob("*.py")} - NOT_PROGRAMS
    assert files == set(COMPARED) | set(WAITING)
    assert not set(COMPARED) & set(WAITING)


@pytest.mark.parametrize("expected, actual, same", [
    ("loss 0.5000 at step 3", "loss 0.5000 at step 3", True),
    ("loss 0.5000 at step 3", "loss 0.50001 at step 3", True),
    ("loss 0.5000 at step 3", "loss 0.5100 at step 3", False),
    ("loss 0.5000 at step 3", "loss 0.5000 at step 4", False),
    ("tensor([ 1.0000e+00, -2.9802e-08])", "tensor([1.0000, 0.0000])", True),
    ("torch.Size([3, 4])", "torch.Size([3, 4, 1])", False),
    ("fc1.weight torch.float32", "fc2.weight torch.float32", False),
    ("tensor(nan)", "tensor(nan)", True),
    ("x: tensor(True)", "x: True", False),
])
def test_comparison_reads_numbers_and_words(expected, actual, same):
    assert (not differences(expected, actual, ONE_SHOT)) == same
