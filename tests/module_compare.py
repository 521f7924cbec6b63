"""Run the same module on gputensor and torch: same weights, then compare outputs and gradients.

``check_module(make, run, *arrays, device)`` builds ``make(lib)`` in both libraries, checks
that reprs and state_dict keys (and shapes) agree, loads torch's weights into ours, moves ours
to ``device``, runs ``run(lib, module, *inputs)`` (a None array passes as None) and compares
the outputs and the UserWarnings, then backpropagates the same random seeds and compares
every parameter's gradient and the inputs' gradients.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

import gputensor
from helpers import assert_same, make_input, rand_array

# torch's own note about its nested-tensor prototype (gputensor has no nested tensors)
TORCH_INTERNAL_WARNING = "The PyTorch API of nested tensors is in prototype stage"


def _float_outputs(out):
    items = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in items if o is not None and o.requires_grad]


def build_pair(make, device="cpu"):
    """(ours, theirs): ``make(lib)`` in both libraries, torch's weights loaded into ours."""
    torch.manual_seed(0)
    theirs = make(torch)
    ours = make(gputensor)
    assert repr(ours) == repr(theirs)
    their_state = theirs.state_dict()
    our_state = ours.state_dict()
    assert list(our_state) == list(their_state)
    for name, value in their_state.items():
        assert tuple(our_state[name].shape) == tuple(value.shape), name
    ours.load_state_dict({k: gputensor.tensor(v.detach().numpy())
                          for k, v in their_state.items()})
    ours.to(device)
    ours.train(theirs.training)
    return ours, theirs


def check_module(make, run, *arrays, device="cpu", rtol=1e-5, atol=1e-5, grad_rtol=1e-4,
                 grad_atol=1e-4):
    """Compare ``run(lib, module, *inputs)`` and all gradients between the two libraries."""
    ours, theirs = build_pair(make, device)
    results, warned = {}, {}
    for lib, module in ((gputensor, ours), (torch, theirs)):
        leaves = [None if a is None else
                  make_input(lib, a, requires_grad=a.dtype.kind == "f", device=device)[0]
                  for a in arrays]
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always", UserWarning)
            results[lib] = (leaves, run(lib, module, *leaves))
        warned[lib] = [str(w.message) for w in record
                       if not str(w.message).startswith(TORCH_INTERNAL_WARNING)]
    assert warned[gputensor] == warned[torch], (warned[gputensor], warned[torch])
    (our_leaves, our_out), (their_leaves, their_out) = results[gputensor], results[torch]
    assert_same(our_out, their_out, rtol, atol)
    their_outs, our_outs = _float_outputs(their_out), _float_outputs(our_out)
    assert len(their_outs) == len(our_outs)
    if not their_outs:
        return ours, theirs
    seeds = [rand_array(tuple(t.shape)) for t in their_outs]
    torch.autograd.backward(their_outs, [torch.from_numpy(s.copy()) for s in seeds])
    gputensor.autograd.backward(our_outs, [gputensor.tensor(s, device=device) for s in seeds])
    their_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        expected = their_params[name].grad
        if expected is None:
            assert param.grad is None or not np.any(param.grad.cpu().numpy()), name
        else:
            assert param.grad is not None, f"no gradient for {name}"
            assert_same(param.grad, expected, grad_rtol, grad_atol)
    for mine, their in zip(our_leaves, their_leaves):
        if their is not None and their.grad is not None:
            assert_same(mine.grad, their.grad, grad_rtol, grad_atol)
    return ours, theirs
