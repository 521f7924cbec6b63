"""Fitting distributions with log_prob: maximum likelihood, a policy gradient on logged
actions, a KL-regularised Gaussian, all with data drawn by NumPy (the same in every run)."""

import numpy as np
import torch
from torch import nn
from torch.distributions import (
    Categorical,
    Independent,
    MultivariateNormal,
    Normal,
    kl_divergence,
)

rng = np.random.default_rng(2026)

# ---- maximum likelihood: a Normal and a full-covariance MultivariateNormal -----------------
data = torch.tensor(rng.normal([1.0, -2.0], [0.5, 2.0], size=(256, 2)), dtype=torch.float32)
loc = torch.zeros(2, requires_grad=True)
log_scale = torch.zeros(2, requires_grad=True)
optimizer = torch.optim.Adam([loc, log_scale], lr=0.05)
for step in range(150):
    model = Independent(Normal(loc, log_scale.exp()), 1)
    loss = -model.log_prob(data).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 50 == 0:
        print(f"normal step {step}: nll {loss.item():.4f}")
print("fitted loc", loc.detach(), "scale", log_scale.exp().detach())
print("entropy", model.entropy().item(), "event shape", model.event_shape)

raw = torch.zeros(2, 2, requires_grad=True)
mean = torch.zeros(2, requires_grad=True)
optimizer = torch.optim.Adam([raw, mean], lr=0.05)
for _step in range(100):
    scale_tril = torch.tril(raw, -1) + torch.diag_embed(torch.nn.functional.softplus(
        torch.diagonal(raw)) + 1e-3)
    mvn = MultivariateNormal(mean, scale_tril=scale_tril)
    loss = -mvn.log_prob(data).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print("mvn nll", round(loss.item(), 4))
print("mvn covariance", mvn.covariance_matrix.detach())
print("mvn precision", mvn.precision_matrix.detach())

# ---- a policy gradient on logged actions (importance-weighted REINFORCE) -------------------
contexts = torch.tensor(rng.normal(size=(128, 3)), dtype=torch.float32)
behaviour = np.full(4, 0.25)
actions = torch.tensor(rng.choice(4, size=128, p=behaviour))
best = contexts.argmax(-1)  # the reward: 1 for the action matching the largest feature
rewards = (actions == best).float() - 0.25 * (actions == 3).float()
policy = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 4))
with torch.no_grad():
    for parameter in policy.parameters():
        parameter.copy_(torch.tensor(rng.uniform(-0.3, 0.3, size=tuple(parameter.shape)),
                                     dtype=torch.float32))
optimizer = torch.optim.SGD(policy.parameters(), lr=0.5)
for step in range(60):
    dist = Categorical(logits=policy(contexts))
    log_probs = dist.log_prob(actions)
    weights = (log_probs.exp() / 0.25).detach()
    objective = (weights * rewards * log_probs).mean() + 0.01 * dist.entropy().mean()
    optimizer.zero_grad()
    (-objective).backward()
    optimizer.step()
    if step % 20 == 0:
        print(f"policy step {step}: objective {objective.item():.4f}")
final = Categorical(logits=policy(contexts))
print("greedy accuracy", (final.probs.argmax(-1) == best).float().mean().item())
print("mean probs", final.probs.mean(0).detach())

# ---- a Gaussian fitted under a KL penalty towards a prior ----------------------------------
targets = torch.tensor(rng.normal(3.0, 0.3, size=(64,)), dtype=torch.float32)
mu = torch.zeros(1, requires_grad=True)
rho = torch.zeros(1, requires_grad=True)
prior = Normal(torch.zeros(1), torch.ones(1))
optimizer = torch.optim.Adam([mu, rho], lr=0.1)
for _step in range(80):
    posterior = Normal(mu, torch.nn.functional.softplus(rho))
    fit = -posterior.log_prob(targets.unsqueeze(-1)).mean()
    loss = fit + 0.1 * kl_divergence(posterior, prior).sum()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print("posterior", posterior, "mean", mu.item(), "kl", kl_divergence(posterior, prior).item())
print("cdf at 3", posterior.cdf(torch.tensor([3.0])).item(),
      "icdf 0.9", posterior.icdf(torch.tensor([0.9])).item())
