"""Tensor basics, the way a first tutorial walks through them."""

import numpy as np
import torch

data = [[1, 2], [3, 4]]
x_data = torch.tensor(data)
print(x_data)

np_array = np.array(data)
x_np = torch.from_numpy(np_array)
print(x_np)

x_ones = torch.ones_like(x_data)
print(f"Ones Tensor: \n {x_ones} \n")
x_float = torch.zeros_like(x_data, dtype=torch.float)
print(f"Zeros Tensor: \n {x_float} \n")

shape = (2, 3,)
ones_tensor = torch.ones(shape)
zeros_tensor = torch.zeros(shape)
print(f"Ones Tensor: \n {ones_tensor} \n")
print(f"Zeros Tensor: \n {zeros_tensor}")

tensor = torch.arange(12, dtype=torch.float32).reshape(3, 4)
print(f"Shape of tensor: {tensor.shape}")
print(f"Datatype of tensor: {tensor.dtype}")
print(f"Device tensor is stored on: {tensor.device}")

device = "cuda" if torch.cuda.is_available() else "cpu"
tensor = tensor.to(device)
print(f"First row: {tensor[0]}")
print(f"First column: {tensor[:, 0]}")
print(f"Last column: {tensor[..., -1]}")
tensor[:, 1] = 0
print(tensor.cpu())

t1 = torch.cat([tensor, tensor, tensor], dim=1)
print(t1.shape)

y1 = tensor @ tensor.T
y2 = tensor.matmul(tensor.T)
y3 = torch.empty_like(y1)
torch.matmul(tensor, tensor.T, out=y3) if hasattr(torch, "matmul") else None
print(y1.cpu(), torch.equal(y1, y2) if hasattr(torch, "equal") else (y1 == y2).all())

z1 = tensor * tensor
z2 = tensor.mul(tensor)
print(z1.cpu(), (z1 == z2).all().item())

agg = tensor.sum()
agg_item = agg.item()
print(agg_item, type(agg_item))

print(f"{tensor} \n")
tensor.add_(5)
print(tensor)

t = torch.ones(5)
print(f"t: {t}")
n = t.numpy()
print(f"n: {n}")
t.add_(1)
print(f"t: {t}")
print(f"n: {n}")

n = np.ones(5)
t = torch.from_numpy(n)
np.add(n, 1, out=n)
print(f"t: {t}")
print(f"n: {n}")

a = torch.linspace(-1, 1, 7)
print(a, a.clamp(min=-0.5, max=0.5), a.abs().max(), a.argmax())
b = a.view(7, 1) * a.view(1, 7)
print(b.shape, b.sum(dim=0), b.mean(), b.std())
print(torch.stack([a, a * 2]).T[:3])
print(a.unsqueeze(0).expand(3, 7).contiguous().view(-1)[:10])
print(torch.where(a > 0, a, torch.zeros_like(a)))
print(a.to(torch.int64), a.double().dtype, a.half().dtype, (a > 0).sum())
