"""``torch.backends.mkl``: whether Intel's MKL is NumPy's BLAS here."""

import numpy as np


def is_available() -> bool:
    """True when the NumPy gputensor runs on is linked against MKL."""
    config = np.show_config(mode="dicts") or {}
    blas = config.get("Build Dependencies", {}).get("blas", {})
    return "mkl" in str(blas.get("name", "")).lower()
