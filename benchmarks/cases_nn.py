"""Whole training steps: forward, loss, backward, optimizer step, zero_grad."""

from __future__ import annotations

import numpy as np

from .runner import Case


def _copy_weights(lib, model, seed=0):
    """Deterministic starting weights, the same in both libraries."""
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.uniform(-0.1, 0.1, tuple(p.shape)).astype(np.float32)))


def _my_cool_net_step(lib):
    nn = lib.nn

    class MyCoolNet(nn.Module):
        def __init__(self, in_size, out_size):
            super().__init__()
            self.lin1 = nn.Linear(in_size, 10)
            self.lin2 = nn.Linear(10, 15)
            self.lin3 = nn.Linear(15, 10)
            self.lin4 = nn.Linear(10, out_size)
            self.relu = nn.ReLU()
            self.sig = nn.Sigmoid()

        def forward(self, x):
            hidden = self.relu(self.lin1(x))
            hidden = self.relu(self.lin2(hidden))
            hidden = self.relu(self.lin3(hidden))
            return self.sig(self.lin4(hidden))

    model = MyCoolNet(5, 5)
    _copy_weights(lib, model)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.8)
    x = lib.tensor([1., 2, 3, 4, 5])

    def step():
        loss = lib.sum((0 - model(x)) ** 2)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return step


def _mlp_step(lib):
    nn = lib.nn
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                          nn.Linear(512, 10))
    _copy_weights(lib, model)
    optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(1)
    x = lib.tensor(rng.standard_normal((128, 784)).astype(np.float32))
    y = lib.tensor(rng.integers(0, 10, 128))

    def step():
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return step


CASES = [
    Case("MyCoolNet step (SGD momentum)", _my_cool_net_step, inner=200, target=0.8),
    Case("MLP 784-512-512-10 b128 step (Adam, CE)", _mlp_step, inner=5, target=0.6),
]
