"""Random fills and samples: ``normal_``, ``uniform_``, ``bernoulli``, ``random_``, ``normal``, ...

The numbers come from gputensor's generator (``generator=`` or the global one), drawn on
the host and copied to the tensor's device. Each in-place fill is an op whose gradient is
zero (the old values are gone), with torch's grad_fn name (``NormalBackward0``, ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import dtypes
from .._tensor_core import TensorCore
from ..autograd.function import Op, check_same_device
from ..random import as_numpy_generator
from .common import broadcast_shapes, not_implemented, shape_arg
from .creation import _np_dtype, _place
from .inplace import CPP_NAMES, apply_inplace
from .out import write_out

if TYPE_CHECKING:
    from .._tensor import Tensor

__all__ = ["bernoulli", "normal", "poisson"]

# the largest integer random_() draws by default: what the dtype holds exactly
_RANDOM_BITS = {dtypes.float16: 11, dtypes.bfloat16: 8, dtypes.float32: 24, dtypes.float64: 53,
                dtypes.int64: 63, dtypes.int32: 31, dtypes.int16: 15, dtypes.int8: 7,
                dtypes.uint8: 8, dtypes.bool: 1}


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


def _fill(t: Tensor, op, host_values) -> Tensor:
    return apply_inplace(t, op.apply, _device_array(t, host_values))


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
    gen = as_numpy_generator(generator)
    return _fill(self, NormalFill, mean + std * gen.standard_normal(self.shape))


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
    gen = as_numpy_generator(generator)
    return _fill(self, UniformFill, gen.uniform(low, high, self.shape))


def bernoulli_(self, p=0.5, *, generator=None) -> Tensor:
    """Fill with 1 where a draw with probability ``p`` (a number or a tensor) succeeds, else 0."""
    gen = as_numpy_generator(generator)
    if isinstance(p, TensorCore):
        check_same_device(self, p)
        broadcast_shapes(p.shape, self.shape)
        with self._on_device():
            uniform = self._backend.asarray(gen.random(self.shape), index=self._device.index)
            values = uniform < p._data
        return apply_inplace(self, BernoulliTensorFill.apply, values)
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_number(p)}")
    return _fill(self, BernoulliFill, gen.random(self.shape) < p)


def exponential_(self, lambd=1.0, *, generator=None) -> Tensor:
    """Fill with samples from the exponential distribution of rate ``lambd``."""
    _require_continuous(self, "Exponential")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found "
                           f"lambda={_number(lambd)}")
    gen = as_numpy_generator(generator)
    return _fill(self, ExponentialFill, gen.exponential(1 / lambd, self.shape))


def random_(self, *args, generator=None, **bounds) -> Tensor:
    """Fill with integers uniform in [from, to - 1] (``random_(to)``, ``random_(from, to)``;
    ``random_()``: the integers the dtype holds exactly)."""
    given = dict(zip(("from", "to") if len(args) == 2 else ("to",), args), **bounds)
    op = RandomRangeFill if "from" in given else RandomToFill if "to" in given else RandomFill
    low, high = given.get("from", 0), given.get("to")
    if high is None:  # every integer the dtype holds exactly: floats up to 2^mantissa
        bits = _RANDOM_BITS[self.dtype]
        high = 2 ** bits + (1 if self.dtype.is_floating_point else 0)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got "
                           f"from={low} >= to={high}")
    gen = as_numpy_generator(generator)
    return _fill(self, op, gen.integers(low, high, self.shape, dtype=np.int64))


def geometric_(self, p, *, generator=None) -> Tensor:
    """Fill with the number of trials up to the first success of probability ``p``."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_number(p)}")
    gen = as_numpy_generator(generator)
    return _fill(self, GeometricFill, gen.geometric(p, self.shape))


def log_normal_(self, mean=1.0, std=2.0, *, generator=None) -> Tensor:
    """Fill with exp of samples from N(mean, std^2)."""
    _require_float(self, "log_normal")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={_number(std)}")
    gen = as_numpy_generator(generator)
    return _fill(self, LogNormalFill, gen.lognormal(mean, std, self.shape))


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None) -> Tensor:
    """Fill with samples from the Cauchy distribution around ``median`` of scale ``sigma``."""
    _require_continuous(self, "Cauchy", cpp_names=True)
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={_number(sigma)}")
    gen = as_numpy_generator(generator)
    return _fill(self, CauchyFill, median + sigma * gen.standard_cauchy(self.shape))


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
    """Samples from N(mean, std^2): ``mean`` and/or ``std`` tensors, or numbers and ``size``."""
    gen = as_numpy_generator(generator)
    mean_t, std_t = isinstance(mean, TensorCore), isinstance(std, TensorCore)
    if not mean_t and not std_t:
        if size is None:
            got = ", ".join(type(a).__name__ for a in (mean, std))
            raise TypeError(_NORMAL_FORMS.format(got))
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {_number(std)}")
        values = mean + std * gen.standard_normal(shape_arg((size,)))
        result = _place(values.astype(_np_dtype(dtype)), device, requires_grad)
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
        z = _device_array(like, gen.standard_normal(shape))
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
    gen = as_numpy_generator(generator)
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
        uniform = input._backend.asarray(gen.random(input.shape), index=input._device.index)
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
    counts = as_numpy_generator(generator).poisson(rates)
    with input._on_device():
        return Poisson.apply(input, _device_array(input, counts))

