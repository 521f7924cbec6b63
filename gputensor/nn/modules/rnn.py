"""Recurrent layers ``nn.RNN``, ``nn.LSTM``, ``nn.GRU``: stacked, optionally bidirectional,
on padded batches or ``PackedSequence``s, built from differentiable ops."""

from __future__ import annotations

import math
import numbers
import warnings

from ...ops import creation, shape
from ...ops.activations import dropout as apply_dropout
from ...ops.gather import index_select
from ...ops.nn_ops import linear
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module
from .rnn_cells import STEPS

__all__ = ["GRU", "LSTM", "RNN", "RNNBase"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _run_direction(step, projected, batch_sizes, state0, weights, reverse):
    """Run one direction of one layer over the per-step projected inputs.

    ``batch_sizes`` (host ints, non-increasing) says how many sequences are still running at
    each step; a sequence that ends leaves its state as its final state. Returns the per-step
    outputs in time order and the final state (a tuple of (batch, *) tensors).
    """
    count = len(projected)
    outputs = [None] * count
    if not reverse:
        state, finished = state0, []
        for t in range(count):
            size = batch_sizes[t]
            if size < state[0].shape[0]:  # the longest sequences go on; the others are done
                finished.append(tuple(s[size:] for s in state))
                state = tuple(s[:size] for s in state)
            state = step(projected[t], state, *weights)
            outputs[t] = state[0]
        if finished:
            pieces = [state, *reversed(finished)]
            state = tuple(shape.cat([p[k] for p in pieces], 0) for k in range(len(state)))
        return outputs, state
    last = batch_sizes[-1]
    state = state0 if last == state0[0].shape[0] else tuple(s[:last] for s in state0)
    for t in reversed(range(count)):
        size, running = batch_sizes[t], state[0].shape[0]
        if size > running:  # more sequences start (from their end) at this step
            state = tuple(shape.cat([s, s0[running:size]], 0) for s, s0 in zip(state, state0))
        state = step(projected[t], state, *weights)
        outputs[t] = state[0]
    return outputs, state


class RNNBase(Module):
    """What RNN, LSTM and GRU share: parameters, checks, the layer loop, repr."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None):
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        self._check_options(mode, dropout)
        directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        factory = {"device": device, "dtype": dtype}
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input = input_size if layer == 0 else real_hidden * directions
                suffix = "_reverse" if direction == 1 else ""
                shapes = [("weight_ih", (gate_size, layer_input)),
                          ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes += [("weight_hr", (proj_size, hidden_size))]
                names = []
                for kind, size in shapes:
                    name = f"{kind}_l{layer}{suffix}"
                    setattr(self, name, Parameter(creation.empty(*size, **factory)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def _check_options(self, mode, dropout):
        """torch's argument checks, in torch's order."""
        if (not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1
                or isinstance(dropout, bool)):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and self.num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={self.num_layers}", stacklevel=4)
        for name in ("bias", "batch_first"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} should be of type bool, got: "
                                f"{type(getattr(self, name)).__name__}")
        for name in ("input_size", "hidden_size"):
            value = getattr(self, name)
            if not isinstance(value, int):
                raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
            if value <= 0:
                raise ValueError(f"{name} must be greater than zero")
        if self.num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if self.proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if self.proj_size >= self.hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)

    def reset_parameters(self) -> None:
        """Every parameter ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as torch draws."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def flatten_parameters(self) -> None:
        """Nothing to do: the weights are used where they are (cuDNN's packing is torch's)."""

    @property
    def all_weights(self):
        """The parameters, one list per layer and direction."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    def extra_repr(self) -> str:
        """What torch prints inside this layer's parentheses."""
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first is not False:
            text += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            text += f", bidirectional={self.bidirectional}"
        return text

    # ---- checks --------------------------------------------------------------------------
    def check_input(self, input, batch_sizes) -> None:  # noqa: A002 - torch's name
        """The input's dtype, number of dims and feature size (torch's errors)."""
        weight_dtype = self.weight_ih_l0.dtype
        if input.dtype != weight_dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype "
                             f"({weight_dtype}). Convert input: input.to({weight_dtype}), or "
                             f"convert model: model.to({input.dtype})")
        expected = 2 if batch_sizes is not None else 3
        if input.ndim != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {input.ndim}")
        if self.input_size != input.shape[-1]:
            raise RuntimeError("input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")

    def get_expected_hidden_size(self, input, batch_sizes):  # noqa: A002
        """(layers * directions, batch, hidden or proj size) as a tuple."""
        if batch_sizes is not None:
            batch = batch_sizes[0]
        else:
            batch = input.shape[0] if self.batch_first else input.shape[1]
        directions = 2 if self.bidirectional else 1
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * directions, batch, size)

    @staticmethod
    def check_hidden_size(hx, expected, msg="Expected hidden size {}, got {}") -> None:
        """Raise torch's RuntimeError when ``hx`` is not of the expected shape."""
        if tuple(hx.shape) != tuple(expected):
            raise RuntimeError(msg.format(expected, list(hx.shape)))

    def check_forward_args(self, input, hidden, batch_sizes) -> None:  # noqa: A002
        """Input and hidden state checks."""
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def permute_hidden(self, hx, permutation):
        """The hidden state's batch reordered by ``permutation`` (None: unchanged)."""
        if permutation is None:
            return hx
        return index_select(hx, 1, permutation)

    # ---- the layers ----------------------------------------------------------------------
    def _run(self, input, batch_sizes, states):  # noqa: A002
        """Every layer and direction over ``input`` ((T, B, I), or packed (N, I) when
        ``batch_sizes`` is given) from ``states`` (a tuple of (L*D, B, *) tensors).

        Returns (output, final states) with output (T, B, D*H) or packed (N, D*H).
        """
        packed = batch_sizes is not None
        steps = batch_sizes if packed else [input.shape[1]] * input.shape[0]
        step = STEPS[self.mode]
        directions = 2 if self.bidirectional else 1
        finals = [[] for _ in states]
        layer_input = input
        for layer in range(self.num_layers):
            results = []
            for direction in range(directions):
                params = self.all_weights[layer * directions + direction]
                w_ih, w_hh = params[0], params[1]
                b_ih, b_hh = (params[2], params[3]) if self.bias else (None, None)
                w_hr = params[-1] if self.proj_size > 0 else None
                projected = linear(layer_input, w_ih, b_ih)  # every time step at once
                projected = (shape.split(projected, steps, 0) if packed
                             else shape.unbind(projected, 0))
                state0 = tuple(s[layer * directions + direction] for s in states)
                outputs, final = _run_direction(step, projected, steps, state0,
                                                (w_hh, b_hh, w_hr), reverse=direction == 1)
                results.append(shape.cat(outputs, 0) if packed else shape.stack(outputs, 0))
                for kept, value in zip(finals, final):
                    kept.append(value)
            layer_input = results[0] if directions == 1 else shape.cat(results, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = apply_dropout(layer_input, self.dropout, True)
        return layer_input, tuple(shape.stack(kept, 0) for kept in finals)

    def _zero_state(self, input, batch, size):  # noqa: A002
        directions = 2 if self.bidirectional else 1
        return creation.zeros(self.num_layers * directions, batch, size, dtype=input.dtype,
                              device=input.device)

    def _forward(self, input, hx):  # noqa: A002
        """The shared forward: ``hx`` a tuple of states (one for RNN/GRU, two for LSTM) or
        None; returns (output, tuple of final states)."""
        is_lstm = self.mode == "LSTM"
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        sizes = (real_hidden, self.hidden_size) if is_lstm else (self.hidden_size,)
        if isinstance(input, PackedSequence):
            data, batch_sizes_tensor, sorted_indices, unsorted_indices = input
            batch_sizes = batch_sizes_tensor.tolist()
            if hx is None:
                hx = tuple(self._zero_state(data, batch_sizes[0], n) for n in sizes)
            else:
                hx = tuple(self.permute_hidden(h, sorted_indices) for h in hx)
            self._check_states(data, hx, batch_sizes)
            output, finals = self._run(data, batch_sizes, hx)
            output = PackedSequence(output, batch_sizes_tensor, sorted_indices,
                                    unsorted_indices)
            return output, tuple(self.permute_hidden(h, unsorted_indices) for h in finals)
        kind = "LSTM" if is_lstm else self.mode.split("_")[0]
        if input.ndim not in (2, 3):
            tensor = " tensor" if kind == "RNN" else ""
            raise ValueError(f"{kind}: Expected input to be 2D or 3D, got {input.ndim}D"
                             f"{tensor} instead")
        is_batched = input.ndim == 3
        batch_dim = 0 if self.batch_first else 1
        if not is_batched:
            input = input.unsqueeze(batch_dim)
        if hx is not None:
            self._check_state_dims(hx, is_batched)
            if not is_batched:
                hx = tuple(h.unsqueeze(1) for h in hx)
        else:
            batch = input.shape[0] if self.batch_first else input.shape[1]
            hx = tuple(self._zero_state(input, batch, n) for n in sizes)
        self._check_states(input, hx, None)
        if self.batch_first:
            input = input.transpose(0, 1)
        output, finals = self._run(input, None, hx)
        if self.batch_first:
            output = output.transpose(0, 1)
        if not is_batched:
            output = output.squeeze(batch_dim)
            finals = tuple(h.squeeze(1) for h in finals)
        return output, finals

    def _check_state_dims(self, hx, is_batched):
        dims = 3 if is_batched else 2
        text = "batched 3-D" if is_batched else "unbatched 2-D"
        if self.mode == "LSTM":
            if hx[0].ndim != dims or hx[1].ndim != dims:
                raise RuntimeError(f"For {text} input, hx and cx should also be {dims}-D but "
                                   f"got ({hx[0].ndim}-D, {hx[1].ndim}-D) tensors")
        elif hx[0].ndim != dims:
            raise RuntimeError(f"For {text} input, hx should also be {dims}-D but got "
                               f"{hx[0].ndim}-D tensor")

    def _check_states(self, input, hx, batch_sizes):  # noqa: A002
        if self.mode != "LSTM":
            self.check_forward_args(input, hx[0], batch_sizes)
            return
        self.check_input(input, batch_sizes)
        expected = self.get_expected_hidden_size(input, batch_sizes)
        self.check_hidden_size(hx[0], expected, "Expected hidden[0] size {}, got {}")
        cell = (*expected[:2], self.hidden_size)
        self.check_hidden_size(hx[1], cell, "Expected hidden[1] size {}, got {}")


class RNN(RNNBase):
    """A stacked Elman RNN: h_t = tanh or relu(x_t W_ih^T + b_ih + h_(t-1) W_hh^T + b_hh)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None,
                 **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if kwargs:
            raise TypeError(f"RNN.__init__() got an unexpected keyword argument "
                            f"'{next(iter(kwargs))}'")
        self.nonlinearity = nonlinearity
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             "'relu'.")
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)

    def forward(self, input, hx=None):  # noqa: A002
        """(output, h_n): every step's last-layer state and every layer's final state."""
        output, (h_n,) = self._forward(input, None if hx is None else (hx,))
        return output, h_n


class LSTM(RNNBase):
    """A stacked long short-term memory network, with an optional projection of h."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device=device, dtype=dtype)

    def forward(self, input, hx=None):  # noqa: A002
        """(output, (h_n, c_n))."""
        output, finals = self._forward(input, None if hx is None else tuple(hx))
        return output, finals


class GRU(RNNBase):
    """A stacked gated recurrent unit network."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if kwargs:
            raise TypeError(f"GRU.__init__() got an unexpected keyword argument "
                            f"'{next(iter(kwargs))}'")
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)

    def forward(self, input, hx=None):  # noqa: A002
        """(output, h_n)."""
        output, (h_n,) = self._forward(input, None if hx is None else (hx,))
        return output, h_n
