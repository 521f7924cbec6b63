"""``gputensor.distributed``: not implemented yet; ``is_available()`` says so (False).

Scripts that test ``torch.distributed.is_available()`` before using it take their
single-process path.
"""

__all__ = ["is_available", "is_initialized"]


def is_available() -> bool:
    """False: gputensor has no distributed backend yet."""
    return False


def is_initialized() -> bool:
    """False: no process group can be initialised."""
    return False
