"""``torch.backends.mps``: Apple's Metal devices, which gputensor does not use."""


def is_available() -> bool:
    """False: gputensor has no Metal backend."""
    return False


def is_built() -> bool:
    """False: gputensor is not built for Metal."""
    return False
