"""What a program returns: the result's structure over slots, and the returned tensors
whose graph the function's own backward() spent."""

from __future__ import annotations

from .._tensor_core import TensorCore
from .tracer import BackwardRecord, Unsupported


def _same_value(a, b) -> bool:
    """Equal plain values (what a result holds beside tensors)."""
    if a is b:
        return True
    try:
        return type(a) is type(b) and bool(a == b)
    except (TypeError, ValueError):
        return False


def output_slots(template):
    """The slots a result template reads."""
    kind = template[0]
    if kind == "slot":
        yield template[1]
    elif kind in ("seq", "dict"):
        for item in template[2]:
            yield from output_slots(item if kind == "seq" else item[1])


def freed_outputs(trace, result, b) -> dict:
    """{slot: node type} of the returned tensors whose node the function's backward walked
    (their graph is spent, as eagerly: they print their grad_fn, and a second backward
    raises torch's error). Another returned tensor with a graph cannot be replayed."""
    walked = {id(node) for step in trace.steps if isinstance(step, BackwardRecord)
              for node in step.order}
    freed = {}
    for t in _returned_tensors(result):
        if t._grad_fn is None:
            continue
        if id(t._grad_fn) not in walked:
            raise Unsupported("the function returns a tensor whose graph its backward() did "
                              "not use")
        freed[b.slots1[id(t)]] = type(t._grad_fn)
    return freed


def _returned_tensors(value):
    if isinstance(value, TensorCore):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _returned_tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _returned_tensors(item)


def output_template(b, r1, r2):
    """The result's structure: ("slot", k) for a tensor, ("value", v) for anything else."""
    if isinstance(r1, TensorCore):
        if not isinstance(r2, TensorCore):
            raise Unsupported("the function returns different things on each call")
        return ("slot", b.slot_of(r1, r2), r1._device)
    if isinstance(r1, (tuple, list)) and type(r1) is type(r2) and len(r1) == len(r2):
        return ("seq", type(r1), tuple(output_template(b, x, y) for x, y in zip(r1, r2)))
    if isinstance(r1, dict) and isinstance(r2, dict) and list(r1) == list(r2):
        return ("dict", type(r1), tuple((k, output_template(b, r1[k], r2[k])) for k in r1))
    if r1 is None or _same_value(r1, r2):
        return ("value", r1)
    raise Unsupported("the function returns a value that changes between calls "
                      f"({type(r1).__name__})")
