"""REINFORCE on a bandit (Categorical.sample, log_prob) and a small VAE (Normal.rsample, KL),
trained from torch's seeded random draws."""

import torch
from torch import nn
from torch.distributions import Categorical, Normal, kl_divergence

torch.manual_seed(0)

# ---- REINFORCE: a four-armed bandit ---------------------------------------------------------
payout = torch.tensor([0.2, 0.5, 1.0, -0.3])
logits = torch.zeros(4, requires_grad=True)
optimizer = torch.optim.Adam([logits], lr=0.1)
baseline = 0.0
for step in range(100):
    policy = Categorical(logits=logits)
    actions = policy.sample((32,))
    rewards = payout[actions] + 0.1 * torch.randn(32)
    baseline = 0.9 * baseline + 0.1 * rewards.mean().item()
    loss = -((rewards - baseline) * policy.log_prob(actions)).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 25 == 0:
        print(f"bandit step {step}: mean reward {rewards.mean().item():.4f}")
print("policy probs", Categorical(logits=logits).probs.detach())


# ---- a VAE on two-dimensional points ----------------------------------------------------------
class VAE(nn.Module):
    """An encoder to a Gaussian latent, a decoder back."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
        self.decoder = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 2))

    def forward(self, x):
        loc, log_scale = self.encoder(x).chunk(2, dim=-1)
        posterior = Normal(loc, log_scale.exp())
        z = posterior.rsample()
        return posterior, self.decoder(z)


angles = torch.rand(256) * 3.0
points = torch.stack([angles.cos(), angles.sin()], -1) + 0.05 * torch.randn(256, 2)
vae = VAE()
optimizer = torch.optim.Adam(vae.parameters(), lr=0.01)
prior = Normal(torch.zeros(1), torch.ones(1))
for step in range(150):
    posterior, reconstruction = vae(points)
    log_likelihood = Normal(reconstruction, 0.1).log_prob(points).sum(-1)
    elbo = log_likelihood - kl_divergence(posterior, prior).sum(-1)
    loss = -elbo.mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 50 == 0:
        print(f"vae step {step}: loss {loss.item():.4f}")
print("final loss", round(loss.item(), 3))
