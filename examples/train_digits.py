"""Train an MLP on scikit-learn's bundled digits with gputensor: the main example.

Run: python examples/train_digits.py [--device cuda] [--epochs 30] [--out runs/digits]

An MLP classifier (64-128-64-10) trained with Adam through a DataLoader, with a tqdm
progress bar; prints the test accuracy, saves a loss/accuracy plot as a PNG, and saves
a checkpoint, reloads it into a fresh model and checks the reloaded model agrees.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from tqdm import tqdm

import gputensor as torch
from gputensor import nn
from gputensor.utils.data import DataLoader, TensorDataset


def pick_device(requested: str) -> str:
    """The requested device, or the CPU with a message when CUDA is not available."""
    if requested.startswith("cuda") and not torch.cuda.is_available():
        print("CUDA is not available here; training on the CPU instead.")
        return "cpu"
    return requested


def make_model() -> nn.Module:
    """The classifier: two hidden ReLU layers."""
    return nn.Sequential(
        nn.Linear(64, 128), nn.ReLU(),
        nn.Linear(128, 64), nn.ReLU(),
        nn.Linear(64, 10),
    )


def load_data(device: str, seed: int):
    """Digits scaled to [0, 1], split 80/20, as tensors on ``device``."""
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(
        x, digits.target, test_size=0.2, random_state=seed, stratify=digits.target)
    as_x = lambda a: torch.tensor(a, device=device)  # noqa: E731
    as_y = lambda a: torch.tensor(a, dtype=torch.int64, device=device)  # noqa: E731
    return as_x(x_train), as_y(y_train), as_x(x_test), as_y(y_test)


def accuracy(model: nn.Module, x, y) -> float:
    """The fraction of ``x`` classified as ``y``."""
    model.eval()
    with torch.no_grad():
        predicted = model(x).argmax(dim=1)
    model.train()
    return (predicted == y).float().mean().item()


def save_plot(losses, accuracies, path: Path) -> None:
    """Training loss per epoch and test accuracy per epoch, side by side."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(range(1, len(losses) + 1), losses)
    left.set(title="training loss", xlabel="epoch", ylabel="cross-entropy")
    right.plot(range(1, len(accuracies) + 1), accuracies)
    right.set(title="test accuracy", xlabel="epoch", ylabel="accuracy", ylim=(0, 1))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv=None) -> float:
    """Train, evaluate, plot, checkpoint and reload; returns the test accuracy."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/digits")
    args = parser.parse_args(argv)

    device = pick_device(args.device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    x_train, y_train, x_test, y_test = load_data(device, args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size,
                        shuffle=True, generator=generator)
    model = make_model().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()

    losses, accuracies = [], []
    start = time.perf_counter()
    progress = tqdm(range(args.epochs), desc="training", unit="epoch")
    for _ in progress:
        total, count = 0.0, 0
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
            count += len(xb)
        losses.append(total / count)
        accuracies.append(accuracy(model, x_test, y_test))
        progress.set_postfix(loss=f"{losses[-1]:.4f}", test_acc=f"{accuracies[-1]:.3f}")
    seconds = time.perf_counter() - start

    final = accuracies[-1]
    print(f"test accuracy: {final:.4f} after {args.epochs} epochs in {seconds:.1f} s "
          f"on {device}")
    save_plot(losses, accuracies, out / "training.png")
    checkpoint = out / "digits.gtckpt"
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "epoch": args.epochs}, checkpoint)
    restored = make_model().to(device)
    restored.load_state_dict(torch.load(checkpoint)["model"])
    assert accuracy(restored, x_test, y_test) == final, "reloaded model disagrees"
    print(f"saved {out / 'training.png'} and {checkpoint}; the reloaded model agrees")
    return final


if __name__ == "__main__":
    main()
