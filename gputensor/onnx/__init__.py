"""``gputensor.onnx.export``: a model traced once and written as an ONNX file.

The ``onnx`` package is needed only when exporting (``pip install 'gputensor[onnx]'``);
importing this module works without it.
"""

from ._export import export
from ._graph import UnsupportedOperatorError

__all__ = ["export", "UnsupportedOperatorError"]
