"""Views after in-place writes against torch: the graph is rebased as torch rebases it.

A write through a view or to a base gives the base a CopySlices node (or the op's own node)
and every other view of the storage an AsStridedBackward0 node reading the base, made when
the view is next read. Three hand-written cases, torch's errors, then a seeded differential
fuzz of random chains of views and in-place writes on "cpu" and simulated "cuda".
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import gputensor
from helpers import LIBS, assert_same, run_on, torch_text

LEAF_SHAPE = (3, 4)
FUZZ_SEED, FUZZ_CASES = 20261206, 300


def version(t) -> int:
    """The in-place version of a tensor's storage, from either library."""
    return t._version if isinstance(t, torch.Tensor) else t._version.value


def name(t):
    """A tensor's grad_fn name as torch spells it (None for leaves)."""
    return None if t.grad_fn is None else torch_text(t.grad_fn.name())


# torch 2.13 names the saved tensor's current node ("output 0 of Add") and hints at anomaly
# detection; gputensor names the node that saved it: compared up to those two parts
_SAVED_NODE = re.compile(r"which is output (\d+) of \w+, (.*) Hint: .*")


def _masked(message: str) -> str:
    return _SAVED_NODE.sub(r"which is output \1 of (a node), \2", message)


def compare(fn, device, *arrays):
    """Run ``fn(lib, *leaves)`` in both libraries; compare what it returns and the leaves' grads.

    ``fn`` returns a dict of tensors (values, grad_fn names, versions compared) and other
    items (compared for equality); an exception must be torch's type with its message.
    """
    results = []
    for lib in LIBS:
        dev = device if lib is gputensor else "cpu"
        leaves = [lib.tensor(a, device=dev, requires_grad=True) for a in arrays]
        try:
            out = run_on(lib, device, fn, *leaves)
        except Exception as err:  # noqa: BLE001 (compared with torch's below)
            out = err
        results.append((out, leaves))
    (ours, our_leaves), (theirs, their_leaves) = results
    if isinstance(theirs, Exception):
        assert type(ours) is type(theirs), f"torch raised {theirs!r}, we gave {ours!r}"
        assert _masked(torch_text(str(ours))) == _masked(str(theirs))
        return
    assert not isinstance(ours, Exception), f"we raised {ours!r}, torch returned"
    assert ours.keys() == theirs.keys()
    for key, value in theirs.items():
        mine = ours[key]
        if isinstance(value, torch.Tensor):
            assert name(mine) == name(value), key
            assert version(mine) == version(value), key
            assert mine.requires_grad == value.requires_grad, key
            assert_same(mine.detach(), value.detach())
        else:
            assert mine == value, key
    for mine, leaf in zip(our_leaves, their_leaves):
        assert (mine.grad is None) == (leaf.grad is None)
        if leaf.grad is not None:
            assert_same(mine.grad, leaf.grad)


# ---- the hand-written cases ------------------------------------------------------------
def base_changed_after_view(lib, x):
    y = x * 1
    v = y[0:1]
    y.mul_(3)
    v.sum().backward()
    return {"v": v, "y": y}


def base_changed_by_tensor(lib, x, z):
    y = x * 1
    v = y[0:1]
    y.mul_(z)
    v.sum().backward()
    return {"v": v, "y": y}


def sibling_view_written(lib, x):
    y = x * 1
    a = y[0]
    y[0:1].mul_(3)
    (a * a).backward()
    return {"a": a, "y": y}


def view_of_view_after_base_and_view(lib, x, z):
    y = x.reshape(3, 4) * 1
    v = y[1:]
    w = v[:, 1]
    diag = y.diagonal()
    w.mul_(z[:2])
    v.add_(1)
    y.t()[0].clamp_(-0.5, 0.5)
    (w * diag[1:3] + v.sum(1) * y[2, 1]).sum().backward()
    return {"y": y, "v": v, "w": w, "diag": diag}


def setitem_on_view_then_base(lib, x, z):
    y = x.reshape(3, 4) * 2
    v = y[:, 1:3]
    v[0] = z[:2] * 3
    v[1, 1] = 5.0
    y[2] = z[:4]
    (v * v).sum().backward()
    return {"y": y, "v": v}


def several_writes_in_a_row(lib, x, z):
    y = x.reshape(3, 4) * 1
    old = y[1]
    y.mul_(2)
    y.add_(z.reshape(3, 4), alpha=2)
    y[0].zero_()
    y.t().clamp_(-1, 3)
    ((old * old).sum() + y[2].sum()).backward()
    return {"y": y, "old": old}


def detached_view_shares_version(lib, x):
    y = x * 1
    v = y[0:1]
    d = v.detach()
    d.mul_(5)
    (v * 2).sum().backward()
    return {"y": y, "v": v, "d": d, "d_base": d._base is None}


def view_of_untracked_base_gets_tracked(lib, x):
    y = lib.zeros(12)
    v = y[0:1]
    before = v.requires_grad
    y.mul_(x)
    (v * 3).sum().backward()
    return {"v": v, "y": y, "before": before, "leaf": v.is_leaf}


def view_of_leaf_after_its_data_changed(lib, x):
    v = x[0:1]
    x.detach().mul_(2)
    (v * 3).sum().backward()
    return {"v": v}


def view_of_leaf_written(lib, x):
    x[0:1].mul_(2)


def view_of_leaf_setitem(lib, x):
    x[0] = 2


def transposed_view_of_leaf_zeroed(lib, x):
    x.t().zero_()


def old_view_of_leaf_written(lib, x):
    v = x[0:1]
    x.detach().add_(1)
    v.mul_(2)


def leaf_written(lib, x):
    x.mul_(2)


def int_view_after_base_changed(lib, x):
    a = lib.arange(4, device=x.device)
    b = a[1:]
    a.add_(1)
    return {"b": b}


def no_grad_view_written_in_grad_mode(lib, x):
    y = x * 2
    with lib.no_grad():
        v = y[:2]
    v.mul_(2)


def no_grad_view_used_in_grad_mode(lib, x):
    y = x * 2
    with lib.no_grad():
        v = y[:2]
    return {"v": v, "w": v * 2, "is_leaf": v.is_leaf}


def view_detached_in_place(lib, x):
    (x * 2)[:2].detach_()


def in_place_add_of_an_array(lib, x):
    t = x.detach() * 1
    t += np.ones(12, dtype=np.float64)
    return {"t": t}


def in_place_add_of_an_array_to_a_tracked_tensor(lib, x):
    t = x * 1
    t += np.ones(12, dtype=np.float32)


def _doubling(lib):
    class Double(lib.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            t.mul_(2)
            ctx.mark_dirty(t)
            return t

        @staticmethod
        def backward(ctx, g):
            return g * 2
    return Double


def function_marks_a_view_dirty(lib, x):
    y = x * 1
    v = y[2:5]
    out = _doubling(lib).apply(v)
    (y * y).sum().backward()
    return {"y": y, "v": v, "out": out}


def function_marks_its_second_input_dirty_through_a_view(lib, x, z):
    class AddInto(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, t):
            t.add_(a)
            ctx.mark_dirty(t)
            return t

        @staticmethod
        def backward(ctx, g):
            return g, g

    y = z * 1
    out = AddInto.apply(x[:4] * 3, y[4:8])
    (y * y).sum().backward()
    return {"y": y, "out": out}


CASES = [(base_changed_after_view, 1), (base_changed_by_tensor, 2), (sibling_view_written, 1),
         (view_of_view_after_base_and_view, 2), (setitem_on_view_then_base, 2),
         (several_writes_in_a_row, 2), (detached_view_shares_version, 1),
         (view_of_untracked_base_gets_tracked, 1), (view_of_leaf_after_its_data_changed, 1),
         (view_of_leaf_written, 1), (view_of_leaf_setitem, 1),
         (transposed_view_of_leaf_zeroed, 1), (old_view_of_leaf_written, 1), (leaf_written, 1),
         (int_view_after_base_changed, 1), (no_grad_view_written_in_grad_mode, 1),
         (no_grad_view_used_in_grad_mode, 1), (view_detached_in_place, 1),
         (function_marks_a_view_dirty, 1),
         (function_marks_its_second_input_dirty_through_a_view, 2)]


@pytest.mark.parametrize("case", [in_place_add_of_an_array,
                                  in_place_add_of_an_array_to_a_tracked_tensor])
def test_in_place_operator_with_an_array_on_the_cpu(case):
    """NumPy computes ``t += array`` (a new tensor, or torch's error when t requires grad)."""
    compare(case, "cpu", np.linspace(-1, 1, 12, dtype=np.float32))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0].__name__)
def test_views_after_inplace_writes(case, device):
    """Values, gradients, grad_fn names, versions and errors as torch."""
    fn, count = case
    rng = np.random.default_rng(7)
    arrays = [rng.uniform(-2, 2, 12).astype(np.float32) for _ in range(count)]
    compare(fn, device, *arrays)


def test_brief_examples_give_torch_gradients():
    """The examples: x.grad = [3, 0]; z gets its gradient; [18, 0] through a sibling view."""
    x = gputensor.tensor([1., 2.], requires_grad=True)
    y = x * 1
    v = y[0:1]
    y.mul_(3)
    v.sum().backward()
    tx = torch.tensor([1., 2.], requires_grad=True)
    ty = tx * 1
    tv = ty[0:1]
    ty.mul_(3)
    tv.sum().backward()
    assert x.grad.tolist() == tx.grad.tolist()
    assert name(v) == name(tv) == "AsStridedBackward0"


# ---- the differential fuzz ---------------------------------------------------------------
def _view_choices(shape, contiguous, rng):
    """Random view steps valid for a tensor of ``shape`` (torch's rules)."""
    ndim = len(shape)
    choices = [("unsqueeze", int(rng.integers(0, ndim + 1)))]
    if ndim:
        dim = int(rng.integers(0, ndim))
        n = shape[dim]
        if n:
            start = int(rng.integers(0, n))
            stop = int(rng.integers(start + 1, n + 1))
            choices.append(("slice", dim, start, stop, int(rng.integers(1, 3))))
            choices.append(("select", dim, int(rng.integers(-n, n))))
    if ndim >= 2:
        d0, d1 = (int(d) for d in rng.choice(ndim, 2, replace=False))
        choices += [("transpose", d0, d1), ("diagonal", int(rng.integers(-1, 2)), d0, d1),
                    ("permute", tuple(int(d) for d in rng.permutation(ndim)))]
    if ndim == 2:
        choices.append(("t",))
    if contiguous:
        choices.append(("view", -1))
    choices.append(("reshape", -1))
    return choices


def _apply_view(t, step):
    kind, *args = step
    if kind == "slice":
        dim, start, stop, step_size = args
        return t[(slice(None),) * dim + (slice(start, stop, step_size),)]
    if kind == "diagonal":
        return t.diagonal(*args)
    if kind == "permute":
        return t.permute(*args[0])
    return getattr(t, kind)(*args)


_INPLACE = ("mul_scalar", "mul_tensor", "add_tensor", "copy", "setitem_number",
            "setitem_tensor", "zero", "clamp", "detached_mul")


def make_program(rng):
    """A random chain: views of a non-leaf and of each other, in-place writes, a loss."""
    shadow = [torch.zeros(LEAF_SHAPE)]  # torch as the oracle of shapes and contiguity
    # an exp base saves its result: most writes after it end in torch's saved-tensor error
    steps = [("base", "exp" if rng.random() < 0.1 else ("mul", "add")[int(rng.integers(0, 2))])]
    for _ in range(int(rng.integers(2, 9))):
        who = int(rng.integers(0, len(shadow)))
        t = shadow[who]
        if rng.random() < 0.5 and len(shadow) < 7:
            step = _view_choices(t.shape, t.is_contiguous(), rng)
            step = step[int(rng.integers(0, len(step)))]
            view = _apply_view(t, step)
            steps.append(("view", who, step))
            shadow.append(view)
            continue
        op = _INPLACE[int(rng.integers(0, len(_INPLACE)))]
        if op.startswith("setitem") and t.ndim == 0:
            op = "zero"
        index = int(rng.integers(-t.shape[0], t.shape[0])) if t.ndim and t.shape[0] else None
        if op.startswith("setitem") and index is None:
            op = "clamp"
        number = float(np.round(rng.uniform(-2, 2), 2))
        steps.append(("write", who, op, number, index))
    count = int(rng.integers(1, 4))
    terms = [(int(rng.integers(0, len(shadow))), float(np.round(rng.uniform(-2, 2), 2)),
              bool(rng.random() < 0.5)) for _ in range(count)]
    steps.append(("loss", terms))
    return steps


def _z_values(z, shape, scale):
    """Values of ``shape`` taken from the leaf ``z`` (so z gets a gradient)."""
    n = int(np.prod(shape, dtype=np.int64))
    return z.reshape(-1)[:n].reshape(shape) * scale


def _write(t, z, op, number, index):
    if op == "mul_scalar":
        t.mul_(number)
    elif op == "mul_tensor":
        t.mul_(_z_values(z, t.shape, 1))
    elif op == "add_tensor":
        t.add_(_z_values(z, t.shape, 1), alpha=number)
    elif op == "copy":
        t.copy_(_z_values(z, t.shape, number))
    elif op == "setitem_number":
        t[index] = number
    elif op == "setitem_tensor":
        t[index] = _z_values(z, t.shape[1:], number)
    elif op == "zero":
        t.zero_()
    elif op == "clamp":
        t.clamp_(-abs(number) / 2, abs(number))
    else:  # detached_mul: no graph, but the version and the data are shared
        t.detach().mul_(number)


def run_program(lib, x, z, steps):
    """Run a chain from ``make_program`` with ``lib``; what it computed, by name."""
    members = []
    for step in steps:
        kind = step[0]
        if kind == "base":
            leaf = x.reshape(LEAF_SHAPE)
            members.append(leaf * 1 if step[1] == "mul" else leaf + 0 if step[1] == "add"
                           else leaf.exp())
        elif kind == "view":
            members.append(_apply_view(members[step[1]], step[2]))
        elif kind == "write":
            _write(members[step[1]], z, *step[2:])
        else:
            loss = 0
            for who, scale, square in step[1]:
                m = members[who]
                loss = loss + ((m * m if square else m) * scale).sum()
            out = {f"m{i}": m for i, m in enumerate(members)}
            if isinstance(loss, lib.Tensor) and loss.requires_grad:
                loss.backward()
                out["loss"] = loss
            return out
    raise AssertionError("a program ends with its loss")


def test_fuzz_views_and_inplace_writes(device):
    """Random chains give torch's values, leaf gradients, grad_fn names, versions, errors."""
    rng = np.random.default_rng(FUZZ_SEED)
    cases = FUZZ_CASES if device == "cpu" else FUZZ_CASES // 3
    for case in range(cases):
        steps = make_program(rng)
        arrays = [rng.uniform(-2, 2, 12).astype(np.float32) for _ in range(2)]
        try:
            compare(lambda lib, x, z, s=steps: run_program(lib, x, z, s), device, *arrays)
        except AssertionError as err:
            raise AssertionError(f"case {case}: {steps}") from err
