"""Train a small convolutional network on scikit-learn's 8x8 digits with gputensor.

Run: python examples/train_cnn.py [--device cuda] [--epochs 8] [--out runs/cnn]

Two convolution blocks (Conv2d, BatchNorm2d, ReLU, max pooling) and a dropout head, trained
with AdamW under a OneCycleLR schedule, with a tqdm progress bar. Prints the test accuracy,
saves a loss/accuracy plot and a grid of the misclassified test digits as PNGs, and saves a
checkpoint, reloads it into a fresh model and checks the reloaded model agrees.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from tqdm import tqdm
from train_digits import pick_device, save_plot  # the main example's helpers, beside this

import gputensor as torch
from gputensor import nn
from gputensor.utils.data import DataLoader, TensorDataset


class DigitsCNN(nn.Module):
    """Two conv blocks (8x8 -> 4x4 -> 2x2) and a classifier head."""

    def __init__(self, channels: int = 32, dropout: float = 0.25):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, channels, kernel_size=3, padding=1), nn.BatchNorm2d(channels),
            nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(channels, 2 * channels, kernel_size=3, padding=1),
            nn.BatchNorm2d(2 * channels), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.head = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(2 * channels * 2 * 2, 64), nn.ReLU(),
            nn.Linear(64, 10),
        )

    def forward(self, x):
        """Class scores for a batch of (N, 1, 8, 8) images."""
        return self.head(self.features(x))


def load_data(device: str, seed: int):
    """Digits as (N, 1, 8, 8) images scaled to [0, 1], split 80/20, on ``device``."""
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None]
    x_train, x_test, y_train, y_test = train_test_split(
        x, digits.target, test_size=0.2, random_state=seed, stratify=digits.target)
    as_x = lambda a: torch.tensor(a, device=device)  # noqa: E731
    as_y = lambda a: torch.tensor(a, dtype=torch.int64, device=device)  # noqa: E731
    return as_x(x_train), as_y(y_train), as_x(x_test), as_y(y_test)


def predict(model: nn.Module, x):
    """The predicted classes of ``x`` in eval mode."""
    model.eval()
    with torch.no_grad():
        predicted = model(x).argmax(dim=1)
    model.train()
    return predicted


def save_mistakes(images, truth, predicted, path: Path, limit: int = 32) -> int:
    """A grid of misclassified digits titled "true -> predicted"; returns how many."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    wrong = np.flatnonzero(truth != predicted)
    shown = wrong[:limit]
    columns = 8
    rows = max(1, -(-len(shown) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.2, rows * 1.4), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, k in zip(axes.ravel(), shown):
        ax.imshow(images[k, 0], cmap="gray_r")
        ax.set_title(f"{truth[k]} -> {predicted[k]}", fontsize=8)
    fig.suptitle(f"{len(wrong)} misclassified test digits")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return len(wrong)


def main(argv=None) -> float:
    """Train, evaluate, plot, checkpoint and reload; returns the test accuracy."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/cnn")
    args = parser.parse_args(argv)

    device = pick_device(args.device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    x_train, y_train, x_test, y_test = load_data(device, args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=args.batch_size,
                        shuffle=True, generator=generator)
    model = DigitsCNN().to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=args.lr, epochs=args.epochs, steps_per_epoch=len(loader))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)

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
            schedule.step()
            total += loss.item() * len(xb)
            count += len(xb)
        losses.append(total / count)
        accuracies.append((predict(model, x_test) == y_test).float().mean().item())
        progress.set_postfix(loss=f"{losses[-1]:.4f}", test_acc=f"{accuracies[-1]:.3f}")
    seconds = time.perf_counter() - start

    final = accuracies[-1]
    print(f"test accuracy: {final:.4f} after {args.epochs} epochs in {seconds:.1f} s "
          f"on {device}")
    save_plot(losses, accuracies, out / "training.png")
    wrong = save_mistakes(x_test.cpu().numpy(), y_test.cpu().numpy(),
                          predict(model, x_test).cpu().numpy(), out / "mistakes.png")
    checkpoint = out / "cnn.gtckpt"
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "schedule": schedule.state_dict(), "epoch": args.epochs}, checkpoint)
    restored = DigitsCNN().to(device)
    restored.load_state_dict(torch.load(checkpoint)["model"])
    assert bool((predict(restored, x_test) == predict(model, x_test)).all()), \
        "reloaded model disagrees"
    print(f"{wrong} test digits misclassified; saved {out / 'training.png'}, "
          f"{out / 'mistakes.png'} and {checkpoint}; the reloaded model agrees")
    return final


if __name__ == "__main__":
    main()
