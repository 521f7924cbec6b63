"""A small classifier written as a PyTorch user writes one, with ``gputensor`` as ``torch``.

It trains a two-layer network on a synthetic two-class problem and prints its accuracy. The
test suite runs it, and type-checks it with mypy: every name it uses must be known to type
checkers (the package ships ``py.typed`` and a stub of Tensor).
"""

import gputensor as torch
import gputensor.nn.functional as F  # noqa: N812 (as torch code writes it)
from gputensor import nn
from gputensor.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    """Two linear layers with a ReLU between them."""

    def __init__(self, n_in: int, n_hidden: int, n_out: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(n_in, n_hidden)
        self.fc2 = nn.Linear(n_hidden, n_out)
        self.dropout = nn.Dropout(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.fc1(x))
        return self.fc2(self.dropout(x))


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """The share of rows whose largest logit is the label."""
    model.eval()
    with torch.no_grad():
        pred = model(x).argmax(dim=1)
    model.train()
    return (pred == y).float().mean().item()


def main() -> None:
    """Train for a few epochs and print the loss and accuracy."""
    torch.manual_seed(0)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    x = torch.randn(512, 8)
    y = (x[:, 0] + x[:, 1:3].sum(dim=1) > 0).long()
    x, y = x.to(device), y.to(device)
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
    model = Net(8, 32, 2).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.5)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(10):
        total = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * xb.shape[0]
        scheduler.step()
        if epoch % 3 == 0:
            print(f"epoch {epoch}: loss {total / len(x):.4f}")
    weights = torch.cat([p.detach().flatten() for p in model.parameters()])
    norm = (weights ** 2).sum().sqrt().item()
    print(f"parameters: {weights.numel()}, norm {norm:.3f}")
    print(f"accuracy: {accuracy(model, x, y):.3f}")


if __name__ == "__main__":
    main()
