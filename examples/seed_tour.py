"""The intro-to-PyTorch notebook, sections 1 and 2, run with ``import gputensor as torch``.

Run: python examples/seed_tour.py
"""

import gputensor as torch

# ---- 1. The tensor library ----------------------------------------------------------
t = torch.tensor([3, 7, 1])
print(t)
t = torch.tensor([[2, 5], [3, 9]])
print(t)

t = torch.tensor([[2, 5], [3, 9]])  # rank 2 tensor
print(t[0])  # returns a rank 1 tensor
print(t[0][0])  # returns a rank 0 tensor. Equivalently t[0,0]

t = torch.tensor([[1, 1, 1], [2, 2, 2], [3, 3, 3]])
print(t)
print()
print(t[0, :]), print(t[1, :])
print()
print(t[:, 0])
print()
print(t[0:2, 1:])

t = torch.tensor([[1, 1, 1], [2, 2, 2], [3, 3, 3], [4, 4, 4]])
print(t.shape)
r = t.view(12)
print(r)
r = t.view(2, -1)  # -1: infer this size from the number of elements
print(r)

x = torch.tensor([1, 1])
y = torch.tensor([2, 2])
z = x + y
print(z)
z = torch.cat([x, y])  # concatenate along the first axis
print(z)

print(repr(torch.ones((3, 2)) * 2))
print(repr(torch.ones((3, 2)) * torch.tensor([[2., 2], [2, 2], [2, 2]])))

x = torch.zeros((2, 3, 2))
y = torch.ones((3, 2))
print(x + y)
x = torch.zeros((2, 3, 2))
y = torch.ones((1, 3, 2))
print(x + y)
x = torch.zeros((2, 3, 2))
y = torch.ones((2))
print(x + y)

x = torch.zeros((2, 3, 2))
y = torch.ones((3, 3))
try:
    print(x + y)
except RuntimeError as e:
    print(f"RuntimeError: {e}")

# ---- 2. Computation graphs and autograd ---------------------------------------------
y = torch.ones((2, 2), requires_grad=True)
print(y.requires_grad)

a = torch.tensor([1.], requires_grad=True)
w1 = torch.tensor([1.], requires_grad=True)
w2 = torch.tensor([1.], requires_grad=True)
w3 = torch.tensor([1.], requires_grad=True)
w4 = torch.tensor([1.], requires_grad=True)

b = w1 * a
c = w2 * a
d = w3 * b + w4 * c
L = 10 - d

print(repr((b, d)))

print(L)
L.backward()
print(w4.grad)
