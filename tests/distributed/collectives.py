"""Every collective against a NumPy reference, on 2 or 3 MPI processes.

Run as ``mpiexec -n N python collectives.py DEVICE`` (DEVICE: "cpu" over the "gloo"/MPI
backend, "cuda" on the simulated device over the "nccl" backend's MPI stand-in, or "gpu":
real GPUs (one per rank, ``LOCAL_RANK``-th) through NCCL).
"""

import os
import sys

if len(sys.argv) > 1 and sys.argv[1] == "cuda":
    os.environ["GPUTENSOR_SIMULATE_CUDA"] = "1"

import numpy as np

import gputensor as torch
import gputensor.distributed as dist

DEVICE = {"gpu": "cuda"}.get(sys.argv[1], sys.argv[1]) if len(sys.argv) > 1 else "cpu"
DTYPES = {"float32": torch.float32, "float64": torch.float64, "int32": torch.int32,
          "int64": torch.int64, "uint8": torch.uint8, "bool": torch.bool}
LAYOUTS = ("contiguous", "strided", "0-d")


def values(rank, dtype_name, layout):
    """The NumPy array rank ``rank`` contributes."""
    shape = {"contiguous": (2, 3), "strided": (3, 2), "0-d": ()}[layout]
    n = int(np.prod(shape))
    raw = np.arange(n) % 4 + rank + 1
    if dtype_name == "bool":
        return ((np.arange(n) + rank) % 2 == 0).reshape(shape)
    out = raw.astype(dtype_name).reshape(shape)
    return out + np.asarray(0.5 * rank, dtype_name) if dtype_name.startswith("float") else out


def tensor_of(array, dtype_name, layout):
    """A gputensor tensor holding ``array`` with the given layout (strided: a transposed view
    of every other column)."""
    dtype = DTYPES[dtype_name]
    if layout == "strided":
        big = np.zeros((array.shape[1], array.shape[0] * 2), dtype_name)
        big[:, ::2] = array.T
        t = torch.tensor(big, dtype=dtype, device=DEVICE)[:, ::2].t()
        assert not t.is_contiguous()
        return t
    return torch.tensor(array, dtype=dtype, device=DEVICE)


def as_numpy(t):
    return t.cpu().numpy()


def check(name, got, want):
    if want.dtype.kind == "f":
        ok = got.dtype == want.dtype and np.allclose(got, want, rtol=1e-6)
    else:
        ok = got.dtype == want.dtype and np.array_equal(got, want)
    assert ok, f"rank {dist.get_rank()} {name}: got {got!r}, want {want!r}"


REDUCTIONS = {dist.ReduceOp.SUM: np.sum, dist.ReduceOp.MAX: np.max, dist.ReduceOp.MIN: np.min,
              dist.ReduceOp.PRODUCT: np.prod}


def reference(op, stack, dtype_name):
    if dtype_name == "bool":
        return {dist.ReduceOp.SUM: stack.any(0), dist.ReduceOp.MAX: stack.any(0),
                dist.ReduceOp.MIN: stack.all(0), dist.ReduceOp.PRODUCT: stack.all(0)}[op]
    if op is dist.ReduceOp.AVG:
        return (stack.sum(0, dtype=dtype_name) / stack.shape[0]).astype(dtype_name)
    return REDUCTIONS[op](stack, axis=0).astype(dtype_name)


def run_collectives(rank, size):
    for dtype_name in DTYPES:
        for layout in LAYOUTS:
            label = f"{dtype_name}/{layout}"
            mine = values(rank, dtype_name, layout)
            stack = np.stack([values(r, dtype_name, layout) for r in range(size)])
            ops = list(REDUCTIONS) + ([dist.ReduceOp.AVG] if dtype_name.startswith("float")
                                      else [])
            for op in ops:
                t = tensor_of(mine, dtype_name, layout)
                dist.all_reduce(t, op=op)
                check(f"all_reduce {op} {label}", as_numpy(t), reference(op, stack, dtype_name))
                if op not in (dist.ReduceOp.SUM, dist.ReduceOp.AVG):
                    continue  # async and reduce: the sum and the average suffice
                t = tensor_of(mine, dtype_name, layout)
                work = dist.all_reduce(t, op=op, async_op=True)
                assert work.wait() is True and work.is_completed()
                check(f"async all_reduce {op} {label}", as_numpy(t),
                      reference(op, stack, dtype_name))
                t = tensor_of(mine, dtype_name, layout)
                dist.reduce(t, dst=size - 1, op=op)
                want = reference(op, stack, dtype_name) if rank == size - 1 else mine
                check(f"reduce {op} {label}", as_numpy(t), want)
            t = tensor_of(mine, dtype_name, layout)
            dist.broadcast(t, src=size - 1)
            check(f"broadcast {label}", as_numpy(t), stack[size - 1])
            outs = [tensor_of(np.zeros_like(mine), dtype_name, layout) for _ in range(size)]
            dist.all_gather(outs, tensor_of(mine, dtype_name, layout))
            check(f"all_gather {label}", np.stack([as_numpy(o) for o in outs]), stack)
            gathered = torch.zeros((size,) + mine.shape, dtype=DTYPES[dtype_name], device=DEVICE)
            dist.all_gather_into_tensor(gathered, tensor_of(mine, dtype_name, layout))
            check(f"all_gather_into_tensor {label}", as_numpy(gathered), stack)
            dst = 1
            outs = ([tensor_of(np.zeros_like(mine), dtype_name, layout) for _ in range(size)]
                    if rank == dst else None)
            dist.gather(tensor_of(mine, dtype_name, layout), outs, dst=dst)
            if rank == dst:
                check(f"gather {label}", np.stack([as_numpy(o) for o in outs]), stack)
            out = tensor_of(np.zeros_like(mine), dtype_name, layout)
            pieces = ([tensor_of(stack[r], dtype_name, layout) for r in range(size)]
                      if rank == 0 else None)
            dist.scatter(out, pieces, src=0)
            check(f"scatter {label}", as_numpy(out), stack[rank])
            if layout != "0-d" and dtype_name != "bool":
                full = np.stack([np.concatenate([values(r, dtype_name, layout)] * size)
                                 for r in range(size)])
                out = torch.zeros(mine.shape, dtype=DTYPES[dtype_name], device=DEVICE)
                inp = torch.tensor(full[rank], dtype=DTYPES[dtype_name], device=DEVICE)
                dist.reduce_scatter_tensor(out, inp)
                want = full.sum(0, dtype=dtype_name)[rank * mine.shape[0]:
                                                     (rank + 1) * mine.shape[0]]
                check(f"reduce_scatter_tensor {label}", as_numpy(out), want)


def run_point_to_point(rank, size):
    right, left = (rank + 1) % size, (rank - 1) % size
    mine = tensor_of(values(rank, "float64", "strided"), "float64", "strided")
    got = torch.zeros(3, 2, dtype=torch.float64, device=DEVICE)
    if rank % 2 == 0:
        dist.send(mine, right)
        sender = dist.recv(got, left)
    else:
        sender = dist.recv(got, left)
        dist.send(mine, right)
    assert sender == left
    check("send/recv", as_numpy(got), values(left, "float64", "strided"))
    got = torch.zeros(3, 2, dtype=torch.float64, device=DEVICE)
    works = [dist.isend(mine, right), dist.irecv(got, left)]
    for work in works:
        work.wait()
    check("isend/irecv", as_numpy(got), values(left, "float64", "strided"))
    objects = [{"rank": rank}, "text"] if rank == 1 else [None, None]
    dist.broadcast_object_list(objects, src=1)
    assert objects == [{"rank": 1}, "text"], objects
    gathered = [None] * size
    dist.all_gather_object(gathered, ("rank", rank))
    assert gathered == [("rank", r) for r in range(size)], gathered
    gathered = [None] * size if rank == 0 else None
    dist.gather_object({"from": rank}, gathered, dst=0)
    if rank == 0:
        assert gathered == [{"from": r} for r in range(size)], gathered
    received = [None]
    dist.scatter_object_list(received, [f"item {r}" for r in range(size)] if rank == 1 else None,
                             src=1)
    assert received == [f"item {rank}"], received
    out = torch.zeros(2, device=DEVICE)
    pieces = [torch.tensor([float(rank), float(r)], device=DEVICE) for r in range(size)]
    dist.reduce_scatter(out, pieces)
    check("reduce_scatter", as_numpy(out),
          np.array([sum(range(size)), rank * size], np.float32))


def run_groups(rank, size):
    group = dist.new_group([0, size - 1])
    t = torch.tensor([float(rank + 1)], device=DEVICE)
    dist.all_reduce(t, group=group)
    if rank in (0, size - 1):
        assert dist.get_world_size(group) == 2 and dist.get_rank(group) == (rank > 0)
        check("group all_reduce", as_numpy(t), np.array([1.0 + size], np.float32))
        dist.broadcast(t, src=size - 1, group=group)
    else:
        assert dist.get_rank(group) == -1
        check("outside the group", as_numpy(t), np.array([rank + 1.0], np.float32))
    dist.barrier()
    dist.barrier(async_op=True).wait()


def run_errors(rank, size):
    try:
        dist.init_process_group("gloo")
    except ValueError as err:
        assert str(err) == "trying to initialize the default process group twice!", err
    else:
        raise AssertionError("init_process_group twice did not raise")
    t = torch.zeros(rank + 1, device=DEVICE)  # a different shape on each rank
    try:
        dist.all_reduce(t)
    except RuntimeError as err:
        assert "Detected mismatch between collectives on ranks" in str(err), err
        assert "TensorShape=[1]" in str(err) and "TensorShape=[2]" in str(err), err
    else:
        raise AssertionError("mismatched shapes were reduced")
    try:
        dist.send(t, rank)
    except ValueError as err:
        assert str(err).startswith("Invalid destination rank"), err
    else:
        raise AssertionError("sending to oneself did not raise")


def main():
    try:
        dist.all_reduce(torch.zeros(1))
    except ValueError as err:
        assert str(err) == ("Default process group has not been initialized, please make sure "
                            "to call init_process_group."), err
    if sys.argv[1:] == ["gpu"]:
        torch.cuda.set_device(int(os.environ.get("MPI_LOCALRANKID", "0")))
    dist.init_process_group("nccl" if DEVICE == "cuda" else "gloo")
    rank, size = dist.get_rank(), dist.get_world_size()
    assert dist.get_backend() == ("nccl" if DEVICE == "cuda" else "gloo")
    run_collectives(rank, size)
    if size > 1:
        run_point_to_point(rank, size)
        run_groups(rank, size)
        run_errors(rank, size)
    dist.destroy_process_group()
    assert not dist.is_initialized()
    print(f"OK rank {rank} of {size}", flush=True)


if __name__ == "__main__":
    main()
