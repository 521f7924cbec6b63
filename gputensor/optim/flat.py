"""Flat buffers: a param group's tensors of one dtype and device as views into one buffer.

``FlatPack`` owns, for one (group, dtype, device): the parameters' data, their gradients,
each optimizer state (exp_avg, ...) and the per-parameter step counters, each one
contiguous buffer. Every parameter's ``_data`` is a view into the data buffer and its
``_grad_buffer`` a view into the grad buffer (AccumulateGrad copies the first gradient
there), so one kernel call updates every parameter of the pack.

``FusedOptimizer`` keeps the packs in step with ``param_groups``: it re-packs a group when
its parameter list changes or a parameter's ``_data`` is no longer its view (``.data = ...``,
``Module.to(dtype)``), carrying the state over; ``optimizer.state[p]`` holds views (tensors
shaped like p) into the state buffers, as torch's state holds tensors.
"""

from __future__ import annotations

import numpy as np

from .. import dtypes
from ..tensor import Tensor
from .optimizer import Optimizer


class FlatPack:
    """Parameters of one dtype and device as views into contiguous buffers (and their state)."""

    def __init__(self, params, names_inits, state, has_step: bool):
        """Allocate and fill the buffers from the parameters and ``state``; commit() binds them."""
        first = params[0]
        self.params = list(params)
        self.device = first._device
        self.backend = first._backend
        with self.on_device():
            self._fill(params, names_inits, state, has_step)

    def on_device(self):
        """A context in which the pack's device is the current one."""
        return self.backend.on_device(self.device.index)

    def _fill(self, params, names_inits, state, has_step: bool) -> None:
        xp = self.backend.xp
        dtype = params[0]._data.dtype
        self.shapes = [p._data.shape for p in params]
        sizes = [p._data.size for p in params]
        self.offsets = [0]
        for n in sizes:
            self.offsets.append(self.offsets[-1] + n)
        total = self.offsets[-1]
        self.data = xp.empty(total, dtype)
        self.grad = xp.zeros(total, dtype)
        for p, lo, hi in zip(params, self.offsets, self.offsets[1:]):
            self.data[lo:hi] = p._data.reshape(-1)
        self.views = [self.data[lo:hi].reshape(shape) for lo, hi, shape in self._spans()]
        self.grad_views = [self.grad[lo:hi].reshape(shape) for lo, hi, shape in self._spans()]
        self.has_step = has_step
        step_dtype = np.float64 if dtypes.get_default_dtype() is dtypes.float64 else np.float32
        self.steps = np.zeros(len(params), step_dtype)
        self.buffers = {}
        self.tensor_views = {}
        self.aux = {}  # room for wrappers (Lookahead keeps its slow weights here)
        for name, init in names_inits:
            self.add_buffer(name, init)
        for i, p in enumerate(params):
            entry = state.get(p)
            if not entry:
                continue
            # a state entry without a counter (SGD's) still means "stepped before"
            self.steps[i] = float(entry["step"]) if "step" in entry else 1
            for name in self.buffers:
                value = entry.get(name)
                if isinstance(value, Tensor):
                    self._load(name, i, value)

    def _spans(self):
        return zip(self.offsets, self.offsets[1:], self.shapes)

    def _load(self, name, i, value) -> None:
        lo, hi = self.offsets[i], self.offsets[i + 1]
        if value.numel() != hi - lo:
            raise ValueError(f"loaded state '{name}' of shape {list(value.shape)} does not "
                             f"match its parameter of shape {list(self.shapes[i])}")
        array = value._data
        if value._device != self.device:
            array = value.to(device=self.device)._data
        self.buffers[name][lo:hi] = array.reshape(-1)

    def add_buffer(self, name, init) -> None:
        """A new state buffer filled with ``init`` (no-op when it exists)."""
        if name not in self.buffers:
            xp = self.backend.xp
            self.buffers[name] = xp.full(self.data.shape, init, self.data.dtype)
            self.tensor_views[name] = [None] * len(self.params)

    def reset(self, i, names_inits) -> None:
        """Fresh state for parameter ``i`` (torch's lazy initialisation)."""
        lo, hi = self.offsets[i], self.offsets[i + 1]
        for name, init in names_inits:
            self.buffers[name][lo:hi] = init
        self.steps[i] = 0

    def view(self, name, i) -> Tensor:
        """The tensor view of state buffer ``name`` for parameter ``i``."""
        views = self.tensor_views[name]
        t = views[i]
        if t is None:
            lo, hi = self.offsets[i], self.offsets[i + 1]
            t = views[i] = Tensor._make(self.buffers[name][lo:hi].reshape(self.shapes[i]),
                                        self.device)
        return t

    def step_view(self, i) -> Tensor:
        """The 0-d tensor view of parameter ``i``'s step counter (on the CPU, as torch keeps it)."""
        views = self.tensor_views.setdefault("step", [None] * len(self.params))
        t = views[i]
        if t is None:
            t = views[i] = Tensor._make(self.steps[i:i + 1].reshape(()))
        return t

    def publish(self, i, entry: dict, names) -> None:
        """Point parameter ``i``'s state entries at the buffers (torch's key order)."""
        if self.has_step:
            entry["step"] = self.step_view(i)
        for name in names:
            entry[name] = self.view(name, i)

    def commit(self, state, names) -> None:
        """Make the parameters' data and grad buffers views into this pack, and their state."""
        for i, (p, view, gview) in enumerate(zip(self.params, self.views, self.grad_views)):
            p._data = view
            try:
                p._grad_buffer = gview
            except AttributeError:  # a plain Tensor has __slots__: its grads get copied in
                pass
            entry = state.get(p)
            if entry:
                self.publish(i, entry, [n for n in names if n in self.buffers])

    def is_current(self) -> bool:
        """Whether every parameter's data still is its view."""
        for p, view in zip(self.params, self.views):
            if p._data is not view:
                return False
        return True


class _GroupPacks:
    """The packs of one param group, and what they were built from."""

    def __init__(self, group, packs, others):
        self.group = group
        self.params = list(group["params"])
        self.packs = packs
        self.others = others  # params with no fused kernel (integer dtypes): never stepped

    def is_current(self, group) -> bool:
        params = group["params"]
        if group is not self.group or len(params) != len(self.params):
            return False
        for p, q in zip(params, self.params):
            if p is not q:
                return False
        return all(pack.is_current() for pack in self.packs)


def _float_kind(p) -> bool:
    return p._data.dtype.kind == "f"


class FusedOptimizer(Optimizer):
    """An optimizer whose step is one fused kernel call per (group, dtype, device) pack.

    Subclasses set ``rule`` and ``has_step``, and define ``_state_names(group)`` (state keys
    with their initial values, in torch's order), ``_launch(pack, group, arrays, step)``
    (one backend ``optimizer_step`` call over the arrays of one run of parameters) and may
    override ``_segment_key(step)`` (parameters whose keys differ are updated in separate
    calls: Adam's bias correction depends on the step count).
    """

    rule = None
    has_step = True

    def __init__(self, params, defaults):
        self._packs = []
        super().__init__(params, defaults)

    def _state_names(self, group):
        raise NotImplementedError

    def _launch(self, backend, group, arrays, step):
        raise NotImplementedError

    @staticmethod
    def _segment_key(step):
        return step

    # ---- packing ----------------------------------------------------------------
    def _build_group(self, group, state) -> _GroupPacks:
        by_kind = {}
        others = []
        seen = set()
        for p in group["params"]:
            if id(p) in seen:
                continue
            seen.add(id(p))
            if _float_kind(p):
                by_kind.setdefault((p._data.dtype, p._device), []).append(p)
            else:
                others.append(p)
        names_inits = self._state_names(group)
        packs = [FlatPack(params, names_inits, state, self.has_step)
                 for params in by_kind.values()]
        return _GroupPacks(group, packs, others)

    def _commit_group(self, entry: _GroupPacks, state) -> None:
        names = [n for n, _ in self._state_names(entry.group)]
        for pack in entry.packs:
            pack.commit(state, names)

    def _group_packs(self, index: int, group) -> _GroupPacks:
        """The packs of ``param_groups[index]``, re-packed when stale."""
        packs = self._packs
        entry = packs[index] if index < len(packs) else None
        if entry is None or not entry.is_current(group):
            entry = self._build_group(group, self.state)
            self._commit_group(entry, self.state)
            while len(packs) <= index:
                packs.append(None)
            packs[index] = entry
        return entry

    def _group_added(self, group) -> None:
        # pack now, so that the first backward already lands in the flat grad buffer
        self._group_packs(len(self.param_groups) - 1, group)

    def __setstate__(self, state: dict) -> None:
        new_state = state.get("state", self.__dict__.get("state"))
        groups = state.get("param_groups", self.param_groups)
        entries = [self._build_group(g, new_state) for g in groups]  # may raise: nothing changed
        super().__setstate__(state)
        for entry in entries:
            self._commit_group(entry, new_state)
        self._packs = entries

    # ---- the step -----------------------------------------------------------------
    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss, if any."""
        loss = self._run_closure(closure)
        for index, group in enumerate(self.param_groups):
            entry = self._group_packs(index, group)
            names_inits = self._state_names(group)
            names = [n for n, _ in names_inits]
            for pack in entry.packs:
                with pack.on_device():
                    self._step_pack(pack, group, names_inits, names)
        return loss

    def _step_pack(self, pack: FlatPack, group, names_inits, names) -> None:
        for name, init in names_inits:
            pack.add_buffer(name, init)
        state = self.state
        grad_views = pack.grad_views
        steps = pack.steps
        key_of = self._segment_key
        fresh = []
        runs = []  # [first index, end index, key]
        run = None
        step_list = steps.tolist()
        for i, p in enumerate(pack.params):
            g = p._grad
            if g is None:
                run = None
                continue
            if g._data is not grad_views[i]:  # a grad assigned by hand, or accumulated
                gview = grad_views[i]  # before a re-pack: move it into the buffer
                gview[...] = g._data
                if g._data.dtype == gview.dtype:
                    g._data = gview  # the same grad tensor, now backed by the buffer
                else:  # from a buffer of the old dtype
                    p._grad = Tensor._make(gview, p._device)
            if not state.get(p):
                pack.reset(i, names_inits)
                step_list[i] = 0
                fresh.append(i)
            key = key_of(step_list[i])
            if run is not None and run[2] == key:
                run[1] = i + 1
            else:
                run = [i, i + 1, key]
                runs.append(run)
        if not runs:
            return
        offsets = pack.offsets
        total = offsets[-1]
        backend = pack.backend
        buffers = pack.buffers
        for a, b, _ in runs:
            lo, hi = offsets[a], offsets[b]
            if lo == 0 and hi == total:
                arrays = {"param": pack.data, "grad": pack.grad, **buffers}
            else:
                arrays = {"param": pack.data[lo:hi], "grad": pack.grad[lo:hi]}
                for name, buf in buffers.items():
                    arrays[name] = buf[lo:hi]
            if hi > lo:
                self._launch(backend, group, arrays, step_list[a] + 1)
            steps[a:b] += 1
        if names or pack.has_step:  # torch keeps no state for plain SGD
            for i in fresh:
                pack.publish(i, state[pack.params[i]], names)
        params = pack.params
        for a, b, _ in runs:
            for i in range(a, b):
                params[i]._version.value += 1
