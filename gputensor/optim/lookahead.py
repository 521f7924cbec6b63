"""Lookahead (Zhang et al. 2019, "Lookahead Optimizer: k steps forward, 1 step back")."""

from __future__ import annotations

from ..tensor import Tensor
from .flat import FusedOptimizer
from .optimizer import Optimizer


class Lookahead(Optimizer):
    """Wrap ``optimizer``: every ``k`` steps, ``slow += alpha * (fast - slow)`` then fast = slow.

    The slow weights are copies of the parameters taken at construction. With a fused inner
    optimizer they live in flat buffers laid out like its parameter buffers, so a sync is one
    kernel call per (group, dtype, device). ``param_groups``, ``state`` and ``defaults`` are
    the inner optimizer's; ``state_dict()`` adds ``'lookahead'``: k, alpha, the step counter
    and the slow weights by parameter index.
    """

    def __init__(self, optimizer, k=5, alpha=0.5):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"Invalid slow update rate: {alpha}")
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"Invalid lookahead steps: {k}")
        self.optimizer = optimizer
        self.k = k
        self.alpha = alpha
        self.step_counter = 0
        self._slow = {}  # param -> array shaped like it (a view into a flat slow buffer)
        self._take_slow_weights()

    # ---- the inner optimizer's surface -------------------------------------------
    @property
    def param_groups(self):
        """The inner optimizer's parameter groups."""
        return self.optimizer.param_groups

    @property
    def state(self):
        """The inner optimizer's per-parameter state."""
        return self.optimizer.state

    @property
    def defaults(self):
        """The inner optimizer's defaults."""
        return self.optimizer.defaults

    def __repr__(self) -> str:
        inner = "\n".join("    " + line for line in repr(self.optimizer).split("\n"))
        return f"Lookahead (\n{inner}\n    k: {self.k}\n    alpha: {self.alpha}\n)"

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients (the inner optimizer's zero_grad)."""
        self.optimizer.zero_grad(set_to_none)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group to the inner optimizer; its slow weights start as the current values."""
        self.optimizer.add_param_group(param_group)
        self._take_slow_weights()

    # ---- slow weights -----------------------------------------------------------
    def _key(self):
        return ("lookahead", id(self))

    def _packs(self):
        inner = self.optimizer
        if not isinstance(inner, FusedOptimizer):
            return None
        return [pack for index, group in enumerate(inner.param_groups)
                for pack in inner._group_packs(index, group).packs]

    def _slow_buffer(self, pack):
        """The flat slow buffer laid out like ``pack`` (rebuilt after the pack is re-packed)."""
        key = self._key()
        flat = pack.aux.get(key)
        if flat is None:
            flat = pack.backend.xp.empty_like(pack.data)
            for p, lo, hi in zip(pack.params, pack.offsets, pack.offsets[1:]):
                old = self._slow.get(p)
                source = old if old is not None and old.size == hi - lo else p._data
                flat[lo:hi] = pack.backend.xp.asarray(source, dtype=flat.dtype).reshape(-1)
                self._slow[p] = flat[lo:hi].reshape(p._data.shape)
            pack.aux[key] = flat
        return flat

    def _loose_params(self, packs):
        """Floating-point parameters outside any pack (a non-fused inner optimizer)."""
        seen = {id(p) for pack in packs or () for p in pack.params}
        return [p for group in self.param_groups for p in group["params"]
                if id(p) not in seen and p._data.dtype.kind == "f"]

    def _take_slow_weights(self) -> None:
        packs = self._packs()
        for pack in packs or ():
            with pack.on_device():
                self._slow_buffer(pack)
        for p in self._loose_params(packs):
            if p not in self._slow:
                with p._on_device():
                    self._slow[p] = p._data.copy()

    def _sync(self) -> None:
        """``slow += alpha * (fast - slow)``; ``fast = slow``: one kernel call per flat buffer."""
        alpha = self.alpha
        packs = self._packs()
        for pack in packs or ():
            with pack.on_device():
                slow = self._slow_buffer(pack)
                pack.backend.optimizer_step("lookahead", (slow, pack.data), (alpha,), ())
            for p in pack.params:
                p._version.value += 1
        for p in self._loose_params(packs):
            with p._on_device():
                slow = self._slow.get(p)
                if slow is None or slow.shape != p._data.shape:
                    slow = self._slow[p] = p._data.copy()
                fast = p._data.copy()
                p._backend.optimizer_step("lookahead", (slow.reshape(-1), fast.reshape(-1)),
                                          (alpha,), ())
                p._data[...] = fast
            p._version.value += 1

    def step(self, closure=None):
        """One inner step; every k-th step, pull the weights toward the slow weights."""
        loss = self.optimizer.step(closure)
        self.step_counter += 1
        if self.step_counter % self.k == 0:
            self._sync()
        return loss

    # ---- state_dict -------------------------------------------------------------
    def state_dict(self) -> dict:
        """The inner optimizer's state_dict plus ``'lookahead'`` (k, alpha, counter, slow)."""
        state_dict = self.optimizer.state_dict()
        self._take_slow_weights()
        mapping = self._param_indices()
        slow = {}
        for group in self.param_groups:
            for p in group["params"]:
                index = mapping[id(p)]
                if index not in slow and p in self._slow:
                    slow[index] = Tensor._make(self._slow[p], p._device)
        state_dict["lookahead"] = {"k": self.k, "alpha": self.alpha,
                                   "step_counter": self.step_counter, "slow_weights": slow}
        return state_dict

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a ``state_dict()``: the inner optimizer's state, then the slow weights."""
        if "lookahead" not in state_dict:
            raise ValueError("loaded state dict has no 'lookahead' entry (not saved by "
                             "Lookahead.state_dict())")
        saved = state_dict["lookahead"]
        by_index = {}
        for group, saved_group in zip(self.param_groups, state_dict["param_groups"]):
            for p, index in zip(group["params"], saved_group["params"]):
                by_index.setdefault(index, p)
        values = {}
        for index, value in saved["slow_weights"].items():
            p = by_index.get(index)
            if p is None:
                continue
            if tuple(value.shape) != tuple(p.shape):
                raise ValueError(f"loaded slow weights of shape {list(value.shape)} do not "
                                 f"match the parameter of shape {list(p.shape)}")
            values[p] = value.to(dtype=p.dtype, device=p.device)._data.copy()
        inner = {k: v for k, v in state_dict.items() if k != "lookahead"}
        self.optimizer.load_state_dict(inner)  # validates before changing anything
        self.k, self.alpha = saved["k"], saved["alpha"]
        self.step_counter = saved["step_counter"]
        for p, value in values.items():
            self._slow[p] = value
        for pack in self._packs() or []:
            pack.aux.pop(self._key(), None)
        self._take_slow_weights()
