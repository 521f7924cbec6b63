"""Running from a source checkout that was never installed: find ``gputensor.kernels``.

An install maps the checkout's ``kernels/`` folder to the subpackage ``gputensor.kernels``
(``package-dir`` in pyproject.toml). Imported from the checkout itself (``PYTHONPATH=.``),
``gputensor/`` has no ``kernels`` folder: this module, imported first by the package, lets
``gputensor.kernels`` load from ``../kernels`` then, or raises an ImportError that says what
to do when neither is there.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
CHECKOUT_KERNELS = os.path.join(os.path.dirname(PACKAGE_DIR), "kernels")


class CheckoutKernelsFinder(importlib.abc.MetaPathFinder):
    """Finds ``gputensor.kernels`` in the checkout's ``kernels/`` folder."""

    def find_spec(self, name, path=None, target=None):
        """The spec of ``gputensor.kernels`` (its submodules then follow its ``__path__``)."""
        if name != "gputensor.kernels":
            return None
        return importlib.util.spec_from_file_location(
            name, os.path.join(CHECKOUT_KERNELS, "__init__.py"),
            submodule_search_locations=[CHECKOUT_KERNELS])


def _find_kernels() -> None:
    if os.path.isfile(os.path.join(PACKAGE_DIR, "kernels", "__init__.py")):
        return  # installed (or an editable install's link): nothing to do
    if os.path.isfile(os.path.join(CHECKOUT_KERNELS, "__init__.py")):
        if not any(isinstance(f, CheckoutKernelsFinder) for f in sys.meta_path):
            sys.meta_path.insert(0, CheckoutKernelsFinder())
        return
    # neither: this folder shadows whatever is installed, whose kernels may not match it
    raise ImportError(f"gputensor.kernels is missing: {PACKAGE_DIR} has no kernels "
                      "subpackage and no kernels/ folder beside it. Install gputensor (from a "
                      "source checkout: pip install -e .) instead of importing the gputensor/ "
                      "folder directly.")


_find_kernels()
