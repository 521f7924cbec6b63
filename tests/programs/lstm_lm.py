"""A character-level LSTM language model: Embedding, LSTM, Linear, then greedy generation."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F  # noqa: N812 (as torch code writes it)

text = ("the cat sat on the mat. the dog sat on the log. "
        "a cat and a dog met on the mat and sat on the log. ")
chars = sorted(set(text))
stoi = {ch: i for i, ch in enumerate(chars)}
itos = {i: ch for ch, i in stoi.items()}
data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
print(f"{len(text)} characters, {len(chars)} distinct: {''.join(chars)!r}")


class CharLSTM(nn.Module):
    def __init__(self, vocab_size, embed_dim, hidden_dim, num_layers=1):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_dim, num_layers=num_layers, batch_first=True)
        self.fc = nn.Linear(hidden_dim, vocab_size)

    def forward(self, x, state=None):
        emb = self.embedding(x)
        out, state = self.lstm(emb, state)
        return self.fc(out), state


def init_weights(model):
    """Small fixed weights: a cosine pattern, different for every parameter."""
    with torch.no_grad():
        for k, (name, p) in enumerate(model.named_parameters()):
            n = p.numel()
            values = [0.3 * math.cos(0.7 * i + k) for i in range(n)]
            p.copy_(torch.tensor(values).reshape(p.shape))
            print(f"{name:24s} {tuple(p.shape)}")


model = CharLSTM(len(chars), embed_dim=8, hidden_dim=24, num_layers=2)
init_weights(model)
print(model)

seq_len, batch_size = 16, 4
starts = torch.arange(batch_size) * 20
inputs = torch.stack([data[s:s + seq_len] for s in starts.tolist()])
targets = torch.stack([data[s + 1:s + seq_len + 1] for s in starts.tolist()])
print(inputs.shape, targets.shape, inputs[0, :8])

optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
for step in range(40):
    logits, _ = model(inputs)
    loss = F.cross_entropy(logits.reshape(-1, len(chars)), targets.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 5 == 0 or step == 39:
        print(f"step {step:3d}  loss {loss.item():.4f}  perplexity {math.exp(loss.item()):.3f}")


@torch.no_grad()
def generate(model, prompt, length):
    """Feed the prompt, then keep taking the most likely next character."""
    model.eval()
    x = torch.tensor([[stoi[c] for c in prompt]])
    logits, state = model(x)
    out = prompt
    for _ in range(length):
        next_id = logits[0, -1].argmax().item()
        out += itos[next_id]
        logits, state = model(torch.tensor([[next_id]]), state)
    return out


print(repr(generate(model, "the ", 40)))
h, c = model(inputs[:1])[1]
print(h.shape, c.shape, h[:, 0, :4])
