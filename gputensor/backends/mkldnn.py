"""``torch.backends.mkldnn``: oneDNN, which gputensor does not use."""

enabled = True


def is_available() -> bool:
    """False: gputensor has no oneDNN kernels."""
    return False
