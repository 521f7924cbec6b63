"""Training a small classifier: Dataset, DataLoader, loss, optimizer, evaluation, saving."""

import os
import tempfile

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset


class Blobs(Dataset):
    """Points around three centres in the plane, labelled by their centre."""

    def __init__(self, n_per_class, seed):
        rng = np.random.default_rng(seed)
        centres = np.array([[0.0, 2.0], [-2.0, -1.0], [2.0, -1.0]])
        labels = rng.permutation(np.arange(3 * n_per_class) % 3)
        points = centres[labels] + 0.9 * rng.standard_normal((3 * n_per_class, 2))
        self.x = torch.tensor(points, dtype=torch.float32)
        self.y = torch.from_numpy(labels)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, idx):
        return self.x[idx], self.y[idx]


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(),
                                 nn.Linear(16, 3))

    def forward(self, x):
        return self.net(x)


def init_weights(model, seed=0):
    """Weights from NumPy's generator, so every run starts from the same point."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            scale = 1.0 / np.sqrt(p.shape[-1])
            p.copy_(torch.tensor(rng.uniform(-scale, scale, p.shape), dtype=torch.float32))


def train_loop(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if batch % 4 == 0:
            loss, current = loss.item(), batch * dataloader.batch_size + len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")


def test_loop(dataloader, model, loss_fn):
    model.eval()
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \n Accuracy: {(100 * correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")
    return correct


training_data = Blobs(100, seed=1)
test_data = Blobs(40, seed=2)
print(len(training_data), len(test_data), training_data[0])

train_dataloader = DataLoader(training_data, batch_size=20)
test_dataloader = DataLoader(test_data, batch_size=20)
X, y = next(iter(train_dataloader))
print(f"Shape of X: {X.shape} {X.dtype}, y: {y.shape} {y.dtype}")

model = Classifier()
init_weights(model)
loss_fn = nn.CrossEntropyLoss()

learning_rate = 5e-2
optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=0.9)
epochs = 3
for t in range(epochs):
    print(f"Epoch {t + 1}\n-------------------------------")
    train_loop(train_dataloader, model, loss_fn, optimizer)
    test_loop(test_dataloader, model, loss_fn)

# a few more epochs with Adam, from the same weights
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
for _ in range(2):
    train_loop(train_dataloader, model, loss_fn, optimizer)
accuracy = test_loop(test_dataloader, model, loss_fn)
print("Done!")

with torch.no_grad():
    probe = torch.tensor([[0.0, 2.0], [-2.0, -1.0], [2.0, -1.0]])
    probs = model(probe).softmax(dim=1)
print(probs, probs.argmax(dim=1))

with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "model_weights.pth")
    torch.save(model.state_dict(), path)
    restored = Classifier()
    restored.load_state_dict(torch.load(path, weights_only=True))
    restored.eval()
    print(os.path.getsize(path) > 0)
with torch.no_grad():
    print(torch.equal(restored(probe), model(probe)))
print(optimizer.state_dict()["param_groups"][0]["lr"], len(optimizer.state_dict()["state"]))
