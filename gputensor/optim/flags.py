"""torch's checks of the optimizers' ``fused`` / ``foreach`` / ``capturable`` /
``differentiable`` flags: at construction, and at each step."""

from __future__ import annotations

_CAPTURABLE_DEVICES = ["cuda", "xpu", "hpu", "privateuseone"]


def check_fused_flags(fused, foreach, differentiable) -> None:
    """torch's errors for incompatible ``fused``/``foreach``/``differentiable`` flags."""
    if fused and differentiable:
        raise RuntimeError("`fused` does not support `differentiable`")
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def _capturable_error(optimizer, group) -> AssertionError:
    """torch's assertion for capturable=True with parameters off the supported devices (its
    wording and device list differ between the single-tensor and foreach implementations)."""
    foreach = bool(group.get("foreach")) and not group.get("differentiable")
    what = optimizer.capturable_state[1 if foreach else 0]
    devices = _CAPTURABLE_DEVICES + (["xla"] if optimizer.capturable_xla[foreach] else [])
    return AssertionError(f"If capturable=True, {what} must be on supported devices: "
                          f"{devices}.")


def check_step_flags(optimizer) -> None:
    """Raise as torch's step does for capturable=True on the CPU and for differentiable=True
    with leaf parameters that require grad (its in-place update of a leaf fails)."""
    for group in optimizer.param_groups:
        stepped = [p for p in group["params"] if p.grad is not None]
        if not stepped:
            continue
        if group.get("capturable") and any(p.device.type == "cpu" for p in stepped):
            raise _capturable_error(optimizer, group)
        # torch's differentiable step runs with grad mode on, even inside no_grad
        if group.get("differentiable") and any(p.requires_grad for p in stepped):
            if any(p.is_leaf for p in stepped):
                raise RuntimeError("a leaf Variable that requires grad is being used in an "
                                   "in-place operation.")
            raise NotImplementedError("differentiable=True steps that autograd records are "
                                      "not supported by gputensor.optim")
