"""A Module's tensors: dtype/device conversion, and state dicts (all checks before any change)."""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Mapping

from ... import dtypes
from ..._tensor import Tensor
from ...autograd import no_grad
from ...device import device as _device
from ..parameter import Parameter
from ._utils import IncompatibleKeys, parse_to


class StateMixin:
    """The part of ``nn.Module`` that converts, saves and loads its tensors."""

    def _apply(self, fn, recurse: bool = True):
        """Convert every parameter (in place: ``param.data``) and buffer with ``fn``.

        Every conversion is made before any is committed, so a failure (a device that is
        not there, out of memory) leaves the whole module as it was.
        """
        params, buffers = [], []
        modules = self.modules() if recurse else (self,)
        with no_grad():
            for module in modules:
                for param in module._parameters.values():
                    if param is not None:
                        grad = param.grad
                        params.append((param, fn(param), grad,
                                       None if grad is None else fn(grad)))
                for key, buf in module._buffers.items():
                    if buf is not None:
                        buffers.append((module, key, fn(buf)))
            for param, new, grad, new_grad in params:
                param.data = new
                if grad is not None:
                    grad.data = new_grad
            for module, key, new in buffers:
                module._buffers[key] = new
        return self

    def to(self, *args, **kwargs):
        """Move and/or cast parameters and buffers (dtype casts only floating ones)."""
        device, dtype, _ = parse_to(args, kwargs)
        if dtype is not None and not dtype.is_floating_point:
            raise TypeError("nn.Module.to only accepts floating point or complex dtypes, but "
                            f"got desired dtype={dtype}")

        def convert(t):
            return t.to(device=device, dtype=dtype if t.is_floating_point() else None)
        return self._apply(convert)

    def cpu(self):
        """Move all parameters and buffers to the CPU."""
        return self._apply(lambda t: t.to(device="cpu"))

    def cuda(self, device=None):
        """Move all parameters and buffers to a CUDA device."""
        target = _device("cuda", device) if isinstance(device, int) or device is None \
            else _device(device)
        return self._apply(lambda t: t.to(device=target))

    def _cast_floats(self, dtype):
        return self._apply(lambda t: t.to(dtype=dtype) if t.is_floating_point() else t)

    def float(self):
        """Cast floating point parameters and buffers to float32."""
        return self._cast_floats(dtypes.float32)

    def double(self):
        """Cast floating point parameters and buffers to float64."""
        return self._cast_floats(dtypes.float64)

    def half(self):
        """Cast floating point parameters and buffers to float16."""
        return self._cast_floats(dtypes.float16)

    # ---- state dict ------------------------------------------------------------------
    def _save_to_state_dict(self, destination, prefix, keep_vars) -> None:
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()

    def state_dict(self, *, destination=None, prefix: str = "", keep_vars: bool = False):
        """An ordered dict of parameters and persistent buffers under dotted names."""
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = {"version": self._version}
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".",
                                  keep_vars=keep_vars)
        return destination

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        """Check this module's own entries; the copies go to ``local_metadata["pending"]``."""
        pending = local_metadata.setdefault("pending", [])
        persistent = {k: v for k, v in self._buffers.items()
                      if k not in self._non_persistent_buffers_set}
        local_state = {k: v for k, v in itertools.chain(self._parameters.items(),
                                                        persistent.items()) if v is not None}
        for name, param in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            value = state_dict[key]
            if not isinstance(value, Tensor):
                error_msgs.append(f'While copying the parameter named "{key}", expected '
                                  "gputensor.Tensor or Tensor-like object from checkpoint but "
                                  f"received {type(value)}")
                continue
            if param.ndim == 0 and value.ndim == 1 and value.shape[0] == 1:
                value = value[0]
            if value.shape != param.shape:
                error_msgs.append(f"size mismatch for {key}: copying a param with shape "
                                  f"{value.shape} from checkpoint, the shape in current model "
                                  f"is {param.shape}.")
                continue
            try:
                with no_grad():
                    source = value.detach().to(device=param.device, dtype=param.dtype)
            except Exception as ex:  # noqa: BLE001 - reported as torch reports a failed copy
                error_msgs.append(f'While copying the parameter named "{key}", whose dimensions '
                                  f"in the model are {param.size()} and whose dimensions in the "
                                  f"checkpoint are {value.size()}, an exception occurred : "
                                  f"{ex.args}.")
                continue
            pending.append((self, name, param, value, source))
        if strict:
            for key in state_dict:
                if key.startswith(prefix):
                    input_name = key[len(prefix):].split(".", 1)
                    if len(input_name) > 1:
                        if input_name[0] not in self._modules:
                            unexpected_keys.append(key)
                    elif input_name[0] not in local_state:
                        unexpected_keys.append(key)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy parameters and buffers in place from ``state_dict``; all checks come first.

        Returns ``(missing_keys, unexpected_keys)``. On any error nothing is changed.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing_keys, unexpected_keys, error_msgs, pending = [], [], [], []
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)

        def load(module, local_state_dict, prefix=""):
            local_metadata = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
            local_metadata["pending"] = pending
            module._load_from_state_dict(local_state_dict, prefix, local_metadata, True,
                                         missing_keys, unexpected_keys, error_msgs)
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + "."
                    load(child, {k: v for k, v in local_state_dict.items()
                                 if k.startswith(child_prefix)}, child_prefix)

        load(self, state_dict)
        if strict:
            if unexpected_keys:
                error_msgs.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected_keys)))
            if missing_keys:
                error_msgs.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing_keys)))
        if error_msgs:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                self.__class__.__name__, "\n\t".join(error_msgs)))
        with no_grad():
            for module, name, param, value, source in pending:
                if not assign:
                    param.copy_(source)
                elif isinstance(param, Parameter):
                    if isinstance(value, Parameter):
                        value.requires_grad_(param.requires_grad)
                    else:
                        value = Parameter(value, requires_grad=param.requires_grad)
                    setattr(module, name, value)
                else:
                    setattr(module, name, value)
        return IncompatibleKeys(missing_keys, unexpected_keys)
