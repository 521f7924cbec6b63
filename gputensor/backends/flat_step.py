"""The part of a fused optimizer step both backends share.

A step runs one update rule of ``kernels.rules`` over every element of some parameters in
one kernel call. The rule's tensors (parameters, gradients) are ``ArrayList``s of the user's
own arrays, updated where they lie; its state buffers are flat arrays laid out like the
parameters, one after another. ``run_step`` checks the arguments, builds (once per list)
what the kernels take, and runs the float16 and non-contiguous cases through float32 or
contiguous copies written back afterwards.
"""

from __future__ import annotations

import operator

import numpy as np

from ..kernels import rules

KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
CHUNK = 1 << 16  # elements per row of the chunk table: the unit of work of a thread or block


class ArrayList:
    """One of a rule's tensors: the user's arrays of one dtype and device, in order.

    The backend builds the list's kernel form (a table of the arrays' addresses)
    on first use and keeps it here, so a list kept between steps pays for it once; make a
    new list when one of the arrays changes (see ``holds``).
    """

    __slots__ = ("arrays", "form", "layout")

    def __init__(self, arrays):
        self.arrays = list(arrays)
        self.layout = _layout(self.arrays)
        # (kernels, kernel form, 1-D arrays, {index: (array, staged copy)}, chunk table)
        self.form = None

    def update(self, arrays) -> None:
        """Hold ``arrays`` now (as many as before, of the same sizes): the kernel form is
        mended where they differ (a new gradient array per step costs little)."""
        old, self.arrays = self.arrays, list(arrays)
        self.layout = _layout(self.arrays)
        form = self.form
        if form is None:
            return
        if len(old) != len(self.arrays):
            self.form = None
            return
        kernels, kernel_form, flat, staged, table = form
        changed = [k for k, (a, b) in enumerate(zip(old, self.arrays)) if a is not b]
        for k in changed:
            staged.pop(k, None)
            flat[k] = _flat(self.arrays[k], k, staged)
        self.form = (kernels, kernels.update_array_list(kernel_form, flat, changed), flat,
                     staged, table)

    def holds(self, arrays) -> bool:
        """Whether this list holds exactly ``arrays`` (the same objects, in the same order)."""
        mine = self.arrays
        return len(mine) == len(arrays) and all(map(operator.is_, mine, arrays))


def _layout(arrays):
    """(sizes, dtype, total size) of a list's arrays; dtype None when they differ in it."""
    dtype = arrays[0].dtype if arrays else None
    for a in arrays:
        if a.dtype != dtype:
            dtype = None
    sizes = tuple([a.size for a in arrays])
    return sizes, dtype, sum(sizes)


def chunk_rows(sizes) -> np.ndarray:
    """The chunk table of arrays of ``sizes``: rows ``(k, start, stop, flat offset)``."""
    rows, offset = [], 0
    for k, n in enumerate(sizes):
        for start in range(0, n, CHUNK):
            rows.append((k, start, min(start + CHUNK, n), offset + start))
        offset += n
    return np.array(rows, dtype=np.int64).reshape(-1, 4)


def _flat(array, k, staged: dict):
    """``array`` as a 1-D C-contiguous array: a view, or a copy recorded in ``staged`` for an
    array that the kernels cannot take as it is (not C-contiguous, read-only)."""
    if array.flags.c_contiguous and getattr(array.flags, "writeable", True):
        return array.reshape(-1)
    copy = array.copy(order="C").reshape(-1)
    staged[k] = (array, copy)
    return copy


def _form(kernels, arrays: ArrayList, chunks: bool):
    """The list's kernel form (with its chunk table when ``chunks``), built on first use."""
    form = arrays.form
    if form is None or form[0] is not kernels or (chunks and form[4] is None):
        staged = {}
        flat = [_flat(a, k, staged) for k, a in enumerate(arrays.arrays)]
        table = kernels.chunk_table(chunk_rows([a.size for a in flat]), flat[0]) if chunks \
            else None
        form = arrays.form = (kernels, kernels.array_list(flat), flat, staged, table)
    return form


class BoundStep:
    """A rule's kernel call with its arrays, chunk table and flags bound (see ``bind_step``):
    ``bound(scalars)`` runs one step. A caller whose arrays stay put (parameters, state
    buffers, gradients that stay in the same arrays) keeps it between steps and pays for
    the checks once; it stays valid while ``is_current()``."""

    __slots__ = ("name", "run", "lists", "tables", "stage_in", "stage_out")

    def __init__(self, name, run, lists, forms, writes):
        self.name = name  # the rule
        self.run = run
        self.lists = lists
        self.tables = [form[1] for form in forms]
        self.stage_in = [form[3] for form in forms]  # {k: (array, contiguous copy)} per list
        self.stage_out = [form[3] for form, written in zip(forms, writes) if written]

    def __call__(self, scalars: dict) -> None:
        for staged in self.stage_in:
            for a, copy in staged.values():
                copy[...] = a.reshape(-1)
        self.run(scalars)
        for staged in self.stage_out:
            for a, copy in staged.values():
                a[...] = copy.reshape(a.shape)

    def is_current(self) -> bool:
        """Whether each list still has the kernel form this call was bound to."""
        for array_list, table in zip(self.lists, self.tables):
            form = array_list.form
            if form is None or form[1] is not table:
                return False
        return True


def bind_step(kernels, name: str, arrays: dict, values: dict):
    """Rule ``name``'s step through kernel module ``kernels`` (kernels.cpu or
    kernels.cuda.optim) over ``arrays``, bound as a ``BoundStep``; None for a dtype without
    kernels (see ``run_step``).

    ``arrays`` maps the rule's tensors to ``ArrayList``s (each parameter's arrays of the
    same sizes, one dtype) and its buffers to flat 1-D arrays of the total size; a buffer
    the rule declares optional may be left out when its condition is false for ``values``
    (the rule's scalars and flags by name: the flags are bound, the scalars only checked).
    A caller keeping the bound step must bind again when a flag or the set of buffers
    changes.
    """
    rule = rules.RULES[name]
    lists = [arrays[t] for t in rule.tensors]
    layout = lists[0].layout
    sizes, dtype, total = layout
    if not sizes:
        raise ValueError("optimizer_step expects at least one parameter")
    for array_list in lists:  # a list's layout is worked out when its arrays change
        if dtype is None or array_list.layout != layout:
            raise ValueError("optimizer_step expects lists of arrays of one dtype and the "
                             "same sizes")
    buffers = {}
    for buffer in rule.buffers:
        a = arrays.get(buffer)
        if a is None:
            if rule.in_use(buffer, values):
                raise ValueError(f"rule {name} needs buffer {buffer!r} with these values")
        elif (a.ndim != 1 or a.shape[0] != total or not a.flags.c_contiguous
              or a.dtype != dtype):
            raise ValueError("optimizer_step expects contiguous 1-D buffers of the parameters' "
                             "total size and dtype")
        else:
            buffers[buffer] = a
    if dtype not in KERNEL_DTYPES:
        return None
    forms = [_form(kernels, a, i == 0) for i, a in enumerate(lists)]
    kernel_arrays = dict(buffers)
    for tensor, form in zip(rule.tensors, forms):
        kernel_arrays[tensor] = form[1]
    for buffer in rule.buffers:
        if buffer not in kernel_arrays:  # unused: never read or written
            kernel_arrays[buffer] = forms[0][2][0][:0]
    run = kernels.bind_step(name, kernel_arrays, forms[0][4], values, dtype, total)
    return BoundStep(name, run, lists, forms, [t in rule.writes for t in rule.tensors])


def run_step(kernels, name: str, arrays: dict, scalars: dict, flags: dict) -> None:
    """Run rule ``name`` once in place through kernel module ``kernels`` (see ``bind_step``).

    ``scalars`` and ``flags`` map the rule's scalars and flags by name. Kernels exist for
    float32 and float64; other float dtypes (float16) are updated through float32 copies
    written back afterwards.
    """
    bound = bind_step(kernels, name, arrays, {**scalars, **flags})
    if bound is None:
        _run_widened(kernels, rules.RULES[name], arrays, scalars, flags)
    else:
        bound(scalars)


def _run_widened(kernels, rule, arrays, scalars, flags) -> None:
    """Run the rule on float32 copies of every array, then write back what it writes."""
    lists = [arrays[t] for t in rule.tensors]
    buffers = {b: arrays[b] for b in rule.buffers if arrays.get(b) is not None}
    wide = {t: ArrayList([a.astype(np.float32) for a in array_list.arrays])
            for t, array_list in zip(rule.tensors, lists)}
    wide.update({b: a.astype(np.float32) for b, a in buffers.items()})
    run_step(kernels, rule.name, wide, scalars, flags)
    for tensor, array_list in zip(rule.tensors, lists):
        if tensor in rule.writes:
            for a, w in zip(array_list.arrays, wide[tensor].arrays):
                a[...] = w
    for buffer, a in buffers.items():
        if buffer in rule.writes:
            a[...] = wide[buffer]
