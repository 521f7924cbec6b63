"""einsum: Einstein summation, built as torch builds it from diagonals, permutes, sums, mul
and bmm, so gradients flow through those ops (and products through the matmul path)."""

from __future__ import annotations

from .._tensor_core import TensorCore
from . import linalg, pointwise, reduce, shape, views
from .blas import diagonal

__all__ = ["einsum"]

ELLIPSIS = -1
_LABELS = 52  # A-Z then a-z, in torch's label order


def _label(char: str) -> int:
    return ord(char) - ord("A") if char.isupper() else ord(char) - ord("a") + 26


def _char(label: int) -> str:
    return chr(label + ord("A")) if label < 26 else chr(label - 26 + ord("a"))


def _is_subscript(char: str) -> bool:
    return ("a" <= char <= "z") or ("A" <= char <= "Z")


def _parse_inputs(lhs: str, num_ops: int):
    """The labels of each operand (ELLIPSIS for ``...``), with torch's checks."""
    op_labels = [[] for _ in range(num_ops)]
    current, found_ell, i = 0, False, 0
    while i < len(lhs):
        char = lhs[i]
        if char == ".":
            if found_ell:
                raise RuntimeError(f"einsum(): found '.' for operand {current} for which an "
                                   "ellipsis was already found")
            if not (i + 2 < len(lhs) and lhs[i + 1] == "." and lhs[i + 2] == "."):
                raise RuntimeError(f"einsum(): found '.' for operand {current} that is not "
                                   "part of any ellipsis")
            i += 2
            op_labels[current].append(ELLIPSIS)
            found_ell = True
        elif char == ",":
            current += 1
            if current >= num_ops:
                raise RuntimeError("einsum(): fewer operands were provided than specified in "
                                   "the equation")
            found_ell = False
        elif char != " ":
            if not _is_subscript(char):
                raise RuntimeError(f"einsum(): invalid subscript given at index {i} in the "
                                   "equation string, subscripts must be in [a-zA-Z]")
            op_labels[current].append(_label(char))
        i += 1
    if current != num_ops - 1:
        raise RuntimeError("einsum(): more operands were provided than specified in the "
                           "equation")
    return op_labels


def _count_labels(operands, op_labels):
    """(count of each label over the inputs, number of dims the ellipsis covers)."""
    counts, ell_num_dim = [0] * _LABELS, 0
    for i, (operand, labels) in enumerate(zip(operands, op_labels)):
        ndim, nlabels = operand.ndim, len(labels)
        has_ellipsis = ELLIPSIS in labels
        for label in labels:
            if label != ELLIPSIS:
                counts[label] += 1
        if has_ellipsis:
            nlabels -= 1
            ell_num_dim = max(ell_num_dim, ndim - nlabels)
            if nlabels > ndim:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                                   f"({nlabels}) is more than the number of dimensions "
                                   f"({ndim}) for operand {i}")
        elif nlabels != ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({nlabels}) "
                               f"does not match the number of dimensions ({ndim}) for operand "
                               f"{i} and no ellipsis was given")
    return counts, ell_num_dim


def _output_positions(rhs, lhs_len, counts, ell_num_dim):
    """(position of each label in the permuted operands, ellipsis position, output size,
    total size): output labels first, then the contracted ones in label order."""
    perm_index = [-1] * _LABELS
    index, ell_index, ell_in_output = 0, 0, True
    if rhs is None:  # implicit output: the ellipsis, then the labels seen once, sorted
        index = ell_num_dim
        for label in range(_LABELS):
            if counts[label] == 1:
                perm_index[label] = index
                index += 1
    else:
        ell_in_output, i = False, 0
        while i < len(rhs):
            char = rhs[i]
            if char == ".":
                if ell_in_output:
                    raise RuntimeError("einsum(): found '.' for output but an ellipsis (...) was "
                                       "already found")
                if not (i + 2 < len(rhs) and rhs[i + 1] == "." and rhs[i + 2] == "."):
                    raise RuntimeError("einsum(): found '.' for output that is not part of any "
                                       "ellipsis (...)")
                i += 2
                ell_index, ell_in_output = index, True
                index += ell_num_dim
            elif char != " ":
                if not _is_subscript(char):
                    raise RuntimeError(f"einsum(): invalid subscript given at index "
                                       f"{lhs_len + 2 + i} in the equation string, subscripts "
                                       "must be in [a-zA-Z]")
                label = _label(char)
                if counts[label] == 0 or perm_index[label] != -1:
                    why = ("appears more than once in the output" if perm_index[label] != -1
                           else "does not appear in the equation for any input operand")
                    raise RuntimeError(f"einsum(): output subscript {char} {why}")
                perm_index[label] = index
                index += 1
            i += 1
    out_size = index
    if not ell_in_output:
        ell_index = index
        index += ell_num_dim
    for label in range(_LABELS):
        if counts[label] > 0 and perm_index[label] == -1:
            perm_index[label] = index
            index += 1
    return perm_index, ell_index, out_size, index


def _check_size(seen, key, size, message):
    """Remember the size of a label (or ellipsis dim); torch's error when it cannot broadcast.

    ``message`` has the fields ``size`` and ``previous``.
    """
    previous = seen.get(key, 1)
    if size != 1 and previous != 1 and size != previous:
        raise RuntimeError(message.format(size=size, previous=previous))
    if size != 1:
        seen[key] = size


def _permuted(i, operand, labels, layout, seen):
    """The operand with repeated labels as diagonals and its dims in the common order.

    ``layout`` is (position of each label, ellipsis position, ellipsis dims, total dims);
    ``seen`` the sizes of the labels and ellipsis dims in the operands before.
    """
    perm_index, ell_index, ell_num_dim, total = layout
    perm_shape, label_dim, j = [-1] * total, [-1] * _LABELS, 0
    ndim = operand.ndim
    for label in labels:
        if label == ELLIPSIS:
            for _ in range(ell_num_dim - (ndim - len(labels) + 1)):
                operand = shape.unsqueeze(operand, j)
            for k in range(ell_num_dim):
                _check_size(seen, ("...", k), operand.shape[j], (
                    f"einsum(): dimension {k} covered by ellipsis in operand {i}has size "
                    "{size} which does not broadcast with previously seen ellipsis with size "
                    "{previous} for the respective dimension"))
                perm_shape[ell_index + k] = j
                j += 1
        elif label_dim[label] != -1:  # a repeated label: take the diagonal
            dim = label_dim[label]
            if operand.shape[j] != operand.shape[dim]:
                raise RuntimeError(f"einsum(): subscript {_char(label)} is repeated for operand "
                                   f"{i} but the sizes don't match, {operand.shape[j]} != "
                                   f"{operand.shape[dim]}")
            operand = shape.movedim(diagonal(operand, 0, dim, j), -1, dim)
        else:
            _check_size(seen, label, operand.shape[j], (
                f"einsum(): subscript {_char(label)} has size {{size}} for operand {i} which "
                "does not broadcast with previously seen size {previous}"))
            label_dim[label] = j
            perm_shape[perm_index[label]] = j
            j += 1
    for k, index in enumerate(perm_shape):
        if index == -1:  # a label this operand lacks: a dim of size 1
            operand = shape.unsqueeze(operand, -1)
            perm_shape[k] = j
            j += 1
    return views.permute(operand, perm_shape)


def _sum_product_pair(left, right, sum_dims):
    """sum over ``sum_dims`` of left * right (dims of size 1 broadcast), through bmm.

    The summed dims stay with size 1, as torch's keepdim.
    """
    if not sum_dims:
        return pointwise.mul(left, right)
    lro, lo, ro = [], [], []
    lro_size = lo_size = ro_size = sum_size = 1
    for i in range(left.ndim):
        in_left, in_right = left.shape[i] != 1, right.shape[i] != 1
        if i in sum_dims:
            if in_left and in_right:
                sum_size *= left.shape[i]
            elif in_left:
                left = reduce.sum(left, i, True)
            elif in_right:
                right = reduce.sum(right, i, True)
        elif in_left and in_right:
            lro.append(i)
            lro_size *= left.shape[i]
        elif in_left:
            lo.append(i)
            lo_size *= left.shape[i]
        else:
            ro.append(i)
            ro_size *= right.shape[i]
    out_shape = ([left.shape[d] for d in lro] + [left.shape[d] for d in lo] + [1] * len(sum_dims)
                 + [right.shape[d] for d in ro])
    left_order = lro + lo + list(sum_dims) + ro
    right_order = lro + list(sum_dims) + ro + lo
    out_order = [-1] * len(out_shape)
    for position, d in enumerate(left_order):
        out_order[d] = position
    left = views.reshape(views.permute(left, left_order), lro_size, lo_size, sum_size)
    right = views.reshape(views.permute(right, right_order), lro_size, sum_size, ro_size)
    result = linalg.bmm(left, right)
    return views.permute(views.view(result, out_shape), out_order)


def _contract(permuted, out_size, total):
    """The product of several permuted operands, summed over dims ``out_size..total``."""
    dim_counts = [sum(p.shape[dim] != 1 for p in permuted) for dim in range(total)]
    ops = list(permuted)
    while len(ops) > 1:
        a, b = ops[0], ops[1]
        sum_dims, a_sums, b_sums = [], [], []
        for dim in range(out_size, total):
            if a.shape[dim] != 1 and b.shape[dim] != 1:
                dim_counts[dim] -= 1
                if dim_counts[dim] == 1:
                    sum_dims.append(dim)
                    dim_counts[dim] = 0
            elif dim_counts[dim] == 1:
                if a.shape[dim] != 1:
                    a_sums.append(dim)
                    dim_counts[dim] = 0
                elif b.shape[dim] != 1:
                    b_sums.append(dim)
                    dim_counts[dim] = 0
        if a_sums:
            a = reduce.sum(a, a_sums, True)
        if b_sums:
            b = reduce.sum(b, b_sums, True)
        ops = [_sum_product_pair(a, b, sum_dims)] + ops[2:]
    return ops[0]


def _subscript(n) -> str:
    """The equation text of one entry of a subscript list: 0-25 A-Z, 26-51 a-z, ``...``."""
    if n is Ellipsis:
        return "..."
    if 0 <= n < _LABELS:
        return _char(n)
    raise ValueError("einsum(): subscript in subscript list is not within the valid range "
                     "[0, 52)")


def _from_sublists(args):
    """(equation, operands) from ``op0, sublist0, op1, sublist1, ..., [output sublist]``."""
    equation = ",".join("".join(_subscript(n) for n in sub) for sub in args[1::2])
    if len(args) % 2 == 1:
        equation += "->" + "".join(_subscript(n) for n in args[-1])
        return equation, args[:-1:2]
    return equation, args[::2]


def einsum(*args):
    """Einstein summation over the operands, as an equation like ``"ij,jk->ik"`` (or
    torch's sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])``)."""
    if len(args) < 2:
        raise ValueError("einsum(): must specify the equation string and at least one operand, "
                         "or at least one operand and its subscripts list")
    if isinstance(args[0], TensorCore):
        equation, operands = _from_sublists(args)
    else:
        equation, operands = args[0], args[1:]
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for operand in operands:
        if not isinstance(operand, TensorCore):
            raise TypeError(f"einsum(): argument 'operands' must be tuple of Tensors, not "
                            f"{type(operand).__name__}")
    lhs, arrow, rhs = equation.partition("->")
    op_labels = _parse_inputs(lhs, len(operands))
    counts, ell_num_dim = _count_labels(operands, op_labels)
    perm_index, ell_index, out_size, total = _output_positions(
        rhs if arrow else None, len(lhs), counts, ell_num_dim)
    layout, seen = (perm_index, ell_index, ell_num_dim, total), {}
    permuted = [_permuted(i, o, labels, layout, seen)
                for i, (o, labels) in enumerate(zip(operands, op_labels))]
    if len(permuted) == 1:
        result = permuted[0]
        if total > out_size:
            result = reduce.sum(result, list(range(out_size, total)))
        return result
    result = _contract(permuted, out_size, total)
    if total > out_size:
        result = views.view(result, tuple(result.shape[:out_size]))
    return result

