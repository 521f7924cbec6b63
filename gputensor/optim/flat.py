"""Fused optimizer steps: a param group's state in flat buffers, its parameters left in place.

``FlatPack`` owns, for one (group, dtype, device): each optimizer state (exp_avg, ...) as
one contiguous buffer laid out like the parameters one after another, the per-parameter
step counters, and the parameters' own arrays as one ``ArrayList``. One backend
``optimizer_step`` call runs the update rule over every parameter of the pack, writing the
parameters' arrays where they lie (a ``from_numpy`` array or a view sees every step, as
in torch); gradients are read from wherever ``.grad`` holds them.

``FusedOptimizer`` keeps the packs in step with ``param_groups``: it re-packs a group when
its parameter list changes or a parameter's ``_data`` is another array (``.data = ...``,
``Module.to(dtype)``), carrying the state over; ``optimizer.state[p]`` holds views (tensors
shaped like p) into the state buffers, as torch's state holds tensors.
"""

from __future__ import annotations

import operator

import numpy as np

from .. import dtypes
from .._tensor import Tensor
from ..backends.flat_step import ArrayList
from ..dtypes import is_float_array_dtype
from .flags import check_step_flags
from .optimizer import Optimizer

# Packs of at most this many elements copy their gradients into one flat buffer each step
# (one concatenate of a few KiB) rather than handing the kernel a new list of gradient
# arrays: backward makes new gradient arrays every step, and mending a kernel's array list
# costs about a microsecond per array, more than a small model's whole update.
GATHER_BELOW = 1 << 15
_DATA = operator.attrgetter("_data")
_GRAD_DATA = operator.attrgetter("_grad._data")
_VERSION = operator.attrgetter("_version")


class FlatPack:
    """Parameters of one dtype and device: their state in flat buffers, their arrays as a list."""

    def __init__(self, params, names_inits, state, has_step: bool, host_inits=()):
        """Allocate the state buffers and fill them from ``state``; commit() publishes them.

        ``host_inits``: per-parameter scalar state kept on the host beside the step counter
        (NAdam's mu_product), as (name, initial value) pairs.
        """
        first = params[0]
        self.params = list(params)
        self.device = first._device
        self.backend = first._backend
        with self.on_device():
            self._fill(params, names_inits, state, has_step, host_inits)

    def on_device(self):
        """A context in which the pack's device is the current one."""
        return self.backend.on_device(self.device.index)

    def _fill(self, params, names_inits, state, has_step: bool, host_inits) -> None:
        self.param_list = ArrayList([p._data for p in params])
        self.grad_list = None  # the gradients' list of the last step (kept while they stay)
        self.dtype = params[0]._data.dtype
        self.shapes = [p._data.shape for p in params]
        self.offsets = [0]
        for p in params:
            self.offsets.append(self.offsets[-1] + p._data.size)
        total = self.offsets[-1]
        self.bound = self.bound_key = None  # the kernel call of the usual step, bound
        self.grad_flat = None  # small packs gather their gradients here (GATHER_BELOW)
        if total <= GATHER_BELOW:
            self.grad_flat = self.backend.xp.empty(total, self.dtype)
            self.gathered_list = ArrayList(
                [self.grad_flat[lo:hi].reshape(shape) for lo, hi, shape in
                 zip(self.offsets, self.offsets[1:], self.shapes)])
        self.has_step = has_step
        step_dtype = np.float64 if dtypes.get_default_dtype() is dtypes.float64 else np.float32
        self.steps = np.zeros(len(params), step_dtype)
        self.host = {name: np.full(len(params), init, step_dtype) for name, init in host_inits}
        self.buffers = {}
        self.tensor_views = {}
        for name, init in names_inits:
            self.add_buffer(name, init)
        for i, p in enumerate(params):
            entry = state.get(p)
            if not entry:
                continue
            # a state entry without a counter (SGD's) still means "stepped before"
            self.steps[i] = float(entry["step"]) if "step" in entry else 1
            for name, values in self.host.items():
                if name in entry:
                    values[i] = float(entry[name])
            for name in self.buffers:
                value = entry.get(name)
                if isinstance(value, Tensor):
                    self._load(name, i, value)

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
            self.buffers[name] = xp.full(self.offsets[-1], init, self.dtype)
            self.tensor_views[name] = [None] * len(self.params)

    def reset(self, i, names_inits, host_inits=()) -> None:
        """Fresh state for parameter ``i`` (torch's lazy initialisation)."""
        lo, hi = self.offsets[i], self.offsets[i + 1]
        for name, init in names_inits:
            self.buffers[name][lo:hi] = init
        for name, init in host_inits:
            self.host[name][i] = init
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

    def step_view(self, i, name="step") -> Tensor:
        """The 0-d tensor view of parameter ``i``'s step counter (on the CPU, as torch keeps it)
        or of its host scalar ``name``."""
        views = self.tensor_views.setdefault(name, [None] * len(self.params))
        t = views[i]
        if t is None:
            values = self.steps if name == "step" else self.host[name]
            t = views[i] = Tensor._make(values[i:i + 1].reshape(()))
        return t

    def publish(self, i, entry: dict, names) -> None:
        """Point parameter ``i``'s state entries at the buffers (torch's key order)."""
        if self.has_step:
            entry["step"] = self.step_view(i)
        for name in self.host:
            entry[name] = self.step_view(i, name)
        for name in names:
            entry[name] = self.view(name, i)

    def commit(self, state, names) -> None:
        """Point the parameters' existing state entries at this pack's buffers."""
        for i, p in enumerate(self.params):
            entry = state.get(p)
            if entry:
                self.publish(i, entry, [n for n in names if n in self.buffers])

    def is_current(self) -> bool:
        """Whether every parameter still holds the array the pack was built with."""
        return all(map(operator.is_, map(_DATA, self.params), self.param_list.arrays))


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
        return all(map(operator.is_, params, self.params)) and all(
            pack.is_current() for pack in self.packs)


def _float_kind(p) -> bool:
    return is_float_array_dtype(p._data.dtype)


class FusedOptimizer(Optimizer):
    """An optimizer whose step is one fused kernel call per (group, dtype, device) pack.

    Subclasses set ``rule`` (a rule of kernels/rules.py, whose buffers are named like the
    optimizer's state) and ``has_step``, and define ``_state_names(group)`` (state keys with
    their initial values, in torch's order) and ``_rule_values(group, step)`` (the rule's
    scalars and flags, two dicts by name); they may override ``_segment_key(step)``
    (parameters whose keys differ are updated in separate calls: Adam's bias correction
    depends on the step count).
    """

    rule = None
    has_step = True
    # torch's capturable=True assertion on the CPU (single-tensor, foreach): see flags.py
    capturable_state = ("params and state_steps", "params and state_steps")
    capturable_xla = (True, False)

    def __init__(self, params, defaults):
        self._packs = []
        super().__init__(params, defaults)

    def _state_names(self, group):
        raise NotImplementedError

    def _rule_values(self, group, step):
        raise NotImplementedError

    def _host_names(self, group):
        """Per-parameter host scalars of the state, after ``step``: (name, initial value)."""
        return []

    def _pack_values(self, pack, i, group, step):
        """The rule's scalars and flags for a launch whose first parameter is ``i``."""
        return self._rule_values(group, step)

    def _advance(self, pack, lo, hi, group, step) -> None:
        """Update parameters lo:hi's host scalars after their step ``step``."""

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
        host_inits = self._host_names(group)
        packs = [FlatPack(params, names_inits, state, self.has_step, host_inits)
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
        self._group_packs(len(self.param_groups) - 1, group)

    def __setstate__(self, state: dict) -> None:
        unpickled = "defaults" not in self.__dict__  # pickle's new object: no fields yet
        if unpickled:
            super().__setstate__(state)
        new_state = state.get("state", self.__dict__.get("state"))
        groups = state["param_groups"] if "param_groups" in state else self.param_groups
        entries = [self._build_group(g, new_state) for g in groups]  # may raise: nothing changed
        if not unpickled:
            super().__setstate__(state)
        for entry in entries:
            self._commit_group(entry, new_state)
        self._packs = entries

    # ---- the step -----------------------------------------------------------------
    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss, if any."""
        loss = self._run_closure(closure)
        check_step_flags(self)
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
        step_list = pack.steps.tolist()
        if not self._step_all(pack, group, step_list, bool(names) or pack.has_step):
            self._step_some(pack, group, names_inits, names, step_list)

    def _step_all(self, pack: FlatPack, group, step_list, keeps_state: bool) -> bool:
        """The usual step in one launch: every parameter has a gradient and (if the
        optimizer keeps any) state, and all share one step count; False (nothing done)
        otherwise."""
        params = pack.params
        first = step_list[0]
        if step_list.count(first) != len(step_list):
            return False
        try:
            grads = list(map(_GRAD_DATA, params))
        except AttributeError:  # a parameter without a gradient
            return False
        if keeps_state and not all(map(self.state.get, params)):
            return False
        grad_list = self._grad_list(pack, grads)
        if grad_list is None:
            return False
        scalars, flags = self._pack_values(pack, 0, group, first + 1)
        key = (grad_list, tuple(flags.values()), tuple(pack.buffers))
        bound = pack.bound
        if bound is None or pack.bound_key != key or not bound.is_current():
            bound = pack.backend.bind_optimizer_step(
                self.rule, {"param": pack.param_list, "grad": grad_list, **pack.buffers},
                {**scalars, **flags})
            if bound is None:  # no kernel for the dtype: the widened path
                return False
            pack.bound, pack.bound_key = bound, key
        bound(scalars)
        self._advance(pack, 0, len(params), group, first + 1)
        pack.steps += 1
        for version in map(_VERSION, params):
            version.value += 1
        return True

    @staticmethod
    def _grad_list(pack: FlatPack, grads):
        """The kernel's list of all the pack's gradients, or None if their dtype differs."""
        if pack.grad_flat is not None:
            pack.backend.xp.concatenate([a.reshape(-1) for a in grads], out=pack.grad_flat,
                                        casting="same_kind")
            return pack.gathered_list
        grad_list = pack.grad_list
        if grad_list is None:
            grad_list = pack.grad_list = ArrayList(grads)
        elif not grad_list.holds(grads):  # new gradients (zero_grad set them to None)
            grad_list.update(grads)
        return grad_list if grad_list.layout[1] == pack.dtype else None

    def _step_some(self, pack: FlatPack, group, names_inits, names, step_list) -> None:
        """A step where parameters lack gradients, start fresh or differ in step count:
        one launch per run of neighbouring parameters that step with the same key."""
        state = self.state
        key_of = self._segment_key
        dtype = pack.dtype
        grads = []
        fresh = []
        runs = []  # [first index, end index, key]
        run = None
        for i, p in enumerate(pack.params):
            g = p._grad
            if g is None:
                grads.append(None)
                run = None
                continue
            array = g._data
            grads.append(array if array.dtype == dtype else array.astype(dtype))
            if not state.get(p):
                pack.reset(i, names_inits, self._host_names(group))
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
        if len(runs) == 1 and runs[0][0] == 0 and runs[0][1] == len(grads):
            grad_list = self._grad_list(pack, grads)
            self._launch(pack, group, pack.param_list, grad_list, pack.buffers,
                         (0, len(grads), step_list[0] + 1))
        else:
            offsets = pack.offsets
            for a, b, _ in runs:
                lo, hi = offsets[a], offsets[b]
                buffers = {name: buf[lo:hi] for name, buf in pack.buffers.items()}
                self._launch(pack, group, ArrayList(pack.param_list.arrays[a:b]),
                             ArrayList(grads[a:b]), buffers, (a, b, step_list[a] + 1))
        steps = pack.steps
        for a, b, _ in runs:
            steps[a:b] += 1
        if names or pack.has_step:  # torch keeps no state for plain SGD
            for i in fresh:
                pack.publish(i, state[pack.params[i]], names)
        params = pack.params
        for a, b, _ in runs:
            for i in range(a, b):
                params[i]._version.value += 1

    def _launch(self, pack, group, param_list, grad_list, buffers, run) -> None:
        """One backend call of the rule over parameters ``lo:hi`` at step ``step``
        (``run = (lo, hi, step)``)."""
        lo, hi, step = run
        scalars, flags = self._pack_values(pack, lo, group, step)
        pack.backend.optimizer_step(self.rule, {"param": param_list, "grad": grad_list,
                                                **buffers}, scalars, flags)
        self._advance(pack, lo, hi, group, step)
