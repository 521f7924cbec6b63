"""The fused row hooks (layer norm, softmax over the last dim), shared by the CPU and CUDA
backends: each runs a row kernel module (kernels/cpu/rows.py, kernels/cuda/rows.py, one
source) when the backend's ``use_our_kernel`` table chooses it for the hook."""

from __future__ import annotations

from .flat_step import KERNEL_DTYPES


class RowHooks:
    """``layer_norm_rows``/``softmax_rows`` and their backwards by a row kernel module.

    A backend mixing this in has ``use_our_kernel`` (hook -> bool, with "layer_norm",
    "softmax", "softmax_backward" and "log_softmax_backward") and ``row_kernels()`` (the
    kernel module, loaded on first use).
    """

    def layer_norm_rows(self, x2, weight, bias, eps):
        """``(y, mean, rstd)`` of layer norm over the rows of 2-D ``x2`` by the row kernel, or
        None where the op's array formula is to run instead (hook off, dtype without kernel)."""
        if not self.use_our_kernel["layer_norm"] or x2.dtype not in KERNEL_DTYPES:
            return None
        return self.row_kernels().layer_norm_forward(x2, weight, bias, eps)

    def layer_norm_rows_backward(self, g2, x2, mean, rstd, weight, needs):
        """``(dx, dweight, dbias)`` after ``layer_norm_rows``; None for each not in ``needs``."""
        return self.row_kernels().layer_norm_backward(g2, x2, mean, rstd, weight, needs)

    def softmax_rows(self, x2, mask=None, log=False):
        """Softmax (``log``: log_softmax) of the rows of 2-D ``x2`` by the row kernel, or None
        where the op's array formula is to run instead."""
        if not self.use_our_kernel["softmax"] or x2.dtype not in KERNEL_DTYPES:
            return None
        return self.row_kernels().softmax_forward(x2, mask, log)

    def softmax_rows_backward(self, g2, y, mask=None, log=False):
        """The input gradient of softmax (``log``: log_softmax) over the rows of 2-D ``y``,
        its output (however computed), by the row kernel; or None where the op's array
        formula is to run instead (hook "softmax_backward" or "log_softmax_backward" off,
        dtype without kernel)."""
        hook = "log_softmax_backward" if log else "softmax_backward"
        if not self.use_our_kernel[hook] or y.dtype not in KERNEL_DTYPES:
            return None
        return self.row_kernels().softmax_backward(g2, y, mask, log)
