"""Convolution layers: ``Conv1d``, ``Conv2d``, ``ConvTranspose1d``, ``ConvTranspose2d``, with
torch's arguments, checks, initialisation and printing."""

from __future__ import annotations

import math

from ...ops import creation
from ...ops.conv_padding import pad_for_conv
from .. import functional as F  # noqa: N812 - torch's spelling
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]


def _tuple(value, count):
    """An int repeated ``count`` times; a sequence as a tuple; a string as it is."""
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return (value,) * count
    return tuple(value)


class _ConvNd(Module):
    """What every convolution layer shares: checks, parameters, initialisation, repr."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, device=None,
                 dtype=None):
        super().__init__()
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        valid_padding_strings = {"same", "valid"}
        if isinstance(padding, str):
            if padding not in valid_padding_strings:
                raise ValueError(f"Invalid padding string {padding!r}, should be one of "
                                 f"{valid_padding_strings}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        valid_padding_modes = {"zeros", "reflect", "replicate", "circular"}
        if padding_mode not in valid_padding_modes:
            raise ValueError(f"padding_mode must be one of {valid_padding_modes}, but got "
                             f"padding_mode='{padding_mode}'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = transposed
        self.output_padding = output_padding
        self.groups = groups
        self.padding_mode = padding_mode
        self._reversed_padding_repeated_twice = _padding_for_pad(padding, kernel_size, dilation)
        shape = ((in_channels, out_channels // groups) if transposed
                 else (out_channels, in_channels // groups)) + tuple(kernel_size)
        self.weight = Parameter(creation.empty(shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw fresh weights as torch does (kaiming_uniform_ with a=sqrt(5), bias from
        U(-1/sqrt(fan_in), 1/sqrt(fan_in)))."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        """What torch prints inside this layer's parentheses."""
        s = "{in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}"
        if self.padding != (0,) * len(self.padding):
            s += ", padding={padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += ", dilation={dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += ", output_padding={output_padding}"
        if self.groups != 1:
            s += ", groups={groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += ", padding_mode={padding_mode}"
        return s.format(**self.__dict__)

    def _conv_forward(self, input, weight, bias):
        """The convolution, after the padding of a non-zeros ``padding_mode``."""
        conv = F.conv1d if len(self.kernel_size) == 1 else F.conv2d
        if self.padding_mode != "zeros":
            flat = self._reversed_padding_repeated_twice
            pads = [(flat[2 * i], flat[2 * i + 1]) for i in range(len(flat) // 2)][::-1]
            return conv(pad_for_conv(input, pads, self.padding_mode), weight, bias,
                        self.stride, 0, self.dilation, self.groups)
        return conv(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        """The convolution of ``input`` with this layer's weight and bias."""
        return self._conv_forward(input, self.weight, self.bias)


def _padding_for_pad(padding, kernel_size, dilation):
    """torch's _reversed_padding_repeated_twice: (before, after) pairs, last dim first."""
    if isinstance(padding, str):
        pads = [0, 0] * len(kernel_size)
        if padding == "same":
            for d, k, i in zip(dilation, kernel_size, range(len(kernel_size) - 1, -1, -1)):
                total = d * (k - 1)
                pads[2 * i], pads[2 * i + 1] = total // 2, total - total // 2
        return pads
    return tuple(p for p in reversed(padding) for _ in range(2))


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) or (C, L) input."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, _tuple(kernel_size, 1), _tuple(stride, 1),
                         _tuple(padding, 1), _tuple(dilation, 1), False, (0,), groups, bias,
                         padding_mode, device, dtype)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W) or (C, H, W) input."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, _tuple(kernel_size, 2), _tuple(stride, 2),
                         _tuple(padding, 2), _tuple(dilation, 2), False, (0, 0), groups, bias,
                         padding_mode, device, dtype)


class _ConvTransposeNd(_ConvNd):
    """What the transposed convolution layers share: zeros padding, output_size."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 output_padding, groups, bias, padding_mode, device, dtype):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for '
                             f"{self.__class__.__name__}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         True, output_padding, groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size, dims):
        """The output padding that gives ``output_size`` (torch's rules and message)."""
        if output_size is None:
            return self.output_padding
        batched = input.ndim == dims + 2
        leading = 2 if batched else 1
        output_size = list(output_size)
        if len(output_size) == leading + dims:
            output_size = output_size[leading:]
        if len(output_size) != dims:
            raise ValueError(f"ConvTranspose{dims}D: for {input.ndim}D input, output_size must "
                             f"have {dims} or {leading + dims} elements (got "
                             f"{len(output_size)})")
        low = [(input.shape[d + leading] - 1) * self.stride[d] - 2 * self.padding[d]
               + self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(dims)]
        high = [low[d] + self.stride[d] - 1 for d in range(dims)]
        for size, lo, hi in zip(output_size, low, high):
            if size < lo or size > hi:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes "
                                 f"range from {low} to {high} (for an input of "
                                 f"{input.shape[leading:]})")
        return tuple(size - lo for size, lo in zip(output_size, low))

    def forward(self, input, output_size=None):
        """The transposed convolution of ``input`` (``output_size`` picks among the sizes a
        stride allows)."""
        dims = len(self.kernel_size)
        output_padding = self._output_padding(input, output_size, dims)
        conv = F.conv_transpose1d if dims == 1 else F.conv_transpose2d
        return conv(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                    self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution (the gradient of Conv1d) over (N, C, L) or (C, L) input."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, _tuple(kernel_size, 1), _tuple(stride, 1),
                         _tuple(padding, 1), _tuple(dilation, 1), _tuple(output_padding, 1),
                         groups, bias, padding_mode, device, dtype)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution (the gradient of Conv2d) over (N, C, H, W) or (C, H, W)
    input."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        super().__init__(in_channels, out_channels, _tuple(kernel_size, 2), _tuple(stride, 2),
                         _tuple(padding, 2), _tuple(dilation, 2), _tuple(output_padding, 2),
                         groups, bias, padding_mode, device, dtype)
