"""gputensor.distributions against torch.distributions: log_prob, cdf/icdf, entropy, moments,
their gradients, shapes, expand, repr and validation errors, on every device."""

import numpy as np
import pytest
import torch

import gputensor
from helpers import check_error, check_op, run_on, torch_text


@pytest.fixture(autouse=True)
def validation_on():
    """Argument validation on in both libraries, as by default: running torch.compile earlier
    in the same process switches torch's default off."""
    torch.distributions.Distribution.set_default_validate_args(True)
    yield
    torch.distributions.Distribution.set_default_validate_args(True)

RNG = np.random.default_rng(20261206)


def real(*shape):
    return RNG.uniform(-1.5, 1.5, shape)


def positive(*shape):
    return RNG.uniform(0.6, 2.5, shape)


def unit(*shape):
    return RNG.uniform(0.1, 0.9, shape)


def simplex(*shape):
    x = RNG.uniform(0.2, 1.0, shape)
    return x / x.sum(-1, keepdims=True)


def binary(*shape):
    return (RNG.random(shape) > 0.5).astype(np.float64)


def indices(high, *shape):
    return RNG.integers(0, high, shape)


def counts(*shape):
    return RNG.integers(0, 6, shape).astype(np.float64)


def one_hot(high, *shape):
    return np.eye(high)[indices(high, *shape)]


def _mvn_scale(lib, a, d):
    return a.tril(-1) + lib.diag_embed(d)


def _mvn_cov(lib, a, d):
    scale = _mvn_scale(lib, a, d)
    return scale @ scale.mT


def _transforms(lib):
    return lib.distributions.transforms


# name: (builder(lib, *params), parameter arrays, a value in the support, float64?)
CASES = {
    "normal": (lambda lib, loc, scale: lib.distributions.Normal(loc, scale),
               [real(3), positive(2, 1)], real(4, 2, 3)),
    "normal_number": (lambda lib, loc: lib.distributions.Normal(loc, 2.0), [real(3)], real(3)),
    "uniform": (lambda lib, low, width: lib.distributions.Uniform(low - 2, low + 2 + width),
                [real(2, 3), positive(3)], real(2, 3)),
    "exponential": (lambda lib, rate: lib.distributions.Exponential(rate), [positive(2, 3)],
                    positive(3)),
    "laplace": (lambda lib, loc, scale: lib.distributions.Laplace(loc, scale),
                [real(2, 3), positive(3)], real(4, 2, 3)),
    "gamma": (lambda lib, c, r: lib.distributions.Gamma(c, r), [positive(3), positive(2, 3)],
              positive(2, 3)),
    "beta": (lambda lib, a, b: lib.distributions.Beta(a, b), [positive(3), positive(2, 3)],
             unit(2, 3)),
    "dirichlet": (lambda lib, c: lib.distributions.Dirichlet(c), [positive(2, 4)],
                  simplex(3, 2, 4)),
    "bernoulli_probs": (lambda lib, p: lib.distributions.Bernoulli(probs=p), [unit(2, 3)],
                        binary(2, 3)),
    "bernoulli_logits": (lambda lib, logit: lib.distributions.Bernoulli(logits=logit),
                         [real(3)], binary(2, 3)),
    "categorical_probs": (lambda lib, p: lib.distributions.Categorical(probs=p),
                          [positive(2, 4)], indices(4, 3, 2)),
    "categorical_logits": (lambda lib, logit: lib.distributions.Categorical(logits=logit),
                           [real(2, 4)], indices(4, 2)),
    "one_hot_categorical": (lambda lib, p: lib.distributions.OneHotCategorical(p),
                            [positive(2, 3)], one_hot(3, 4, 2)),
    "mvn_covariance": (lambda lib, loc, a, d: lib.distributions.MultivariateNormal(
        loc, covariance_matrix=_mvn_cov(lib, a, d)), [real(2, 3), real(3, 3), positive(3)],
        real(4, 2, 3)),
    "mvn_precision": (lambda lib, loc, a, d: lib.distributions.MultivariateNormal(
        loc, precision_matrix=_mvn_cov(lib, a, d)), [real(3), real(2, 3, 3), positive(2, 3)],
        real(2, 3)),
    "mvn_scale_tril": (lambda lib, loc, a, d: lib.distributions.MultivariateNormal(
        loc, scale_tril=_mvn_scale(lib, a, d)), [real(3), real(3, 3), positive(3)], real(2, 3)),
    "independent": (lambda lib, loc, scale: lib.distributions.Independent(
        lib.distributions.Normal(loc, scale), 1), [real(2, 3), positive(3)], real(2, 3)),
    "log_normal": (lambda lib, loc, scale: lib.distributions.TransformedDistribution(
        lib.distributions.Normal(loc, scale), [_transforms(lib).ExpTransform()]),
        [real(3), positive(3)], positive(2, 3)),
    "affine_sigmoid": (lambda lib, loc, scale: lib.distributions.TransformedDistribution(
        lib.distributions.Normal(loc, scale), [_transforms(lib).AffineTransform(0.5, 2.0),
                                               _transforms(lib).SigmoidTransform()]),
        [real(3), positive(3)], unit(2, 3)),
    "tanh": (lambda lib, loc, scale: lib.distributions.TransformedDistribution(
        lib.distributions.Normal(loc, scale), _transforms(lib).TanhTransform()),
        [real(3), positive(3)], real(3) / 2),
    "compose": (lambda lib, loc, scale: lib.distributions.TransformedDistribution(
        lib.distributions.Normal(loc, scale), _transforms(lib).ComposeTransform(
            [_transforms(lib).ExpTransform(), _transforms(lib).AffineTransform(1.0, 2.0)])),
        [real(3), positive(3)], 1 + positive(3)),
    "log_normal_class": (lambda lib, loc, scale: lib.distributions.LogNormal(loc, scale),
                         [real(2, 3), positive(3)], positive(2, 3)),
    "half_normal": (lambda lib, scale: lib.distributions.HalfNormal(scale), [positive(2, 3)],
                    positive(3)),
    "cauchy": (lambda lib, loc, scale: lib.distributions.Cauchy(loc, scale),
               [real(3), positive(2, 3)], real(2, 3)),
    "gumbel": (lambda lib, loc, scale: lib.distributions.Gumbel(loc, scale),
               [real(3), positive(3)], real(2, 3)),
    "chi2": (lambda lib, df: lib.distributions.Chi2(df), [positive(2, 3)], positive(2, 3)),
    "poisson": (lambda lib, rate: lib.distributions.Poisson(rate), [positive(2, 3)],
                counts(2, 3)),
    "geometric_probs": (lambda lib, p: lib.distributions.Geometric(probs=p), [unit(3)],
                        counts(2, 3)),
    "geometric_logits": (lambda lib, logit: lib.distributions.Geometric(logits=logit),
                         [real(2, 3)], counts(2, 3)),
}

STATISTICS = ("entropy", "mean", "mode", "variance", "stddev")
TOLERANCE = dict(rtol=1e-4, atol=1e-5, grad_rtol=1e-3, grad_atol=1e-4)


def _params(case, dtype="float32"):
    _, params, value = CASES[case]
    return [p.astype(dtype) for p in params], value


def _value_array(value, dtype="float32"):
    return value if value.dtype.kind == "i" else value.astype(dtype)


def compare(fn, *arrays, device, **tolerance):
    """check_op when torch computes an answer, else the same error from gputensor."""
    try:
        fn(torch, *[torch.tensor(a) for a in arrays])
    except Exception:  # noqa: BLE001 - then we must raise the same
        check_error(lambda lib: fn(lib, *[lib.tensor(a) for a in arrays]), device=device)
        return
    check_op(fn, *arrays, device=device, **{**TOLERANCE, **tolerance})


@pytest.mark.parametrize("case", CASES)
def test_log_prob(case, device):
    build = CASES[case][0]
    params, value = _params(case)
    compare(lambda lib, *a: build(lib, *a[:-1]).log_prob(a[-1]), *params, _value_array(value),
            device=device)


@pytest.mark.parametrize("statistic", STATISTICS)
@pytest.mark.parametrize("case", CASES)
def test_statistics(case, statistic, device):
    build = CASES[case][0]
    params, _ = _params(case)
    compare(lambda lib, *a: getattr(build(lib, *a), statistic)
            if statistic != "entropy" else build(lib, *a).entropy(), *params, device=device)


@pytest.mark.parametrize("case", ["normal", "uniform", "exponential", "laplace", "log_normal",
                                  "affine_sigmoid", "beta", "categorical_probs", "log_normal_class",
                                  "half_normal", "cauchy", "gumbel"])
def test_cdf_and_icdf(case, device):
    build = CASES[case][0]
    params, value = _params(case, "float64")
    compare(lambda lib, *a: build(lib, *a[:-1]).cdf(a[-1]), *params,
            _value_array(value, "float64"), device=device)
    compare(lambda lib, *a: build(lib, *a[:-1]).icdf(a[-1]), *params,
            unit(*value.shape), device=device)


def test_gamma_cdf(device):
    """Gamma's cdf (the regularized incomplete gamma function): rate and value gradients."""
    concentration = positive(2, 3)
    compare(lambda lib, rate, value: lib.distributions.Gamma(
        lib.tensor(concentration), rate).cdf(value), positive(3), positive(2, 3), device=device)


@pytest.mark.parametrize("case", CASES)
def test_shapes_expand_and_repr(case, device):
    build = CASES[case][0]
    params, _ = _params(case)

    def describe(lib):
        dist = build(lib, *[lib.tensor(p) for p in params])
        batch = tuple(dist.batch_shape)
        wider = dist.expand((5,) + batch)
        sample = dist.sample((2,))
        return (tuple(dist.batch_shape), tuple(dist.event_shape), tuple(wider.batch_shape),
                tuple(wider.event_shape), tuple(sample.shape), str(sample.dtype).split(".")[-1],
                tuple(wider.sample().shape), dist.has_rsample, torch_text(repr(dist.support)),
                torch_text(repr(dist)), torch_text(str(dist.arg_constraints)),
                tuple(wider.log_prob(dist.sample()).shape))

    ours, theirs = run_on(gputensor, device, describe), run_on(torch, device, describe)
    assert ours[:10] == theirs[:10]
    assert ours[10] == theirs[10].replace("torch.distributions.constraints.", "")
    assert ours[11] == theirs[11]


@pytest.mark.parametrize("case", ["normal", "mvn_scale_tril", "independent", "log_normal"])
def test_rsample_gradient_with_the_same_noise(case, device, monkeypatch):
    """rsample's reparameterised gradient, both libraries given one standard normal noise."""
    build = CASES[case][0]
    params, _ = _params(case, "float64")
    shape = tuple(build(torch, *[torch.tensor(p) for p in params]).sample((4,)).shape)
    noise = RNG.standard_normal(shape)
    for lib, module in ((gputensor, gputensor.distributions), (torch, torch.distributions)):
        def fixed(shape, dtype, device, lib=lib):
            return lib.tensor(noise, dtype=dtype, device=device)
        monkeypatch.setattr(module.normal, "_standard_normal", fixed)
        monkeypatch.setattr(module.multivariate_normal, "_standard_normal", fixed)
    check_op(lambda lib, *a: build(lib, *a).rsample((4,)), *params, device=device, **TOLERANCE)


def test_uniform_rsample_gradient_with_the_same_noise(device, monkeypatch):
    """Uniform's rsample is low + rand * (high - low), both libraries given one rand draw."""
    params, _ = _params("uniform", "float64")
    noise = RNG.random((4, 2, 3))
    for lib, owner in ((gputensor, gputensor.distributions._ops), (torch, torch)):
        def fixed(shape, dtype=None, device=None, lib=lib):
            return lib.tensor(noise, dtype=dtype, device=device)
        monkeypatch.setattr(owner, "rand", fixed)
    check_op(lambda lib, *a: CASES["uniform"][0](lib, *a).rsample((4,)), *params,
             device=device, **TOLERANCE)


@pytest.mark.parametrize("case", ["gamma", "beta", "dirichlet"])
def test_rsample_gradient_is_torchs_implicit_gradient(case, device):
    """Gamma/Beta/Dirichlet draws differ from torch's; their gradients follow torch's formula."""
    params, _ = _params(case, "float64")
    gputensor.manual_seed(0)
    ours = [gputensor.tensor(p, device=device, requires_grad=True) for p in params]
    sample = CASES[case][0](gputensor, *ours).rsample((3,))
    weights = RNG.standard_normal(tuple(sample.shape))
    (sample * gputensor.tensor(weights, device=device)).sum().backward()
    x = torch.tensor(sample.detach().cpu().numpy())
    theirs = [torch.tensor(p, requires_grad=True) for p in params]
    if case == "gamma":  # x = g / rate with g ~ Gamma(c, 1): dx/dc = grad(c, g) / rate
        c, rate = torch.broadcast_tensors(*theirs)
        standard = (x * rate).detach()
        slope = torch._standard_gamma_grad(c.expand_as(standard), standard)
        expected = [(torch.tensor(weights) * slope / rate).sum(0), None]
    else:  # torch's Dirichlet backward applied to our draw
        concentration = (torch.stack(torch.broadcast_tensors(*theirs), -1) if case == "beta"
                         else theirs[0]).expand(x.shape + (() if case != "beta" else (2,)))
        draw = torch.stack([x, 1 - x], -1) if case == "beta" else x
        out_grad = torch.tensor(weights)
        out_grad = torch.stack([out_grad, torch.zeros_like(out_grad)], -1) \
            if case == "beta" else out_grad
        total = concentration.sum(-1, True).expand_as(concentration)
        grad = torch._dirichlet_grad(draw, concentration, total)
        full = grad * (out_grad - (draw * out_grad).sum(-1, True))
        expected = [full.sum(0)] if case == "dirichlet" else [full[..., 0].sum(0),
                                                                full[..., 1].sum(0)]
    for mine, want, p in zip(ours, expected, params):
        if want is None:
            continue
        want = want.reshape(-1, *p.shape).sum(0) if want.dim() > p.ndim else want
        np.testing.assert_allclose(mine.grad.cpu().numpy(), want.detach().numpy(), rtol=1e-6,
                                   atol=1e-8)


KL_PAIRS = [("normal", "normal"), ("uniform", "uniform"), ("exponential", "exponential"),
            ("laplace", "laplace"), ("gamma", "gamma"), ("beta", "beta"),
            ("dirichlet", "dirichlet"), ("bernoulli_probs", "bernoulli_logits"),
            ("categorical_probs", "categorical_logits"),
            ("one_hot_categorical", "one_hot_categorical"), ("mvn_covariance", "mvn_scale_tril"),
            ("independent", "independent"), ("log_normal", "log_normal"),
            ("exponential", "gamma"), ("gamma", "exponential"), ("laplace", "normal"),
            ("normal", "laplace"), ("beta", "uniform"), ("uniform", "normal"),
            ("gamma", "normal"), ("exponential", "normal"), ("uniform", "exponential"),
            ("beta", "exponential"), ("beta", "gamma"), ("beta", "normal"),
            ("exponential", "beta"), ("exponential", "uniform"), ("gamma", "beta"),
            ("gamma", "uniform"), ("laplace", "beta"), ("laplace", "exponential"),
            ("laplace", "gamma"), ("laplace", "uniform"), ("normal", "beta"),
            ("normal", "exponential"), ("normal", "gamma"), ("normal", "uniform"),
            ("uniform", "beta"), ("uniform", "gamma"), ("mvn_precision", "mvn_covariance"),
            ("affine_sigmoid", "affine_sigmoid"), ("bernoulli_probs", "normal"),
            ("gumbel", "gumbel"), ("geometric_probs", "geometric_logits"),
            ("half_normal", "half_normal"), ("poisson", "poisson"), ("bernoulli_probs", "poisson"),
            ("exponential", "gumbel"), ("gamma", "gumbel"), ("gumbel", "beta"),
            ("gumbel", "exponential"), ("gumbel", "gamma"), ("gumbel", "uniform"),
            ("gumbel", "normal"), ("normal", "gumbel"), ("uniform", "gumbel"),
            ("poisson", "bernoulli_probs"), ("cauchy", "cauchy"), ("log_normal_class", "chi2"),
            ("chi2", "chi2"), ("log_normal_class", "log_normal_class")]


@pytest.mark.parametrize("p_case, q_case", KL_PAIRS)
def test_kl_divergence(p_case, q_case, device):
    p_build, q_build = CASES[p_case][0], CASES[q_case][0]
    p_params, _ = _params(p_case, "float64")
    q_params = [RNG.permutation(a.ravel()).reshape(a.shape)
                for a in _params(q_case, "float64")[0]]
    n = len(p_params)
    compare(lambda lib, *a: lib.distributions.kl_divergence(p_build(lib, *a[:n]),
                                                            q_build(lib, *a[n:])),
            *p_params, *q_params, device=device)


VALIDATION_ERRORS = {
    "normal_scale": lambda lib: lib.distributions.Normal(lib.zeros(2), lib.tensor([1.0, -1.0])),
    "normal_loc_nan": lambda lib: lib.distributions.Normal(lib.tensor([float("nan")]), 1.0),
    "uniform_bounds": lambda lib: lib.distributions.Uniform(lib.tensor(2.0), lib.tensor(1.0)),
    "bernoulli_both": lambda lib: lib.distributions.Bernoulli(probs=lib.tensor(0.5),
                                                              logits=lib.tensor(0.0)),
    "bernoulli_neither": lambda lib: lib.distributions.Bernoulli(),
    "bernoulli_probs": lambda lib: lib.distributions.Bernoulli(lib.tensor([1.5])),
    "categorical_scalar": lambda lib: lib.distributions.Categorical(lib.tensor(1.0)),
    "categorical_negative": lambda lib: lib.distributions.Categorical(lib.tensor([0.5, -0.1])),
    "dirichlet_scalar": lambda lib: lib.distributions.Dirichlet(lib.tensor(1.0)),
    "mvn_two": lambda lib: lib.distributions.MultivariateNormal(
        lib.zeros(2), covariance_matrix=lib.eye(2), scale_tril=lib.eye(2)),
    "mvn_loc": lambda lib: lib.distributions.MultivariateNormal(lib.tensor(0.0), lib.eye(1)),
    "mvn_not_pd": lambda lib: lib.distributions.MultivariateNormal(
        lib.zeros(2), lib.tensor([[1.0, 2.0], [2.0, 1.0]])),
    "log_prob_outside_support": lambda lib: lib.distributions.Exponential(
        lib.ones(2)).log_prob(lib.tensor([-1.0, 1.0])),
    "log_prob_event_shape": lambda lib: lib.distributions.Dirichlet(lib.ones(3)).log_prob(
        lib.ones(2) / 2),
    "log_prob_broadcast": lambda lib: lib.distributions.Normal(lib.zeros(3), 1.0).log_prob(
        lib.zeros(2)),
    "log_prob_not_tensor": lambda lib: lib.distributions.Normal(0.0, 1.0).log_prob(0.5),
    "categorical_value": lambda lib: lib.distributions.Categorical(lib.ones(3)).log_prob(
        lib.tensor([3])),
    "independent_ndims": lambda lib: lib.distributions.Independent(
        lib.distributions.Normal(lib.zeros(2), 1.0), 2),
    "broadcast_all": lambda lib: lib.distributions.Normal("a", 1.0),
    "kl_missing": lambda lib: lib.distributions.kl_divergence(
        lib.distributions.Bernoulli(0.5), lib.distributions.Normal(0.0, 1.0)),
    "mode_missing": lambda lib: lib.distributions.TransformedDistribution(
        lib.distributions.Normal(0.0, 1.0), []).mode,
    "default_validate": lambda lib: lib.distributions.Distribution.set_default_validate_args(2),
}


@pytest.mark.parametrize("case", VALIDATION_ERRORS)
def test_validation_errors(case, device):
    check_error(VALIDATION_ERRORS[case], device=device)


def test_validation_can_be_switched_off(device):
    for lib in (gputensor, torch):
        log_prob = run_on(lib, device, lambda lib: lib.distributions.Normal(
            lib.zeros(1), lib.tensor([-1.0]), validate_args=False).log_prob(lib.zeros(1)))
        assert float(log_prob.isnan().sum()) == 1
    try:
        gputensor.distributions.Distribution.set_default_validate_args(False)
        gputensor.distributions.Normal(gputensor.zeros(1), gputensor.tensor([-1.0]))
    finally:
        gputensor.distributions.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        gputensor.distributions.Normal(gputensor.zeros(1), gputensor.tensor([-1.0]))


def test_validation_message_names_the_tensor():
    ours = pytest.raises(ValueError, VALIDATION_ERRORS["normal_scale"], gputensor)
    theirs = pytest.raises(ValueError, VALIDATION_ERRORS["normal_scale"], torch)
    assert torch_text(str(ours.value)) == str(theirs.value)
    assert "Expected parameter scale (Tensor of shape (2,)) of distribution Normal(" \
        "loc: gputensor.Size([2]), scale: gputensor.Size([2])) to satisfy the constraint " \
        "GreaterThan(lower_bound=0.0)" in str(ours.value)


def test_sample_n_and_perplexity(device):
    dist = run_on(gputensor, device, lambda lib: lib.distributions.Normal(lib.zeros(2), 1.0))
    with pytest.warns(FutureWarning):
        assert tuple(dist.sample_n(3).shape) == (3, 2)
    check_op(lambda lib, scale: lib.distributions.Normal(0.0, scale).perplexity(),
             positive(3).astype("float32"), device=device, **TOLERANCE)


def test_enumerate_support(device):
    for case in ("bernoulli_probs", "categorical_probs", "one_hot_categorical"):
        build = CASES[case][0]
        params, _ = _params(case)
        for expand in (True, False):
            check_op(lambda lib, *a, build=build, expand=expand:
                     build(lib, *a).enumerate_support(expand), *params, device=device, grad=False)


@pytest.mark.parametrize("constraint, transform_kind", [
    ("positive", "biject_to"), ("real", "biject_to"), ("unit_interval", "biject_to"),
    ("simplex", "biject_to"), ("simplex", "transform_to"), ("lower_cholesky", "transform_to"),
    ("positive_definite", "transform_to")])
def test_biject_to_and_transform_to(constraint, transform_kind, device):
    shape = (2, 3, 3) if "cholesky" in constraint or "definite" in constraint else (2, 3)

    def roundtrip(lib, x):
        transform = getattr(lib.distributions, transform_kind)(
            getattr(lib.distributions.constraints, constraint))
        y = transform(x)
        ok = transform.codomain.check(y)
        jacobian = transform.log_abs_det_jacobian(x, y) if transform.bijective else y.sum()
        return y, transform.inv(y), ok, jacobian

    check_op(roundtrip, real(*shape), device=device, **TOLERANCE)
