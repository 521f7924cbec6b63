"""Matrix products split into blocks over threads (backends/parallel_matmul.py)."""

import multiprocessing

import numpy as np
import pytest
import threadpoolctl
import torch

import gputensor
from gputensor.backends.cpu import cpu_backend
from gputensor.backends.parallel_matmul import SplitMatmul

SHAPES = {  # each of at least SPLIT_FROM multiply-adds
    "2-D": ((128, 784), (784, 512)),
    "tall": ((1024, 64), (64, 512)),
    "batched": ((16, 4, 128, 64), (16, 4, 64, 128)),
    "batch times matrix": ((64, 64, 64), (64, 100)),
    "batch of one, columns split": ((1, 512, 128), (1, 128, 512)),
}


@pytest.mark.parametrize("name", list(SHAPES))
@pytest.mark.parametrize("transposed", [False, True])
def test_split_product_equals_one_blas_call(name, transposed):
    a_shape, b_shape = SHAPES[name]
    rng = np.random.default_rng(0)
    a = rng.standard_normal(a_shape).astype(np.float32)
    b = rng.standard_normal(b_shape).astype(np.float32)
    if transposed:  # a column-major operand, as a linear layer's backward hands over
        a = np.ascontiguousarray(a.swapaxes(-1, -2)).swapaxes(-1, -2)
    split = SplitMatmul()
    split.threads = 3
    with threadpoolctl.threadpool_limits(1, "blas"):
        out = split.matmul(a, b)
        expected = np.matmul(a, b)
    assert out is not None and out.shape == expected.shape and out.dtype == expected.dtype
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-5)
    with torch.no_grad():
        np.testing.assert_allclose(out, (torch.from_numpy(a) @ torch.from_numpy(b)).numpy(),
                                   rtol=1e-4, atol=1e-4)


def test_products_that_are_not_split():
    split = SplitMatmul()
    split.threads = 2
    small = np.ones((8, 8), np.float32)
    assert split.matmul(small, small) is None  # under SPLIT_FROM multiply-adds
    big = np.ones((512, 512), np.float32)
    assert split.matmul(big, big.astype(np.float64)) is None  # mixed dtypes
    assert split.matmul(np.ones((2, 1, 256, 256), np.float32),
                        np.ones((3, 256, 256), np.float32)) is None  # broadcast batches
    assert split.matmul(np.ones((4096, 2048), np.float32),
                        np.ones((2048, 40), np.float32)) is None  # too narrow to split
    split.threads = 1
    assert split.matmul(big, big) is None


def _child_product(queue):
    a = gputensor.ones(300, 300)
    queue.put(float((a @ a).sum()))


def test_a_forked_child_computes_products():
    gputensor.ones(300, 300) @ gputensor.ones(300, 300)  # the parent's helpers exist
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child_product, args=(queue,))
    child.start()
    child.join(60)
    assert child.exitcode == 0 and queue.get(timeout=5) == 300.0 ** 3


def test_set_num_threads_governs_the_split():
    before = gputensor.get_num_threads()
    try:
        gputensor.set_num_threads(1)
        assert cpu_backend.split_matmul.threads == 1
        gputensor.set_num_threads(2)
        assert cpu_backend.split_matmul.threads == 2
    finally:
        gputensor.set_num_threads(before)
