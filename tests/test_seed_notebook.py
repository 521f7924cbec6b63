"""Sections 1 and 2 of the seed notebook print exactly what torch prints."""

import contextlib
import io
import runpy
import sys
from pathlib import Path

import torch

import gputensor

TOUR = Path(__file__).resolve().parent.parent / "examples" / "seed_tour.py"


def _run_with(module) -> str:
    saved = sys.modules.get("gputensor")
    sys.modules["gputensor"] = module
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(str(TOUR), run_name="__main__")
    finally:
        sys.modules["gputensor"] = saved
    return out.getvalue()


def _sections_1_and_2(text: str) -> str:
    return text.split("== 3. Modules ==")[0]


def test_seed_sections_1_and_2_print_what_torch_prints():
    ours = _sections_1_and_2(_run_with(gputensor))
    theirs = _sections_1_and_2(_run_with(torch))
    assert ours.replace("gputensor.", "torch.") == theirs
    assert "tensor([8.], grad_fn=<RsubBackward1>)" in ours
    assert "The size of tensor a (2) must match the size of tensor b (3) at non-singleton " \
           "dimension 2" in ours
