"""The CUDA kernels' 32-bit-index variants and their 64-bit fallbacks give the same results.

The launchers take the 32-bit-index kernel when every size and offset fits; lowering the
limit makes them take the 64-bit one on the same small inputs. Simulated (and on a real GPU
with the ``gpu`` variant).
"""

import numpy as np
import pytest
from kernel_params import host

from gputensor.kernels.cuda import launch, matmul


@pytest.mark.parametrize("layouts", [("contiguous", "contiguous"), ("transposed", "flipped")])
def test_matmul_index_widths_agree_bit_for_bit(layouts, xp, monkeypatch):
    rng = np.random.default_rng(5)
    a_ref = rng.standard_normal((9, 11)).astype(np.float32)
    b_ref = rng.standard_normal((11, 7)).astype(np.float32)
    a = xp.asarray(a_ref.T.copy()).T if layouts[0] == "transposed" else xp.asarray(a_ref)
    b = xp.asarray(b_ref[:, ::-1].copy())[:, ::-1] if layouts[1] == "flipped" else xp.asarray(b_ref)
    narrow = host(matmul.matmul(a, b))
    monkeypatch.setattr(matmul, "INT32_LIMIT", 0)
    wide = host(matmul.matmul(a, b))
    assert (matmul.MATMUL["int64"], matmul.SIGNATURES["int64"]) in launch._COMPILED
    np.testing.assert_array_equal(narrow, wide)
    np.testing.assert_allclose(narrow, a_ref.astype(np.float64) @ b_ref, rtol=1e-5, atol=1e-5)
