"""An array namespace whose common float ufuncs run our Numba elementwise kernels.

``KernelNamespace(base, elementwise)`` is ``base`` (CuPy, or the simulation's stand-in)
except for the ufuncs in ``UFUNC_OPS``: called with float32 or float64 arrays of one dtype
and no keyword arguments, they allocate the broadcast result and run
``kernels/cuda/elementwise``; any other call (Python numbers, mixed dtypes, ``out=``, ufunc
methods such as ``add.at``) goes to ``base``'s ufunc. The CUDA backend uses it as ``xp``
when ``USE_OUR_KERNEL["elementwise"]`` is on.
"""

from __future__ import annotations

import numpy as np

# NumPy/CuPy ufunc name -> (our kernel's op name, number of inputs)
UFUNC_OPS = {
    "add": ("add", 2), "subtract": ("sub", 2), "multiply": ("mul", 2),
    "divide": ("div", 2), "true_divide": ("div", 2), "maximum": ("maximum", 2),
    "minimum": ("minimum", 2), "power": ("pow", 2), "negative": ("neg", 1),
    "absolute": ("abs", 1), "abs": ("abs", 1), "exp": ("exp", 1), "log": ("log", 1),
    "log1p": ("log1p", 1), "expm1": ("expm1", 1), "sqrt": ("sqrt", 1), "sin": ("sin", 1),
    "cos": ("cos", 1), "tanh": ("tanh", 1), "sign": ("sign", 1),
}
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class KernelUfunc:
    """``base_ufunc``, computed by our kernel ``op`` when the operands allow it."""

    def __init__(self, base_ufunc, op: str, arity: int, namespace):
        self._base, self._op, self._arity, self._xp = base_ufunc, op, arity, namespace
        self.__name__ = getattr(base_ufunc, "__name__", op)

    def __call__(self, *args, **kwargs):
        xp = self._xp
        if kwargs or len(args) != self._arity:
            return self._base(*args, **kwargs)
        array_type = xp.ndarray
        dtype = getattr(args[0], "dtype", None)
        if dtype not in _FLOATS or not all(isinstance(a, array_type) and a.dtype == dtype
                                           for a in args):
            return self._base(*args, **kwargs)
        shape = np.broadcast_shapes(*(a.shape for a in args))
        return xp._elementwise(self._op, xp.empty(shape, dtype), *args)

    def __getattr__(self, name):
        value = getattr(self._base, name)
        setattr(self, name, value)  # found once, then an instance attribute
        return value


class KernelNamespace:
    """``base`` with the ufuncs of ``UFUNC_OPS`` routed to ``elementwise`` where it applies."""

    def __init__(self, base, elementwise):
        self._base = base
        self._elementwise = elementwise
        for name, (op, arity) in UFUNC_OPS.items():
            setattr(self, name, KernelUfunc(getattr(base, name), op, arity, self))

    def __getattr__(self, name):
        return getattr(self._base, name)
