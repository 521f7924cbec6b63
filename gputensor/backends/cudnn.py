"""``torch.backends.cudnn``'s switches, for scripts that set them (``benchmark = True``).

gputensor does not use cuDNN, so the switches change nothing and ``is_available()`` is
False; they are here so that such scripts run unchanged.
"""

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """False: gputensor has no cuDNN kernels."""
    return False


def version():
    """None: no cuDNN library is loaded."""
    return None
