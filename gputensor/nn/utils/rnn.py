"""``nn.utils.rnn``: padding variable-length sequences and packing them for recurrent layers."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable

import numpy as np

from ... import dtypes
from ..._tensor import Tensor
from ...ops import creation
from ...ops.gather import index_select
from ...ops.packing import take_rows

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence",
           "pad_sequence", "pack_sequence", "unpad_sequence", "unpack_sequence"]

_SORT_ERROR = ("`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
               "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
               "pack_sequence to sidestep this requirement if you do not need ONNX "
               "exportability.")

PackedSequence_ = namedtuple("PackedSequence_",
                             ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


def _host_ints(tensor) -> np.ndarray:
    """The int64 values of a (small) index tensor, on the host."""
    return np.asarray(tensor.cpu().numpy(), dtype=np.int64)


def _cpu_long(values) -> Tensor:
    """An int64 tensor on the CPU holding host ``values``."""
    return creation.tensor(np.asarray(values, dtype=np.int64), dtype=dtypes.int64, device="cpu")


def invert_permutation(permutation):
    """The permutation that undoes ``permutation`` (None stays None)."""
    if permutation is None:
        return None
    order = _host_ints(permutation)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    return creation.tensor(inverse, dtype=dtypes.int64, device=permutation.device)


class PackedSequence(PackedSequence_):
    """Sequences of different lengths packed time step by time step, longest first."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # torch's internal form: (data, batch_sizes) as the first item
            data, batch_sizes = data
        if batch_sizes.device.type != "cpu":
            raise ValueError(
                "batch_sizes should always be on CPU. Instances of PackedSequence should never "
                "be created manually. They should be instantiated by functions like "
                "pack_sequence and pack_padded_sequences in nn.utils.rnn. "
                "https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """The same packing with ``data`` (and the indices, by device) moved or cast."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes,
                          *(None if i is None else i.to(device=data.device)
                            for i in (self.sorted_indices, self.unsorted_indices)))

    def cuda(self, device=None):
        """``data`` and the indices on a CUDA device."""
        return self.to(device="cuda" if device is None else device)

    def cpu(self):
        """``data`` and the indices on the CPU."""
        return self.to(device="cpu")

    @property
    def is_cuda(self) -> bool:
        """Whether ``data`` is on a CUDA device."""
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        """Whether ``data`` is in pinned memory."""
        return self.data.is_pinned()


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shape (L_i, *) into (max L, B, *) (or (B, max L, *)), padding the ends."""
    if not isinstance(sequences, Iterable):
        raise RuntimeError("pad_sequence: Expected iterable for input sequences, but got arg "
                           f"of type: {type(sequences)}")
    sequences = tuple(sequences)
    if padding_side not in ("left", "right"):
        raise RuntimeError("Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    first = sequences[0]
    for seq in sequences:
        _check_copy_shape((seq.shape[0], *first.shape[1:]), tuple(seq.shape))
    longest = max(s.shape[0] for s in sequences)
    count = len(sequences)
    trailing = tuple(first.shape[1:])
    shape = (count, longest, *trailing) if batch_first else (longest, count, *trailing)
    out = creation.full(shape, padding_value, dtype=first.dtype, device=first.device)
    for i, seq in enumerate(sequences):
        length = seq.shape[0]
        start = longest - length if padding_side == "left" else 0
        steps = slice(start, start + length)
        if batch_first:
            out[i, steps] = seq
        else:
            out[steps, i] = seq
    return out


def _check_copy_shape(target, source):
    """torch's error when ``source`` does not broadcast to ``target`` (a copy into a slice)."""
    ndim = max(len(target), len(source))
    for k in range(1, ndim + 1):
        a = target[-k] if k <= len(target) else 1
        b = source[-k] if k <= len(source) else 1
        if a != b and b != 1:
            raise RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b "
                               f"({b}) at non-singleton dimension {ndim - k}")


def _lengths_tensor(lengths):
    if not isinstance(lengths, Tensor):
        return _cpu_long(lengths)
    return lengths.to(dtype=dtypes.int64)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):  # noqa: A002
    """Pack a padded batch (T, B, *) (or (B, T, *)) of sequences of the given lengths."""
    lengths = _lengths_tensor(lengths)
    if lengths.device.type != "cpu" or lengths.ndim != 1:
        raise RuntimeError("'lengths' argument should be a 1D CPU int64 tensor, but got "
                           f"{lengths.ndim}D {lengths.device} Long tensor")
    host_lengths = _host_ints(lengths)
    sorted_indices = None
    if not enforce_sorted:
        order = np.argsort(-host_lengths, kind="stable")
        host_lengths = host_lengths[order]
        sorted_indices = creation.tensor(order, dtype=dtypes.int64, device=input.device)
        input = index_select(input, 0 if batch_first else 1, sorted_indices)
    if input.numel() == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    batch_size = input.shape[0] if batch_first else input.shape[1]
    steps = input.shape[1] if batch_first else input.shape[0]
    if host_lengths.size != batch_size:
        raise RuntimeError("Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{host_lengths.size} (batch_size={batch_size})")
    if host_lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if np.any(host_lengths[:-1] < host_lengths[1:]):
        raise RuntimeError(_SORT_ERROR)
    batch_sizes = (host_lengths[None, :] > np.arange(host_lengths[0])[:, None]).sum(axis=1)
    index = [b * steps + t if batch_first else t * batch_size + b
             for t, size in enumerate(batch_sizes) for b in range(size)]
    data = take_rows(input.reshape(batch_size * steps, *input.shape[2:]), index)
    return PackedSequence(data, _cpu_long(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undo ``pack_padded_sequence``: (padded batch, lengths), in the original batch order."""
    data, batch_sizes = sequence.data, sequence.batch_sizes.tolist()
    longest = len(batch_sizes)
    if total_length is not None:
        if total_length < longest:
            raise ValueError("Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {longest}")
        longest = total_length
    count = batch_sizes[0]
    out = creation.full((longest, count, *data.shape[1:]), padding_value, dtype=data.dtype,
                        device=data.device)
    start = 0
    for t, size in enumerate(batch_sizes):
        out[t, :size] = data[start:start + size]
        start += size
    if batch_first:
        out = out.transpose(0, 1)
    sizes = np.asarray(batch_sizes, dtype=np.int64)
    lengths = (sizes[None, :] > np.arange(count)[:, None]).sum(axis=1)
    if sequence.unsorted_indices is not None:
        out = index_select(out, 0 if batch_first else 1, sequence.unsorted_indices)
        lengths = lengths[_host_ints(sequence.unsorted_indices)]
    return out, _cpu_long(lengths)


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of tensors of shape (L_i, *), longest first unless ``enforce_sorted=False``."""
    lengths = _cpu_long([v.shape[0] for v in sequences])
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of unpadded sequences of a padded batch and its lengths.

    torch transposes a time-major ``padded_sequences`` in place; here it is left as it is.
    """
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    steps = np.arange(padded_sequences.shape[1])
    host_lengths = _host_ints(_lengths_tensor(lengths))
    return [seq[steps < n] for seq, n in zip(padded_sequences, host_lengths)]


def unpack_sequence(packed_sequences):
    """The list of sequences a PackedSequence holds, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
