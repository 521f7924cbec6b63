"""``DistributedDataParallel``: one model replica per process, gradients averaged in buckets.

At construction the replicas are checked to have the same parameters (one small object
all-gather) and rank 0's parameters and buffers are broadcast to the others. The gradients
are grouped in buckets of about ``bucket_cap_mb`` (the parameters in reverse order, as torch,
since backward reaches the last layers first). A post-accumulate-grad hook on every parameter
marks it ready; when a bucket is complete its gradients are copied into one flat buffer and a
non-blocking all-reduce (MPI ``Iallreduce``, or NCCL on the GPU) starts, overlapping the rest
of backward. Buckets start in the same order on every rank; when the last one has started,
the hook waits for all of them and writes the averaged gradients back into ``.grad``.
"""

from __future__ import annotations

import contextlib

import numpy as np

from ... import distributed
from ..._tensor_core import TensorCore
from ...autograd.grad_mode import is_grad_enabled
from ...autograd.nodes import AccumulateGrad
from ...distributed.collectives import all_reduce_array, member_group
from ...distributed.groups import ReduceOp
from ...distributed.transport import nccl_comm, stage, unstage, uses_nccl
from ..modules import Module

__all__ = ["DistributedDataParallel"]

UNFINISHED_REDUCTION = (
    "Expected to have finished reduction in the prior iteration before starting a new one. "
    "This error indicates that your module has parameters that were not used in producing "
    "loss. You can enable unused parameter detection by passing the keyword argument "
    "`find_unused_parameters=True` to `torch.nn.parallel.DistributedDataParallel`, and by \n"
    "making sure all `forward` function outputs participate in calculating loss. \n"
    "If you already have done the above, then the distributed data parallel module wasn't "
    "able to locate the output tensors in the return value of your module's `forward` "
    "function. Please include the loss function and the structure of the return value of "
    "`forward` of your module when reporting this issue (e.g. list, dict, iterable).\n"
    "Parameter indices which did not receive grad for rank {rank}: {indices}\n"
    " In addition, you can set the environment variable TORCH_DISTRIBUTED_DEBUG to either "
    "INFO or DETAIL to print out information about which particular parameters did not "
    "receive gradient on this rank as part of this error")
DEFAULT_BUCKET_CAP_MB = 25


def _tensors_in(value):
    """The tensors in a forward's output (nested tuples, lists and dicts)."""
    if isinstance(value, TensorCore):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in _tensors_in(item)]
    return []


def _leaves_reached(outputs) -> set[int]:
    """The ids of the leaf tensors the outputs' graph reaches."""
    seen, found = set(), set()
    stack = [t.grad_fn for t in outputs if t.grad_fn is not None]
    found.update(id(t) for t in outputs if t.grad_fn is None and t.requires_grad)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if isinstance(node, AccumulateGrad):
            found.add(id(node.variable))
            continue
        stack.extend(nxt for nxt, _ in node.next_functions if nxt is not None)
    return found


def broadcast_coalesced(pg, tensors, src: int = 0) -> None:
    """Copy rank ``src``'s ``tensors`` into every rank's, one message per dtype."""
    by_dtype = {}
    for t in tensors:
        by_dtype.setdefault((t._data.dtype.name, uses_nccl(pg, t)), []).append(t)
    for (_, nccl), group in by_dtype.items():
        arrays = [stage(t, nccl).reshape(-1) for t in group]
        if nccl:
            xp = group[0]._backend.xp
            with group[0]._on_device():
                flat = xp.concatenate(arrays)
            nccl_comm(pg).broadcast(flat, src)
        else:
            flat = np.concatenate(arrays)
            pg._comm.Bcast(flat.view(np.uint8), src)
        offset = 0
        for t, a in zip(group, arrays):
            unstage(t, flat[offset:offset + a.size].reshape(tuple(t.shape)))
            offset += a.size


class _Bucket:
    """Parameters whose gradients are reduced together through one flat buffer."""

    def __init__(self, params):
        self.params = params
        self.ready = 0
        self.work = None
        self.flat = None
        self.result = None


class DistributedDataParallel(Module):
    """Data parallelism across processes: gradients averaged over the ranks in backward."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False,
                 delay_all_reduce_named_params=None, param_to_hook_all_reduce=None,
                 mixed_precision=None, device_mesh=None):
        super().__init__()
        pg = member_group(process_group)
        devices = {p.device for p in module.parameters()}
        if device_ids is not None and all(d.type == "cpu" for d in devices):
            raise ValueError(
                "DistributedDataParallel device_ids and output_device arguments only work with "
                "single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                f"{list(device_ids)}, output_device {output_device}, and module parameters "
                f"{{{', '.join(repr(d) for d in devices)}}}.")
        self.module = module
        self.process_group = pg
        self.device_ids = device_ids
        self.output_device = output_device
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.bucket_bytes_cap = int((bucket_cap_mb or DEFAULT_BUCKET_CAP_MB) * 1024 * 1024)
        all_params = list(module.parameters())
        self._params = [p for p in all_params if p.requires_grad]
        position = {id(p): i for i, p in enumerate(all_params)}
        self._index = {id(p): position[id(p)] for p in self._params}
        self._verify_same_model(pg)
        broadcast_coalesced(pg, all_params + list(module.buffers()))
        self._buckets = self._make_buckets()
        self._bucket_of = {id(p): b for b in self._buckets for p in b.params}
        self._pending = False  # a backward's reduction is expected
        self._received = set()  # ids of the parameters whose hooks ran since the forward
        self._used = set()
        self._marked = set()  # unused parameters marked ready at the forward
        self._next_bucket = 0
        self._hook_handles = [p.register_post_accumulate_grad_hook(self._grad_ready)
                              for p in self._params]

    def _verify_same_model(self, pg) -> None:
        """Every rank must hold parameters of the same shapes and dtypes, in the same order."""
        mine = [(tuple(p.shape), str(p.dtype)) for p in self._params]
        everyone = [None] * pg.size()
        distributed.all_gather_object(everyone, mine, group=pg)
        for rank, theirs in enumerate(everyone):
            if len(theirs) != len(everyone[0]):
                raise RuntimeError(f"DDP expects same model across all ranks, but Rank {rank} "
                                   f"has {len(theirs)} params, while rank 0 has inconsistent "
                                   f"{len(everyone[0])} params.")
            for i, (a, b) in enumerate(zip(everyone[0], theirs)):
                if a != b:
                    raise RuntimeError(
                        f"DDP expects same model across all ranks, but parameter {i} has shape "
                        f"{list(a[0])} ({a[1]}) on rank 0 and {list(b[0])} ({b[1]}) on rank "
                        f"{rank}.")

    def _make_buckets(self) -> list[_Bucket]:
        """Buckets of the parameters in reverse order, each about ``bucket_bytes_cap``."""
        buckets, current, size, key = [], [], 0, None
        for p in reversed(self._params):
            nbytes = p.numel() * p.element_size()
            this_key = (p.dtype, p.device)
            if current and (size + nbytes > self.bucket_bytes_cap or this_key != key):
                buckets.append(_Bucket(current))
                current, size = [], 0
            current.append(p)
            size += nbytes
            key = this_key
        if current:
            buckets.append(_Bucket(current))
        return buckets

    # ---- forward ---------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        """The wrapped module's output; prepares the gradient reduction of the backward."""
        if self._pending and self._received:
            missing = [self._index[id(p)] for p in self._params
                       if id(p) not in self._received and id(p) not in self._marked]
            raise RuntimeError(UNFINISHED_REDUCTION.format(
                rank=self.process_group.rank(), indices=" ".join(map(str, sorted(missing)))))
        if self.broadcast_buffers and self.require_forward_param_sync \
                and self.process_group.size() > 1:
            buffers = list(self.module.buffers())
            if buffers:
                broadcast_coalesced(self.process_group, buffers)
        output = self.module(*inputs, **kwargs)
        if is_grad_enabled() and self.require_backward_grad_sync:
            self._prepare_for_backward(output)
        else:
            self._pending = False
        return output

    def _prepare_for_backward(self, output) -> None:
        self._pending = True
        self._received = set()
        self._next_bucket = 0
        for bucket in self._buckets:
            bucket.ready, bucket.work, bucket.flat, bucket.result = 0, None, None, None
        self._marked = set()
        if self.find_unused_parameters:
            reached = _leaves_reached(_tensors_in(output))
            self._used = {id(p) for p in self._params if id(p) in reached}
            for p in self._params:
                if id(p) not in reached:
                    self._marked.add(id(p))
                    self._mark_ready(p)
        else:
            self._used = {id(p) for p in self._params}

    # ---- backward --------------------------------------------------------------------------
    def _grad_ready(self, param) -> None:
        """The post-accumulate hook: ``param.grad`` is final for this backward."""
        if not self._pending or id(param) in self._received or id(param) in self._marked:
            return
        self._received.add(id(param))
        self._mark_ready(param)

    def _mark_ready(self, param) -> None:
        bucket = self._bucket_of[id(param)]
        bucket.ready += 1
        while (self._next_bucket < len(self._buckets)
               and self._buckets[self._next_bucket].ready
               == len(self._buckets[self._next_bucket].params)):
            self._launch(self._buckets[self._next_bucket])
            self._next_bucket += 1
        if self._next_bucket == len(self._buckets) and self._pending:
            self._finish_reduction()

    def _launch(self, bucket: _Bucket) -> None:
        """Copy the bucket's gradients into one buffer and start its all-reduce."""
        pg = self.process_group
        nccl = uses_nccl(pg, bucket.params[0])
        pieces = []
        for p in bucket.params:
            if p.grad is None or id(p) not in self._used:
                with p._on_device():
                    xp = p._backend.xp if nccl else np
                    pieces.append(xp.zeros(p.numel(), p._data.dtype))
            else:
                pieces.append(stage(p.grad, nccl).reshape(-1))
        if nccl:
            with bucket.params[0]._on_device():
                bucket.flat = bucket.params[0]._backend.xp.concatenate(pieces)
            nccl_comm(pg).all_reduce(bucket.flat, bucket.flat, ReduceOp.SUM)
            bucket.result = bucket.flat
            return
        bucket.flat = np.concatenate(pieces)
        bucket.work = all_reduce_array(pg, bucket.flat, ReduceOp.SUM, True,
                                       lambda result: setattr(bucket, "result", result))

    def _finish_reduction(self) -> None:
        """Wait for every bucket; write the averaged gradients into ``.grad``."""
        self._pending = False
        pg = self.process_group
        size = pg.size()
        used_anywhere = self._used_anywhere() if self.find_unused_parameters else None
        order = {id(p): i for i, p in enumerate(self._params)}
        for bucket in self._buckets:
            if bucket.work is not None:
                bucket.work.wait()
            flat = bucket.result
            flat /= size
            offset = 0
            for p in bucket.params:
                n = p.numel()
                piece = flat[offset:offset + n].reshape(tuple(p.shape))
                offset += n
                if used_anywhere is not None and not used_anywhere[order[id(p)]]:
                    continue  # unused on every rank: .grad is left as it was
                if p.grad is None:
                    with p._on_device():
                        p.grad = p._wrap(p._backend.xp.zeros(tuple(p.shape), p._data.dtype))
                unstage(p.grad, piece)

    def _used_anywhere(self):
        """For each parameter, whether some rank used it in this iteration (one MAX reduce)."""
        used = np.array([id(p) in self._used for p in self._params], np.uint8)
        all_reduce_array(self.process_group, used, ReduceOp.MAX, False,
                         lambda result: used.__setitem__(slice(None), result))
        return used.astype(bool)

    @contextlib.contextmanager
    def no_sync(self):
        """Within this context backward accumulates local gradients with no reduction."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous
