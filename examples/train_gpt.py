"""Train a small character-level GPT on a short story shipped with the examples.

Run: python examples/train_gpt.py [--device cuda] [--steps 1000] [--quick] [--out runs/gpt]

Token and position embeddings, pre-norm Transformer blocks (causal self-attention and a GELU
MLP), AdamW with weight decay on the 2-D weights only, gradient clipping, a warm-up plus
cosine learning-rate schedule; a tqdm progress bar, the loss printed every few steps and
plotted to a PNG, a checkpoint saved with ``gputensor.save``, and a sample of generated text.
On a busy machine with few cores, ``OMP_NUM_THREADS=1`` may make each step several times faster.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm import tqdm

import gputensor as torch
import gputensor.nn.functional as F  # noqa: N812 (as torch code writes it)
from gputensor import nn

TEXT = Path(__file__).resolve().parent / "data" / "harbour.txt"


@dataclass
class GPTConfig:
    """The model's sizes."""

    vocab_size: int
    block_size: int = 32
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 48


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention in which a position sees only itself and earlier ones."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.n_head = config.n_head
        self.qkv = nn.Linear(config.n_embd, 3 * config.n_embd)
        self.proj = nn.Linear(config.n_embd, config.n_embd)

    def forward(self, x):
        B, T, C = x.shape  # noqa: N806 (batch, time, channels)
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    """LayerNorm, attention, LayerNorm, MLP, each with a residual connection."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(config.n_embd)
        self.attn = CausalSelfAttention(config)
        self.ln2 = nn.LayerNorm(config.n_embd)
        self.mlp = nn.Sequential(nn.Linear(config.n_embd, 4 * config.n_embd), nn.GELU(),
                                 nn.Linear(4 * config.n_embd, config.n_embd))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    """A decoder-only Transformer predicting the next character."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.tok_emb = nn.Embedding(config.vocab_size, config.n_embd)
        self.pos_emb = nn.Embedding(config.block_size, config.n_embd)
        self.blocks = nn.Sequential(*[Block(config) for _ in range(config.n_layer)])
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, idx, targets=None):
        """Logits for every position, and the cross-entropy with ``targets`` if given."""
        T = idx.shape[1]  # noqa: N806
        positions = torch.arange(T, device=idx.device)
        x = self.blocks(self.tok_emb(idx) + self.pos_emb(positions))
        logits = self.head(self.ln_f(x))
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))
        return logits, loss

    @torch.no_grad()
    def generate(self, idx, new_tokens: int, temperature: float = 0.8, generator=None):
        """Extend ``idx`` by sampling one character at a time from the predicted distribution."""
        for _ in range(new_tokens):
            logits, _ = self(idx[:, -self.config.block_size:])
            probs = F.softmax(logits[:, -1, :] / temperature, dim=-1)
            idx = torch.cat([idx, torch.multinomial(probs, 1, generator=generator)], dim=1)
        return idx


def pick_device(requested: str) -> str:
    """The requested device, or the CPU with a message when CUDA is not available."""
    if requested.startswith("cuda") and not torch.cuda.is_available():
        print("CUDA is not available here; training on the CPU instead.")
        return "cpu"
    return requested


def configure_optimizer(model: nn.Module, lr: float, weight_decay: float):
    """AdamW with weight decay on the matrices (2-D weights) and none on biases and norms."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95))


def warmup_cosine(warmup: int, total: int, floor: float = 0.1):
    """The learning-rate factor: linear warm-up, then a cosine decay down to ``floor``."""
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))
    return factor


def get_batch(data, block_size: int, batch_size: int, generator, device: str):
    """``batch_size`` random windows of the text and the same windows shifted by one."""
    starts = torch.randint(len(data) - block_size - 1, (batch_size,), generator=generator)
    x = torch.stack([data[s:s + block_size] for s in starts.tolist()])
    y = torch.stack([data[s + 1:s + block_size + 1] for s in starts.tolist()])
    return x.to(device), y.to(device)


def save_plot(steps, losses, path: Path) -> None:
    """The training loss against the step."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(steps, losses)
    ax.set(title="character-level GPT", xlabel="step", ylabel="cross-entropy")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv=None) -> dict:
    """Train, print the loss curve, plot, checkpoint and sample; returns what happened."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--weight-decay", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sample-length", type=int, default=300)
    parser.add_argument("--quick", action="store_true",
                        help="a tiny model and at most 30 steps: seconds, for tests")
    parser.add_argument("--out", default="runs/gpt")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.sample_length = min(args.steps, 30), min(args.sample_length, 60)

    device = pick_device(args.device)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)

    text = TEXT.read_text()
    chars = sorted(set(text))
    stoi = {ch: i for i, ch in enumerate(chars)}
    data = torch.tensor([stoi[ch] for ch in text], dtype=torch.long)
    config = GPTConfig(vocab_size=len(chars))
    if args.quick:
        config = GPTConfig(vocab_size=len(chars), block_size=16, n_layer=1, n_head=2, n_embd=16)
    model = GPT(config).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{len(text)} characters, {len(chars)} distinct; {n_params} parameters on {device}")

    optimizer = configure_optimizer(model, args.lr, args.weight_decay)
    warmup = max(1, args.steps // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_cosine(warmup, args.steps))
    report_every = max(1, args.steps // 10)
    steps, losses, smoothed = [], [], None
    start = time.perf_counter()
    progress = tqdm(range(args.steps), desc="training", unit="step")
    for step in progress:
        x, y = get_batch(data, config.block_size, args.batch_size, generator, device)
        _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        value = loss.item()
        smoothed = value if smoothed is None else 0.9 * smoothed + 0.1 * value
        steps.append(step)
        losses.append(value)
        progress.set_postfix(loss=f"{smoothed:.3f}", lr=f"{scheduler.get_last_lr()[0]:.2e}")
        if step % report_every == 0 or step == args.steps - 1:
            tqdm.write(f"step {step:5d}  loss {value:.4f}  (smoothed {smoothed:.4f})")
    seconds = time.perf_counter() - start
    print(f"{args.steps} steps in {seconds:.1f} s ({1000 * seconds / args.steps:.0f} ms/step); "
          f"loss {losses[0]:.3f} -> {smoothed:.3f} (smoothed)")

    save_plot(steps, losses, out / "loss.png")
    checkpoint = out / "gpt.gtckpt"
    torch.save({"model": model.state_dict(), "config": asdict(config), "chars": "".join(chars),
                "step": args.steps}, checkpoint)

    model.eval()
    prompt = torch.tensor([[stoi[ch] for ch in "The "]], device=device)
    sample_ids = model.generate(prompt, args.sample_length, generator=generator)[0].tolist()
    sample = "".join(chars[i] for i in sample_ids)
    print(f"saved {out / 'loss.png'} and {checkpoint}\n--- sample ---\n{sample}")
    return {"losses": losses, "sample": sample, "model": model, "checkpoint": checkpoint,
            "seconds_per_step": seconds / args.steps}


if __name__ == "__main__":
    main()
