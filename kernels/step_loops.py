"""The fused optimizer kernels, generated from the rule declarations of ``kernels.rules``.

For each rule, ``loop_source`` writes one kernel that applies the rule to every element of
the parameters, in place. Its arguments are the rule's tensors (each a list of the user's
1-D arrays in a form the target can index: a table of their addresses on the CPU, of device
addresses on CUDA), its flat state buffers, a chunk table, then the rule's scalars and
flags. Row ``c`` of the chunk table, ``(k, start, stop, offset)``, says: elements
``start:stop`` of tensor ``k``, which sit at ``offset:offset + stop - start`` of the flat
buffers. The kernel's loops and element access are names bound per target:

- ``OUTER(n)``: the chunks a worker takes (``prange`` on the CPU; on CUDA, block-stride);
- ``INNER(n)``: the elements of a chunk of ``n`` it takes (``range`` on the CPU; on CUDA,
  thread-stride within the block);
- ``TENSOR(table, k, start, n, like)``: the window of tensor ``k`` on the chunk (elements
  ``start:start + n``; an address and offset on both targets). A target may give the
  window as an expression written into the loop instead (``window``);
  ``LOAD(window, j, like)`` and ``STORE(window, j, value)`` read and write its element
  ``j`` (``like`` is a scalar of the element type);
- ``RULE``: the rule compiled for the target.

Buffers are sliced to the chunk too, so every loop indexes from 0 (which lets LLVM drop
the negative-index checks and vectorise the CPU loop). Buffers that a rule declares
optional are read and written only when their condition holds (callers may pass a
zero-length array in their place otherwise).
"""

from __future__ import annotations

import itertools
import sys

from . import addresses, rules
from .templates import source_digest, specialize

TENSOR_WINDOW = "TENSOR({table}, {k}, {start}, {n}, {like})"


def loop_source(name: str, window: str = TENSOR_WINDOW) -> str:
    """The Python source of rule ``name``'s kernel (see the module docstring); ``window``
    is the expression of a tensor's window on a chunk, with its fields to fill in."""
    rule = rules.RULES[name]
    like = rule.scalars[0]
    arrays = rule.tensors + rule.buffers
    head = ", ".join(arrays + ("chunks",) + rule.scalars + rule.flags)
    lines = [f"def {name}_loop({head}):",
             f'    """Rule {name} over every element of the chunks (generated)."""']
    for buffer, condition in rule.optional.items():
        lines.append(f"    _use_{buffer} = {condition}")
    lines += ["    for _c in OUTER(chunks.shape[0]):",
              "        _start = chunks[_c, 1]",
              "        _n = chunks[_c, 2] - _start",
              "        _offset = chunks[_c, 3]"]
    # each array's window on the chunk, indexed from 0 (a zero-length buffer stays empty)
    lines += ["        _{}_w = {}".format(t, window.format(table=t, k="chunks[_c, 0]",
                                                        start="_start", n="_n", like=like))
              for t in rule.tensors]
    lines += [f"        _{b}_w = {b}[_offset:_offset + _n]" for b in rule.buffers]
    # one inner loop per combination of the optional buffers in use, chosen once per chunk:
    # a condition inside the loop (a store under ``if``) keeps LLVM from vectorising it
    optional = list(rule.optional)
    cases = list(itertools.product((True, False), repeat=len(optional)))
    for k, in_use in enumerate(cases):
        used = {b for b, on in zip(optional, in_use) if on}
        indent = "        "
        if optional:
            test = " and ".join(f"{'' if on else 'not '}_use_{b}"
                                for b, on in zip(optional, in_use))
            head = "else" if k == len(cases) - 1 else f"{'if' if k == 0 else 'elif'} {test}"
            lines.append(f"        {head}:")
            indent += "    "
        lines += _inner_loop(rule, used, indent)
    return "\n".join(lines) + "\n"


def _inner_loop(rule, used, indent: str) -> list[str]:
    """The lines of the loop over a chunk's elements, with the optional buffers ``used``."""
    inner = indent + "    "
    lines = [f"{indent}for _j in INNER(_n):"]
    lines += [f"{inner}_{t} = LOAD(_{t}_w, _j, {rule.scalars[0]})" for t in rule.tensors]
    for buffer in rule.buffers:
        # an unused buffer may hold no element: the rule gets another value in its place
        read = f"_{rule.tensors[0]}" if buffer in rule.optional and buffer not in used \
            else f"_{buffer}_w[_j]"
        lines.append(f"{inner}_{buffer} = {read}")
    arrays = ", ".join(f"_{a}" for a in rule.tensors + rule.buffers)
    outputs = ", ".join(f"_{w}_new" for w in rule.writes)
    lines.append(f"{inner}{outputs}, = RULE({arrays}, {', '.join(rule.scalars + rule.flags)})")
    for written in rule.writes:
        if written in rule.tensors:
            lines.append(f"{inner}STORE(_{written}_w, _j, _{written}_new)")
        elif written not in rule.optional or written in used:
            lines.append(f"{inner}_{written}_w[_j] = _{written}_new")
    return lines


def _template(name: str, window: str):
    namespace = {"__name__": __name__}
    exec(compile(loop_source(name, window), __file__, "exec"), namespace)
    return namespace[f"{name}_loop"]


def compile_rules(decorate) -> dict:
    """``{name: decorate(rule)}`` for every rule, its helper calls bound to ``decorate(helper)``."""
    helpers = {name: decorate(fn) for name, fn in rules.HELPERS.items()}
    return {name: decorate(specialize(r.fn, helpers)) for name, r in rules.RULES.items()}


def build(kind: str, decorate, names: dict, target, window: str = TENSOR_WINDOW) -> dict:
    """``{rule: kernel}``: each rule's kernel (not yet compiled) with the loop and access
    names bound to ``names`` and ``RULE`` to the rule compiled by ``decorate``.

    ``kind`` names the target, module ``target`` defines ``names``: the kernels' names carry
    ``kind`` and a digest of the rules, this module, ``target`` and the address intrinsics,
    so that Numba's on-disk cache (keyed to a kernel's name) never serves a kernel built from
    older sources.
    """
    digest = source_digest(rules, sys.modules[__name__], target, addresses)
    compiled = compile_rules(decorate)
    return {name: specialize(_template(name, window), {**names, "RULE": compiled[name]},
                             f"{name}_{kind}_{digest}")
            for name in rules.RULES}
