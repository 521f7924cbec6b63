"""Random fills and samples: ``normal_``, ``uniform_``, ``bernoulli``, ``random_``, ``normal``, ...

The numbers are torch's (``random_draws``: the generator's mt19937 stream and ATen's
transforms), drawn on the host in the order torch fills the tensor and copied to its device.
Each in-place fill is an op whose gradient is zero (the old values are gone), with torch's
grad_fn name (``NormalBackward0``, ...).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .. import dtypes, random_draws
from .._tensor_core import TensorCore
from ..autograd.devices import check_same_device
from ..autograd.function import Op
from ..random import as_generator
from .common import broadcast_shapes, not_implemented, shape_arg
from .creation import _np_dtype, _place
from .inplace import CPP_NAMES, apply_inplace
from .out import write_out

if TYPE_CHECKING:
    from .._tensor import Tensor

__all__ = ["bernoulli", "normal", "poisson"]

class _Fill(Op):
    """The tensor replaced by drawn values (already on its device); the gradient is zero."""

    @staticmethod
    def forward(ctx, x, values):
        return values.astype(x.dtype)

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.zeros_like(g), None  # d fill = 0: the output forgets the input


def _fill_op(opname, variant=0):
    return type(f"{opname}Fill", (_Fill,), {"opname": opname, "variant": variant,
                                             "__doc__": f"In-place ``{opname}`` fill."})


NormalFill = _fill_op("Normal")
UniformFill = _fill_op("Uniform")
BernoulliTensorFill = _fill_op("Bernoulli", 1)
BernoulliFill = _fill_op("Bernoulli", 2)
ExponentialFill = _fill_op("Exponential")
RandomRangeFill = _fill_op("Random", 0)
RandomToFill = _fill_op("Random", 1)
RandomFill = _fill_op("Random", 2)
GeometricFill = _fill_op("Geometric")
LogNormalFill = _fill_op("LogNormal")
CauchyFill = _fill_op("Cauchy")


def _device_array(t: Tensor, host_values):
    """Host-drawn values as an array of ``t``'s dtype on ``t``'s device."""
    values = np.asarray(host_values).astype(t.dtype.numpy)
    return t._backend.asarray(values, index=t._device.index)


def _laid_out(t: Tensor, flat_values):
    """Values drawn in torch's fill order for ``t``, on its device in ``t``'s shape."""
    return _device_array(t, random_draws.place(flat_values, t.shape, t._data.strides))


def _fill(t: Tensor, op, flat_values) -> Tensor:
    return apply_inplace(t, op.apply, _laid_out(t, flat_values))


def _contiguous(t: Tensor) -> bool:
    return bool(t._data.flags.c_contiguous)


def _require_float(t: Tensor, kernel: str) -> None:
    if not t.dtype.is_floating_point:
        raise not_implemented(kernel, t.dtype, t._device)


def _require_continuous(t: Tensor, name: str, cpp_names=False) -> None:
    if not t.dtype.is_floating_point:
        kind = CPP_NAMES[t.dtype] if cpp_names else dtypes.SCALAR_TYPE_NAMES[t.dtype]
        raise RuntimeError(f"{name} distribution is a continuous probability distribution. "
                           f"dtype must be a floating point but you specified {kind}")


def _number(value) -> str:
    """A number as torch prints it in these messages (1.5, -1, 0)."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def normal_(self, mean=0.0, std=1.0, *, generator=None) -> Tensor:
    """Fill with samples from N(mean, std^2)."""
    _require_float(self, "normal_kernel")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_number(std)}")
    values = random_draws.normal(as_generator(generator), self.numel(), self.dtype, mean, std,
                                 _contiguous(self))
    return _fill(self, NormalFill, values)


def uniform_(self, *args, generator=None, **bounds) -> Tensor:
    """Fill with samples from U(from, to) (``uniform_(from=0, to=1)``)."""
    names = ("from", "to")
    values = dict(zip(names, (0.0, 1.0)))
    values.update(zip(names, args))
    values.update(bounds)
    low, high = values["from"], values["to"]
    if not self.dtype.is_floating_point:
        raise NotImplementedError(f'"check_uniform_bounds" not implemented for '
                                  f"'{dtypes.SCALAR_TYPE_NAMES[self.dtype]}'")
    if low > high:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={_number(low)} > to={_number(high)}")
    narrow = self.dtype.numpy.type  # torch casts the bounds to the tensor's dtype first
    values = random_draws.uniform(as_generator(generator), self.numel(), self.dtype,
                                  float(narrow(low)), float(narrow(high)))
    return _fill(self, UniformFill, values)


def bernoulli_(self, p=0.5, *, generator=None) -> Tensor:
    """Fill with 1 where a draw with probability ``p`` (a number or a tensor) succeeds, else 0.

    As torch 2.13 on the CPU: a number ``p`` compares one 53-bit uniform per element (torch's
    serial kernel, not MKL's, so no result depends on the thread count); a tensor ``p``
    one 53-bit uniform for float64 probabilities, else a 24-bit one."""
    gen = as_generator(generator)
    if isinstance(p, TensorCore):
        check_same_device(self, p)
        broadcast_shapes(p.shape, self.shape)
        draw_dtype = dtypes.float64 if p.dtype == dtypes.float64 else dtypes.float32
        with self._on_device():  # one uniform per element, 53 bits for float64 p, else 24
            uniform = random_draws.uniform(gen, self.numel(), draw_dtype)
            uniform = self._backend.asarray(
                random_draws.place(uniform, self.shape, self._data.strides),
                index=self._device.index)
            values = uniform < p._data
        return apply_inplace(self, BernoulliTensorFill.apply, values)
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_number(p)}")
    return _fill(self, BernoulliFill, random_draws.uniform_double(gen, self.numel()) < p)


def exponential_(self, lambd=1.0, *, generator=None) -> Tensor:
    """Fill with samples from the exponential distribution of rate ``lambd``."""
    _require_continuous(self, "Exponential")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found "
                           f"lambda={_number(lambd)}")
    values = random_draws.exponential(as_generator(generator), self.numel(), lambd)
    return _fill(self, ExponentialFill, values)


def random_(self, *args, generator=None, **bounds) -> Tensor:
    """Fill with integers uniform in [from, to - 1] (``random_(to)``, ``random_(from, to)``;
    ``random_()``: the integers the dtype holds exactly)."""
    given = dict(zip(("from", "to") if len(args) == 2 else ("to",), args), **bounds)
    op = RandomRangeFill if "from" in given else RandomToFill if "to" in given else RandomFill
    low, high = given.get("from", 0), given.get("to")
    gen = as_generator(generator)
    if high is None and "from" in given:  # [from, the dtype's largest exact integer]
        return _fill(self, op, random_draws.integers_from(gen, self.numel(), int(low),
                                                          self.dtype))
    if high is None:  # every integer the dtype holds exactly: floats up to 2^mantissa
        return _fill(self, op, random_draws.random_bits(gen, self.numel(), self.dtype))
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                           f"from={low} >= to={high}")
    return _fill(self, op, random_draws.integers(gen, self.numel(), int(low), int(high),
                                                 self.dtype))


def geometric_(self, p, *, generator=None) -> Tensor:
    """Fill with the number of trials up to the first success of probability ``p``."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_number(p)}")
    values = random_draws.geometric(as_generator(generator), self.numel(), p)
    return _fill(self, GeometricFill, values)


def log_normal_(self, mean=1.0, std=2.0, *, generator=None) -> Tensor:
    """Fill with exp of samples from N(mean, std^2)."""
    _require_float(self, "log_normal")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={_number(std)}")
    values = random_draws.log_normal(as_generator(generator), self.numel(), mean, std)
    return _fill(self, LogNormalFill, values)


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None) -> Tensor:
    """Fill with samples from the Cauchy distribution around ``median`` of scale ``sigma``."""
    _require_continuous(self, "Cauchy", cpp_names=True)
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={_number(sigma)}")
    values = random_draws.cauchy(as_generator(generator), self.numel(), median, sigma)
    return _fill(self, CauchyFill, values)


# ---- samples as new tensors ----------------------------------------------------------
class _Sample(Op):
    """``mean + std * z`` for standard normal ``z``; the gradients are zero (as torch's)."""

    opname = "Normal"

    @staticmethod
    def forward(ctx, mean, std, z):
        return (mean + std * z).astype(z.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        zero = ctx.xp.zeros_like(g)
        return zero, zero, None  # d sample = 0 (torch's derivative)


NormalTensorMean = type("NormalTensorMean", (_Sample,), {"variant": 1})
NormalTensorStd = type("NormalTensorStd", (_Sample,), {"variant": 2})
NormalTensors = type("NormalTensors", (_Sample,), {"variant": 3})


def _check_std_tensor(std: Tensor) -> None:
    xp = std._backend.xp
    if bool(xp.any(std._data < 0)):  # one read back to the host
        raise RuntimeError("normal expects all elements of std >= 0.0")


_NORMAL_FORMS = (
    "normal() received an invalid combination of arguments - got ({}), but expected one of:\n"
    " * (Tensor mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)\n"
    " * (Tensor mean, float std = 1, *, torch.Generator generator = None, Tensor out = None)\n"
    " * (float mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)\n"
    " * (float mean, float std, tuple of ints size, *, torch.Generator generator = None, "
    "Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, torch.device "
    "device = None, bool pin_memory = False, bool requires_grad = False)\n")


def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, device=None,
           requires_grad=False) -> Tensor:
    """Samples from N(mean, std^2): ``mean`` and/or ``std`` tensors, or numbers and ``size``.

    As torch: standard normals are drawn into the result (``normal_(0, 1)``), then scaled
    by ``std`` and shifted by ``mean``."""
    gen = as_generator(generator)
    mean_t, std_t = isinstance(mean, TensorCore), isinstance(std, TensorCore)
    if not mean_t and not std_t:
        if size is None:
            got = ", ".join(type(a).__name__ for a in (mean, std))
            raise TypeError(_NORMAL_FORMS.format(got))
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {_number(std)}")
        shape = shape_arg((size,))
        dt = dtypes.from_numpy_dtype(_np_dtype(dtype))
        values = random_draws.normal(gen, math.prod(shape), dt, mean, std)
        result = _place(values.astype(dt.numpy).reshape(shape), device, requires_grad)
        return write_out("normal", result, out)
    if mean_t and std_t:
        check_same_device(mean, std)
        shape, like, op = broadcast_shapes(mean.shape, std.shape), mean, NormalTensors
        _check_std_tensor(std)
    elif mean_t:
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {_number(std)}")
        shape, like, op = mean.shape, mean, NormalTensorMean
    else:
        _check_std_tensor(std)
        shape, like, op = std.shape, std, NormalTensorStd
    with like._on_device():
        z = random_draws.normal(gen, math.prod(shape), like.dtype)
        z = _device_array(like, z.reshape(shape))
        return write_out("normal", op.apply(mean, std, z), out)


class Bernoulli(Op):
    """1 where a uniform draw falls below the probability, else 0; the gradient is zero."""

    @staticmethod
    def forward(ctx, p, uniform):
        return (uniform < p).astype(p.dtype)

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.zeros_like(g), None  # d bernoulli = 0


def bernoulli(input, p=None, *, generator=None, out=None) -> Tensor:  # noqa: A002
    """0/1 samples: 1 with probability ``input`` (or ``p`` when given), ``input``'s dtype."""
    if p is not None:
        with input._on_device():
            return write_out("bernoulli", bernoulli_(input.detach().clone(), p,
                                                     generator=generator), out)
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f'"bernoulli_tensor_{input._device.type}_p_" not '
                                  f"implemented for '{dtypes.SCALAR_TYPE_NAMES[input.dtype]}'")
    xp, data = input._backend.xp, input._data
    if bool(xp.any((data < 0) | (data > 1))):  # one read back to the host
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  "
                           "(Could this error message be improved?  If so, please report an "
                           "enhancement request to PyTorch.)")
    with input._on_device():
        draw_dtype = dtypes.float64 if input.dtype == dtypes.float64 else dtypes.float32
        # torch fills a contiguous result (empty_like in the legacy contiguous format)
        uniform = random_draws.uniform(as_generator(generator), input.numel(), draw_dtype)
        uniform = uniform.reshape(input.shape)
        uniform = input._backend.asarray(uniform, index=input._device.index)
        return write_out("bernoulli", Bernoulli.apply(input, uniform), out)


class Poisson(Op):
    """Counts drawn on the host (given as an array) in the rates' dtype; the gradient is zero."""

    @staticmethod
    def forward(ctx, rates, counts):
        return counts.astype(rates.dtype)

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.zeros_like(g), None  # d poisson = 0


def poisson(input, generator=None) -> Tensor:  # noqa: A002
    """Poisson counts with the rates in ``input`` (a float tensor)."""
    if not input.dtype.is_floating_point:
        raise not_implemented("poisson", input.dtype, input._device)
    rates = input._backend.to_numpy(input._data).astype(np.float64)  # drawn on the host
    if np.any(rates < 0):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    # torch walks the rates in C order (its result is contiguous)
    counts = random_draws.poisson(as_generator(generator), np.ascontiguousarray(rates).ravel())
    counts = counts.reshape(rates.shape)
    with input._on_device():
        return Poisson.apply(input, _device_array(input, counts))

