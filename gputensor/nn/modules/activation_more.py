"""More activation modules: Softplus, Hardtanh, ReLU6, Hardswish, Hardsigmoid, Mish, PReLU,
SELU, CELU, GLU, LogSigmoid, Threshold, Tanhshrink, Softshrink, Hardshrink, Softsign,
Softmin and Softmax2d."""

from __future__ import annotations

from ...ops import creation
from ...ops import softmaxes as _softmaxes
from .. import functional as F  # noqa: N812 - torch's spelling
from ..parameter import Parameter
from .module import Module

__all__ = ["CELU", "GLU", "Hardshrink", "Hardsigmoid", "Hardswish", "Hardtanh", "LogSigmoid",
           "Mish", "PReLU", "ReLU6", "SELU", "Softmax2d", "Softmin", "Softplus", "Softshrink",
           "Softsign", "Tanhshrink", "Threshold"]


def _inplace_text(inplace) -> str:
    return "inplace=True" if inplace else ""


class Softplus(Module):
    """log(1 + exp(beta x)) / beta, linear above ``threshold``."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        """``F.softplus``."""
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        """What torch prints inside this layer's parentheses."""
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """x clamped to [min_val, max_val]."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace
        if self.max_val <= self.min_val:
            raise AssertionError()

    def forward(self, input):
        """``F.hardtanh``."""
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        """What torch prints inside this layer's parentheses."""
        inplace_str = ", inplace=True" if self.inplace else ""
        return f"min_val={self.min_val}, max_val={self.max_val}{inplace_str}"


class ReLU6(Hardtanh):
    """min(max(x, 0), 6)."""

    def __init__(self, inplace: bool = False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        """What torch prints inside this layer's parentheses."""
        return _inplace_text(self.inplace)


class _InplaceActivation(Module):
    """An activation whose only setting is ``inplace``."""

    function = None
    shows_inplace = True

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        """The activation's functional form."""
        return type(self).function(input, self.inplace)

    def extra_repr(self) -> str:
        """What torch prints inside this layer's parentheses."""
        return _inplace_text(self.inplace) if self.shows_inplace else ""


class Hardswish(_InplaceActivation):
    """x * relu6(x + 3) / 6."""

    function = staticmethod(F.hardswish)
    shows_inplace = False


class Hardsigmoid(_InplaceActivation):
    """relu6(x + 3) / 6."""

    function = staticmethod(F.hardsigmoid)
    shows_inplace = False


class Mish(_InplaceActivation):
    """x * tanh(softplus(x))."""

    function = staticmethod(F.mish)


class SELU(_InplaceActivation):
    """scale * elu(x, alpha) with the self-normalising constants."""

    function = staticmethod(F.selu)


class CELU(Module):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        """``F.celu``."""
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        """What torch prints inside this layer's parentheses."""
        inplace_str = ", inplace=True" if self.inplace else ""
        return f"alpha={self.alpha}{inplace_str}"


class PReLU(Module):
    """x where x > 0, else a learned slope times x (one slope, or one per channel)."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        self.num_parameters = num_parameters
        super().__init__()
        self.init = init
        self.weight = Parameter(creation.empty(num_parameters, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every slope ``init``."""
        self.weight.data.fill_(self.init)

    def forward(self, input):
        """``F.prelu``."""
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        """What torch prints inside this layer's parentheses."""
        return f"num_parameters={self.num_parameters}"


class GLU(Module):
    """a * sigmoid(b), a and b the halves of the input along ``dim``."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        """``F.glu``."""
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        """What torch prints inside this layer's parentheses."""
        return f"dim={self.dim}"


class Threshold(Module):
    """x where x > threshold, else value."""

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input):
        """``F.threshold``."""
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        """What torch prints inside this layer's parentheses."""
        inplace_str = ", inplace=True" if self.inplace else ""
        return f"threshold={self.threshold}, value={self.value}{inplace_str}"


class _Shrink(Module):
    """A shrink with its ``lambd``."""

    function = None

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        """The shrink's functional form."""
        return type(self).function(input, self.lambd)

    def extra_repr(self) -> str:
        """What torch prints inside this layer's parentheses."""
        return str(self.lambd)


class Softshrink(_Shrink):
    """x - lambd above lambd, x + lambd below -lambd, else 0."""

    function = staticmethod(F.softshrink)


class Hardshrink(_Shrink):
    """0 inside [-lambd, lambd], else x."""

    function = staticmethod(F.hardshrink)


class LogSigmoid(Module):
    """log(sigmoid(x))."""

    def forward(self, input):
        """``F.logsigmoid``."""
        return F.logsigmoid(input)


class Tanhshrink(Module):
    """x - tanh(x)."""

    def forward(self, input):
        """``F.tanhshrink``."""
        return F.tanhshrink(input)


class Softsign(Module):
    """x / (1 + |x|)."""

    def forward(self, input):
        """``F.softsign``."""
        return F.softsign(input)


class Softmin(Module):
    """softmax(-x) along ``dim``."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        """``F.softmin``."""
        return F.softmin(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        """What torch prints inside this layer's parentheses."""
        return f"dim={self.dim}"


class Softmax2d(Module):
    """softmax over the channels of each location of a (C, H, W) or (N, C, H, W) input."""

    def forward(self, input):
        """softmax along dim -3."""
        if input.dim() not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.dim()}D "
                             "instead")
        return _softmaxes.softmax(input, -3)
