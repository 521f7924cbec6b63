"""A tour of everyday tensor operations: indexing, gather/scatter, sorting, cumulative sums,
einsum, norms and masks, as a notebook walks through them."""

import torch

scores = torch.tensor([[0.1, 0.7, 0.2, 0.0],
                       [0.5, 0.1, 0.3, 0.1],
                       [0.2, 0.25, 0.15, 0.4]])
labels = torch.tensor([1, 0, 3])

# pick each row's score of its label, two ways
picked = scores.gather(1, labels.unsqueeze(1)).squeeze(1)
print(picked, scores[torch.arange(3), labels])
print(torch.equal(picked, scores[torch.arange(3), labels]))

# one-hot rows with scatter_
one_hot = torch.zeros(3, 4).scatter_(1, labels.unsqueeze(1), 1.0)
print(one_hot)
counts = torch.zeros(4, dtype=torch.long).scatter_add_(0, labels, torch.ones(3, dtype=torch.long))
print(counts, counts.sum())

# sorting and the best k
values, indices = scores.sort(dim=1, descending=True)
print(values)
print(indices)
top2 = scores.topk(2, dim=1)
print(top2.values, top2.indices)
print(scores.argsort(dim=0))

# running totals
steps = torch.tensor([3.0, -1.0, 2.0, 0.5, -4.0])
print(steps.cumsum(0), torch.cumprod(steps, dim=0))
print(torch.cumsum(scores, dim=1)[:, -1])

# einsum spells out products
a = torch.arange(6.0).reshape(2, 3)
b = torch.arange(12.0).reshape(3, 4)
print(torch.einsum("ij,jk->ik", a, b))
print(torch.allclose(torch.einsum("ij,jk->ik", a, b), a @ b))
print(torch.einsum("ii->", torch.eye(3) * 2), torch.einsum("i,j->ij", steps[:2], steps[:3]))
batch = torch.linspace(-1, 1, 24).reshape(2, 3, 4)
print(torch.einsum("bij,bkj->bik", batch, batch))

# norms
v = torch.tensor([3.0, -4.0, 12.0])
print(v.norm(), torch.linalg.vector_norm(v, ord=1), torch.linalg.vector_norm(v, ord=float("inf")))
print(torch.linalg.matrix_norm(a), a.norm(dim=1), a.norm(p=1, dim=0))

# masks
x = torch.linspace(-2, 2, 9)
mask = x.abs() > 1
print(mask, x[mask], x.masked_fill(mask, 0.0))
print(torch.triu(torch.ones(4, 4)), torch.tril(a @ a.T, diagonal=-1))
print(torch.where(mask, x, torch.zeros_like(x)).nonzero().squeeze(1))
print(x.clamp(-1, 1).unique(), (x > 0).sum(), (x > 0).float().mean())
