"""Run a program written for torch with gputensor standing in: ``python as_torch.py prog.py``.

Every ``import torch`` / ``import torch.x.y`` in the program (and in what it imports) gets
``gputensor`` / ``gputensor.x.y``; nothing in the program changes.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import runpy
import sys


class TorchAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``torch`` and ``torch.*`` and loads gputensor's modules of the same names."""

    def find_spec(self, name, path=None, target=None):
        """A spec for the torch names, None for every other module."""
        if name == "torch" or name.startswith("torch."):
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec):
        """gputensor's module of the same dotted name, as it is."""
        return importlib.import_module("gputensor" + spec.name[len("torch"):])

    def exec_module(self, module):
        """Nothing to run: the gputensor module is imported already."""


def main() -> None:
    """Run the program given on the command line as ``__main__``."""
    sys.meta_path.insert(0, TorchAlias())
    program = sys.argv[1]
    sys.argv = sys.argv[1:]
    runpy.run_path(program, run_name="__main__")


if __name__ == "__main__":
    main()
