"""linspace gives torch's values bit for bit: torch fills from both ends with a fused
multiply-add, so NumPy's linspace differs in the last bit (and prints differently)."""

import numpy as np
import pytest
import torch

import gputensor

RANGES = [(-1, 1, 7), (-1, 1, 15), (-1, 1, 16), (0, 1, 100), (-3.5, 2.25, 61), (0, 10, 1001),
          (0.1, 0.7, 13), (-1, 1, 2352), (3, -7, 11), (0, 100, 7), (2, 2, 5), (-2, 2, 1),
          (0, 1, 0), (0, 1, 2)]


CASES = [(*r, dtype) for dtype in ("float32", "float64", "int64", "int32") for r in RANGES]
CASES += [(*r, "uint8") for r in RANGES if min(r[0], r[1]) >= 0]


@pytest.mark.parametrize("start, end, steps, dtype", CASES)
def test_linspace_values_are_torchs_bit_for_bit(start, end, steps, dtype):
    ours = gputensor.linspace(start, end, steps, dtype=getattr(gputensor, dtype))
    theirs = torch.linspace(start, end, steps, dtype=getattr(torch, dtype))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert str(ours.dtype)[len("gputensor"):] == str(theirs.dtype)[len("torch"):]


@pytest.mark.parametrize("start, end, steps", [(-1, 1, 7), (-1, 1, 15), (0, 1, 100),
                                               (-3.5, 2.25, 61), (0.1, 0.7, 13)])
def test_linspace_float16_values_are_torchs(start, end, steps):
    ours = gputensor.linspace(start, end, steps, dtype=gputensor.float16)
    theirs = torch.linspace(start, end, steps, dtype=torch.float16)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_linspace_prints_as_torchs(device):
    ours = gputensor.linspace(-1, 1, 7, device=device).cpu()
    assert str(ours).replace("gputensor", "torch") == str(torch.linspace(-1, 1, 7))
