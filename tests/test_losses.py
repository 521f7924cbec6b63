"""Losses (functional and modules) against torch: values, input grads, grad_fn names, errors."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as torch_fn

import gputensor
import gputensor.nn.functional as our_fn
from helpers import assert_on, assert_same, check_error, check_op, made_on, rand_array

FLOATS = ["float32", "float64"]
REDUCTIONS = ["mean", "sum", "none"]
RNG = np.random.default_rng(11)


def fn_of(lib):
    """The functional module of a library."""
    return our_fn if lib is gputensor else torch_fn


def run(fn, *arrays, device, **options):
    """check_op with ``fn(F, lib, *operands)``: F is the library's functional module."""
    check_op(lambda lib, *ops: fn(fn_of(lib), lib, *ops), *arrays, device=device, **options)


def const(lib, array):
    """A tensor that does not require grad (weights, class indices)."""
    return None if array is None else lib.tensor(array)


def gradcheck(fn, *arrays):
    """gputensor's float64 gradcheck of ``fn(*tensors)``."""
    inputs = [gputensor.tensor(a.astype(np.float64), requires_grad=True) for a in arrays]
    assert gputensor.autograd.gradcheck(fn, inputs)


def classes(shape, n, ignore=None):
    """Random class indices in [0, n), some set to ``ignore``."""
    t = RNG.integers(0, n, size=shape)
    if ignore is not None and t.size:
        t.reshape(-1)[::3] = ignore
    return t


# ---- regression losses -------------------------------------------------------------------
REGRESSION = {
    "mse_loss": {}, "l1_loss": {}, "smooth_l1_loss": {}, "smooth_l1_beta": {"beta": 0.3},
    "smooth_l1_beta0": {"beta": 0.0}, "huber_loss": {}, "huber_delta": {"delta": 2.5},
}


def _regression(name):
    base = name.split("_beta")[0].split("_delta")[0]
    return {"smooth_l1": "smooth_l1_loss", "huber": "huber_loss"}.get(base, base)


@pytest.mark.parametrize("name", REGRESSION)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_loss(name, dtype, reduction, device):
    fn, options = _regression(name), REGRESSION[name]
    x, y = rand_array((4, 5), dtype, -3, 3), rand_array((4, 5), dtype, -3, 3)
    for layout in ("contiguous", "transposed", "expanded"):
        run(lambda F, lib, a, b: getattr(F, fn)(a, b, reduction=reduction, **options), x, y,
            layout=layout, device=device)
    gradcheck(lambda a, b: getattr(our_fn, fn)(a, b, reduction=reduction, **options),
              rand_array((2, 3), "float64"), rand_array((2, 3), "float64"))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_regression_broadcast_mixed_dtypes_and_empty(name, device):
    with pytest.warns(UserWarning, match="Using a target size"):
        run(lambda F, lib, a, b: getattr(F, name)(a, b), rand_array((4, 3)), rand_array((3,)),
            device=device)
    # torch's huber backward refuses targets of another float dtype
    run(lambda F, lib, a, b: getattr(F, name)(a, b), rand_array((4, 3)),
        rand_array((4, 3), "float64"), grad=name != "huber_loss", device=device)
    run(lambda F, lib, a, b: getattr(F, name)(a, b), rand_array((4, 3), "float64"),
        rand_array((4, 3)), grad=name != "huber_loss", device=device)
    ints = rand_array((4, 3), "int64")
    run(lambda F, lib, a: getattr(F, name)(a, const(lib, ints)), rand_array((4, 3)),
        grad=name != "huber_loss", device=device)
    if name == "huber_loss":
        check_error(lambda lib: lib.nn.functional.huber_loss(lib.ones(2, dtype=lib.int64),
                                                              lib.ones(2)), device=device)
    for reduction in REDUCTIONS:
        run(lambda F, lib, a, b, r=reduction: getattr(F, name)(a, b, reduction=r),
            rand_array((0, 3)), rand_array((0, 3)), device=device)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_weighted_regression(name, reduction, device):
    run(lambda F, lib, a, b, w: getattr(F, name)(a, b, reduction=reduction, weight=w),
        rand_array((4, 3)), rand_array((4, 3)), rand_array((4, 3), "float32", 0.1, 2),
        device=device)


def test_legacy_reduction_arguments(device):
    x, y = rand_array((4, 3)), rand_array((4, 3))
    for size_average, reduce in ((False, None), (None, False), (True, True), (False, True)):
        with pytest.warns(UserWarning, match="size_average and reduce args"):
            run(lambda F, lib, a, b, s=size_average, r=reduce: F.mse_loss(a, b, s, r), x, y,
                device=device)
        with pytest.warns(UserWarning):
            run(lambda F, lib, a, s=size_average, r=reduce: F.cross_entropy(
                a, const(lib, [0, 1, 2, 0]), size_average=s, reduce=r), x, device=device)
    with pytest.warns(UserWarning, match="elementwise_mean"):
        run(lambda F, lib, a, b: F.l1_loss(a, b, reduction="elementwise_mean"), x, y, device=device)


def test_regression_errors(device):
    x, i = rand_array((4, 3)), rand_array((4, 3), "int64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"):
            for a, b, options in ((x, x, {"reduction": "bad"}), (x, x[:, :2], {}), (i, i, {})):
                check_error(lambda lib, n=name, a=a, b=b, o=options: getattr(fn_of(lib), n)(
                    lib.tensor(a), lib.tensor(b), **o), device=device)
        check_error(lambda lib: fn_of(lib).mse_loss(lib.tensor(x > 0), lib.tensor(x > 0)),
                    device=device)
        check_error(lambda lib: fn_of(lib).smooth_l1_loss(lib.ones(2), lib.ones(2), beta=-1.0),
                    device=device)
        check_error(lambda lib: fn_of(lib).smooth_l1_loss(lib.tensor(i), lib.tensor(i), beta=0.),
                    device=device)
        for delta in (0.0, -1.0):
            check_error(lambda lib, d=delta: fn_of(lib).huber_loss(lib.ones(2), lib.ones(2),
                                                                   delta=d), device=device)
        check_error(lambda lib: fn_of(lib).mse_loss(lib.ones(2), lib.ones(2),
                                                    weight=lib.ones(1)), device=device)
    for reduction in ("sum", "none"):
        run(lambda F, lib, a, b, r=reduction: F.l1_loss(a, b, reduction=r), i, i, grad=False,
            device=device)


# ---- cross entropy and nll ------------------------------------------------------------
INDEX_CASES = [  # input shape, target shape
    ((6, 5), (6,)), ((5,), ()), ((3, 5, 4), (3, 4)), ((2, 5, 3, 2), (2, 3, 2)),
    ((2, 5, 2, 1, 2), (2, 2, 1, 2)), ((0, 5), (0,)),
]


@pytest.mark.parametrize("shape, target_shape", INDEX_CASES)
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_and_nll_indices(shape, target_shape, dtype, reduction, weighted, device):
    n = shape[1] if len(shape) > 1 else shape[0]
    w = rand_array((n,), dtype, 0.2, 2) if weighted else None
    x = rand_array(shape, dtype, -4, 4)
    for ignore in (-100, 2):
        t = classes(target_shape, n, ignore if ignore >= 0 else None)
        for smoothing in (0.0, 0.25):
            def ce(F, lib, a, t=t, ignore=ignore, smoothing=smoothing):
                return F.cross_entropy(a, const(lib, t), const(lib, w), ignore_index=ignore,
                                       reduction=reduction, label_smoothing=smoothing)
            run(ce, x, device=device)

        def nll(F, lib, a, t=t, ignore=ignore):
            return F.nll_loss(a, const(lib, t), const(lib, w), ignore_index=ignore,
                              reduction=reduction)
        run(nll, x, device=device)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_layouts_byte_targets_and_all_ignored(reduction, device):
    t = np.array([0, 3, 1, 2], dtype=np.uint8)
    for layout in ("transposed", "strided", "expanded"):
        run(lambda F, lib, a: F.cross_entropy(a, const(lib, t), reduction=reduction),
            rand_array((4, 4)), layout=layout, device=device)
    ignored = np.full(4, -100)
    run(lambda F, lib, a: F.cross_entropy(a, const(lib, ignored), reduction=reduction),
        rand_array((4, 4)), device=device)
    run(lambda F, lib, a: F.cross_entropy(a, const(lib, ignored), reduction=reduction,
                                          label_smoothing=0.3), rand_array((4, 4)), device=device)
    # torch's backward refuses a 1-D input with a 1-element target (forward works)
    run(lambda F, lib, a: F.nll_loss(a, const(lib, [0]), reduction=reduction), rand_array((3,)),
        grad=False, device=device)


@pytest.mark.parametrize("shape", [(6, 5), (5,), (3, 5, 4), (2, 5, 2, 3)])
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probabilities(shape, dtype, reduction, device):
    n = shape[1] if len(shape) > 1 else shape[0]
    x, p = rand_array(shape, dtype, -4, 4), rand_array(shape, dtype, 0, 1)
    w = rand_array((n,), dtype, 0.2, 2)
    for weight in (None, w):
        for smoothing in (0.0, 0.3, -0.2):
            run(lambda F, lib, a, b, w=weight, s=smoothing: F.cross_entropy(
                a, b, const(lib, w), reduction=reduction, label_smoothing=s), x, p, device=device)
    run(lambda F, lib, a, b: F.cross_entropy(a, b, reduction=reduction), x,
        rand_array(shape, "float64" if dtype == "float32" else "float32", 0, 1), device=device)


def test_cross_entropy_large_logits_are_stable(device):
    x = np.array([[1e4, -1e4, 0.0], [3e3, 3e3, -5e3], [-1e4, -1e4, -1e4]], np.float32)
    for reduction in REDUCTIONS:
        run(lambda F, lib, a, r=reduction: F.cross_entropy(a, const(lib, [1, 0, 2]),
                                                           reduction=r, label_smoothing=0.1), x,
                                                           device=device)
        run(lambda F, lib, a, b, r=reduction: F.cross_entropy(a, b, reduction=r), x,
            rand_array((3, 3), "float32", 0, 1), device=device)
    out = our_fn.cross_entropy(gputensor.tensor(x), gputensor.tensor([1, 0, 2]))
    assert np.isfinite(out.item())


def test_cross_entropy_and_nll_gradcheck():
    w = gputensor.tensor([0.5, 2.0, 1.0], dtype=gputensor.float64)
    t = gputensor.tensor([[0, 2], [1, 1]])
    for r in REDUCTIONS:
        gradcheck(lambda a, r=r: our_fn.cross_entropy(a, t, w, reduction=r, ignore_index=1,
                                                      label_smoothing=0.2), rand_array((2, 3, 2)))
        gradcheck(lambda a, r=r: our_fn.nll_loss(a, t, w, reduction=r), rand_array((2, 3, 2)))
        gradcheck(lambda a, b, r=r: our_fn.cross_entropy(a, b, w, reduction=r,
                                                         label_smoothing=0.1),
                  rand_array((2, 3)), rand_array((2, 3), "float64", 0, 1))


def test_cross_entropy_and_nll_errors(device):
    x = rand_array((4, 3))

    def call(name, target, x, options):
        def fn(lib):
            kw = {k: const(lib, v) if isinstance(v, np.ndarray) else v
                  for k, v in options.items()}
            return getattr(fn_of(lib), name)(lib.tensor(x), lib.tensor(target), **kw)
        check_error(fn, device=device)

    def ce(target, x=x, **options):
        call("cross_entropy", target, x, options)

    def nll(target, x=x, **options):
        call("nll_loss", target, x, options)

    for fn in (ce, nll):
        fn([0, 3, 1, 1])
        fn([0, -1, 1, 1])
        fn(np.array([0, 1, 1, 1], np.int32))
        fn([0, 1, 1])
        fn(rand_array((4,)))
        fn([0, 1, 1, 1], weight=np.ones(2, np.float32))
        fn([0, 1, 1, 1], weight=np.ones(3))
        fn([0, 1, 1, 1], weight=np.ones((3, 1), np.float32))
        fn([0, 1, 1, 1], reduction="bad")
        fn(np.zeros((2, 5), np.int64), x=rand_array((2, 3, 4)))
        fn(np.zeros((2, 5), np.int64), x=rand_array((2, 3, 4)), weight=np.ones(2, np.float32))
        fn(np.zeros((2, 4), np.int64), x=rand_array((2, 3, 4, 5)))
        fn(np.zeros((2, 4, 4), np.int64), x=rand_array((2, 3, 4, 5)))
        fn(np.full((2, 4, 5), 7), x=rand_array((2, 3, 4, 5)))
        fn(np.zeros((2, 4, 5, 7), np.int64), x=rand_array((2, 3, 4, 5, 6)))
        fn([0, 1], x=rand_array((3,)))
        fn(0, x=rand_array((2, 3)))
    ce(np.zeros((4, 3), np.int64))
    ce(rand_array((4, 2)))
    ce(0, x=np.float32(1.0))
    nll(0, x=np.float32(1.0))
    nll(np.zeros((4, 3), np.int64))
    ce([0, 1, 1, 1], label_smoothing=1.5)
    ce(rand_array((4, 3)), label_smoothing=1.5)
    ce(rand_array((4, 3)), ignore_index=1)
    ce(rand_array((4, 3)), weight=np.ones(2, np.float32))
    ce([0, 1, 1, 1], x=np.ones((4, 3), np.int64))
    ce(np.zeros((2, 4), np.int64), x=np.ones((2, 3, 4), np.int64))
    ce(np.ones((4, 3), np.int64), x=np.ones((4, 3), np.int64))
    ce(np.zeros((4, 3), np.int64), x=np.ones((4, 3), np.int64))


# ---- binary cross entropy ---------------------------------------------------------------
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weight_shape", [None, (5,), (4, 1), (4, 5)])
def test_binary_cross_entropy(dtype, reduction, weight_shape, device):
    x, y = rand_array((4, 5), dtype, 0.02, 0.98), rand_array((4, 5), dtype, 0, 1)
    w = None if weight_shape is None else rand_array(weight_shape, dtype, 0.1, 2)
    for layout in ("contiguous", "transposed"):
        run(lambda F, lib, a, b: F.binary_cross_entropy(a, b, const(lib, w),
                                                        reduction=reduction), x, y, layout=layout,
                                                        device=device)
    gradcheck(lambda a, b: our_fn.binary_cross_entropy(a, b, reduction=reduction),
              rand_array((2, 3), "float64", 0.1, 0.9), rand_array((2, 3), "float64", 0, 1))


def test_binary_cross_entropy_clamps_logs(device):
    x = np.array([0.0, 1.0, 0.0, 1.0, 1e-30, 0.5], np.float32)
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.5], np.float32)
    for reduction in REDUCTIONS:
        run(lambda F, lib, a, b, r=reduction: F.binary_cross_entropy(a, b, reduction=r), x, y,
            grad=False, device=device)
    run(lambda F, lib, a: F.binary_cross_entropy(a, const(lib, y)), x, device=device)
    run(lambda F, lib, a: F.binary_cross_entropy(a, lib.tensor(y, dtype=lib.float32),
                                                 const(lib, np.ones(6))), x, device=device)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weights", ["none", "weight", "pos_weight", "both"])
def test_binary_cross_entropy_with_logits(dtype, reduction, weights, device):
    x, y = rand_array((4, 5), dtype, -5, 5), rand_array((4, 5), dtype, 0, 1)
    x[0] = [100.0, -100.0, 1e4, -1e4, 0.0]  # large logits must stay finite
    w = rand_array((5,), dtype, 0.1, 2) if weights in ("weight", "both") else None
    pw = rand_array((4, 5), dtype, 0.1, 3) if weights in ("pos_weight", "both") else None

    def fn(F, lib, a, b):
        return F.binary_cross_entropy_with_logits(a, b, const(lib, w), reduction=reduction,
                                                  pos_weight=const(lib, pw))

    for layout in ("contiguous", "transposed"):
        run(fn, x, y, layout=layout, device=device)
    gradcheck(lambda a, b: our_fn.binary_cross_entropy_with_logits(
        a, b, None if w is None else gputensor.tensor(w[:3]).double(), reduction=reduction,
        pos_weight=None if pw is None else gputensor.tensor(pw[:2, :3]).double()),
        rand_array((2, 3), "float64"), rand_array((2, 3), "float64", 0, 1))


def test_binary_cross_entropy_with_logits_mixed_dtypes(device):
    run(lambda F, lib, a, b: F.binary_cross_entropy_with_logits(a, b), rand_array((3, 2)),
        rand_array((3, 2), "float64", 0, 1), device=device)
    run(lambda F, lib, a, b: F.binary_cross_entropy_with_logits(
        a, b, const(lib, np.ones(2)), pos_weight=const(lib, np.ones(2) * 2)),
        rand_array((3, 2)), rand_array((3, 2), "float32", 0, 1), device=device)


def test_binary_cross_entropy_errors(device):
    x, y = rand_array((4, 3), "float32", 0.1, 0.9), rand_array((4, 3), "float32", 0, 1)

    def bce(a, b, **options):
        check_error(lambda lib: fn_of(lib).binary_cross_entropy(
            lib.tensor(a), lib.tensor(b), **{k: const(lib, v) if isinstance(v, np.ndarray)
                                              else v for k, v in options.items()}), device=device)

    def bcel(a, b, **options):
        check_error(lambda lib: fn_of(lib).binary_cross_entropy_with_logits(
            lib.tensor(a), lib.tensor(b), **{k: const(lib, v) if isinstance(v, np.ndarray)
                                              else v for k, v in options.items()}), device=device)

    bce(x * 3, y)
    bce(np.array([np.nan], np.float32), np.array([0.5], np.float32))
    bce(x, y[:, :2])
    bce(x, y[:, 0])
    bce(x, y.astype(np.float64))
    bce(x, y.astype(np.int64))
    bce(x.astype(np.int64), y.astype(np.int64))
    bce(x, y, weight=np.ones(2, np.float32))
    bce(x, y, weight=np.ones((5, 3), np.float32))
    bce(x, y, weight=np.ones((2, 4, 3), np.float32))
    bce(x, y, reduction="bad")
    bcel(x, y[:, :2])
    bcel(x, y.astype(np.int64))
    bcel(x.astype(np.int64), y)
    bcel(x, y, pos_weight=np.ones(2, np.float32))
    bcel(x, y, weight=np.ones(2, np.float32))
    bcel(x, y, reduction="bad")


# ---- loss modules ---------------------------------------------------------------------
MODULES = [
    ("MSELoss", {}), ("L1Loss", {"reduction": "sum"}), ("SmoothL1Loss", {"beta": 0.5}),
    ("HuberLoss", {"delta": 0.5, "reduction": "none"}), ("BCEWithLogitsLoss", {}),
    ("BCELoss", {}), ("CrossEntropyLoss", {"label_smoothing": 0.1, "ignore_index": 1}),
    ("NLLLoss", {"reduction": "sum"}),
]


@pytest.mark.parametrize("name, options", MODULES)
def test_loss_module(name, options, device):
    x = rand_array((4, 3), "float32", 0.05, 0.95)
    if name in ("CrossEntropyLoss", "NLLLoss"):
        y = np.array([0, 2, 1, 1])
    else:
        y = rand_array((4, 3), "float32", 0, 1)
    modules = {}

    def fn(F, lib, a):
        module = getattr(lib.nn, name)(**options)
        modules[lib] = module
        return module(a, const(lib, y))

    run(fn, x, device=device)
    ours, theirs = modules[gputensor], modules[torch]
    assert repr(ours) == repr(theirs)
    for key in ("reduction", "beta", "delta", "ignore_index", "label_smoothing"):
        assert getattr(ours, key, None) == getattr(theirs, key, None)


def test_weighted_loss_modules_keep_buffers(device):
    with made_on(gputensor, device):  # our modules' buffers and inputs on the device
        w = rand_array((3,), "float32", 0.5, 2)
        x = rand_array((4, 3))
        y = np.array([0, 2, 1, 1])
        for name in ("CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss"):
            ours = getattr(gputensor.nn, name)(weight=gputensor.tensor(w))
            theirs = getattr(torch.nn, name)(weight=torch.tensor(w))
            assert list(ours.state_dict()) == list(theirs.state_dict())
            assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
        ours = gputensor.nn.BCEWithLogitsLoss(pos_weight=gputensor.tensor(w))
        theirs = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(w))
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert_same(ours(gputensor.tensor(x), gputensor.tensor(x > 0).float()),
                    theirs(torch.tensor(x), torch.tensor(x > 0).float()))
        for name in ("CrossEntropyLoss", "NLLLoss"):
            ours = getattr(gputensor.nn, name)(weight=gputensor.tensor(w))
            theirs = getattr(torch.nn, name)(weight=torch.tensor(w))
            result = ours(gputensor.tensor(x), gputensor.tensor(y))
            assert_on(result, device)
            assert_same(result, theirs(torch.tensor(x), torch.tensor(y)))
        with pytest.warns(UserWarning, match="size_average"):
            assert gputensor.nn.MSELoss(size_average=False).reduction == "sum"


def test_weights_that_require_grad(device):
    x, p = rand_array((4, 3)), rand_array((4, 3), "float32", 0, 1)
    t = np.array([0, 1, 2, 1])
    w = rand_array((3,), "float32", 0.5, 2)
    calls = [
        lambda F, lib, w: F.cross_entropy(lib.tensor(x, requires_grad=True), lib.tensor(t), w),
        lambda F, lib, w: F.cross_entropy(lib.tensor(x), lib.tensor(t), w, label_smoothing=0.2),
        lambda F, lib, w: F.nll_loss(lib.tensor(x), lib.tensor(t), w),
        lambda F, lib, w: F.binary_cross_entropy(lib.tensor(p), lib.tensor(p), w),
        lambda F, lib, w: F.binary_cross_entropy_with_logits(lib.tensor(x), lib.tensor(p), w),
        lambda F, lib, w: F.binary_cross_entropy_with_logits(lib.tensor(x), lib.tensor(p),
                                                             pos_weight=w),
    ]
    for call in calls:
        check_error(lambda lib, call=call: call(fn_of(lib), lib,
                                                lib.tensor(w, requires_grad=True)), device=device)
        with gputensor.no_grad():
            call(our_fn, gputensor, gputensor.tensor(w, requires_grad=True))
    # probability targets: torch differentiates the weight too
    for reduction in REDUCTIONS:
        run(lambda F, lib, a, b, c, r=reduction: F.cross_entropy(a, b, c, reduction=r,
                                                                 label_smoothing=0.1), x, p, w,
                                                                 device=device)


def test_second_backward_raises(device):
    x = rand_array((4, 3))
    t = np.array([0, 1, 2, 1])
    calls = [
        lambda F, lib, a: F.cross_entropy(a, lib.tensor(t)),
        lambda F, lib, a: F.nll_loss(a, lib.tensor(t)),
        lambda F, lib, a: F.mse_loss(a, a.detach() * 2),
        lambda F, lib, a: F.embedding(lib.tensor(t), a).sum(),
        lambda F, lib, a: F.binary_cross_entropy_with_logits(a, a.detach()),
    ]
    for call in calls:
        def twice(lib, call=call):
            loss = call(fn_of(lib), lib, lib.tensor(x, requires_grad=True))
            loss.backward()
            loss.backward()
        check_error(twice, device=device)
