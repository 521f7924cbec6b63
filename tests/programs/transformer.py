"""Attention two ways: a hand-written causal self-attention block and an nn.TransformerEncoder
classifier, trained a few steps with AdamW and gradient clipping."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F  # noqa: N812 (as torch code writes it)


def init_from_numpy(model, seed):
    """Every parameter drawn from NumPy's generator: a fixed start for every run."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.zero_()
            elif p.dim() == 1:
                p.fill_(1.0)
            else:
                bound = math.sqrt(3.0 / p.shape[-1])
                p.copy_(torch.from_numpy(rng.uniform(-bound, bound, p.shape).astype("float32")))


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd, n_head, block_size):
        super().__init__()
        assert n_embd % n_head == 0
        self.n_head = n_head
        self.qkv = nn.Linear(n_embd, 3 * n_embd)
        self.proj = nn.Linear(n_embd, n_embd)
        mask = torch.tril(torch.ones(block_size, block_size))
        self.register_buffer("mask", mask.view(1, 1, block_size, block_size))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.qkv(x).split(C, dim=2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.proj(y), att


torch.set_printoptions(precision=3)
attn = CausalSelfAttention(n_embd=8, n_head=2, block_size=6)
init_from_numpy(attn, seed=0)
x = torch.from_numpy(np.random.default_rng(1).standard_normal((2, 5, 8)).astype("float32"))
y, att = attn(x)
print(y.shape, att.shape)
print(att[0, 0])
print(att.sum(dim=-1))
y.pow(2).mean().backward()
print(attn.qkv.weight.grad.norm(), attn.proj.bias.grad)
torch.set_printoptions(precision=4)


class SequenceClassifier(nn.Module):
    """Token and position embeddings, a Transformer encoder, mean pooling, a linear head."""

    def __init__(self, vocab, d_model, nhead, layers, seq_len, classes):
        super().__init__()
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(seq_len, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=2 * d_model,
                                           dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=layers,
                                             enable_nested_tensor=False)
        self.head = nn.Linear(d_model, classes)

    def forward(self, tokens):
        positions = torch.arange(tokens.size(1))
        h = self.encoder(self.tok(tokens) + self.pos(positions))
        return self.head(h.mean(dim=1))


# the task: is the first token of the sequence larger than the last one?
rng = np.random.default_rng(2)
tokens = torch.from_numpy(rng.integers(0, 10, size=(64, 6)))
labels = (tokens[:, 0] > tokens[:, -1]).long()
print(tokens[:3], labels[:10], labels.float().mean())

model = SequenceClassifier(vocab=10, d_model=16, nhead=2, layers=2, seq_len=6, classes=2)
init_from_numpy(model, seed=3)
print(model)
print(sum(p.numel() for p in model.parameters()))

optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
for step in range(12):
    logits = model(tokens)
    loss = F.cross_entropy(logits, labels)
    optimizer.zero_grad()
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()
    if step % 3 == 0 or step == 11:
        acc = (logits.argmax(dim=1) == labels).float().mean()
        print(f"step {step:2d} loss {loss.item():.4f} grad norm {norm.item():.4f} "
              f"acc {acc.item():.3f}")

model.eval()
with torch.no_grad():
    probs = model(tokens[:4]).softmax(dim=-1)
print(probs)
