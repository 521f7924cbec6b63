"""Lookahead (Zhang et al. 2019, "Lookahead Optimizer: k steps forward, 1 step back")."""

from __future__ import annotations

from .._tensor import Tensor
from ..backends.flat_step import ArrayList
from ..dtypes import is_float_array_dtype
from .optimizer import Optimizer


class Lookahead(Optimizer):
    """Wrap ``optimizer``: every ``k`` steps, ``slow += alpha * (fast - slow)`` then fast = slow.

    The slow weights are copies of the parameters taken at construction, kept in one flat
    buffer per (dtype, device), so a sync is one kernel call per buffer whatever the inner
    optimizer; it updates the parameters' arrays in place. ``param_groups``, ``state`` and
    ``defaults`` are the inner optimizer's; ``state_dict()`` adds ``'lookahead'``: k, alpha,
    the step counter and the slow weights by parameter index.
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
        self._packs = None  # see _slow_packs
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
    def _float_params(self) -> list:
        """Every floating-point parameter of the groups, once, in order."""
        seen, params = set(), []
        for group in self.param_groups:
            for p in group["params"]:
                if id(p) not in seen and is_float_array_dtype(p._data.dtype):
                    seen.add(id(p))
                    params.append(p)
        return params

    def _slow_packs(self) -> list:
        """``[(params, their ArrayList, flat slow buffer)]`` per (dtype, device), rebuilt when
        the parameters or their arrays change (the slow weights carried over)."""
        params = self._float_params()
        packs = self._packs
        if packs is not None and len(params) == sum(len(ps) for ps, _, _ in packs) and all(
                plist.holds([p._data for p in ps]) and all(p is q for p, q in zip(ps, group))
                for (ps, plist, _), group in zip(packs, self._by_kind(params))):
            return packs
        packs = []
        for group in self._by_kind(params):
            with group[0]._on_device():
                packs.append((group, ArrayList([p._data for p in group]),
                              self._slow_buffer(group)))
        self._packs = packs
        return packs

    @staticmethod
    def _by_kind(params) -> list:
        by_kind = {}
        for p in params:
            by_kind.setdefault((p._data.dtype, p._device), []).append(p)
        return list(by_kind.values())

    def _slow_buffer(self, params):
        """One flat buffer of the parameters' slow weights (their values where there are none)."""
        xp = params[0]._backend.xp
        data = [p._data for p in params]
        flat = xp.empty(sum(a.size for a in data), data[0].dtype)
        lo = 0
        for p, array in zip(params, data):
            hi = lo + array.size
            old = self._slow.get(p)
            source = old if old is not None and old.size == array.size else array
            flat[lo:hi] = xp.asarray(source, dtype=flat.dtype).reshape(-1)
            self._slow[p] = flat[lo:hi].reshape(array.shape)
            lo = hi
        return flat

    def _take_slow_weights(self) -> None:
        self._slow_packs()

    def _sync(self) -> None:
        """``slow += alpha * (fast - slow)``; ``fast = slow``: one kernel call per buffer."""
        for params, param_list, slow in self._slow_packs():
            first = params[0]
            with first._on_device():
                first._backend.optimizer_step("lookahead", {"param": param_list, "slow": slow},
                                              {"alpha": self.alpha}, {})
            for p in params:
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
        self._packs = None  # rebuilt from the loaded values
        self._take_slow_weights()
