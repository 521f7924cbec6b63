"""One time step of each recurrent layer (shared with ``nn.RNN``/``LSTM``/``GRU``) and the
cell modules ``RNNCell``, ``LSTMCell``, ``GRUCell``."""

from __future__ import annotations

import math

from ...ops import creation, pointwise
from ...ops.nn_ops import linear
from .. import init
from ..parameter import Parameter
from .module import Module

__all__ = ["GRUCell", "LSTMCell", "RNNCell", "RNNCellBase"]


# ---- one step: (projected input, state) -> new state --------------------------------------
# ``projected`` is input @ weight_ih.T + bias_ih, computed for every time step at once by the
# layers; a state is a tuple: (h,) or, for the LSTM, (h, c).
def rnn_tanh_step(projected, state, weight_hh, bias_hh, weight_hr=None):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)."""
    return (pointwise.tanh(projected + linear(state[0], weight_hh, bias_hh)),)


def rnn_relu_step(projected, state, weight_hh, bias_hh, weight_hr=None):
    """h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh)."""
    return (pointwise.relu(projected + linear(state[0], weight_hh, bias_hh)),)


def lstm_step(projected, state, weight_hh, bias_hh, weight_hr=None):
    """Gates i, f, g, o; c' = f c + i g; h' = o tanh(c') (then h' W_hr^T with a projection)."""
    hidden, cell = state
    gates = projected + linear(hidden, weight_hh, bias_hh)
    in_gate, forget_gate, cell_gate, out_gate = gates.chunk(4, 1)
    in_gate = pointwise.sigmoid(in_gate)
    forget_gate = pointwise.sigmoid(forget_gate)
    cell_gate = pointwise.tanh(cell_gate)
    out_gate = pointwise.sigmoid(out_gate)
    new_cell = forget_gate * cell + in_gate * cell_gate
    new_hidden = out_gate * pointwise.tanh(new_cell)
    if weight_hr is not None:
        new_hidden = linear(new_hidden, weight_hr)
    return new_hidden, new_cell


def gru_step(projected, state, weight_hh, bias_hh, weight_hr=None):
    """r, z = sigmoid(...); n = tanh(x_n + r (h W_hn^T + b_hn)); h' = n + z (h - n)."""
    hidden = state[0]
    in_reset, in_update, in_new = projected.chunk(3, 1)
    h_reset, h_update, h_new = linear(hidden, weight_hh, bias_hh).chunk(3, 1)
    reset_gate = pointwise.sigmoid(in_reset + h_reset)
    update_gate = pointwise.sigmoid(in_update + h_update)
    new_gate = pointwise.tanh(in_new + reset_gate * h_new)
    return (new_gate + update_gate * (hidden - new_gate),)


STEPS = {"RNN_TANH": rnn_tanh_step, "RNN_RELU": rnn_relu_step, "LSTM": lstm_step,
         "GRU": gru_step}


# ---- cells ---------------------------------------------------------------------------------
def _check_cell_input(input, input_size):  # noqa: A002 - torch's argument name
    if input.shape[1] != input_size:
        raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} expected "
                           f"{input_size}")


def _check_cell_hidden(input, hx, hidden_size, label):  # noqa: A002
    if input.shape[0] != hx.shape[0]:
        raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match hidden{label} "
                           f"batch size {hx.shape[0]}")
    if hx.shape[1] != hidden_size:
        raise RuntimeError(f"hidden{label} has inconsistent hidden_size: got {hx.shape[1]}, "
                           f"expected {hidden_size}")


class RNNCellBase(Module):
    """The parameters, initialisation and repr shared by the recurrent cells."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        factory = {"device": device, "dtype": dtype}
        self.weight_ih = Parameter(creation.empty(num_chunks * hidden_size, input_size, **factory))
        self.weight_hh = Parameter(creation.empty(num_chunks * hidden_size, hidden_size,
                                                  **factory))
        if bias:
            self.bias_ih = Parameter(creation.empty(num_chunks * hidden_size, **factory))
            self.bias_hh = Parameter(creation.empty(num_chunks * hidden_size, **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        """What torch prints inside this cell's parentheses."""
        text = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            text += f", nonlinearity={self.nonlinearity}"
        return text

    def reset_parameters(self) -> None:
        """Every parameter ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as torch draws."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    @staticmethod
    def _batched(input, name):  # noqa: A002
        """(input, is_batched), a batch dim added to an unbatched input (checked 1-D or 2-D;
        ``name`` is the cell's in torch's message)."""
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        is_batched = input.ndim == 2
        if not is_batched:
            input = input.unsqueeze(0)
        return input, is_batched

    def _zeros(self, input):  # noqa: A002
        return creation.zeros(input.shape[0], self.hidden_size, dtype=input.dtype,
                              device=input.device)

    def _project(self, input):  # noqa: A002
        """input @ weight_ih.T + bias_ih."""
        return linear(input, self.weight_ih, self.bias_ih)


class RNNCell(RNNCellBase):
    """An Elman cell: h' = tanh or relu(x W_ih^T + b_ih + h W_hh^T + b_hh)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device,
                         dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):  # noqa: A002
        """The next hidden state, (batch, hidden_size) or (hidden_size,)."""
        input, is_batched = self._batched(input, "RNNCell")
        if hx is not None and hx.ndim not in (1, 2):
            raise ValueError(f"RNNCell: Expected hidden to be 1D or 2D, got {hx.ndim}D instead")
        hx = self._zeros(input) if hx is None else (hx if is_batched else hx.unsqueeze(0))
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        _check_cell_input(input, self.input_size)
        _check_cell_hidden(input, hx, self.hidden_size, 0)
        step = rnn_tanh_step if self.nonlinearity == "tanh" else rnn_relu_step
        (out,) = step(self._project(input), (hx,), self.weight_hh, self.bias_hh)
        return out if is_batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """A long short-term memory cell: (h, c) -> (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):  # noqa: A002
        """The next (h, c), each (batch, hidden_size) or (hidden_size,)."""
        input, is_batched = self._batched(input, "LSTMCell")
        if hx is not None:
            for i, value in enumerate(hx):
                if value.ndim not in (1, 2):
                    raise ValueError(f"LSTMCell: Expected hx[{i}] to be 1D or 2D, got "
                                     f"{value.ndim}D instead")
        if hx is None:
            zeros = self._zeros(input)
            hx = (zeros, zeros)
        elif not is_batched:
            hx = (hx[0].unsqueeze(0), hx[1].unsqueeze(0))
        if len(hx) != 2:
            raise RuntimeError("lstm_cell expects two hidden states")
        _check_cell_input(input, self.input_size)
        _check_cell_hidden(input, hx[0], self.hidden_size, 0)
        _check_cell_hidden(input, hx[1], self.hidden_size, 1)
        h, c = lstm_step(self._project(input), tuple(hx), self.weight_hh, self.bias_hh)
        return (h, c) if is_batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """A gated recurrent unit cell: h' = n + z (h - n)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device,
                         dtype=dtype)

    def forward(self, input, hx=None):  # noqa: A002
        """The next hidden state, (batch, hidden_size) or (hidden_size,)."""
        input, is_batched = self._batched(input, "GRUCell")
        if hx is not None and hx.ndim not in (1, 2):
            raise ValueError(f"GRUCell: Expected hidden to be 1D or 2D, got {hx.ndim}D instead")
        hx = self._zeros(input) if hx is None else (hx if is_batched else hx.unsqueeze(0))
        _check_cell_input(input, self.input_size)
        _check_cell_hidden(input, hx, self.hidden_size, 0)
        (out,) = gru_step(self._project(input), (hx,), self.weight_hh, self.bias_hh)
        return out if is_batched else out.squeeze(0)
