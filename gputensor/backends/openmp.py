"""``torch.backends.openmp``: whether CPU kernels run on several threads (Numba's, here)."""


def is_available() -> bool:
    """True: the CPU kernels (Numba's parallel loops, NumPy's BLAS) use several threads."""
    return True
