"""Samples from gputensor.distributions equal torch's under the same seed: the same draws,
in the same order, through the same functions (Gamma, Beta and Dirichlet included: ATen's
gamma sampler on torch's stream)."""

import numpy as np
import pytest
import torch

import gputensor
from helpers import run_on

RNG = np.random.default_rng(99)
LOC, SCALE = RNG.uniform(-1, 1, (2, 3)), RNG.uniform(0.5, 2, (3,))
PROBS = RNG.uniform(0.1, 1.0, (2, 4))
A = RNG.standard_normal((3, 3))

DISTRIBUTIONS = {
    "normal": lambda lib: lib.distributions.Normal(lib.tensor(LOC), lib.tensor(SCALE)),
    "uniform": lambda lib: lib.distributions.Uniform(lib.tensor(LOC), lib.tensor(LOC) + 1),
    "exponential": lambda lib: lib.distributions.Exponential(lib.tensor(SCALE)),
    "laplace": lambda lib: lib.distributions.Laplace(lib.tensor(LOC), lib.tensor(SCALE)),
    "bernoulli": lambda lib: lib.distributions.Bernoulli(lib.tensor(PROBS / 1.1)),
    "categorical": lambda lib: lib.distributions.Categorical(lib.tensor(PROBS)),
    "one_hot_categorical": lambda lib: lib.distributions.OneHotCategorical(lib.tensor(PROBS)),
    "mvn": lambda lib: lib.distributions.MultivariateNormal(
        lib.tensor(LOC), scale_tril=lib.tensor(np.tril(A, -1) + 2 * np.eye(3))),
    "independent": lambda lib: lib.distributions.Independent(
        lib.distributions.Normal(lib.tensor(LOC), lib.tensor(SCALE)), 1),
    "log_normal": lambda lib: lib.distributions.TransformedDistribution(
        lib.distributions.Normal(lib.tensor(LOC), lib.tensor(SCALE)),
        [lib.distributions.transforms.ExpTransform()]),
    "half_normal": lambda lib: lib.distributions.HalfNormal(lib.tensor(SCALE)),
    "cauchy": lambda lib: lib.distributions.Cauchy(lib.tensor(LOC), lib.tensor(SCALE)),
    "gumbel": lambda lib: lib.distributions.Gumbel(lib.tensor(LOC), lib.tensor(SCALE)),
    "poisson": lambda lib: lib.distributions.Poisson(lib.tensor(SCALE)),
    "geometric": lambda lib: lib.distributions.Geometric(lib.tensor(PROBS / 1.1)),
    "gamma": lambda lib: lib.distributions.Gamma(lib.tensor(SCALE / 2), lib.tensor(LOC) + 2),
    "gamma_float32": lambda lib: lib.distributions.Gamma(lib.tensor(SCALE / 2).float(), 1.5),
    "chi2": lambda lib: lib.distributions.Chi2(lib.tensor(PROBS * 3)),
    "beta": lambda lib: lib.distributions.Beta(lib.tensor(SCALE), lib.tensor(SCALE[::-1] / 3)),
    "dirichlet": lambda lib: lib.distributions.Dirichlet(lib.tensor(PROBS)),
    "dirichlet_float32": lambda lib: lib.distributions.Dirichlet(lib.tensor(PROBS).float()),
}


@pytest.mark.parametrize("method", ["sample", "rsample"])
@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_samples_equal_torchs_under_one_seed(name, method, device):
    def draw(lib):
        lib.manual_seed(1234)
        dist = DISTRIBUTIONS[name](lib)
        if method == "rsample" and not dist.has_rsample:
            return None
        first = getattr(dist, method)()
        second = getattr(dist, method)((5,))
        return [first, second]

    ours, theirs = run_on(gputensor, device, draw), run_on(torch, device, draw)
    if theirs is None:
        assert ours is None
        return
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.cpu().numpy(), t.numpy(), rtol=1e-6, atol=1e-7)


REPARAMETERISED = {
    "gamma": lambda lib, c, r: lib.distributions.Gamma(c, r),
    "beta": lambda lib, a, b: lib.distributions.Beta(a, b),
    "dirichlet": lambda lib, c: lib.distributions.Dirichlet(c),
    "normal": lambda lib, loc, scale: lib.distributions.Normal(loc, scale),
    "laplace": lambda lib, loc, scale: lib.distributions.Laplace(loc, scale),
    "exponential": lambda lib, rate: lib.distributions.Exponential(rate),
    "uniform": lambda lib, low, width: lib.distributions.Uniform(low, low + width),
}
PARAMETERS = {"gamma": (SCALE, SCALE + 1), "beta": (SCALE, SCALE[::-1].copy()),
              "dirichlet": (PROBS,), "normal": (LOC, SCALE), "laplace": (LOC, SCALE),
              "exponential": (SCALE,), "uniform": (LOC, SCALE)}


@pytest.mark.parametrize("name", REPARAMETERISED)
def test_rsample_gradients_equal_torchs_under_one_seed(name, device):
    results = []
    for lib in (gputensor, torch):
        lib.manual_seed(99)
        params = [run_on(lib, device, lambda lib, p=p: lib.tensor(p, requires_grad=True))
                  for p in PARAMETERS[name]]
        sample = REPARAMETERISED[name](lib, *params).rsample((3,))
        weights = run_on(lib, device, lambda lib, n=sample.numel(): lib.linspace(-1, 1, n))
        (sample * weights.reshape(sample.shape)).sum().backward()
        results.append([sample.detach().cpu().numpy()] + [p.grad.cpu().numpy() for p in params])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)
