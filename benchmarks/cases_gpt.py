"""One training step of the small character-level GPT of ``examples/train_gpt.py``."""

from __future__ import annotations

import numpy as np

from .cases_nn import _copy_weights
from .runner import Case


def _gpt(lib, vocab, block_size, n_layer, n_head, n_embd):
    """The example's GPT (pre-norm blocks, causal attention, GELU MLP) built with ``lib``."""
    nn, F = lib.nn, lib.nn.functional  # noqa: N806

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(n_embd, 3 * n_embd)
            self.proj = nn.Linear(n_embd, n_embd)

        def forward(self, x):
            B, T, C = x.shape  # noqa: N806
            q, k, v = (t.view(B, T, n_head, C // n_head).transpose(1, 2)
                       for t in self.qkv(x).split(C, dim=2))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.proj(y.transpose(1, 2).reshape(B, T, C))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.attn = nn.LayerNorm(n_embd), Attention()
            self.ln2 = nn.LayerNorm(n_embd)
            self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(),
                                     nn.Linear(4 * n_embd, n_embd))

        def forward(self, x):
            x = x + self.attn(self.ln1(x))
            return x + self.mlp(self.ln2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok_emb = nn.Embedding(vocab, n_embd)
            self.pos_emb = nn.Embedding(block_size, n_embd)
            self.blocks = nn.Sequential(*[Block() for _ in range(n_layer)])
            self.ln_f = nn.LayerNorm(n_embd)
            self.head = nn.Linear(n_embd, vocab, bias=False)

        def forward(self, idx):
            x = self.tok_emb(idx) + self.pos_emb(lib.arange(idx.shape[1]))
            return self.head(self.ln_f(self.blocks(x)))

    return GPT()


def _gpt_step(lib, batch=16, block_size=32, n_layer=2, n_head=4, n_embd=48, vocab=40,
              clip=None):
    model = _gpt(lib, vocab, block_size, n_layer, n_head, n_embd)
    _copy_weights(lib, model)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = lib.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                                 {"params": no_decay, "weight_decay": 0.0}], lr=3e-4)
    rng = np.random.default_rng(2)
    tokens = rng.integers(0, vocab, (batch, block_size + 1))
    x, y = lib.tensor(tokens[:, :-1]), lib.tensor(tokens[:, 1:])

    def step():
        logits = model(x)
        loss = lib.nn.functional.cross_entropy(logits.view(-1, vocab), y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip is not None:
            lib.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
    return step


def _gpt_mini_step(lib):
    """The GPT-mini of the speed targets: 2 blocks, d=64, 4 heads, T=32, B=16, AdamW and
    clip_grad_norm_."""
    return _gpt_step(lib, n_embd=64, clip=1.0)


CASES = [
    Case("char GPT 2x48 b16x32 step (AdamW)", _gpt_step, inner=3, target=1.0),
    Case("GPT-mini 2x64 b16x32 step (AdamW, clip_grad_norm_)", _gpt_mini_step, inner=3,
         target=1.0),
]
