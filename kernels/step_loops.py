"""The fused optimizer kernels, generated from the rule declarations of ``kernels.rules``.

For each rule, ``loop_source`` writes one kernel that applies the rule to every element of
the parameters, in place. Its arguments are the rule's tensors (each a list of the user's
1-D arrays in a form the target can index: a typed list on the CPU, a table of device
addresses on CUDA), its flat state buffers, a chunk table, then the rule's scalars and
flags. Row ``c`` of the chunk table, ``(k, start, stop, offset)``, says: elements
``start:stop`` of tensor ``k``, which sit at ``offset:offset + stop - start`` of the flat
buffers. The kernel's loops and element access are names bound per target:

- ``OUTER(n)``: the chunks a worker takes (``prange`` on the CPU; on CUDA, block-stride);
- ``INNER(n)``: the elements of a chunk of ``n`` it takes (``range`` on the CPU; on CUDA,
  thread-stride within the block);
- ``TENSOR(table, k, start, n, like)``: the window of tensor ``k`` on the chunk (elements
  ``start:start + n``; an array slice on the CPU, an address and offset on CUDA);
  ``LOAD(window, j, like)`` and ``STORE(window, j, value)`` read and write its element
  ``j`` (``like`` is a scalar of the element type);
- ``RULE``: the rule compiled for the target.

Buffers are sliced to the chunk too, so every loop indexes from 0 (which lets LLVM drop
the negative-index checks and vectorise the CPU loop). Buffers that a rule declares
optional are read and written only when their condition holds (callers may pass a
zero-length array in their place otherwise).
"""

from __future__ import annotations

import sys

from . import rules
from .templates import source_digest, specialize


def loop_source(name: str) -> str:
    """The Python source of rule ``name``'s kernel (see the module docstring)."""
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
    lines += [f"        _{t}_w = TENSOR({t}, chunks[_c, 0], _start, _n, {like})"
              for t in rule.tensors]
    lines += [f"        _{b}_w = {b}[_offset:_offset + _n]" for b in rule.buffers]
    lines += ["        for _j in INNER(_n):"]
    lines += [f"            _{t} = LOAD(_{t}_w, _j, {like})" for t in rule.tensors]
    first = f"_{rule.tensors[0]}"
    for buffer in rule.buffers:
        read = f"_{buffer}_w[_j]"
        if buffer in rule.optional:  # an unused buffer may hold no element: read another
            read = f"{read} if _use_{buffer} else {first}"
        lines.append(f"            _{buffer} = {read}")
    values = ", ".join(f"_{a}" for a in arrays)
    outputs = ", ".join(f"_{w}_new" for w in rule.writes)
    lines.append(f"            {outputs}, = RULE({values}, {', '.join(rule.scalars + rule.flags)})")
    for written in rule.writes:
        if written in rule.tensors:
            lines.append(f"            STORE(_{written}_w, _j, _{written}_new)")
        elif written in rule.optional:
            lines += [f"            if _use_{written}:",
                      f"                _{written}_w[_j] = _{written}_new"]
        else:
            lines.append(f"            _{written}_w[_j] = _{written}_new")
    return "\n".join(lines) + "\n"


def _template(name: str):
    namespace = {"__name__": __name__}
    exec(compile(loop_source(name), __file__, "exec"), namespace)
    return namespace[f"{name}_loop"]


TEMPLATES = {name: _template(name) for name in rules.RULES}


def compile_rules(decorate) -> dict:
    """``{name: decorate(rule)}`` for every rule, its helper calls bound to ``decorate(helper)``."""
    helpers = {name: decorate(fn) for name, fn in rules.HELPERS.items()}
    return {name: decorate(specialize(r.fn, helpers)) for name, r in rules.RULES.items()}


def build(kind: str, decorate, names: dict, target) -> dict:
    """``{rule: kernel}``: each rule's kernel (not yet compiled) with the loop and access
    names bound to ``names`` and ``RULE`` to the rule compiled by ``decorate``.

    ``kind`` names the target, module ``target`` defines ``names``: the kernels' names carry
    ``kind`` and a digest of the rules, this module and ``target``, so that Numba's on-disk
    cache (keyed to a kernel's name) never serves a kernel built from older sources.
    """
    digest = source_digest(rules, sys.modules[__name__], target)
    compiled = compile_rules(decorate)
    return {name: specialize(template, {**names, "RULE": compiled[name]},
                             f"{name}_{kind}_{digest}")
            for name, template in TEMPLATES.items()}
